"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no time zone type: SQLAlchemy stores a ``DATETIME`` as text and hands back a
naive datetime. PostgreSQL's ``timestamptz`` hands back an aware one. Evidence hashes are
computed over timestamps, so a value must come back exactly as it went in — the same
instant, tz-aware, UTC, to the microsecond — whichever engine is underneath.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned tz-aware in UTC.

    Naive datetimes are refused on the way in: a naive value has no instant, and
    guessing one is how evidence ends up an hour out every summer.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no time zone; pass UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite keeps wall-clock text; fixed-width UTC text also sorts by instant.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
