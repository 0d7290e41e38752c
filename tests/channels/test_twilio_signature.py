"""The signature check in front of every /twilio/ webhook.

Signed exactly as Twilio signs (twilio's ``RequestValidator``), including the known
vector from twilio-python's own tests, pushed through the middleware over real HTTP.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from channels.twilio.ports import TwilioConfig
from channels.twilio.signature import PARAMS, signature_middleware
from tests.channels.twilio_kit import (
    PUBLIC_URL,
    STAFF_LINE,
    TOKEN,
    FakeClock,
    Gateway,
    call_params,
    new_sid,
    only,
    policy,
    settings,
    sign,
    start,
    verbs,
)
from tests.rules.factories import CUSTOMER_PHONE, STAFF_NUMBER

# twilio-python, tests/unit/test_request_validator.py
VECTOR_TOKEN = "12345"
VECTOR_PATH = "/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
VECTOR_WITH_PORT_443 = "kvajT1Ptam85bY51eRf/AJRuM3w="
VECTOR_BODY = '{"property": "value", "boolean": true}'
VECTOR_BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
VECTOR_BODY_SIGNATURE = "a9nBmqA0ju/hNViExpshrM61xv4="


async def _echo(request: web.Request) -> web.Response:
    return web.json_response(request[PARAMS])


async def vector_client(aiohttp_client: Any, public_url: str) -> TestClient:
    """The middleware alone, on a route shaped like the vector's URL."""
    app = web.Application(
        middlewares=[signature_middleware(TwilioConfig(VECTOR_TOKEN, public_url))]
    )
    app.router.add_post("/myapp.php", _echo)
    client: TestClient = await aiohttp_client(app)
    return client


def test_the_known_vector_is_what_the_validator_computes() -> None:
    url = "https://mycompany.com" + VECTOR_PATH
    assert RequestValidator(VECTOR_TOKEN).compute_signature(url, VECTOR_PARAMS) == VECTOR_SIGNATURE


@pytest.mark.parametrize(
    ("public_url", "signature", "status"),
    [
        ("https://mycompany.com", VECTOR_SIGNATURE, 200),
        # Twilio may sign with or without the default port; both are accepted.
        ("https://mycompany.com", VECTOR_WITH_PORT_443, 200),
        ("https://mycompany.com:1234", VECTOR_SIGNATURE, 200),
        # http is not https: a different URL, a different signature.
        ("http://mycompany.com", VECTOR_SIGNATURE, 403),
        ("https://othercompany.com", VECTOR_SIGNATURE, 403),
    ],
)
async def test_known_vector_through_the_middleware(
    aiohttp_client: Any, public_url: str, signature: str, status: int
) -> None:
    client = await vector_client(aiohttp_client, public_url)
    response = await client.post(
        VECTOR_PATH, data=VECTOR_PARAMS, headers={"X-Twilio-Signature": signature}
    )
    assert response.status == status
    if status == 200:
        assert await response.json() == VECTOR_PARAMS


