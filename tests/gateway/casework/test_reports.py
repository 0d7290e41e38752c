"""The quarterly report: quarters as a person types them, and the committee's figures for
restrictions however they were made (``rules import`` or the API's lifecycle)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import delete

from gateway.casework.reports import Quarter, build_report
from gateway.store.admin_schema import restriction_transitions
from gateway.store.casework.lifecycle import list_transitions
from tests.conftest import open_store
from tests.gateway.api_support import START, api_settings, proposal, seed_people, start_api
from tests.gateway.cli.test_cli import GOOD, run
from tests.gateway.decisions.test_service import FakeClock
from tests.gateway.mail_support import upstream_server

ZONES = [ZoneInfo("Europe/London"), ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")]


@pytest.mark.parametrize("text", ["2026Q4", " 2026q1 ", "1900Q1", "9998Q4"])
def test_a_quarter_is_read_and_spans_three_months(text: str) -> None:
    quarter = Quarter.parse(text)
    for zone in ZONES:
        start, end = quarter.span(zone)
        assert start < end
        assert (end - start).days in range(89, 93)


@pytest.mark.parametrize("text", ["2026Q5", "2026", "0000Q1", "1899Q4", "9999Q4", "Q4 2026"])
def test_anything_else_is_refused_with_the_form_expected(text: str) -> None:
    # 9999Q4 used to pass and then fail with "year 10000 is out of range" (a 500 page).
    with pytest.raises(ValueError, match="is not a quarter like 2026Q4"):
        Quarter.parse(text)


# ------------------------------------------------------------- the committee's figures


def _figures(output: str) -> dict[str, str]:
    """``contact-gateway report``'s lines as measure -> the rest ("1 (C-1001)")."""
    found = {}
    for line in output.splitlines()[1:]:
        measure, _, rest = line.strip().partition(": ")
        found[measure] = rest
    return found


def _pack_text(database_url: str, pdf: Path) -> str:
    made = run(
        database_url,
        "evidence",
        "export",
        "--customer",
        "C-1001",
        "--format",
        "pdf",
        "-o",
        str(pdf),
    )
    assert made.returncode == 0, made.stderr
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(pdf).pages))


async def _transitions(url: str, restriction_id: str) -> list[dict[str, Any]]:
    async with open_store(url) as store, store.engine.connect() as conn:
        return await list_transitions(conn, restriction_id)


async def _forget_transitions(url: str) -> None:
    """What a database whose restrictions were imported before the import wrote
    lifecycle transitions looks like: the versions, and no transitions."""
    async with open_store(url) as store, store.engine.begin() as conn:
        await conn.execute(delete(restriction_transitions))


