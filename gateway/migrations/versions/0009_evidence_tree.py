"""The Merkle tree over the evidence records, and the signed checkpoints of its root.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:00:00

``evidence_tree`` keeps every perfect subtree of the RFC 9162 tree whose leaves are the
records' chain hashes: (level k, index j) is the hash over leaves [j * 2^k,
(j + 1) * 2^k), level 0 the leaf hashes themselves. Any root or proof is then a few rows
read by primary key (``gateway/store/tree.py``); on SQLite a WITHOUT ROWID table, so
the rows are kept in that key's order. It is derived data, written after the
records by whichever gateway gets there (insert-or-ignore), and ``evidence verify``
recomputes it from the records rather than trusting it.

``evidence_checkpoint`` keeps the signed checkpoints of that tree's root (the signed
note text itself), one per scheduled ``period`` at most, or on demand (period NULL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_tree",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_evidence_tree"),
        # SQLite: rows kept in key order in the key's own B-tree, so a proof's few rows
        # are one lookup each and a level is read in one sweep (evidence verify).
        sqlite_with_rowid=False,
    )
    op.create_table(
        "evidence_checkpoint",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_checkpoint"),
        sa.UniqueConstraint("period", name="uq_evidence_checkpoint_period"),
    )


def downgrade() -> None:
    op.drop_table("evidence_checkpoint")
    op.drop_table("evidence_tree")
