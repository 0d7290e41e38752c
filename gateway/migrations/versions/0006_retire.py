"""Retiring officers and customers: who retired them and when (rows are kept).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("officers", "customers")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
        op.add_column(table, sa.Column("retired_by", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("retired_by")
            batch.drop_column("retired_at")
