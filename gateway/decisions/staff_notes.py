"""What staff who deal with a customer are told about them: restrictions and warning flags.

A council's policy keeps a warning flag "to improve the interaction between customer and
staff", visible to the staff who deal with the customer. The gateway passes contact on
to those staff, so it says so where they read it: header fields and a one-line banner on
email, a first line on a text passed on to an officer (which of these, the
organisation's settings say: ``OrgSettings.flag_*``).

Only a flag's level and category go out, never its reason: the reason often records
what the customer did or said and is for those with a need to know (rules.casework).

Flags and the settings are read once per policy version (adding or removing a flag
moves the version, as a settings change does), so a contact pays one dictionary lookup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.config.org_settings import OrgSettings, org_settings_from
from gateway.store.admin_schema import customer_flags
from gateway.store.casework.casework import read_settings
from gateway.store.engine import read_transaction
from gateway.store.store import Store
from rules.policy_index import Match, PolicyIndex

FIELD_CUSTOMER = "X-Contact-Gateway-Customer"
FIELD_RESTRICTION = "X-Contact-Gateway-Restriction"
FIELD_FLAG = "X-Contact-Gateway-Flag"


@dataclass(frozen=True, slots=True)
class Flag:
    """A warning flag as staff are shown it: level and category, no reason."""

    level: str
    category: str

    def words(self) -> str:
        return f"{self.level.upper()} {self.category.replace('_', ' ')}"


@dataclass(frozen=True, slots=True)
class StaffNote:
    """What to tell staff about one customer's contact."""

    customer_id: str
    restriction_ids: tuple[str, ...]
    flags: tuple[Flag, ...]
    headers: bool = False
    banner: bool = False
    text_prefix: bool = False

    def line(self) -> str:
        """The one line a person reads first (ASCII, so any charset can carry it)."""
        parts = [f"Contact gateway: customer {self.customer_id}"]
        if self.restriction_ids:
            noun = "restriction" if len(self.restriction_ids) == 1 else "restrictions"
            parts.append(f"{noun} {', '.join(self.restriction_ids)} in force")
        if self.flags:
            noun = "warning flag" if len(self.flags) == 1 else "warning flags"
            parts.append(f"{noun}: {'; '.join(f.words() for f in self.flags)}")
        text = " - ".join(parts) + "."
        return text.encode("ascii", "replace").decode("ascii")

    def header_fields(self, *, restriction: bool = True) -> list[tuple[str, str]]:
        """The header fields: the customer, the restrictions (unless the caller already
        writes that field), and one field per flag, ``level=...; category=...``."""
        fields = [(FIELD_CUSTOMER, self.customer_id)]
        if restriction and self.restriction_ids:
            fields.append((FIELD_RESTRICTION, ", ".join(self.restriction_ids)))
        fields += [(FIELD_FLAG, f"level={f.level}; category={f.category}") for f in self.flags]
        return fields


@dataclass(frozen=True, slots=True)
class NoteBook:
    """Active flags by customer, and the settings saying what to show, at one version."""

    version: int
    settings: OrgSettings
    flags: Mapping[str, tuple[Flag, ...]] = field(default_factory=dict)

    @property
    def anything_shown(self) -> bool:
        s = self.settings
        return s.flag_email_headers or s.flag_email_banner or s.flag_text_prefix

    def note(
        self, customer_id: str | None, restriction_ids: Iterable[str] = ()
    ) -> StaffNote | None:
        """The note for ``customer_id`` with these restrictions in force, if there is
        anything to say and anything is to be shown."""
        if customer_id is None or not self.anything_shown:
            return None
        flags = self.flags.get(customer_id, ())
        restrictions = tuple(dict.fromkeys(restriction_ids))
        if not flags and not restrictions:
            return None
        s = self.settings
        return StaffNote(
            customer_id,
            restrictions,
            flags,
            headers=s.flag_email_headers,
            banner=s.flag_email_banner,
            text_prefix=s.flag_text_prefix,
        )

    def note_in(
        self, index: PolicyIndex, senders: Iterable[str | None], now: datetime
    ) -> StaffNote | None:
        """The note for whoever the first of ``senders`` that the policy knows is."""
        if not self.anything_shown:
            return None
        for sender in senders:
            match = index.resolve(sender) if sender else None
            if isinstance(match, Match):
                active = index.active_restrictions(match.customer_id, now)
                return self.note(match.customer_id, (r.id for r in active))
        return None


async def read_flags(
    conn: AsyncConnection, customer_id: str | None = None
) -> dict[str, tuple[Flag, ...]]:
    """Active flags (level and category only) by customer, in the order they were added."""
    query = (
        select(customer_flags.c.customer_id, customer_flags.c.level, customer_flags.c.category)
        .where(customer_flags.c.removed_at.is_(None))
        .order_by(customer_flags.c.id)
    )
    if customer_id is not None:
        query = query.where(customer_flags.c.customer_id == customer_id)
    found: dict[str, list[Flag]] = {}
    for cid, level, category in (await conn.execute(query)).all():
        found.setdefault(str(cid), []).append(Flag(str(level), str(category)))
    return {cid: tuple(flags) for cid, flags in found.items()}


async def read_note_book(
    conn: AsyncConnection, version: int, customer_id: str | None = None
) -> NoteBook:
    settings = org_settings_from(await read_settings(conn))
    flags = await read_flags(conn, customer_id) if _shows(settings) else {}
    return NoteBook(version, settings, flags)


def _shows(settings: OrgSettings) -> bool:
    return settings.flag_email_headers or settings.flag_email_banner or settings.flag_text_prefix


class StaffNotes:
    """The note book for the policy version in use, read again when the version moves."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._book: NoteBook | None = None
        self._lock = asyncio.Lock()

    async def book(self, index: PolicyIndex) -> NoteBook:
        book = self._book
        if book is not None and book.version == index.version:
            return book
        async with self._lock:
            if self._book is None or self._book.version != index.version:
                async with read_transaction(self._store.engine, "reading warning flags") as conn:
                    self._book = await read_note_book(conn, index.version)
            return self._book

    async def for_customer(
        self, customer_id: str, restriction_ids: Iterable[str]
    ) -> StaffNote | None:
        """The note for one customer, read fresh (for a released message: rare)."""
        async with read_transaction(self._store.engine, "reading warning flags") as conn:
            book = await read_note_book(conn, -1, customer_id)
        return book.note(customer_id, restriction_ids)
