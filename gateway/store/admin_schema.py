"""Tables of the administration API: users, the restriction lifecycle, casework, settings.

Kept beside ``schema.py`` on the same ``metadata`` (migration ``0004``). The lifecycle
tables record facts the restriction itself does not carry: the proposal's grounds, each
transition with who, when and why, appeals and reviews. The restriction row stays the
one source of what is enforced; these say how it came to be so.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gateway.store.schema import HASH, ID, metadata
from gateway.store.types import UtcDateTime

# API users. The token is shown once; only its SHA-256 is kept. ``password_hash`` is
# for the web UI's logins (argon2), added by that work.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("token_hash", HASH, unique=True),
    Column("password_hash", Text),
    # Migration 0010: the person's own name and role title as documents show them, and
    # the address their daily reminder digest goes to (none: no digest).
    Column("full_name", Text),
    Column("email", Text),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("token_rotated_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)

restriction_proposals = Table(
    "restriction_proposals",
    metadata,
    Column("restriction_id", ID, ForeignKey("restrictions.id"), primary_key=True),
    Column("evidence_seqs", JSON, nullable=False),
    Column("evidence_summary", Text, nullable=False),
    Column("adjustments_considered", Text, nullable=False),
    Column("proposed_review_on", Date),
    Column("proposed_by", Text, nullable=False),
    Column("proposed_at", UtcDateTime, nullable=False),
)

restriction_transitions = Table(
    "restriction_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("restriction_id", ID, ForeignKey("restrictions.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("details", JSON, nullable=False),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("restriction_id", ID, ForeignKey("restrictions.id"), nullable=False, index=True),
    Column("lodged_on", Date, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("grounds", Text, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("in_time", Boolean, nullable=False),
    Column("late_reason", Text),
    Column("status", String(16), nullable=False),
    Column("outcome", String(16)),
    Column("decided_by", Text),
    Column("decided_at", UtcDateTime),
    Column("decision_reason", Text),
    Column("created_at", UtcDateTime, nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("restriction_id", ID, ForeignKey("restrictions.id"), nullable=False, index=True),
    Column("due_on", Date),
    Column("outcome", String(16), nullable=False),
    Column("notes", Text, nullable=False),
    Column("next_review_on", Date),
    Column("reviewer", Text, nullable=False),
    Column("reviewed_at", UtcDateTime, nullable=False),
)

customer_flags = Table(
    "customer_flags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("level", String(8), nullable=False),
    Column("category", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("removed_by", Text),
    Column("removed_at", UtcDateTime),
    Column("removal_reason", Text),
)

customer_adjustments = Table(
    "customer_adjustments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("need", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("removed_by", Text),
    Column("removed_at", UtcDateTime),
)

# Need-to-know: users assigned to a customer may read the reasons of its flags.
customer_assignments = Table(
    "customer_assignments",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("assigned_by", Text, nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("customer_id", "user_name"),
)

org_settings = Table(
    "org_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", Text, nullable=False),
)

# Unacceptable-behaviour incidents (migration 0010), recorded for any customer, restricted
# or not: the facts a manager weighs before any restriction. ``attachments`` lists each
# file's name, type, size and SHA-256; the bytes are in ``contents`` under that hash.
# ``evidence_seq``: the recorded contact it came with, when it did.
incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("category", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("people", Text, nullable=False),
    Column("attachments", JSON, nullable=False),
    Column("evidence_seq", BigInteger),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_incidents_customer_id_occurred_at", "customer_id", "occurred_at"),
)

# One reminder digest per person per local day: the row is the claim, inserted in the
# transaction that queues the email, so several gateways send it once (migration 0010).
digests_sent = Table(
    "digests_sent",
    metadata,
    Column("user_name", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("items", Integer, nullable=False),
    PrimaryKeyConstraint("user_name", "day"),
)

# Contact from an unknown sender that looks like a restricted customer's (migration
# 0011): listed for a person to confirm (the identity is then added to the customer) or
# dismiss. One row per customer and identity: a dismissed pair is not listed again.
possible_matches = Table(
    "possible_matches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("identity", String(320), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("clues", JSON, nullable=False),
    Column("summary", Text, nullable=False),
    Column("contact_key", Text),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("seen", Integer, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("decided_by", Text),
    Column("decided_at", UtcDateTime),
    Column("note", Text),
    UniqueConstraint("customer_id", "identity"),
)

# Letters to customers (migration 0012): each as sent or printed, with the SHA-256 of
# its PDF (also in the audit entry that records it), so a reprint is the same letter.
letters = Table(
    "letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("restriction_id", ID, ForeignKey("restrictions.id"), index=True),
    Column("restriction_version", Integer),
    Column("appeal_id", Integer),
    Column("review_id", Integer),
    Column("kind", String(32), nullable=False),
    Column("language", String(16), nullable=False),
    Column("large_print", Boolean, nullable=False),
    Column("delivery", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("to_address", Text),
    Column("title", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    Column("sha256", HASH, nullable=False),
    Column("signatory", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("sent_at", UtcDateTime),
    Column("posted_by", Text),
)

# The exception to notice: not telling a customer of a restriction because that would
# create a serious risk, signed off by an authoriser other than the one who asked.
notice_exceptions = Table(
    "notice_exceptions",
    metadata,
    Column("restriction_id", ID, ForeignKey("restrictions.id"), primary_key=True),
    Column("reasons", Text, nullable=False),
    Column("proposed_by", Text, nullable=False),
    Column("proposed_at", UtcDateTime, nullable=False),
    Column("signed_off_by", Text),
    Column("signed_off_at", UtcDateTime),
    Column("sign_off_reason", Text),
)

# The language a customer's letters are written in (en, cy or bilingual).
customer_languages = Table(
    "customer_languages",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id"), primary_key=True),
    Column("language", String(16), nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The incidents a warning letter names (migration 0013): the warning stage, against them.
letter_incidents = Table(
    "letter_incidents",
    metadata,
    Column("letter_id", Integer, ForeignKey("letters.id"), nullable=False),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False, index=True),
    PrimaryKeyConstraint("letter_id", "incident_id"),
)

# Restricted customers' recent texts as fingerprints (migration 0013): the SHA-256 of the
# normalised start of what they wrote, never the words; kept 30 days (gateway.matching).
text_fingerprints = Table(
    "text_fingerprints",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("fingerprint", HASH, nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("seen_at", UtcDateTime, nullable=False, index=True),
    PrimaryKeyConstraint("customer_id", "fingerprint"),
)
