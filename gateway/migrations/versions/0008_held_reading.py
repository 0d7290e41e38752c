"""Reading held contact: when an unread item was escalated, and what a reader said it raises.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:00:00

``escalated_at`` is set once, by the one gateway whose conditional UPDATE claims the
item, in the same transaction that queues the escalation email: that column, not the
mail queue's key (whose done rows are pruned after a week), is what makes "escalated
once" hold for ever. ``raises`` keeps the kind a reader chose ("appeal",
"safeguarding", "new_matter", ...) when marking an item read sent it on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("held_contact", sa.Column("raises", sa.String(32), nullable=True))
    op.add_column(
        "held_contact", sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("held_contact") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("raises")
