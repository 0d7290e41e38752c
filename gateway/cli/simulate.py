"""``contact-gateway simulate call|key|sms|status``: try the Twilio flows without Twilio.

Each subcommand builds the webhook Twilio would send, signs it exactly as Twilio does
(``RequestValidator`` over GATEWAY_PUBLIC_URL + path, with GATEWAY_TWILIO_AUTH_TOKEN),
posts it to a running gateway and prints the status and the TwiML. The request goes to
``--url`` (default: the gateway's own HTTP listener), while the signature covers the
public URL, just as when Twilio calls through a proxy.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import xml.etree.ElementTree as ET

import aiohttp
from twilio.request_validator import RequestValidator

from gateway.cli.failed import CommandFailed
from gateway.config.settings import Settings
from rules.identity import IdentityError, normalise_phone

TIMEOUT_S = 20.0


def webhook(args: argparse.Namespace, settings: Settings) -> tuple[str, dict[str, str]]:
    """The path and form parameters Twilio would send for this subcommand."""
    region = settings.default_region
    sender, to = _number(args.sender, region), _number(args.to, region)
    kind = args.simulate_command
    sid = args.sid or ("SM" if kind == "sms" else "CA") + secrets.token_hex(16)
    account = settings.twilio.account_sid or "AC" + "0" * 32
    if kind == "sms":
        return "/twilio/sms", {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": account,
            "From": sender,
            "To": to,
            "Body": args.body,
            "NumMedia": "0",
            "NumSegments": "1",
        }
    params = {
        "CallSid": sid,
        "AccountSid": account,
        "From": sender,
        "To": to,
        "Caller": sender,
        "Called": to,
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        "CallStatus": "in-progress" if kind == "key" else "ringing",
    }
    if kind == "key":
        return "/twilio/voice/menu", {**params, "Digits": args.digits}
    if kind == "status":
        return "/twilio/voice/status", {
            **params,
            "CallStatus": args.status,
            "CallDuration": args.duration,
        }
    return "/twilio/voice", params


async def run(args: argparse.Namespace, settings: Settings) -> int:
    token = settings.twilio.auth_token.get_secret_value()
    if not token or not settings.public_url:
        raise CommandFailed(
            "set GATEWAY_TWILIO_AUTH_TOKEN and GATEWAY_PUBLIC_URL (for trying it locally, "
            f"GATEWAY_PUBLIC_URL=http://{settings.http.host}:{settings.http.port}) the same "
            "as for the running gateway"
        )
    path, params = webhook(args, settings)
    signature = RequestValidator(token).compute_signature(settings.public_url + path, params)
    target = (args.url or f"http://{settings.http.host}:{settings.http.port}").rstrip("/")
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as session,
            session.post(
                target + path, data=params, headers={"X-Twilio-Signature": signature}
            ) as response,
        ):
            body = await response.text()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CommandFailed(f"cannot reach the gateway at {target}: {exc}") from None
    sid = params.get("CallSid") or params.get("MessageSid")
    print(f"POST {target}{path} ({sid}) -> HTTP {status}")
    print(pretty(body))
    return 0 if 200 <= status < 300 else 1


def pretty(body: str) -> str:
    """TwiML indented for reading; anything else as it came."""
    try:
        root = ET.fromstring(body)  # noqa: S314 (the TwiML of a gateway the user runs)
    except ET.ParseError:
        return body.rstrip()
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def _number(raw: str, region: str) -> str:
    if not raw or raw.lower() == "anonymous":
        return raw
    try:
        return normalise_phone(raw, region)
    except IdentityError as exc:
        print(f"contact-gateway: {exc}; sending it as written", file=sys.stderr)
        return raw
