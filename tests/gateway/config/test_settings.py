"""Settings: SPEC §2 defaults, GATEWAY_* variables, .env, and errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.settings import Settings, SettingsError, env_name, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_match_the_spec() -> None:
    s = Settings()
    assert (s.http.host, s.http.port) == ("127.0.0.1", 8080)
    assert (s.smtp.host, s.smtp.port) == ("127.0.0.1", 2525)
    assert s.database.url == "sqlite+aiosqlite:///./var/gateway.db"
    assert s.redis.url == "" and s.redis.prefix == "cg"
    assert s.upstream == "maildir:./var/mail"
    assert s.org_domains == ("example.org",)
    assert s.timezone == "Europe/London" and s.zone.key == "Europe/London"
    assert s.default_region == "GB"
    assert s.twilio.auth_token.get_secret_value() == ""
    assert s.public_url == "" and s.emergency_number == ""


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_HTTP_PORT", "9090")
    monkeypatch.setenv("GATEWAY_SMTP_HOST", "0.0.0.0")
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1/test")
    monkeypatch.setenv("GATEWAY_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("GATEWAY_REDIS_PREFIX", "cg-north")
    monkeypatch.setenv("GATEWAY_ORG_DOMAINS", "Example.org, council.gov.uk")
    monkeypatch.setenv("GATEWAY_TWILIO_AUTH_TOKEN", "s3cret")
    monkeypatch.setenv("GATEWAY_EMERGENCY_NUMBER", "0300 123 4567")
    monkeypatch.setenv("GATEWAY_UPSTREAM", "smtp://127.0.0.1:25")
    s = load_settings()
    assert s.http.port == 9090 and s.smtp.host == "0.0.0.0"
    assert s.database.url.startswith("postgresql+asyncpg://")
    assert s.redis.url == "redis://127.0.0.1:6379/0" and s.redis.prefix == "cg-north"
    assert s.org_domains == ("example.org", "council.gov.uk")
    assert s.twilio.auth_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)
    assert s.emergency_number == "+443001234567"
    assert s.upstream == "smtp://127.0.0.1:25"


def test_trusted_proxies_are_addresses_and_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().http.trusted_proxies == ()
    monkeypatch.setenv("GATEWAY_HTTP_TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12 fd00::/8")
    found = [str(net) for net in load_settings().http.trusted_proxies]
    assert found == ["10.0.0.5/32", "172.16.0.0/12", "fd00::/8"]


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GATEWAY_HTTP_PORT=8181\nGATEWAY_TIMEZONE=Europe/Dublin\n")
    s = load_settings()
    assert (s.http.port, s.timezone) == (8181, "Europe/Dublin")


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("GATEWAY_HTTP_PORT", "eighty", "GATEWAY_HTTP_PORT"),
        ("GATEWAY_SMTP_PORT", "70000", "GATEWAY_SMTP_PORT"),
        ("GATEWAY_DATABASE_URL", "mysql://x", "GATEWAY_DATABASE_URL: 'mysql://x' is not supported"),
        (
            "GATEWAY_REDIS_URL",
            "localhost:6379",
            "GATEWAY_REDIS_URL: 'localhost:6379' is not a Redis URL",
        ),
        ("GATEWAY_REDIS_PREFIX", "", "GATEWAY_REDIS_PREFIX: '' is not a key prefix"),
        ("GATEWAY_REDIS_PREFIX", "cg north", "GATEWAY_REDIS_PREFIX: 'cg north' is not a key"),
        ("GATEWAY_REDIS_PREFIX", "cg{1}", "GATEWAY_REDIS_PREFIX: 'cg{1}' is not a key prefix"),
        ("GATEWAY_UPSTREAM", "mbox:/tmp/x", "GATEWAY_UPSTREAM: 'mbox:/tmp/x' is neither"),
        ("GATEWAY_ORG_DOMAINS", " , ", "GATEWAY_ORG_DOMAINS: at least one staff domain"),
        ("GATEWAY_ORG_DOMAINS", "jane@example.org", "is not a mail domain"),
        ("GATEWAY_TIMEZONE", "Mars/Olympus", "GATEWAY_TIMEZONE: 'Mars/Olympus' is not an IANA"),
        ("GATEWAY_DEFAULT_REGION", "XX", "GATEWAY_DEFAULT_REGION: 'XX' is not a phone region"),
        ("GATEWAY_EMERGENCY_NUMBER", "dial nine", "GATEWAY_EMERGENCY_NUMBER: 'dial nine'"),
        (
            "GATEWAY_HTTP_TRUSTED_PROXIES",
            "10.0.0.1, nginx",
            "GATEWAY_HTTP_TRUSTED_PROXIES: 'nginx' is not an address or network",
        ),
        ("GATEWAY_HTTP_TRUSTED_PROXIES", "10.0.0.5/8", "(10.0.0.5/8 has host bits set)"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, words: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert words in str(info.value)


def test_secret_values_are_not_echoed_in_errors() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(twilio={"auth_token": 12})
    assert "GATEWAY_TWILIO_AUTH_TOKEN" in str(info.value)
    assert "12" not in str(info.value).split("GATEWAY_TWILIO_AUTH_TOKEN")[1]


def test_env_name() -> None:
    assert env_name(("smtp", "max_bytes")) == "GATEWAY_SMTP_MAX_BYTES"
