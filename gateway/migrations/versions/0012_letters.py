"""Letters to customers, the exception to notice, and customers' letter language.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:00:00

``letters`` keeps each letter as sent (by email through the mail queue) or printed and
posted, with its PDF and the PDF's SHA-256; ``notice_exceptions`` the director's
signed-off decision not to tell a customer of a restriction; ``customer_languages``
the language a customer's letters are written in.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
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
        "letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("restriction_id", ID, nullable=True),
        sa.Column("restriction_version", sa.Integer(), nullable=True),
        sa.Column("appeal_id", sa.Integer(), nullable=True),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("large_print", sa.Boolean(), nullable=False),
        sa.Column("delivery", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("to_address", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("signatory", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("sent_at", _ts(), nullable=True),
        sa.Column("posted_by", sa.Text(), nullable=True),
        _fk("letters", "customer_id", "customers"),
        _fk("letters", "restriction_id", "restrictions"),
        sa.PrimaryKeyConstraint("id", name="pk_letters"),
    )
    op.create_index("ix_letters_customer_id", "letters", ["customer_id"])
    op.create_index("ix_letters_restriction_id", "letters", ["restriction_id"])
    op.create_index("ix_letters_created_at", "letters", ["created_at"])
    op.create_table(
        "notice_exceptions",
        sa.Column("restriction_id", ID, nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.Text(), nullable=False),
        sa.Column("proposed_at", _ts(), nullable=False),
        sa.Column("signed_off_by", sa.Text(), nullable=True),
        sa.Column("signed_off_at", _ts(), nullable=True),
        sa.Column("sign_off_reason", sa.Text(), nullable=True),
        _fk("notice_exceptions", "restriction_id", "restrictions"),
        sa.PrimaryKeyConstraint("restriction_id", name="pk_notice_exceptions"),
    )
    op.create_table(
        "customer_languages",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        _fk("customer_languages", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_languages"),
    )


def downgrade() -> None:
    op.drop_table("customer_languages")
    op.drop_table("notice_exceptions")
    op.drop_index("ix_letters_created_at", table_name="letters")
    op.drop_index("ix_letters_restriction_id", table_name="letters")
    op.drop_index("ix_letters_customer_id", table_name="letters")
    op.drop_table("letters")
