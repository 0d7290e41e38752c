"""Incidents before any restriction, the reminder digests' daily claims, and users' names
and email addresses.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 00:00:00

``incidents`` records unacceptable behaviour for any customer, restricted or not (the
organisation's rule "N incidents in P days" puts the customer before a manager).
``digests_sent`` holds one row per person per local day: inserting it is the claim that
lets only one of several gateways send that day's reminder digest. ``users`` gains the
person's ``full_name`` (documents name people, not logins) and ``email`` (where their
digest goes).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("email", sa.Text(), nullable=True))
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", _ts(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("people", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("evidence_seq", sa.BigInteger(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_incidents_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index(
        "ix_incidents_customer_id_occurred_at", "incidents", ["customer_id", "occurred_at"]
    )
    op.create_table(
        "digests_sent",
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", _ts(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_name", "day", name="pk_digests_sent"),
    )


def downgrade() -> None:
    op.drop_table("digests_sent")
    op.drop_index("ix_incidents_customer_id_occurred_at", table_name="incidents")
    op.drop_table("incidents")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
        batch.drop_column("full_name")
