"""The tables, as SQLAlchemy Core: one schema for SQLite and PostgreSQL.

This module describes the schema the code expects; ``gateway/migrations`` creates it.
The migration test compares the two, so a change here without a migration fails CI.

Design notes:

* Restriction clauses live whole in ``restrictions.data`` (``Restriction.model_dump``)
  so a new clause needs no migration; the columns beside it are the ones queries filter
  on (customer, status, dates).
* ``evidence`` and ``audit_log`` are append-only hash chains. ``seq`` is assigned by the
  store, not by the database, because the hash covers it and must be known before the
  row is written. Each chain has a one-row head table holding the last seq and hash,
  which is both the lock that serialises appends and the witness that detects a
  truncated tail.
* Content is stored once per SHA-256 and referenced from evidence and held contact.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from gateway.store.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = String(64)
HASH = String(64)

officers = Table(
    "officers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("phone", Text),
    Column("deputy", ID),
    Column("absent", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Retired (migration 0006): hidden from lists, kept for history and evidence.
    Column("retired_at", UtcDateTime),
    Column("retired_by", Text),
)

customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime),
    Column("retired_by", Text),
)

representatives = Table(
    "representatives",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    PrimaryKeyConstraint("customer_id", "position"),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    # NULL: the customer's own address or number; else the representative's position.
    Column("representative", Integer),
    Column("kind", String(8), nullable=False),
    Column("value", Text, nullable=False),
    Column("position", Integer, nullable=False),
    ForeignKeyConstraint(
        ["customer_id", "representative"],
        ["representatives.customer_id", "representatives.position"],
        name="fk_identities_representative",
        ondelete="CASCADE",
    ),
    CheckConstraint("kind IN ('email', 'phone')", name="kind"),
    Index("ix_identities_value", "value"),
    Index("ix_identities_customer_id", "customer_id"),
    # One address or number identifies one customer (representatives may be shared).
    Index(
        "uq_identities_own_value",
        "value",
        unique=True,
        sqlite_where=text("representative IS NULL"),
        postgresql_where=text("representative IS NULL"),
    ),
)

restrictions = Table(
    "restrictions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("starts", UtcDateTime, nullable=False, index=True),
    Column("ends", UtcDateTime, index=True),
    Column("review_on", Date, index=True),
    Column("data", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

restriction_history = Table(
    "restriction_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("restriction_id", ID, ForeignKey("restrictions.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("restriction_id", "version"),
)

policy_meta = Table(
    "policy_meta",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("policy_version", Integer, nullable=False),
    Column("updated_at", UtcDateTime),
    Column("updated_by", Text),
    CheckConstraint("id = 1", name="single_row"),
)

contents = Table(
    "contents",
    metadata,
    Column("sha256", HASH, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("contact_key", Text, unique=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("sender", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("customer_id", ID),
    Column("restriction_id", ID),
    Column("action", String(32), nullable=False),
    Column("deliver_to", Text),
    Column("hold_reason", String(64)),
    Column("exemption", String(64)),
    Column("reasons", JSON, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("counted", Boolean, nullable=False),
    Column("content_sha256", HASH),
    Column("content_ref", Text),
    Column("policy_version", Integer, nullable=False),
    Column("degraded", Boolean, nullable=False),
    Column("details", JSON, nullable=False),
    Column("prev_hash", HASH, nullable=False),
    Column("hash", HASH, nullable=False),
    Index("ix_evidence_customer_id_seq", "customer_id", "seq"),
    Index("ix_evidence_counted_occurred_at", "counted", "occurred_at"),
)

evidence_head = Table(
    "evidence_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", HASH, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# The RFC 9162 Merkle tree over the evidence records (gateway/chain/merkle.py): every
# perfect subtree, (level k, index j) the hash over leaves [j * 2^k, (j + 1) * 2^k), leaf
# i being record seq i + 1. Derived from the records after they are written, by any
# gateway (insert-or-ignore); ``evidence verify`` recomputes it rather than trusting it.
evidence_tree = Table(
    "evidence_tree",
    metadata,
    Column("level", SmallInteger, nullable=False),
    Column("idx", BigInteger, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    PrimaryKeyConstraint("level", "idx"),
    sqlite_with_rowid=False,
)

# Signed checkpoints of the tree's root: the signed note text, its size and root (hex).
# ``period``: the interval a scheduled checkpoint belongs to (one each), NULL on demand.
evidence_checkpoint = Table(
    "evidence_checkpoint",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root", HASH, nullable=False),
    Column("made_at", UtcDateTime, nullable=False),
    Column("period", String(32), unique=True),
    Column("note", Text, nullable=False),
)

held_contact = Table(
    "held_contact",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("evidence_seq", BigInteger, ForeignKey("evidence.seq"), nullable=False, unique=True),
    Column("customer_id", ID, index=True),
    Column("restriction_id", ID),
    Column("channel", String(16), nullable=False),
    Column("hold_reason", String(64)),
    Column("sender", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("content_sha256", HASH),
    Column("summary", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("resolved_by", Text),
    Column("resolved_at", UtcDateTime),
    Column("resolution_note", Text),
    # What the reader said it raises (new_matter, appeal, ...) when that released it.
    Column("raises", String(32)),
    # When it was escalated for being left unread (once; set by the gateway that won).
    Column("escalated_at", UtcDateTime),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("prev_hash", HASH, nullable=False),
    Column("hash", HASH, nullable=False),
    Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", HASH, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# Notices told to customers: at most one per customer per channel per local day
# (SPEC §4). The unique key is the claim; the contact key lets a retried contact (a
# Twilio retry, a re-sent message) see that the claim is its own and answer the same.
notices_sent = Table(
    "notices_sent",
    metadata,
    Column("customer_id", ID, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("day", Date, nullable=False),
    Column("contact_key", Text, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("customer_id", "channel", "day"),
)

# Numbers that texted STOP: no SMS reply is ever sent to them until they text START.
sms_opt_outs = Table(
    "sms_opt_outs",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("opted_out_at", UtcDateTime, nullable=False),
)
