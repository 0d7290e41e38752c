"""What a database URL points at, for code that must not load the store to ask (the
evidence scan's command) as well as for the store itself."""

from __future__ import annotations

from sqlalchemy.engine import make_url


def sqlite_file(url: str) -> str | None:
    """The path of a SQLite database file; None for other engines and in-memory ones."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # URI form, e.g. a shared in-memory database
        return None
    return database
