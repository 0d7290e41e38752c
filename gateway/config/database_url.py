"""What a database URL points at, for code that must not load the store to ask (the
evidence scan's command) as well as for the store itself, and how to name it to a person."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from gateway.config.settings import Settings


def sqlite_file(url: str) -> str | None:
    """The path of a SQLite database file; None for other engines and in-memory ones."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # URI form, e.g. a shared in-memory database
        return None
    return database


def shown_url(url: str) -> str:
    """The URL with its password, if any, as ``***``: fit for a terminal or a log."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_file_is_new(url: str) -> bool:
    """Is ``url`` a SQLite file that does not exist yet (opening it will create it)?"""
    path = sqlite_file(url)
    return path is not None and not Path(path).exists()


def describe_database(url: str, *, default: bool, new: bool = False) -> str:
    """Which database a command used, in words: a SQLite file by its absolute path (a
    relative one depends on the folder the command ran in, which is easy to miss), any
    other by its URL with the password hidden."""
    path = sqlite_file(url)
    if path is None:
        return f"database {shown_url(url)}"
    notes = ["SQLite"]
    if default:
        notes.append(
            "the default, ./var/gateway.db in the current folder: "
            "GATEWAY_DATABASE_URL chooses another"
        )
    if new:
        notes.append("a new file, created now")
    return f"database {Path(path).resolve()} ({'; '.join(notes)})"


def announce_database(settings: Settings, *, new: bool = False) -> None:
    """Say on stderr which database a command used (a relative SQLite path is read from
    the current folder, so the same command run elsewhere uses another database)."""
    default = "url" not in settings.database.model_fields_set
    line = describe_database(settings.database.url, default=default, new=new)
    print(f"contact-gateway: {line}", file=sys.stderr, flush=True)
