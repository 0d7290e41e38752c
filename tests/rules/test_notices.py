"""What the customer is told instead: each part of the notice, in plain words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rules.decision import HoldReason, LimitCount
from rules.models import Channel, Officer, Restriction
from rules.notices import NoticeFacts, notice_text

from .factories import EMERGENCY, LONDON, NOW, OFFICERS, restriction

JANE = Officer.model_validate(OFFICERS[0])
NO_PHONE = Officer.model_validate(OFFICERS[2])


def facts(**overrides: Any) -> NoticeFacts:
    base: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "hold_reason": HoldReason.CHANNEL_NOT_ALLOWED,
        "restriction": Restriction.model_validate(restriction(channels=["email"])),
        "officer": JANE,
        "zone": LONDON,
        "emergency_number": EMERGENCY,
        "representatives": (),
        "now": NOW,
    }
    base.update(overrides)
    return NoticeFacts(**base)


def test_every_way_allowed_is_listed() -> None:
    r = Restriction.model_validate(restriction(channels=["email", "sms", "voice"]))
    text = notice_text(facts(channel=Channel.EMAIL, hold_reason=HoldReason.EXCESS, restriction=r))
    assert "by text message or by phone to Jane Smith on 01632 960001." in text


@pytest.mark.parametrize(
    ("officer", "expected"),
    [(None, "You can contact us by email or by phone."), (NO_PHONE, "by phone.")],
)
def test_without_officer_or_phone(officer: Officer | None, expected: str) -> None:
    r = Restriction.model_validate(restriction(channels=["email", "voice"]))
    text = notice_text(facts(channel=Channel.SMS, restriction=r, officer=officer))
    assert expected in text


def test_excess_without_the_cap_that_stopped_it() -> None:
    text = notice_text(facts(hold_reason=HoldReason.EXCESS))
    assert text.startswith("You have reached the number of contacts we agreed with you.")
    assert "contact us again" not in text


def test_excess_on_any_channel_names_contacts_and_when_to_try_again() -> None:
    exceeded = LimitCount(restriction_id="R-1", channel="any", max=3, per="P1D", used=3)
    text = notice_text(
        facts(
            channel=Channel.VOICE,
            hold_reason=HoldReason.EXCESS,
            exceeded=exceeded,
            reset_at=NOW + timedelta(hours=2),
        )
    )
    assert text.startswith(
        "You have reached the limit of 3 contacts in 1 day that we agreed with you. "
        "You can contact us again from Tuesday 24 November at 12:30 pm."
    )


def test_window_open_now_and_later() -> None:
    r = Restriction.model_validate(
        restriction(
            channels=["voice"], call_windows=[{"days": ["tue"], "start": "10:00", "end": "12:00"}]
        )
    )
    text = notice_text(facts(channel=Channel.SMS, restriction=r))
    assert "You can call now, until 12 noon." in text
    assert "(Tuesdays between 10 am and 12 noon)" in text
    text = notice_text(facts(channel=Channel.SMS, restriction=r, now=NOW + timedelta(hours=2)))
    assert "The next time you can call is Tuesday 1 December between 10 am and 12 noon." in text


@pytest.mark.parametrize(
    ("channel", "emergency", "expected"),
    [
        (Channel.EMAIL, EMERGENCY, "call 01632 960999 at any time."),
        (Channel.EMAIL, None, "say so in your message and it will be passed on straight away."),
        (Channel.VOICE, None, "call 999 if anyone is in immediate danger"),
    ],
)
def test_emergency_route_always_given(
    channel: Channel, emergency: str | None, expected: str
) -> None:
    text = notice_text(
        facts(channel=channel, emergency_number=emergency, hold_reason=HoldReason.NO_CONTACT)
    )
    assert expected in text
    assert "emergency repair" in text


def test_representative_only_names_the_representatives() -> None:
    text = notice_text(
        facts(
            hold_reason=HoldReason.REPRESENTATIVE_ONLY,
            representatives=("Support worker", "Advocate"),
        )
    )
    assert text.startswith(
        "At present we can accept contact only through Support worker or Advocate."
    )
    no_rep = notice_text(facts(hold_reason=HoldReason.REPRESENTATIVE_ONLY))
    assert "only through your representative" in no_rep


def test_read_and_file_says_it_will_be_read() -> None:
    text = notice_text(facts(hold_reason=HoldReason.READ_AND_FILE))
    assert text.startswith(
        "Your email has been received and will be read. Under the arrangement we have written "
        "to you about, we will reply only if it raises a new matter."
    )
