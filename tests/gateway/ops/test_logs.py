"""Structured logs: JSON lines carrying the id of the request or contact being handled.

Lines are captured the way ``serve`` writes them (``configure_logging`` on a stream),
from real traffic: HTTP requests and signed-or-not Twilio webhooks through aiohttp's
test server, mail over SMTP to a running gateway.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import STORE, create_app
from gateway.config.settings import SettingsError, load_settings
from gateway.mail.lifecycle import MAIL
from gateway.ops.logs import (
    REQUEST_ID_HEADER,
    JsonFormatter,
    bind,
    configure_logging,
    current_fields,
    log_context,
)
from tests.channels import twilio_kit
from tests.conftest import sqlite_url
from tests.gateway.mail_support import (
    CUSTOMER,
    STAFF,
    START,
    FakeClock,
    gateway_settings,
    message,
    policy,
    transact,
)
from tests.rules.factories import CUSTOMER_PHONE, STAFF_NUMBER

Lines = Callable[[], list[dict[str, Any]]]


def _capture(log_format: str) -> Iterator[tuple[io.StringIO, Lines]]:
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging(log_format, stream=stream)
    try:
        yield stream, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    for _, lines in _capture("json"):
        yield lines


@pytest.fixture
def text_stream() -> Iterator[io.StringIO]:
    for stream, _ in _capture("text"):
        yield stream


async def test_a_twilio_webhook_is_logged_with_its_request_id_and_call_sid(
    aiohttp_client: Any, tmp_path: Path, json_lines: Lines
) -> None:
    gateway = await twilio_kit.start(
        aiohttp_client,
        twilio_kit.settings(sqlite_url(tmp_path), tmp_path / "mail"),
        twilio_kit.FakeClock(START),
    )
    sid = "CA" + "7" * 32
    params = twilio_kit.call_params(sid, CUSTOMER_PHONE, STAFF_NUMBER)
    response = await gateway.client.post(
        "/twilio/voice",
        data=params,
        headers={"X-Twilio-Signature": "forged", REQUEST_ID_HEADER: "lb-4711"},
    )
    assert response.status == 403
    assert response.headers[REQUEST_ID_HEADER] == "lb-4711"
    [refusal] = [line for line in json_lines() if line["logger"] == "channels.twilio.security"]
    assert refusal["level"] == "WARNING" and "signature does not match" in refusal["message"]
    assert (refusal["request_id"], refusal["contact_id"], refusal["channel"]) == (
        "lb-4711",
        sid,
        "voice",
    )
    # aiohttp's access log line for the request carries the same id.
    access = [line for line in json_lines() if line["logger"] == "aiohttp.access"]
    assert [line["request_id"] for line in access] == ["lb-4711"]
    assert "POST /twilio/voice" in access[0]["message"]


async def test_request_ids_are_made_up_when_missing_or_insane_and_echoed_on_errors(
    aiohttp_client: Any, tmp_path: Path, json_lines: Lines
) -> None:
    client = await aiohttp_client(
        create_app(gateway_settings(sqlite_url(tmp_path), f"maildir:{tmp_path}"))
    )
    made = (await client.get("/healthz")).headers[REQUEST_ID_HEADER]
    insane = await client.get("/healthz", headers={REQUEST_ID_HEADER: "x" * 500})
    missing = await client.get("/no/such/page", headers={REQUEST_ID_HEADER: "a b;c"})
    assert missing.status == 404
    ids = [made, insane.headers[REQUEST_ID_HEADER], missing.headers[REQUEST_ID_HEADER]]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids) and len(set(ids)) == 3
    logged = [line["request_id"] for line in json_lines() if line["logger"] == "aiohttp.access"]
    assert logged == ids


async def test_an_smtp_message_is_logged_with_its_message_id(
    aiohttp_client: Any, tmp_path: Path, json_lines: Lines
) -> None:
    settings = gateway_settings(sqlite_url(tmp_path), f"maildir:{tmp_path / 'mail'}")
    app = create_app(settings, clock=FakeClock())
    await aiohttp_client(app)
    await app[STORE].upsert_policy(
        policy({"handling": "no_contact", "notify_customer": False}), actor="test"
    )
    sent = message(message_id="<held-1@example.net>")
    assert (await transact(app[MAIL].listener.port, CUSTOMER, [STAFF], sent)).code == 250
    [held] = [line for line in json_lines() if "held (" in line["message"]]
    assert held["logger"] == "gateway.mail.sink" and held["level"] == "INFO"
    assert (held["contact_id"], held["channel"]) == ("held-1@example.net", "email")
    assert held["message"].startswith(held["queue_id"])
    assert "request_id" not in held, "nothing leaks in from an HTTP request"


def test_exceptions_and_extra_fields_are_in_the_json(json_lines: Lines) -> None:
    log = logging.getLogger("gateway.test")
    with log_context(contact_id="SM1"):
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            log.exception("could not %s", "divide", extra={"customer_id": "C-1"})
    log.info("after")
    failed, after = json_lines()
    assert failed["message"] == "could not divide" and failed["level"] == "ERROR"
    assert (failed["contact_id"], failed["customer_id"]) == ("SM1", "C-1")
    assert failed["exc_info"].startswith("Traceback") and "ZeroDivisionError" in failed["exc_info"]
    assert failed["timestamp"].endswith("+00:00")
    assert after == {
        "timestamp": after["timestamp"],
        "level": "INFO",
        "logger": "gateway.test",
        "message": "after",
    }, "the context ended with the with block"


def test_json_formatter_survives_values_json_cannot_hold() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "at %s", (Path("/p"),), None)
    record.when = START  # an extra field that is not JSON
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["message"], entry["when"]) == ("at /p", str(START))


def test_text_format_appends_the_ids(text_stream: io.StringIO) -> None:
    async def in_task() -> None:
        bind(request_id="r-1", contact_id="CA1")
        logging.getLogger("gateway.test").warning("plain words")

    asyncio.run(in_task())
    [line] = text_stream.getvalue().splitlines()
    assert line.endswith("WARNING gateway.test plain words [request_id=r-1 contact_id=CA1]")
    assert current_fields() == {}, "bound inside its own task only"


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "json"), ("text", "text"), (" JSON ", "json")]
)
def test_log_format_setting(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str
) -> None:
    if value is not None:
        monkeypatch.setenv("GATEWAY_LOG_FORMAT", value)
    assert load_settings().log_format == expected


def test_bad_log_format_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match="GATEWAY_LOG_FORMAT: 'xml' is neither json"):
        load_settings()
