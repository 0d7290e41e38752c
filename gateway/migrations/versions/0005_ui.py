"""Web UI: server-side sessions and stored login attempts (passwords live in users).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ui_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("last_seen_at", _ts(), nullable=False),
        sa.Column("expires_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_ui_sessions"),
    )
    op.create_index("ix_ui_sessions_user_name", "ui_sessions", ["user_name"])
    op.create_table(
        "ui_login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ui_login_attempts"),
    )
    op.create_index("ix_ui_login_attempts_key_at", "ui_login_attempts", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_ui_login_attempts_key_at", table_name="ui_login_attempts")
    op.drop_table("ui_login_attempts")
    op.drop_index("ix_ui_sessions_user_name", table_name="ui_sessions")
    op.drop_table("ui_sessions")
