"""Stored content compressed with lz4 on PostgreSQL 14 and later.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 00:00:00

Emails are kept whole in ``contents.data``, and PostgreSQL compresses a large value
before storing it, by default with pglz. lz4 is several times faster at the same job,
and the evidence appender waits on it: measured with ``bench/evidence_appends.py``, the
contents insert of a 200-contact batch took 7 ms with pglz, 4 ms with lz4. Only for
values written from now on (existing rows are left as they are). A server without lz4
(built without it, or older than 14) keeps pglz: nothing else depends on the choice.
SQLite has no such setting.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _set_compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if int(bind.execute(sa.text("SHOW server_version_num")).scalar_one()) < 140000:
        return
    try:
        with bind.begin_nested():
            op.execute(f"ALTER TABLE contents ALTER COLUMN data SET COMPRESSION {method}")
    except sa.exc.DBAPIError:
        if method != "lz4":
            raise  # a server built without lz4 refuses it: keep its default then


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")