@pytest.mark.parametrize(
    "change",
    [
        {"Digits": "1235"},  # a tampered value
        {"Extra": "x"},  # an added parameter
        {"From": "+14158675308"},
    ],
)
async def test_tampered_known_vector_is_refused(
    aiohttp_client: Any, change: Mapping[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client = await vector_client(aiohttp_client, "https://mycompany.com")
    params = {**VECTOR_PARAMS, **change}
    with caplog.at_level(logging.WARNING, logger="channels.twilio.security"):
        response = await client.post(
            VECTOR_PATH, data=params, headers={"X-Twilio-Signature": VECTOR_SIGNATURE}
        )
    assert response.status == 403
    assert any("signature does not match" in r.getMessage() for r in caplog.records)


async def test_changed_query_is_refused(aiohttp_client: Any) -> None:
    client = await vector_client(aiohttp_client, "https://mycompany.com")
    response = await client.post(
        "/myapp.php?foo=1&bar=3",
        data=VECTOR_PARAMS,
        headers={"X-Twilio-Signature": VECTOR_SIGNATURE},
    )
    assert response.status == 403


async def test_known_json_vector_with_body_sha256(aiohttp_client: Any) -> None:
    client = await vector_client(aiohttp_client, "https://mycompany.com")
    path = f"{VECTOR_PATH}&bodySHA256={VECTOR_BODY_HASH}"
    headers = {"X-Twilio-Signature": VECTOR_BODY_SIGNATURE, "Content-Type": "application/json"}
    good = await client.post(path, data=VECTOR_BODY, headers=headers)
    assert good.status == 200
    assert await good.json() == {"property": "value", "boolean": "true"}
    tampered = await client.post(path, data=VECTOR_BODY.replace("value", "valuf"), headers=headers)
    assert tampered.status == 403
    unhashed = await client.post(VECTOR_PATH, data=VECTOR_BODY, headers=headers)
    assert unhashed.status == 403


NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


@pytest.fixture
async def gateway(aiohttp_client: Any, tmp_path: Path, sqlite_database_url: str) -> Gateway:
    gateway = await start(aiohttp_client, settings(sqlite_database_url, tmp_path), FakeClock(NOW))
    await gateway.load(policy({"channels": ["email"]}))
    return gateway


async def test_json_call_signed_with_body_sha256_is_answered(gateway: Gateway) -> None:
    import hashlib
    import json

    body = json.dumps(call_params(new_sid(), "+447700900999", STAFF_NUMBER))
    path = f"/twilio/voice?bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
    response = await gateway.client.post(
        path,
        data=body,
        headers={"X-Twilio-Signature": sign(path, {}), "Content-Type": "application/json"},
    )
    assert response.status == 200
    root = ET.fromstring(await response.text())
    assert verbs(root) == ["Dial"] and only(root, "Dial").text == STAFF_LINE


async def test_unsigned_or_missigned_calls_are_refused_and_record_nothing(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    params = call_params(new_sid(), CUSTOMER_PHONE, STAFF_NUMBER)
    local_url = str(gateway.client.make_url("/twilio/voice"))
    with caplog.at_level(logging.WARNING, logger="channels.twilio.security"):
        missing = await gateway.client.post("/twilio/voice", data=params)
        wrong_token = await gateway.post(
            "/twilio/voice",
            params,
            signature=RequestValidator("not-the-token").compute_signature(
                PUBLIC_URL + "/twilio/voice", params
            ),
        )
        # Signed over the URL as this process sees it (behind the proxy): refused.
        local = await gateway.post(
            "/twilio/voice",
            params,
            signature=RequestValidator(TOKEN).compute_signature(local_url, params),
        )
        # A Host header naming the public host changes nothing: the check uses the setting.
        spoofed = await gateway.client.post(
            "/twilio/voice",
            data=params,
            headers={
                "Host": "attacker.example",
                "X-Twilio-Signature": sign(
                    "/twilio/voice", params, base="https://attacker.example"
                ),
            },
        )
    assert [r.status for r in (missing, wrong_token, local, spoofed)] == [403, 403, 403, 403]
    assert "forbidden" in await missing.text()
    events = [r.getMessage() for r in caplog.records]
    assert any("no X-Twilio-Signature header" in e for e in events)
    assert sum("signature does not match" in e for e in events) == 3
    assert await gateway.evidence() == []
    assert await gateway.store.list_held() == []


async def test_every_twilio_route_checks_the_signature(gateway: Gateway) -> None:
    params = call_params(new_sid(), CUSTOMER_PHONE, STAFF_NUMBER, Body="hi", MessageSid="SM1")
    for path in (
        "/twilio/voice",
        "/twilio/voice/menu",
        "/twilio/voice/dialled",
        "/twilio/voice/voicemail",
        "/twilio/voice/status",
        "/twilio/sms",
    ):
        response = await gateway.post(path, params, signature="bm90IGEgc2lnbmF0dXJl")
        assert response.status == 403, path


async def test_signed_but_without_a_sid_is_a_bad_request(gateway: Gateway) -> None:
    params = {"From": CUSTOMER_PHONE, "To": STAFF_NUMBER, "Body": "hi"}
    for path in ("/twilio/voice", "/twilio/voice/menu", "/twilio/voice/status", "/twilio/sms"):
        response = await gateway.post(path, params)
        assert response.status == 400, path
        assert "Sid is missing" in await response.text()
    assert await gateway.evidence() == []


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"twilio": {"auth_token": ""}}, "GATEWAY_TWILIO_AUTH_TOKEN"),
        ({"public_url": ""}, "GATEWAY_PUBLIC_URL"),
    ],
)
async def test_without_a_token_or_public_url_the_endpoints_answer_503(
    aiohttp_client: Any, tmp_path: Any, overrides: dict[str, Any], variable: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/gateway.db"
    gateway = await start(aiohttp_client, settings(url, tmp_path, **overrides), FakeClock(NOW))
    params = call_params(new_sid(), CUSTOMER_PHONE, STAFF_NUMBER)
    for path in ("/twilio/voice", "/twilio/sms", "/twilio/voice/status"):
        response = await gateway.post(path, params)
        assert response.status == 503
        assert variable in await response.text()
    assert (await gateway.client.get("/healthz")).status == 200


async def test_a_body_that_cannot_be_read_is_a_bad_request_not_a_crash(
    gateway: Gateway,
) -> None:
    """Malformed bodies get a 400 naming the problem, whether signed or not."""
    signature = {"X-Twilio-Signature": sign("/twilio/voice", {})}
    no_boundary = await gateway.client.post(
        "/twilio/voice",
        data=b"CallSid=CA1",
        headers={**signature, "Content-Type": "multipart/form-data"},
    )
    bad_charset = await gateway.client.post(
        "/twilio/voice",
        data=b"CallSid=CA1",
        headers={**signature, "Content-Type": "application/x-www-form-urlencoded; charset=x-nope"},
    )
    for response in (no_boundary, bad_charset):
        assert response.status == 400
        assert "cannot be read" in await response.text()


async def test_a_file_part_is_not_signed_or_passed_on(gateway: Gateway) -> None:
    """Twilio never posts files; one added to a signed form is left out of the check,
    so the request is answered as the signed fields say, and the file goes nowhere."""
    import aiohttp

    params = call_params(new_sid(), "+447700900999", STAFF_NUMBER)
    form = aiohttp.FormData()
    for key, value in params.items():
        form.add_field(key, value)
    form.add_field("Extra", b"\x00\x01", filename="x.bin", content_type="application/octet-stream")
    response = await gateway.client.post(
        "/twilio/voice",
        data=form,
        headers={"X-Twilio-Signature": sign("/twilio/voice", params)},
    )
    assert response.status == 200
    root = ET.fromstring(await response.text())
    assert verbs(root) == ["Dial"] and only(root, "Dial").text == STAFF_LINE
