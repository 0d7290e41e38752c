"""The incidents a warning letter covers; fingerprints of restricted customers' texts.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 00:00:00

``letter_incidents`` records which incidents a warning letter names (the warning stage,
issue 19). ``text_fingerprints`` keeps, for restricted customers' recent contact, the
SHA-256 of the normalised start of what they wrote (never the text), so the same text
sent later from an unknown address can be listed as a possible match (issue 18).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "letter_incidents",
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letters.id"], name="fk_letter_incidents_letter_id_letters"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_letter_incidents_incident_id_incidents"
        ),
        sa.PrimaryKeyConstraint("letter_id", "incident_id", name="pk_letter_incidents"),
    )
    op.create_index("ix_letter_incidents_incident_id", "letter_incidents", ["incident_id"])
    op.create_table(
        "text_fingerprints",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_text_fingerprints_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("customer_id", "fingerprint", name="pk_text_fingerprints"),
    )
    op.create_index("ix_text_fingerprints_fingerprint", "text_fingerprints", ["fingerprint"])
    op.create_index("ix_text_fingerprints_seen_at", "text_fingerprints", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_text_fingerprints_seen_at", table_name="text_fingerprints")
    op.drop_index("ix_text_fingerprints_fingerprint", table_name="text_fingerprints")
    op.drop_table("text_fingerprints")
    op.drop_index("ix_letter_incidents_incident_id", table_name="letter_incidents")
    op.drop_table("letter_incidents")