@pytest.mark.slow
def test_a_restriction_made_by_rules_import_is_counted_and_has_its_history(
    database_url: str, tmp_path: Path
) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(GOOD)  # one active restriction, from 1 November 2026
    imported = run(database_url, "rules", "import", str(policy_file))
    assert imported.returncode == 0, imported.stderr
    [move] = asyncio.run(_transitions(database_url, "R-2026-001"))
    assert (move["action"], move["from_status"], move["to_status"]) == ("import", None, "active")
    assert move["actor"] == "cli" and "imported from a policy file" in move["reason"]

    now = Quarter.of(datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date())
    for quarter, customers, new in [
        (None, "1 (C-1001)", None),  # the quarter of today, as the issue ran it
        ("2026Q4", "1 (C-1001)", "1 (R-2026-001)"),  # in force from its starts, 1 Nov
        ("2026Q3", "0", "0"),
    ]:
        args = ["report"] if quarter is None else ["report", "--quarter", quarter]
        report = run(database_url, *args)
        assert report.returncode == 0, report.stderr
        figures = _figures(report.stdout)
        assert figures["Customers under restriction"] == customers, (quarter, report.stdout)
        if new is not None:
            assert figures["New restrictions (authorised)"] == new, (quarter, report.stdout)

    as_csv = run(database_url, "report", "--quarter", "2026Q4", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = {row[1]: row for row in csv.reader(io.StringIO(as_csv.stdout))}
    assert rows["Customers under restriction"] == [
        "2026Q4",
        "Customers under restriction",
        "1",
        "C-1001",
    ]
    assert rows["Letters sent"][2:] == ["0", ""]  # counted, and there were none

    # The evidence pack shows the imported restriction's history, in local plain times
    # and plain limits, with people by name; the hashes stay, in the appendix.
    pack = _pack_text(database_url, tmp_path / "pack.pdf")
    for words in (
        "recorded by import",
        "imported from a policy file",
        "In force from Sunday 1 November 2026, 9 am",
        "Review on Saturday 1 May 2027",
        "5 emails a week",
        "Jane Smith (named officer)",
        "Times are Europe/London time.",
        "Appendix A. Each record's hash",
    ):
        assert words in pack, (words, pack)
    assert "P7D" not in pack and "per P" not in pack

    # Imported before imports wrote transitions: still counted, from its versions, and
    # the pack's history is not blank: it gives the versions.
    asyncio.run(_forget_transitions(database_url))
    report = run(database_url, "report", "--quarter", "2026Q4")
    assert _figures(report.stdout)["Customers under restriction"] == "1 (C-1001)"
    pack = _pack_text(database_url, tmp_path / "pack-without-transitions.pdf")
    assert "version 1" in pack and "imported from a policy file" in pack

    # Revoked by a later import: the step is recorded, and counted in today's quarter.
    revoked = tmp_path / "revoked.yaml"
    revoked.write_text(GOOD.replace("status: active", "status: revoked"))
    assert run(database_url, "rules", "import", str(revoked)).returncode == 0
    [move] = asyncio.run(_transitions(database_url, "R-2026-001"))
    assert (move["from_status"], move["to_status"]) == ("active", "revoked")
    figures = _figures(run(database_url, "report", "--quarter", str(now)).stdout)
    assert figures["Restrictions revoked"] == "1 (R-2026-001)"
    assert figures["Customers under restriction"] == "1 (C-1001)"  # until it was revoked
    figures = _figures(run(database_url, "report", "--quarter", str(now.next)).stdout)
    assert figures["Customers under restriction"] == "0"


async def test_restrictions_made_through_the_api_are_counted_as_before(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(START)  # 24 November 2026
    api = await start_api(aiohttp_client, api_settings(database_url, tmp_path / "mail"), clock)
    await seed_people(api)
    await api.ok("POST", "/restrictions", "officer", json=proposal())
    await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={})
    clock.now = datetime(2027, 1, 10, 12, tzinfo=UTC)
    await api.ok("POST", "/restrictions/R-1/revoke", "auth", json={"reason": "behaviour improved"})
    zone = ZoneInfo("Europe/London")
    async with api.store.engine.connect() as conn:
        q4 = await build_report(conn, Quarter.parse("2026Q4"), zone)
        q1 = await build_report(conn, Quarter.parse("2027Q1"), zone)
        q2 = await build_report(conn, Quarter.parse("2027Q2"), zone)
    assert (q4.customers_under_restriction, q4.new, q4.revoked) == (["C-1"], ["R-1"], [])
    assert (q1.customers_under_restriction, q1.new, q1.revoked) == (["C-1"], [], ["R-1"])
    assert (q2.customers_under_restriction, q2.new, q2.revoked) == ([], [], [])


async def test_incidents_flags_and_appeal_times_are_counted_in_their_quarter(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(START)  # Tuesday 24 November 2026
    api = await start_api(aiohttp_client, api_settings(database_url, tmp_path / "mail"), clock)
    await seed_people(api)
    await api.ok("POST", "/restrictions", "officer", json=proposal())
    await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={})
    for days_ago, category in (
        (1, "verbal_or_hate_abuse"),
        (2, "verbal_or_hate_abuse"),
        (3, "property_damage"),
        (70, "property_damage"),
    ):
        await api.ok(
            "POST",
            "/customers/C-1/incidents",
            "officer",
            json={
                "occurred_at": (START - timedelta(days=days_ago)).isoformat(),
                "channel": "visit",
                "category": category,
                "description": "What happened",
            },
        )
    await api.ok(
        "POST",
        "/customers/C-1/flags",
        "officer",
        json={"level": "red", "category": "physical_violence", "reason": "Pushed an officer"},
    )
    appeal = await api.ok(
        "POST",
        "/restrictions/R-1/appeals",
        "officer",
        json={"lodged_on": "2026-11-24", "grounds": "Too strict"},
    )
    clock.now = START + timedelta(days=8)  # Wednesday 2 December: 6 working days later
    await api.ok(
        "POST",
        f"/appeals/{appeal['id']}/decision",
        "auth2",
        json={"outcome": "uphold", "reason": "Proportionate"},
    )
    async with api.store.engine.connect() as conn:
        q4 = await build_report(conn, Quarter.parse("2026Q4"), ZoneInfo("Europe/London"))
    rows = {measure: (count, detail) for measure, count, detail in q4.rows()}
    assert rows["Incidents recorded"] == (3, "property damage: 1, verbal or hate abuse: 2")
    assert rows["Warning flags added"] == (1, "red: 1")
    assert rows["Appeals uphold: working days to decide"] == (1, "average 6.0, longest 6")
    assert rows["Appeals decided"] == (1, "uphold: 1")
    q3 = await _report(api, "2026Q3")
    assert dict((m, c) for m, c, _ in q3.rows())["Incidents recorded"] == 1  # 70 days before


async def _report(api: Any, quarter: str) -> Any:
    async with api.store.engine.connect() as conn:
        return await build_report(conn, Quarter.parse(quarter), ZoneInfo("Europe/London"))


async def test_letters_are_counted_in_the_quarter_they_reach_the_customer(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    """Real letters written through the API: emailed (sent at once), for the post (sent
    once marked posted; until then named as still to post), and a restriction put in
    force under a signed-off exception to notice (withheld). Read through the command
    line, as text and as CSV."""
    async with upstream_server() as up:
        settings = api_settings(
            database_url, tmp_path / "mail", upstream=f"smtp://127.0.0.1:{up.port}"
        )
        clock = FakeClock(START)  # Tuesday 24 November 2026: 2026Q4
        api = await start_api(aiohttp_client, settings, clock, written_notice=True)
        await seed_people(api)
        await api.ok("POST", "/restrictions", "officer", json=proposal())
        decision = {"kind": "decision", "delivery": "email", "restriction": "R-1"}
        await api.ok("POST", "/customers/C-1/letters", "auth", json=decision)
        warning = {"kind": "warning", "delivery": "post", "behaviour": "Thirty emails a day."}
        posted = await api.ok("POST", "/customers/C-1/letters", "officer", json=warning)
        await api.ok("POST", f"/letters/{posted['id']}/posted", "officer")
        await api.ok("POST", "/customers/C-1/letters", "officer", json=warning)  # not posted
        await api.ok("POST", "/restrictions", "officer", json=proposal(id="R-2"))
        reasons = {"reasons": "Police advise a letter would put his partner at risk."}
        await api.ok("POST", "/restrictions/R-2/notice-exception", "auth2", json=reasons)
        await api.ok(
            "POST", "/restrictions/R-2/notice-exception/sign-off", "auth3", json={"reason": "ok"}
        )
        await api.ok("POST", "/restrictions/R-2/authorise", "auth", json={"reason": "ok"})
        # An emailed warning in the next quarter counts there, not here.
        clock.now = datetime(2027, 1, 5, 10, tzinfo=UTC)
        await api.ok(
            "POST", "/customers/C-1/letters", "officer", json={**warning, "delivery": "email"}
        )

        text = await asyncio.to_thread(run, database_url, "report", "--quarter", "2026Q4")
        assert text.returncode == 0, text.stderr
        figures = _figures(text.stdout)
        assert figures["Warning letters sent"] == "1 (C-1)"
        assert figures["Letters sent"] == (
            "2 (decision: 1, warning: 1; emailed 1, posted 1; 1 more written and not yet posted)"
        )
        assert figures["Letters withheld (exception to notice)"] == "1 (R-2 (signed off by auth3))"
        assert "not recorded" not in text.stdout

        as_csv = await asyncio.to_thread(
            run, database_url, "report", "--quarter", "2027Q1", "--format", "csv"
        )
        assert as_csv.returncode == 0, as_csv.stderr
        rows = {row[1]: row[2:] for row in csv.reader(io.StringIO(as_csv.stdout))}
        assert rows["Warning letters sent"] == ["1", "C-1"]
        assert rows["Letters sent"] == ["1", "warning: 1; emailed 1, posted 0"]
        assert rows["Letters withheld (exception to notice)"] == ["0", ""]
