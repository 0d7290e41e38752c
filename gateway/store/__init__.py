"""Storage for contact-gateway: policy, the evidence chain, content, held contact, audit.

One schema on SQLite or PostgreSQL, created by the Alembic migrations shipped in
``gateway/migrations``. Open with ``await Store.open(url)``; close with ``await
store.close()``.

Inside, from the bottom: the store's own modules (``store.Store`` and the tables,
evidence, held contact, policy, audit and outbox it writes), ``casework`` (the admin
side) and ``accounts`` (users and sessions). May use: ``chain`` (the hash chain),
``config``, ``ops``, ``common``; and ``rules``.
"""

from gateway.chain.links import GENESIS_HASH, ChainHead, VerifyResult
from gateway.store import admin_schema as admin_schema  # its tables join the one metadata
from gateway.store.accounts import ui_sessions as ui_sessions  # web UI tables join it too
from gateway.store.audit import AuditRecord
from gateway.store.errors import (
    ChainBroken,
    ContentAltered,
    HeldStateError,
    NotFound,
    PolicyConflict,
    StoreError,
    StoreUnavailable,
)
from gateway.store.evidence import (
    CountedContact,
    EvidenceEntry,
    EvidenceRecord,
    HoldEntry,
    RecordResult,
    entry_from_decision,
)
from gateway.store.held import HeldContact, HeldStatus
from gateway.store.migrate import upgrade
from gateway.store.outbox import MailQueue, NewMail, QueuedMail
from gateway.store.policy import ImportSummary, KindSummary
from gateway.store.policy_read import RestrictionVersion
from gateway.store.store import Clock, Store

__all__ = [
    "GENESIS_HASH",
    "AuditRecord",
    "ChainBroken",
    "ChainHead",
    "Clock",
    "ContentAltered",
    "CountedContact",
    "EvidenceEntry",
    "EvidenceRecord",
    "HeldContact",
    "HeldStateError",
    "HeldStatus",
    "HoldEntry",
    "ImportSummary",
    "KindSummary",
    "MailQueue",
    "NewMail",
    "NotFound",
    "PolicyConflict",
    "QueuedMail",
    "RecordResult",
    "RestrictionVersion",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "VerifyResult",
    "entry_from_decision",
    "upgrade",
]
