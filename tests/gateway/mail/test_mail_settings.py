"""The GATEWAY_SMTP_* settings: defaults, and bad values stopping start-up by name."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    smtp = load_settings().smtp
    assert (smtp.max_bytes, smtp.max_recipients, smtp.max_received) == (25 * 1024 * 1024, 100, 30)
    assert smtp.queue_lifetime == timedelta(days=5)
    assert smtp.tls_cert is None and smtp.tls_key is None
    assert smtp.trusted_authserv_id == "" and smtp.hostname == ""
    assert smtp.relay_timeout == 60  # a sender waits no longer; the relay itself goes on


def test_values_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=gw", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for name, value in {
        "GATEWAY_SMTP_MAX_RECIPIENTS": "50",
        "GATEWAY_SMTP_QUEUE_LIFETIME": "P2D",
        "GATEWAY_SMTP_TRUSTED_AUTHSERV_ID": "mx.example.org",
        "GATEWAY_SMTP_TLS_CERT": str(cert),
        "GATEWAY_SMTP_TLS_KEY": str(key),
        "GATEWAY_SMTP_SESSION_TIMEOUT": "120",
    }.items():
        monkeypatch.setenv(name, value)
    smtp = load_settings().smtp
    assert smtp.max_recipients == 50 and smtp.queue_lifetime == timedelta(days=2)
    assert smtp.trusted_authserv_id == "mx.example.org"
    assert (smtp.tls_cert, smtp.tls_key, smtp.session_timeout) == (cert, key, 120)


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"GATEWAY_SMTP_MAX_RECIPIENTS": "0"}, "GATEWAY_SMTP_MAX_RECIPIENTS"),
        ({"GATEWAY_SMTP_MAX_BYTES": "lots"}, "GATEWAY_SMTP_MAX_BYTES"),
        ({"GATEWAY_SMTP_MAX_RECEIVED": "1"}, "GATEWAY_SMTP_MAX_RECEIVED"),
        ({"GATEWAY_SMTP_COMMAND_LIMIT": "-5"}, "GATEWAY_SMTP_COMMAND_LIMIT"),
        ({"GATEWAY_SMTP_SESSION_TIMEOUT": "0"}, "GATEWAY_SMTP_SESSION_TIMEOUT"),
        ({"GATEWAY_SMTP_RELAY_TIMEOUT": "soon"}, "GATEWAY_SMTP_RELAY_TIMEOUT"),
        # A sending server waits 10 minutes for our reply: answer well inside them.
        ({"GATEWAY_SMTP_RELAY_TIMEOUT": "900"}, "GATEWAY_SMTP_RELAY_TIMEOUT"),
        ({"GATEWAY_SMTP_QUEUE_LIFETIME": "forever"}, "GATEWAY_SMTP_QUEUE_LIFETIME"),
        ({"GATEWAY_SMTP_QUEUE_LIFETIME": "-P1D"}, "GATEWAY_SMTP_QUEUE_LIFETIME: the queue"),
        (
            {"GATEWAY_SMTP_TRUSTED_AUTHSERV_ID": "mx.example.org; evil"},
            "GATEWAY_SMTP_TRUSTED_AUTHSERV_ID: 'mx.example.org; evil' is not an authserv-id",
        ),
        ({"GATEWAY_SMTP_TLS_CERT": "/no/such/cert.pem"}, "GATEWAY_SMTP_TLS_CERT: '/no/such"),
        ({"GATEWAY_UPSTREAM": "smtp://mail.example.org"}, "GATEWAY_UPSTREAM: 'smtp://mail"),
        ({"GATEWAY_UPSTREAM": "smtp://mail.example.org:x"}, "GATEWAY_UPSTREAM"),
        # urlsplit and the transport would read different hosts out of it.
        ({"GATEWAY_UPSTREAM": "smtp://relay@mx.example.org:25"}, "has a login in it"),
        # A password is only ever sent over TLS (and never shown back).
        (
            {
                "GATEWAY_UPSTREAM": "smtp://mx.example.org:25",
                "GATEWAY_SMTP_UPSTREAM_USERNAME": "relay",
                "GATEWAY_SMTP_UPSTREAM_PASSWORD": "hunter2",
            },
            "GATEWAY_SMTP_UPSTREAM_USERNAME is set but GATEWAY_UPSTREAM (smtp://mx.example.org"
            ":25) is not encrypted",
        ),
        (
            {
                "GATEWAY_UPSTREAM": "smtps://mx.example.org:465",
                "GATEWAY_SMTP_UPSTREAM_PASSWORD": "hunter2",
            },
            "GATEWAY_SMTP_UPSTREAM_PASSWORD is set without GATEWAY_SMTP_UPSTREAM_USERNAME",
        ),
        ({"GATEWAY_SMTP_UPSTREAM_CA_FILE": "/no/such/ca.pem"}, "GATEWAY_SMTP_UPSTREAM_CA_FILE"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], words: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert words in str(info.value)
    assert "hunter2" not in str(info.value)


def test_certificate_without_key_names_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("not a certificate")
    monkeypatch.setenv("GATEWAY_SMTP_TLS_CERT", str(cert))
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "GATEWAY_SMTP_TLS_KEY: GATEWAY_SMTP_TLS_CERT and GATEWAY_SMTP_TLS_KEY" in str(info.value)


def test_unloadable_certificate_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    monkeypatch.setenv("GATEWAY_SMTP_TLS_CERT", str(cert))
    monkeypatch.setenv("GATEWAY_SMTP_TLS_KEY", str(key))
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "GATEWAY_SMTP_TLS_KEY: the certificate" in str(info.value)
