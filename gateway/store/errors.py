"""Store errors: one base class so every edge can map "the store failed" to one answer.

The SMTP edge answers ``451`` on :class:`StoreUnavailable` (the sender retries); the API
answers ``503``. :class:`StoreError` subclasses that are the caller's fault (a held
contact that does not exist, a conflicting import) carry a message a person can act on.
"""

from __future__ import annotations


class StoreError(Exception):
    """Something went wrong in the store."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or stopped answering; trying again later may work."""


class NotFound(StoreError):
    """The thing asked for is not in the store."""


class HeldStateError(StoreError):
    """A held contact is not in a state that allows the requested change."""


class PolicyConflict(StoreError):
    """An import would leave the stored policy inconsistent (e.g. one address, two people)."""


class ChainBroken(StoreError):
    """The head of a hash chain disagrees with its records, so no record may be appended."""


class ContentAltered(StoreError):
    """Stored content no longer has the SHA-256 it is kept under (the one its evidence
    record carries): it was changed after it was recorded, so it is never served as the
    content that was recorded. ``detail`` says how (both hashes)."""

    def __init__(self, digest: str, detail: str) -> None:
        super().__init__(f"the stored content has been altered: {detail}")
        self.digest = digest
        self.detail = detail
