"""Administration API: users, the restriction lifecycle, flags, adjustments, settings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}"
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("token_rotated_at", _ts(), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.UniqueConstraint("token_hash", name="uq_users_token_hash"),
    )
    op.create_table(
        "restriction_proposals",
        sa.Column("restriction_id", ID, nullable=False),
        sa.Column("evidence_seqs", sa.JSON(), nullable=False),
        sa.Column("evidence_summary", sa.Text(), nullable=False),
        sa.Column("adjustments_considered", sa.Text(), nullable=False),
        sa.Column("proposed_review_on", sa.Date(), nullable=True),
        sa.Column("proposed_by", sa.Text(), nullable=False),
        sa.Column("proposed_at", _ts(), nullable=False),
        _fk("restriction_proposals", "restriction_id", "restrictions"),
        sa.PrimaryKeyConstraint("restriction_id", name="pk_restriction_proposals"),
    )
    op.create_table(
        "restriction_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("restriction_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _fk("restriction_transitions", "restriction_id", "restrictions"),
        sa.PrimaryKeyConstraint("id", name="pk_restriction_transitions"),
    )
    op.create_index(
        "ix_restriction_transitions_restriction_id",
        "restriction_transitions",
        ["restriction_id"],
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("restriction_id", ID, nullable=False),
        sa.Column("lodged_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("in_time", sa.Boolean(), nullable=False),
        sa.Column("late_reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", _ts(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        _fk("appeals", "restriction_id", "restrictions"),
        sa.PrimaryKeyConstraint("id", name="pk_appeals"),
    )
    op.create_index("ix_appeals_restriction_id", "appeals", ["restriction_id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("restriction_id", ID, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("reviewed_at", _ts(), nullable=False),
        _fk("reviews", "restriction_id", "restrictions"),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
    )
    op.create_index("ix_reviews_restriction_id", "reviews", ["restriction_id"])
    op.create_table(
        "customer_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("removed_by", sa.Text(), nullable=True),
        sa.Column("removed_at", _ts(), nullable=True),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        _fk("customer_flags", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("id", name="pk_customer_flags"),
    )
    op.create_index("ix_customer_flags_customer_id", "customer_flags", ["customer_id"])
    op.create_table(
        "customer_adjustments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("need", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", _ts(), nullable=False),
        sa.Column("removed_by", sa.Text(), nullable=True),
        sa.Column("removed_at", _ts(), nullable=True),
        _fk("customer_adjustments", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("id", name="pk_customer_adjustments"),
    )
    op.create_index(
        "ix_customer_adjustments_customer_id", "customer_adjustments", ["customer_id"]
    )
    op.create_table(
        "customer_assignments",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("assigned_by", sa.Text(), nullable=False),
        sa.Column("assigned_at", _ts(), nullable=False),
        _fk("customer_assignments", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("customer_id", "user_name", name="pk_customer_assignments"),
    )
    op.create_table(
        "org_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_org_settings"),
    )


def downgrade() -> None:
    for table in (
        "org_settings",
        "customer_assignments",
        "customer_adjustments",
        "customer_flags",
        "reviews",
        "appeals",
        "restriction_transitions",
        "restriction_proposals",
        "users",
    ):
        op.drop_table(table)
