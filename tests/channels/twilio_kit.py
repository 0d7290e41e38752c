"""Shared pieces for the Twilio channel tests: signing like Twilio, a gateway, TwiML reading.

Requests are signed exactly as Twilio signs them, with twilio's own ``RequestValidator``
over GATEWAY_PUBLIC_URL + path (+ query). The test server listens on 127.0.0.1 at a
random port, so a signature over the URL as this process sees it would not match: the
tests prove the gateway checks the public URL, never the one behind the proxy.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from gateway.app import SERVICE, STORE, create_app
from gateway.config.settings import Settings
from gateway.store import EvidenceRecord, Store
from rules.models import Policy
from tests.rules.factories import (
    CUSTOMER_PHONE,
    EMERGENCY,
    OFFICERS,
    STAFF_NUMBER,
    customer,
    restriction,
)

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://gateway.example.org"
ACCOUNT_SID = "AC" + "0" * 32
UNKNOWN_CALLER = "+447700900999"
# The line calls to the Twilio number STAFF_NUMBER really ring (GATEWAY_TWILIO_ROUTES):
# dialling STAFF_NUMBER itself would loop back into the gateway.
STAFF_LINE = "+441632960100"
ROUTES = f"{STAFF_NUMBER}={STAFF_LINE}"

_sids = itertools.count(1)


def new_sid(prefix: str = "CA") -> str:
    return f"{prefix}{next(_sids):032x}"


class FakeClock:
    """Time as a value the test moves (STYLE §3: tests never sleep)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sign(path: str, params: Mapping[str, str], *, base: str = PUBLIC_URL) -> str:
    return RequestValidator(TOKEN).compute_signature(base + path, dict(params))


def policy(*restrictions: dict[str, Any], officers: list[dict[str, Any]] | None = None) -> Policy:
    return Policy.model_validate(
        {
            "officers": OFFICERS if officers is None else officers,
            "customers": [customer()],
            "restrictions": [restriction(**r) for r in restrictions],
        }
    )


def settings(database_url: str, mail_dir: Path, **overrides: Any) -> Settings:
    """A gateway's settings: the store given, SMTP on a free port, mail to a Maildir."""
    values: dict[str, Any] = {
        "database": {"url": database_url},
        "smtp": {"port": 0, "hostname": "gateway.test"},
        "upstream": f"maildir:{mail_dir}",
        "twilio": {"auth_token": TOKEN, "routes": ROUTES},
        "public_url": PUBLIC_URL,
        "emergency_number": EMERGENCY,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Gateway:
    """A running gateway on loopback, and helpers to call it as Twilio would."""

    client: TestClient
    app: web.Application
    clock: FakeClock
    calls: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        return self.app[STORE]

    async def load(self, new: Policy) -> None:
        await self.store.upsert_policy(new, actor="test")
        await self.app[SERVICE].policy()

    async def post(
        self, path: str, params: Mapping[str, str], *, signature: str | None = None
    ) -> ClientResponse:
        headers = {"X-Twilio-Signature": signature or sign(path, params)}
        return await self.client.post(path, data=dict(params), headers=headers)

    async def call(
        self,
        sender: str = CUSTOMER_PHONE,
        to: str = STAFF_NUMBER,
        *,
        sid: str | None = None,
    ) -> tuple[ClientResponse, ET.Element, str]:
        sid = sid or new_sid("CA")
        params = call_params(sid, sender, to)
        response = await self.post("/twilio/voice", params)
        assert response.status == 200, await response.text()
        assert response.content_type == "text/xml"
        return response, ET.fromstring(await response.text()), sid

    async def text(
        self, body: str, sender: str = CUSTOMER_PHONE, to: str = STAFF_NUMBER, *, sid: str = ""
    ) -> tuple[ET.Element, str]:
        sid = sid or new_sid("SM")
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        response = await self.post("/twilio/sms", params)
        assert response.status == 200, await response.text()
        return ET.fromstring(await response.text()), sid

    async def evidence(self) -> list[EvidenceRecord]:
        return list(reversed(await self.store.list_evidence(limit=1000)))


def call_params(sid: str, sender: str, to: str, **extra: str) -> dict[str, str]:
    params = {
        "CallSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": to,
        "Caller": sender,
        "Called": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


async def start(
    aiohttp_client: Any,
    settings_: Settings,
    clock: FakeClock,
    items: Mapping[web.AppKey[Any], Any] | None = None,
) -> Gateway:
    app = create_app(settings_, clock=clock)
    for key, value in (items or {}).items():
        app[key] = value
    client = await aiohttp_client(app)
    return Gateway(client=client, app=app, clock=clock)


def verbs(root: ET.Element) -> list[str]:
    """The verbs of a TwiML document, top level, in order."""
    assert root.tag == "Response"
    return [child.tag for child in root]


def said(element: ET.Element) -> str:
    """Everything ``<Say>`` says in ``element`` and below, joined."""
    return " ".join((say.text or "") for say in element.iter("Say"))


def only(root: ET.Element, tag: str) -> ET.Element:
    found = root.findall(tag)
    assert len(found) == 1, f"expected one <{tag}> in {ET.tostring(root)!r}"
    return found[0]
