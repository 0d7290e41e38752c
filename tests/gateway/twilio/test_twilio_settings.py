"""The Twilio settings: read from GATEWAY_TWILIO_* and GATEWAY_PUBLIC_URL, errors name them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.config.settings import SettingsError, load_settings

SID = "AC" + "0123456789abcdef" * 2


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_twilio_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_TWILIO_AUTH_TOKEN", "tok")
    monkeypatch.setenv("GATEWAY_TWILIO_FORWARD_SMS", "true")
    monkeypatch.setenv("GATEWAY_TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("GATEWAY_TWILIO_FROM_NUMBER", "+44 1632 960050")
    monkeypatch.setenv(
        "GATEWAY_TWILIO_ROUTES", "+441632960000=+441632960100, +441632960010=+441632960110"
    )
    monkeypatch.setenv("GATEWAY_TWILIO_ANSWER_TIMEOUT", "2.5")
    monkeypatch.setenv("GATEWAY_PUBLIC_URL", "https://gateway.example.org/contact/")
    s = load_settings()
    assert s.twilio.forward_sms and s.twilio.account_sid == SID
    assert s.twilio.from_number == "+441632960050"
    assert s.twilio.route_map == {
        "+441632960000": "+441632960100",
        "+441632960010": "+441632960110",
    }
    assert s.twilio.answer_timeout == 2.5
    assert s.public_url == "https://gateway.example.org/contact"


def test_defaults_need_nothing_set() -> None:
    s = load_settings()
    assert not s.twilio.forward_sms and s.twilio.account_sid == ""
    assert s.twilio.route_map == {} and s.twilio.answer_timeout == 3.0


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"GATEWAY_TWILIO_ACCOUNT_SID": "AC123"}, "GATEWAY_TWILIO_ACCOUNT_SID: 'AC123' is not"),
        (
            {"GATEWAY_TWILIO_FORWARD_SMS": "true"},
            "GATEWAY_TWILIO_ACCOUNT_SID: is empty, but GATEWAY_TWILIO_FORWARD_SMS is true",
        ),
        ({"GATEWAY_TWILIO_FORWARD_SMS": "perhaps"}, "GATEWAY_TWILIO_FORWARD_SMS"),
        (
            {"GATEWAY_TWILIO_FROM_NUMBER": "01632 960050"},
            "GATEWAY_TWILIO_FROM_NUMBER: '01632 960050' must be written in E.164",
        ),
        (
            {"GATEWAY_TWILIO_ROUTES": "+441632960000"},
            "GATEWAY_TWILIO_ROUTES: '+441632960000' is not TWILIO_NUMBER=LINE",
        ),
        (
            {"GATEWAY_TWILIO_ROUTES": "+441632960000=01632 960100"},
            "GATEWAY_TWILIO_ROUTES: '01632 960100' must be written in E.164",
        ),
        ({"GATEWAY_TWILIO_ANSWER_TIMEOUT": "30"}, "GATEWAY_TWILIO_ANSWER_TIMEOUT"),
        (
            {"GATEWAY_PUBLIC_URL": "gateway.example.org"},
            "GATEWAY_PUBLIC_URL: 'gateway.example.org' is not a base URL",
        ),
        (
            {"GATEWAY_PUBLIC_URL": "https://gateway.example.org/?x=1"},
            "GATEWAY_PUBLIC_URL: 'https://gateway.example.org/?x=1' must not have a query",
        ),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], words: str
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert words in str(info.value)
