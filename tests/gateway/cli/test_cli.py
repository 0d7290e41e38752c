"""The contact-gateway command, run as an administrator runs it: a real process."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader
from sqlalchemy import text

from gateway.store import Store

EXE = str(Path(sys.executable).parent / "contact-gateway")

GOOD = """\
officers:
  - id: jsmith
    name: Jane Smith
    email: jane.smith@example.org
    phone: "+441632960001"
customers:
  - id: C-1001
    name: Alex Example
    emails: [Alex@Example.net]
    phones: ["07700 900123"]
restrictions:
  - id: R-2026-001
    customer: C-1001
    reason: "Over 40 calls a week to several staff"
    proposed_by: officer.a
    authorised_by: director.b
    status: active
    starts: 2026-11-01T09:00:00Z
    review_on: 2027-05-01
    channels: [email]
    named_officer: jsmith
    call_windows:
      - {days: [tue], start: "10:00", end: "12:00"}
    limits:
      - {channel: email, max: 5, per: P7D}
"""


DATABASE_LINE = "contact-gateway: database "  # every command names its database


def said(stderr: str) -> list[str]:
    """What a command said on stderr besides naming the database it used."""
    return [line for line in stderr.splitlines() if not line.startswith(DATABASE_LINE)]


def run(
    db: str, *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_DATABASE_URL"] = db
    return subprocess.run(
        [EXE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=cwd,
        input=stdin,
        start_new_session=stdin is not None,  # no terminal: getpass reads stdin
    )


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    return path


def test_import_is_an_idempotent_upsert(database_url: str, policy_file: Path) -> None:
    first = run(database_url, "rules", "import", str(policy_file))
    assert first.returncode == 0, first.stderr
    assert "customers: 1 created, 0 updated, 0 unchanged" in first.stdout
    again = run(database_url, "rules", "import", str(policy_file))
    assert again.returncode == 0, again.stderr
    assert "customers: 0 created, 0 updated, 1 unchanged" in again.stdout
    assert "restrictions: 0 created, 0 updated, 1 unchanged" in again.stdout


def test_bad_file_is_refused_whole(database_url: str, tmp_path: Path) -> None:
    bad = GOOD.replace('phones: ["07700 900123"]', 'phones: ["0770"]').replace(
        "authorised_by: director.b", "authorised_by: officer.a"
    )
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    result = run(database_url, "rules", "import", str(path))
    assert result.returncode == 1
    assert "nothing was imported" in result.stderr
    phone_line = bad.splitlines().index('    phones: ["0770"]') + 1
    assert f"line {phone_line}" in result.stderr and "'0770'" in result.stderr
    assert "authorised_by" in result.stderr
    export = run(database_url, "rules", "export")
    assert export.returncode == 0, export.stderr
    exported = yaml.safe_load(export.stdout) or {}
    assert not exported.get("customers") and not exported.get("officers")


def test_export_round_trips(database_url: str, policy_file: Path, tmp_path: Path) -> None:
    assert run(database_url, "rules", "import", str(policy_file)).returncode == 0
    out = tmp_path / "exported.yaml"
    assert run(database_url, "rules", "export", "-o", str(out)).returncode == 0
    exported = yaml.safe_load(out.read_text())
    assert exported["customers"][0]["emails"] == ["alex@example.net"]
    assert exported["customers"][0]["phones"] == ["+447700900123"]
    again = run(database_url, "rules", "import", str(out))
    assert again.returncode == 0, again.stderr
    assert "0 created, 0 updated" in again.stdout


def test_explain_prints_decision_and_reasons(database_url: str, policy_file: Path) -> None:
    assert run(database_url, "rules", "import", str(policy_file)).returncode == 0
    call = run(
        database_url,
        "explain",
        "--channel",
        "voice",
        "--from",
        "07700 900123",
        "--to",
        "01632 960000",
        "--at",
        "2026-11-24T10:30:00Z",
    )
    assert call.returncode == 0, call.stderr
    assert "decision: message" in call.stdout
    assert "reason [channels.channel_not_allowed]" in call.stdout
    assert "jane.smith@example.org" in call.stdout
    mail = run(
        database_url,
        "explain",
        "--channel",
        "email",
        "--from",
        "ALEX@example.net",
        "--to",
        "repairs@example.org",
        "--at",
        "2026-11-24T10:30:00Z",
        "--json",
    )
    assert mail.returncode == 0, mail.stderr
    decision = json.loads(mail.stdout)
    assert (decision["action"], decision["deliver_to"]) == ("deliver", "jane.smith@example.org")
    assert decision["reasons"][0]["restriction_id"] == "R-2026-001"


def test_exemptions_check_says_why_a_text_is_exempt_or_held(database_url: str) -> None:
    gas = run(database_url, "exemptions", "check", "can smell rotten eggs by the cooker")
    assert gas.returncode == 0, gas.stderr
    assert gas.stdout.splitlines() == [
        "exempt: emergency_repair",
        "words: rotten eggs",
        "phrase: {rotten} {eggs}",
    ]
    meeting = "councillor Jones is coming to the residents meeting on tuesday, what time is it"
    why = _held_why(database_url, meeting)
    assert why.startswith("the phrase 'councillor' (complaint) matched the words 'councillor'")
    assert ", but the trained model finds the message " in why
    assert why.endswith("likely ordinary contact")
    # A settled repair, held by the second look: the check names that model.
    thanks = "thank you for fixing the burst pipe so fast, the plumber was lovely"
    why = _held_why(database_url, thanks)
    assert why.startswith("the phrase '{pipe} ~ {burst}' (emergency_repair)")
    assert "but the second look (a model trained on what phrases matched) finds" in why


def _held_why(database_url: str, text: str) -> str:
    """``exemptions check``'s reason for holding ``text`` that a phrase matched."""
    held = run(database_url, "exemptions", "check", text)
    assert held.returncode == 0, held.stderr
    first, why = held.stdout.splitlines()
    assert first == "no exemption: held like any other contact under a restriction"
    return why


