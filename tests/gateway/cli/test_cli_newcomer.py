"""The command line as a new user meets it: which database, drafts, a missing database.

Real processes of ``contact-gateway``, on SQLite files in temporary folders and on the
local PostgreSQL server (a database that does not exist, for ``serve``).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import postgres_base_url
from tests.gateway.cli.test_cli import EXE

POLICY = """\
officers:
  - id: jsmith
    name: Jane Smith
    email: jane.smith@example.org
customers:
  - id: C-1001
    name: Alex Example
    emails: [alex@example.net]
restrictions:
  - id: R-1
    customer: C-1001
    reason: "Over 40 calls a week to several staff"
    proposed_by: officer.a
    authorised_by: director.b
    status: active
    starts: 2020-01-01T09:00:00Z
    channels: [email]
    named_officer: jsmith
  - id: R-2
    customer: C-1001
    reason: "Written, authorised, but nobody said it was active"
    proposed_by: officer.a
    authorised_by: director.b
    starts: 2020-01-01T09:00:00Z
    channels: [email]
"""
DATABASE_LINE = "contact-gateway: database "


def gateway(
    *args: str, cwd: Path, database_url: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``contact-gateway args`` in ``cwd``, with no GATEWAY_ variable but those given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    if database_url is not None:
        clean["GATEWAY_DATABASE_URL"] = database_url
    clean.update(env)
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, env=clean, cwd=cwd, timeout=120
    )


def database_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(DATABASE_LINE)]


@pytest.mark.slow
def test_every_command_says_which_database_it_used(tmp_path: Path) -> None:
    here = tmp_path / "office"
    here.mkdir()
    (here / "policy.yaml").write_text(POLICY)
    expected = f"{DATABASE_LINE}{here / 'var' / 'gateway.db'} (SQLite; "
    default = (
        "the default, ./var/gateway.db in the current folder: GATEWAY_DATABASE_URL chooses another"
    )

    first = gateway("rules", "import", "policy.yaml", cwd=here)
    assert first.returncode == 0, first.stderr
    assert database_lines(first) == [f"{expected}{default}; a new file, created now)"]
    commands = [
        ["db", "upgrade"],
        ["rules", "import", "policy.yaml", "--dry-run"],
        ["rules", "export"],
        ["explain", "--channel", "email", "--from", "alex@example.net", "--to", "x@example.org"],
        ["exemptions", "check", "my boiler is leaking"],
        ["evidence", "verify"],
        ["evidence", "export", "--customer", "C-1001", "--format", "csv"],
        ["users", "add", "root", "--role", "admin"],
        ["users", "list"],
        ["report", "--quarter", "2026Q4"],
    ]
    for command in commands:
        done = gateway(*command, cwd=here)
        # (evidence export has no records to export yet: it says so, after the line)
        assert done.returncode in (0, 1), (command, done.stderr)
        assert database_lines(done) == [f"{expected}{default})"], (command, done.stderr)

    # The same command from another folder uses (and says) another, new database.
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    other = gateway("rules", "export", cwd=elsewhere)
    assert other.returncode == 0, other.stderr
    assert database_lines(other) == [
        f"{DATABASE_LINE}{elsewhere / 'var' / 'gateway.db'} (SQLite; {default}; a new file, "
        "created now)"
    ]
    # A database chosen by URL is named by its absolute path, without the default's note.
    chosen = gateway(
        "rules",
        "export",
        cwd=elsewhere,
        database_url="sqlite+aiosqlite:///../office/var/gateway.db",
    )
    assert database_lines(chosen) == [f"{DATABASE_LINE}{here / 'var' / 'gateway.db'} (SQLite)"]
    assert "C-1001" in chosen.stdout


@pytest.mark.postgres
def test_a_database_password_is_never_shown(postgres_url: str, tmp_path: Path) -> None:
    """The server trusts local connections, so the password is sent and not needed."""
    secret = "s3cret-" + secrets.token_hex(4)
    url = make_url(postgres_url).set(password=secret).render_as_string(hide_password=False)
    done = gateway("rules", "export", cwd=tmp_path, database_url=url)
    assert done.returncode == 0, done.stderr
    shown = make_url(url).render_as_string(hide_password=True)
    assert ":***@" in shown
    assert database_lines(done) == [f"{DATABASE_LINE}{shown}"]
    assert secret not in done.stderr + done.stdout


def test_drafts_and_restrictions_in_force_are_counted(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    note = (
        "note: restriction R-2 has authorised_by but no status, so it is a draft and is not "
        "enforced; add 'status: active' to enforce it"
    )
    dry = gateway("rules", "import", "policy.yaml", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == (
        "policy.yaml is valid: 1 officer, 1 customer, 2 restrictions: 1 in force now, "
        "1 draft (dry run: nothing written)\n"
    )
    assert note in dry.stderr and "R-1" not in dry.stderr

    done = gateway("rules", "import", "policy.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "  restrictions: 2 created, 0 updated, 0 unchanged\n" in done.stdout
    assert "  the file's 2 restrictions: 1 in force now, 1 draft\n" in done.stdout
    assert note in done.stderr
    # What was stored agrees: one active restriction, one draft.
    exported = gateway("rules", "export", cwd=tmp_path).stdout
    assert exported.count("status: active") == 1 and exported.count("status: draft") == 1

    later = POLICY.replace("status: active\n    starts: 2020", "status: active\n    starts: 2999")
    (tmp_path / "later.yaml").write_text(later)
    again = gateway("rules", "import", "later.yaml", "--dry-run", cwd=tmp_path)
    assert "2 restrictions: 0 in force now, 1 draft, 1 neither (starting later," in again.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.postgres
def test_serve_on_a_missing_postgresql_database_says_so_in_one_line(tmp_path: Path) -> None:
    """The real local server, asked for a database it does not have."""
    missing = f"cg_missing_{secrets.token_hex(6)}"
    url = make_url(postgres_base_url()).set(database=missing, password="pw-not-shown")
    given = url.render_as_string(hide_password=False)
    served = gateway(
        "serve",
        cwd=tmp_path,
        database_url=given,
        GATEWAY_HTTP_PORT=str(_free_port()),
        GATEWAY_SMTP_PORT="0",
    )
    shown = url.render_as_string(hide_password=True)
    assert served.returncode == 1
    assert served.stdout == ""  # never "HTTP on ...": it did not start
    assert served.stderr.splitlines() == [
        f"contact-gateway: cannot open the database {shown}: migrating the database: the "
        f'database is unavailable (database "{missing}" does not exist)'
    ]
    # The same line as any other command that opens the database.
    exported = gateway("rules", "export", cwd=tmp_path, database_url=given)
    assert exported.returncode == 1
    assert exported.stderr == served.stderr
