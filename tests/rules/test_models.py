"""Policy validation: each mistake a person can make is refused, naming field and value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from rules.models import (
    CallWindow,
    Channel,
    Limit,
    Officer,
    Policy,
    Restriction,
    Weekday,
    format_loc,
    format_utc,
    parse_period,
    reference_problems,
)

from .factories import OFFICERS, customer, restriction


def _error(model: type, data: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data, **kw)
    return str(info.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"authorised_by": "Officer.A"}, "authorised_by 'Officer.A' is also proposed_by"),
        ({"status": "active", "authorised_by": None}, "status 'active' needs authorised_by"),
        (
            {"ends": "2026-10-01T00:00:00Z"},
            "ends '2026-10-01T00:00:00Z' is not after starts '2026-11-01T09:00:00Z'",
        ),
        ({"channels": []}, "channels is empty but handling is 'deliver'"),
        ({"limits": [{"channel": "email", "max": 0, "per": "P7D"}]}, "greater than or equal to 1"),
        ({"limits": [{"channel": "email", "max": 1, "per": "P1M"}]}, "per 'P1M' uses months"),
        (
            {"limits": [{"channel": "email", "max": 1, "per": "weekly"}]},
            "per 'weekly' is not an ISO 8601",
        ),
        (
            {"limits": [{"channel": "email", "max": 1, "per": "PT0S"}]},
            "per 'PT0S' must be a period longer",
        ),
        ({"limits": [{"channel": "fax", "max": 1, "per": "P1D"}]}, "fax"),
        (
            {"call_windows": [{"days": ["tue"], "start": "12:00", "end": "10:00"}]},
            "end '10:00' is not after start '12:00'",
        ),
        (
            {"call_windows": [{"days": ["tue"], "start": "10:00", "end": "10:00"}]},
            "end '10:00' is not after start '10:00'",
        ),
        (
            {"call_windows": [{"days": ["tue"], "start": "10:00", "end": "34:30"}]},
            "longer than 24 hours",
        ),
        (
            {"call_windows": [{"days": ["tue"], "start": "25:00", "end": "26:00"}]},
            "start '25:00' is not a time of day",
        ),
        (
            {"call_windows": [{"days": ["tue"], "start": "10:75", "end": "12:00"}]},
            "start '10:75' is not a time of day",
        ),
        (
            {"call_windows": [{"days": ["tue"], "start": "ten", "end": "12:00"}]},
            "start 'ten' is not a time of day",
        ),
        ({"call_windows": [{"days": [], "start": "10:00", "end": "12:00"}]}, "days"),
        ({"call_windows": [{"days": ["someday"], "start": "10:00", "end": "12:00"}]}, "days"),
        ({"call_time_limit": 5}, "call_time_limit"),
        ({"id": "bad id!"}, "'bad id!' is not a usable id"),
        ({"starts": "2026-11-01T09:00:00"}, "timezone"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_restriction_refused_with_field_and_value(overrides: dict[str, Any], expected: str) -> None:
    assert expected in _error(Restriction, restriction(**overrides))


def test_no_contact_may_allow_no_channel() -> None:
    r = Restriction.model_validate(restriction(channels=[], handling="no_contact"))
    assert r.channels == []


def test_draft_needs_no_authoriser_and_duplicate_channels_collapse() -> None:
    r = Restriction.model_validate(
        restriction(status="draft", authorised_by="", channels=["email", "email", "sms"])
    )
    assert r.authorised_by is None
    assert r.channels == [Channel.EMAIL, Channel.SMS]


def test_restriction_times_are_utc_and_serialise_with_z() -> None:
    r = Restriction.model_validate(restriction(starts="2026-11-01T10:00:00+01:00"))
    assert r.starts == datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert r.model_dump(mode="json")["starts"] == "2026-11-01T09:00:00Z"
    assert format_utc(datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC)) == "2026-01-01T00:00:00.000005Z"


def test_review_overdue() -> None:
    r = Restriction.model_validate(restriction(review_on="2027-05-01"))
    assert not r.review_overdue(date(2027, 5, 1))
    assert r.review_overdue(date(2027, 5, 2))
    no_review = Restriction.model_validate(restriction(review_on=None))
    assert not no_review.review_overdue(date(2099, 1, 1))


def test_call_window_offsets_and_days() -> None:
    w = CallWindow.model_validate({"days": ["Tue", "FRIDAY"], "start": "22:00", "end": "26:00"})
    assert w.days == [Weekday.TUE, Weekday.FRI]
    assert (w.start_offset, w.end_offset) == (timedelta(hours=22), timedelta(hours=26))
    assert Weekday.SUN.number == 6 and Weekday.MON.full_name == "Monday"


def test_limit_applies_to_its_channel_or_any() -> None:
    email = Limit(channel=Channel.EMAIL, max=1, per="P1D")
    anything = Limit(channel="any", max=1, per="PT12H")
    assert email.applies_to(Channel.EMAIL) and not email.applies_to(Channel.SMS)
    assert anything.applies_to(Channel.VOICE)
    assert anything.period == timedelta(hours=12)
    assert parse_period("P1W") == timedelta(days=7)


def test_a_period_that_is_not_text_is_refused_by_name() -> None:
    for value in (None, 7, ["P1D"]):
        with pytest.raises(ValueError, match="is not an ISO 8601 duration"):
            parse_period(value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="months or years"):
        parse_period("P1M")
    with pytest.raises(ValueError, match="months or years"):
        parse_period("P1M")  # a refusal is not kept: asked again, refused again


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"id": "x", "name": "X", "email": "not-an-address"}, "'not-an-address' is not an email"),
        (
            {"id": "x", "name": "X", "email": "x@example.org", "phone": "0770"},
            "'0770' is not a possible phone number for region GB",
        ),
        (
            {"id": "x", "name": "X", "email": "x@example.org", "phone": "call me"},
            "'call me' is not a phone number",
        ),
        (
            {"id": "x", "name": "X", "email": "x@example.org", "deputy": "x"},
            "cannot be their own deputy",
        ),
        ({"id": "x", "name": "", "email": "x@example.org"}, "name"),
    ],
)
def test_officer_refused(data: dict[str, Any], expected: str) -> None:
    assert expected in _error(Officer, data)


def test_officer_phone_may_be_left_out() -> None:
    officer = Officer.model_validate(
        {"id": "x", "name": "X", "email": "x@example.org", "phone": None}
    )
    assert officer.phone is None


def test_days_must_be_a_list() -> None:
    assert "days" in _error(CallWindow, {"days": "tue", "start": "10:00", "end": "12:00"})


def test_officer_phone_normalised_in_region() -> None:
    officer = Officer.model_validate(
        {"id": "x", "name": "X", "email": " X@Example.ORG ", "phone": "(0161) 496 0000"}
    )
    assert (officer.email, officer.phone) == ("x@example.org", "+441614960000")
    us = Officer.model_validate(
        {"id": "y", "name": "Y", "email": "y@example.org", "phone": "202 555 0123"},
        context={"region": "US"},
    )
    assert us.phone == "+12025550123"


def test_customer_identities_normalised_and_deduplicated() -> None:
    policy = Policy.model_validate(
        {
            "customers": [
                customer(
                    emails=["Alex@Example.NET", "alex@example.net"],
                    phones=["07700 900123", "+447700900123"],
                )
            ]
        }
    )
    c = policy.customers[0]
    assert c.emails == ["alex@example.net"]
    assert c.phones == ["+447700900123"]
    assert c.representatives[0].emails == ["worker@charity.example"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            {"restrictions": [restriction()], "customers": [customer()]},
            "restrictions[0].named_officer: 'jsmith' is not a known officer id",
        ),
        (
            {"restrictions": [restriction(customer="C-9")], "officers": OFFICERS},
            "restrictions[0].customer: 'C-9' is not a known customer id",
        ),
        (
            {"officers": [{**OFFICERS[0], "deputy": "nobody"}]},
            "officers[0].deputy: 'nobody' is not a known officer id",
        ),
        ({"officers": [OFFICERS[1], OFFICERS[1]]}, "officers[1].id: 'akhan' is used twice"),
        (
            {"customers": [customer(), customer(id="C-2", phones=[])]},
            "customers[1].emails[0]: 'alex@example.net' already belongs to customer 'C-1'",
        ),
        (
            {"customers": [customer(), customer(id="C-2", emails=[], phones=["+447700900123"])]},
            "customers[1].phones[0]: '+447700900123' already belongs to customer 'C-1'",
        ),
    ],
)
def test_policy_cross_references(policy: dict[str, Any], expected: str) -> None:
    assert expected in _error(Policy, policy)


def test_reference_problems_empty_for_a_good_policy() -> None:
    good = Policy.model_validate(
        {"officers": OFFICERS, "customers": [customer()], "restrictions": [restriction()]}
    )
    assert reference_problems(good) == []


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("restrictions", 3, "customer"), "restrictions[3].customer"),
        (("customers", 0, "phones", 1), "customers[0].phones[1]"),
        ((), "(whole file)"),
    ],
)
def test_format_loc(loc: tuple[str | int, ...], text: str) -> None:
    assert format_loc(loc) == text


def test_models_given_the_same_fields_share_one_set_of_their_names() -> None:
    """A stored restriction gives all its fields, and a set of 20 names costs about
    2.2 kB in each of 10,000 restrictions (bench/memory.py): models given the same
    fields share one set, and what it says of each model is unchanged."""
    stored = Restriction.model_validate(restriction()).model_dump(mode="json")
    first, second = (Restriction.model_validate(dict(stored, id=f"R-{n}")) for n in (1, 2))
    assert first.model_fields_set == set(Restriction.model_fields)
    assert first.model_fields_set is second.model_fields_set

    written = Restriction.model_validate(restriction(status=None, authorised_by=None))
    assert "status" not in written.model_fields_set  # what `rules import` notes
    assert written.model_fields_set is not first.model_fields_set
    limit = Limit(channel=Channel.EMAIL, max=2, per="P7D")
    assert limit.model_fields_set == {"channel", "max", "per"}


def test_a_copy_of_a_model_changes_its_own_set_of_given_fields() -> None:
    """The shared set is never added to: a frozen model refuses assignment, and a copy
    with changes gets a set of its own."""
    written = Restriction.model_validate(restriction(status=None, authorised_by=None))
    twin = Restriction.model_validate(restriction(status=None, authorised_by=None, id="R-2"))
    authorised = written.model_copy(update={"status": "active", "authorised_by": "director.b"})
    assert {"status", "authorised_by"} <= authorised.model_fields_set
    assert "status" not in written.model_fields_set | twin.model_fields_set
    with pytest.raises(ValidationError, match="frozen"):
        written.reason = "changed"  # type: ignore[misc]
    assert written.model_fields_set is twin.model_fields_set
    assert "reason" in written.model_fields_set and written.reason != "changed"
    assert (
        written.model_dump(exclude_unset=True).keys() == twin.model_dump(exclude_unset=True).keys()
    )


def test_past_so_many_sets_of_fields_a_model_keeps_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sets of names that vary without end are not all kept for sharing."""
    import rules.fields

    monkeypatch.setattr(rules.fields, "_FIELDS_SETS", {})
    monkeypatch.setattr(rules.fields, "_MAX_FIELDS_SETS", 1)
    first, again = (Limit(channel=Channel.SMS, max=n, per="P1D") for n in (1, 2))
    other = Limit.model_validate({"channel": "sms", "max": 1, "per": "P1D"})
    with_own = Restriction.model_validate(restriction())
    assert first.model_fields_set is again.model_fields_set is other.model_fields_set
    assert with_own.model_fields_set == set(restriction())
    assert (
        with_own.model_fields_set is not Restriction.model_validate(restriction()).model_fields_set
    )