def test_explain_bad_input_is_named(database_url: str) -> None:
    argv = ["--channel", "sms", "--from", "not a number", "--to", "01632 960000"]
    result = run(database_url, "explain", *argv)
    assert result.returncode == 1
    assert "is not a phone number" in result.stderr


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("2026-11-24 10:30", "has no time zone"),
        ("tomorrow", "is not an ISO 8601 instant"),
    ],
)
def test_explain_bad_at_is_named_before_anything_is_loaded(
    tmp_path: Path, at: str, words: str
) -> None:
    """A bad ``--at`` is refused before the web application, the contact service or the
    database is loaded (about a second of a command's start-up): the database it names
    is never created, and the one line said is about ``--at``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    folder = tmp_path / "var"
    env["GATEWAY_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / 'gateway.db'}"
    argv = ["explain", "--channel", "sms", "--from", "07700 900123", "--to", "01632 960000"]
    result = subprocess.run(
        [sys.executable, "-c", _LOADED_BY, *argv, "--at", at],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    refusal, loaded = result.stderr.splitlines()
    assert refusal.startswith(f"contact-gateway: --at '{at}' ") and words in refusal
    assert loaded == "loaded: -"
    assert not folder.exists()


def test_bad_setting_stops_the_command_naming_the_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_SMTP_PORT"] = "lots"
    result = subprocess.run(
        [EXE, "evidence", "verify"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "GATEWAY_SMTP_PORT" in result.stderr


async def _record_some(url: str, count: int) -> None:
    from tests.gateway.decisions.test_service import FakeClock, email, policy, service_on

    store = await Store.open(url)
    try:
        await store.upsert_policy(policy(), actor="test")
        service = await service_on(store, FakeClock(email().at))
        for i in range(count):
            await service.handle(email(), contact_key=f"m{i}", content=b"message %d" % i)
    finally:
        await store.close()


async def _tamper(url: str) -> None:
    store = await Store.open(url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(text("UPDATE evidence SET recipient = 'someone@else' WHERE seq = 2"))
    finally:
        await store.close()


def test_evidence_verify_export_and_tamper(database_url: str, tmp_path: Path) -> None:
    asyncio.run(_record_some(database_url, 3))
    ok = run(database_url, "evidence", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "3 records" in ok.stdout
    as_json = run(database_url, "evidence", "export", "--customer", "C-1", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert [r["seq"] for r in document["records"]] == [1, 2, 3]
    assert document["chain"]["head_seq"] == 3
    as_csv = run(database_url, "evidence", "export", "--customer", "C-1", "--format", "csv")
    assert as_csv.returncode == 0 and len(as_csv.stdout.strip().splitlines()) == 4
    pdf = tmp_path / "pack.pdf"
    as_pdf = run(
        database_url, "evidence", "export", "--customer", "C-1", "--format", "pdf", "-o", str(pdf)
    )
    assert as_pdf.returncode == 0, as_pdf.stderr
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert document["records"][0]["hash"] in text.replace("\n", "")
    missing = run(database_url, "evidence", "export", "--customer", "C-404")
    assert missing.returncode == 1 and "there is no customer 'C-404'" in missing.stderr
    asyncio.run(_tamper(database_url))
    broken = run(database_url, "evidence", "verify")
    assert broken.returncode == 1
    assert "record 2" in broken.stderr


async def _tree_root_and_tamper_node(url: str) -> str:
    """Extend the stored tree, spoil its node over records 1-2, and give the root."""
    store = await Store.open(url)
    try:
        size = await store.extend_tree()
        root = (await store.tree_root(size)).hex()
        async with store.engine.begin() as conn:
            await conn.execute(
                text("UPDATE evidence_tree SET hash = :h WHERE level = 1 AND idx = 0"),
                {"h": b"\x01" * 32},
            )
    finally:
        await store.close()
    return root


def test_evidence_verify_reports_the_tree_and_a_stored_tree_that_disagrees(
    database_url: str,
) -> None:
    asyncio.run(_record_some(database_url, 3))
    root = asyncio.run(_tree_root_and_tamper_node(database_url))
    found = run(database_url, "evidence", "verify")
    assert "evidence chain verified: 3 records" in found.stdout
    assert f"evidence tree: 3 records, root {root}" in found.stdout
    assert found.returncode == 1
    assert "evidence tree BROKEN at leaf 0" in found.stderr
    assert "its node at level 1, index 0 (records 1 to 2) differs" in found.stderr


_LOADED_BY_VERIFY = """
import sys
from gateway.cli.main import main
code = main(["evidence", "verify"])
heavy = [m for m in ("aiohttp", "alembic", "gateway.app", "gateway.store") if m in sys.modules]
print("loaded:", ",".join(heavy) or "-")
sys.exit(code)
"""


def test_verifying_an_intact_chain_does_not_load_the_service(database_url: str) -> None:
    """A long chain is checked by the fast scan alone: the web application, the store
    and the migrations are loaded only when the reference check has to name a record."""
    asyncio.run(_record_some(database_url, 3))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_DATABASE_URL"] = database_url
    intact = subprocess.run(
        [sys.executable, "-c", _LOADED_BY_VERIFY], capture_output=True, text=True, env=env
    )
    assert intact.returncode == 0, intact.stderr
    assert "3 records" in intact.stdout
    assert "loaded: -" in intact.stdout
    asyncio.run(_tamper(database_url))
    broken = subprocess.run(
        [sys.executable, "-c", _LOADED_BY_VERIFY], capture_output=True, text=True, env=env
    )
    assert broken.returncode == 1 and "record 2" in broken.stderr
    assert "gateway.store" in broken.stdout  # the reference named it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_embedded_defaults_answers_health(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_HTTP_PORT"] = str(port)
    proc = subprocess.Popen(
        [EXE, "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    body = json.loads(r.read())
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.2)
        assert body == {
            "status": "ok",
            "database": "ok",
            "redis": "not configured",
            "upstream": "ok",
        }
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            assert json.loads(r.read()) == {"status": "ok"}
        assert (tmp_path / "var" / "gateway.db").exists()
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
        # serve logs one JSON object per line (GATEWAY_LOG_FORMAT defaults to json).
        logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert any(e["logger"] == "gateway.mail.lifecycle" for e in logged), output
        assert any(e["logger"] == "aiohttp.access" and e.get("request_id") for e in logged)
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode in (0, -15)


_LOADED_BY = """
import sys
from gateway.cli.main import main
code = main(sys.argv[1:])
heavy = [m for m in ("gateway.app", "gateway.decisions.service", "redis") if m in sys.modules]
print("loaded:", ",".join(heavy) or "-", file=sys.stderr)
sys.exit(code)
"""


def test_commands_that_do_not_decide_do_not_load_the_service(
    database_url: str, policy_file: Path
) -> None:
    """Every command is a process that pays for its imports first: the web application,
    the contact service and Redis (about half of a command's second) are loaded by
    ``serve``, ``explain`` and ``exemptions check`` only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_DATABASE_URL"] = database_url
    for command in (["rules", "import", str(policy_file)], ["rules", "export"]):
        done = subprocess.run(
            [sys.executable, "-c", _LOADED_BY, *command],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "loaded: -" in done.stderr, (command, done.stderr)


def test_db_upgrade_creates_and_reports(empty_database_url: str) -> None:
    first = run(empty_database_url, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "is up to date" in first.stdout
    again = run(empty_database_url, "db", "upgrade")
    assert again.returncode == 0 and "is up to date" in again.stdout
    verify = run(empty_database_url, "evidence", "verify")
    assert verify.returncode == 0 and "0 records" in verify.stdout


async def _delete_head(url: str) -> None:
    store = await Store.open(url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(text("DELETE FROM evidence_head"))
    finally:
        await store.close()


def test_a_deleted_head_row_is_reported_in_one_line(database_url: str) -> None:
    asyncio.run(_record_some(database_url, 3))
    asyncio.run(_delete_head(database_url))
    broken = run(database_url, "evidence", "verify")
    assert broken.returncode == 1, broken.stdout
    assert "Traceback" not in broken.stderr
    [line] = said(broken.stderr)
    assert line.startswith("evidence chain BROKEN")
    assert "evidence_head has no row" in line and "3 records" in line


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_known_customer_with_no_records_exports_an_empty_document(
    database_url: str, policy_file: Path, fmt: str
) -> None:
    assert run(database_url, "rules", "import", str(policy_file)).returncode == 0
    empty = run(database_url, "evidence", "export", "--customer", "C-1001", "--format", fmt)
    assert empty.returncode == 0, empty.stderr
    if fmt == "json":
        document = json.loads(empty.stdout)
        assert document["records"] == []
        assert document["export"]["customer_id"] == "C-1001"
        assert document["export"]["record_count"] == 0
        assert document["chain"]["head_seq"] == 0
        assert document["chain"]["verification_at_export"]["ok"] is True
    else:
        [header] = empty.stdout.splitlines()
        assert header.startswith("seq,hash,prev_hash,")
    unknown = run(database_url, "evidence", "export", "--customer", "C-1002", "--format", fmt)
    assert unknown.returncode == 1 and unknown.stdout == ""
    [line] = said(unknown.stderr)
    assert "there is no customer 'C-1002'" in line


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_exporting_from_a_log_whose_head_row_was_deleted_says_so_in_one_line(
    database_url: str, policy_file: Path, fmt: str, tmp_path: Path
) -> None:
    assert run(database_url, "rules", "import", str(policy_file)).returncode == 0
    asyncio.run(_delete_head(database_url))
    out = tmp_path / f"export.{fmt}"
    export = run(
        database_url, "evidence", "export", "--customer", "C-1001", "--format", fmt, "-o", str(out)
    )
    assert export.returncode == 1, export.stdout
    assert "Traceback" not in export.stderr
    [line] = said(export.stderr)
    assert line.startswith("contact-gateway: the evidence log is damaged")
    assert "evidence_head has no row" in line and "evidence verify" in line
    assert not out.exists()


@pytest.mark.parametrize("taken", ["GATEWAY_SMTP_PORT", "GATEWAY_HTTP_PORT"])
def test_serve_on_a_taken_port_says_so_and_stops_what_had_started(
    tmp_path: Path, taken: str
) -> None:
    """One line naming the port, exit code 1, and nothing else: the parts that had
    started (the store, the other listener) are stopped, not left for Python to close
    at exit with an error in the log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        env["GATEWAY_SMTP_PORT"] = str(_free_port())
        env["GATEWAY_HTTP_PORT"] = str(_free_port())
        env[taken] = str(holder.getsockname()[1])
        done = subprocess.run(
            [EXE, "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1, done.stderr
    assert "cannot start: " in done.stderr and "address already in use" in done.stderr
    logged = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    logged += [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert [e for e in logged if e["level"] in ("ERROR", "CRITICAL")] == [], done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_part_that_fails_to_start_stops_the_parts_started_before_it() -> None:
    """aiohttp's ``run_app`` starts the application outside its ``try``: the parts
    already started were never stopped, only closed by Python as it exited (with an
    error in the log when closing them in that order failed)."""
    from aiohttp import web

    from gateway.cli.main import _serve

    ended: list[str] = []

    async def started_first(app: web.Application) -> AsyncIterator[None]:
        try:
            yield
        except GeneratorExit:
            ended.append("closed by Python at exit")
            raise
        ended.append("stopped")

    async def fails(app: web.Application) -> AsyncIterator[None]:
        raise OSError("the SMTP port is taken")
        yield  # pragma: no cover

    app = web.Application()
    app.cleanup_ctx.extend([started_first, fails])
    with pytest.raises(OSError, match="SMTP port is taken"):
        asyncio.run(_serve(app, "127.0.0.1", _free_port(), lambda: None))
    assert ended == ["stopped"]
