"""Possible matches: contact from an unknown sender that looks like a restricted customer's.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-14 00:00:00

``possible_matches`` lists, for a person to confirm or dismiss, an address or number
that wrote in and looks like a restricted customer's (the display name, a number or
address in the signature). One row per customer and identity; nothing is blocked on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "possible_matches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("identity", sa.String(320), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("clues", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("contact_key", sa.Text(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_possible_matches"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_possible_matches_customer_id_customers"
        ),
        sa.UniqueConstraint(
            "customer_id", "identity", name="uq_possible_matches_customer_id_identity"
        ),
    )
    op.create_index("ix_possible_matches_customer_id", "possible_matches", ["customer_id"])
    op.create_index("ix_possible_matches_status", "possible_matches", ["status"])


def downgrade() -> None:
    op.drop_index("ix_possible_matches_status", table_name="possible_matches")
    op.drop_index("ix_possible_matches_customer_id", table_name="possible_matches")
    op.drop_table("possible_matches")
