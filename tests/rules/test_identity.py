"""Identity normalisation: one person, however they write their address or number."""

from __future__ import annotations

import pytest

from rules.identity import (
    IdentityError,
    display_phone,
    normalise_email,
    normalise_identity,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07700 900123", "+447700900123"),
        ("+447700900123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("00447700900123", "+447700900123"),
        ("01632 960001", "+441632960001"),
        ("+1 202 555 0123", "+12025550123"),
        ("+33 1 23 45 67 89", "+33123456789"),
    ],
)
def test_phone_numbers_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw, "GB") == expected


@pytest.mark.parametrize("raw", ["", "hello", "123", "+44 12", "07700 90012345678"])
def test_bad_phone_numbers_refused_naming_the_value(raw: str) -> None:
    with pytest.raises(IdentityError) as info:
        normalise_phone(raw, "GB")
    assert str(info.value).startswith(f"'{raw}' is not a")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Alex@Example.NET", "alex@example.net"),
        ("  alex@example.net  ", "alex@example.net"),
        ("Alex Example <ALEX@example.net>", "alex@example.net"),
        ('"Example, Alex" <alex@example.net>', "alex@example.net"),
    ],
)
def test_emails_case_insensitive_and_trimmed(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "alex", "alex@", "@example.net", "alex@localhost"])
def test_bad_emails_refused(raw: str) -> None:
    with pytest.raises(IdentityError, match="is not an email address"):
        normalise_email(raw)


def test_normalise_identity_picks_the_kind() -> None:
    assert normalise_identity("ALEX@example.net") == "alex@example.net"
    assert normalise_identity("07700 900123") == "+447700900123"
    assert normalise_identity("202 555 0123", "US") == "+12025550123"


def test_display_phone() -> None:
    assert display_phone("+441632960001") == "01632 960001"
    assert display_phone("+12025550123") == "+1 202-555-0123"
