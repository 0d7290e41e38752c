"""The incident spool: calls put through undecided, kept on disk until they are on record.

When no decision can be made, a call is connected to the number dialled anyway (never
strand a caller) and an ``incident`` evidence record says so (``StoreCallEvidence``).
When that record cannot be appended either, because the store is down, the evidence
entry is kept in the durable spool of ``gateway.spool.maildir`` instead: ``incidents/`` under
``GATEWAY_SPOOL_DIR``, one file per call named by its incident key (``<CallSid>.incident
.json``, ``<CallSid>.emergency.incident.json``), holding every field of the entry, its
``occurred_at`` being when the call arrived. The worker (``gateway.spool.replay``)
appends it as it was kept once the store answers; the key makes that idempotent, so a
retried webhook or a record that was made after all is recorded once.

An append that outlives its attempt's time limit (a database back but slow) goes on, as
every append does (gateway.store.evidence_batch). The next attempt waits for it instead
of appending again, so the record is the replay's own and is reported as such, never as
"already recorded" by a write that was this replay's all along (issue 16).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.config.settings import Settings
from gateway.spool.maildir import BadSpoolFile, Spool, dump_kept, load_kept, read_instant
from gateway.spool.replay import REPLAY_TIMING, ReplayTiming, SpoolReplayer
from gateway.store import EvidenceEntry, RecordResult, Store
from gateway.store.evidence import ENTRY_FIELDS

log = logging.getLogger("gateway.twilio.incident_spool")

FORMAT = 1
FOLDER = "incidents"
_REQUIRED = ("contact_key", "occurred_at", "channel", "sender", "recipient", "action")
_TYPES: dict[str, type | tuple[type, ...]] = {
    "reasons": list,
    "counts": list,
    "details": dict,
    "counted": bool,
    "degraded": bool,
    "policy_version": int,
}


@dataclass(frozen=True, slots=True)
class SpooledIncident:
    """One kept incident: the evidence entry to append, keyed by its ``contact_key``."""

    entry: EvidenceEntry
    path: Path | None = None  # where it is kept, once it is

    def __post_init__(self) -> None:
        if not self.entry.contact_key:
            raise ValueError("a kept incident needs its contact_key, to be recorded once")

    @property
    def key(self) -> str:
        return self.entry.contact_key or ""

    @property
    def arrived(self) -> datetime:
        return self.entry.occurred_at

    @property
    def label(self) -> str:
        return f"call incident {self.key}"

    def to_json(self) -> bytes:
        fields = self.entry.entry_fields()
        fields["occurred_at"] = self.entry.occurred_at.isoformat()
        return dump_kept(FORMAT, {"entry": fields})

    @classmethod
    def from_json(cls, data: bytes, path: Path) -> SpooledIncident:
        """Read a kept incident back; :class:`BadSpoolFile` says what is wrong with it."""
        fields = load_kept(data, FORMAT, "incident").get("entry")
        if not isinstance(fields, dict):
            raise BadSpoolFile("entry is missing")
        return cls(_entry(fields), path)


def _entry(fields: dict[str, Any]) -> EvidenceEntry:
    unknown = sorted(set(fields) - set(ENTRY_FIELDS))
    if unknown:
        raise BadSpoolFile(f"entry has fields an evidence entry does not: {unknown}")
    missing = [name for name in _REQUIRED if fields.get(name) in (None, "")]
    if missing:
        raise BadSpoolFile(f"entry has no {', '.join(missing)}")
    for name, kind in _TYPES.items():
        if name in fields and not isinstance(fields[name], kind):
            raise BadSpoolFile(f"entry's {name} is not a {getattr(kind, '__name__', kind)}")
    values = dict(fields, occurred_at=read_instant(fields["occurred_at"], "occurred_at"))
    try:
        return EvidenceEntry(**values)
    except (TypeError, ValueError) as exc:
        raise BadSpoolFile(f"not an evidence entry ({exc})") from None


class IncidentSpool(Spool[SpooledIncident]):
    """The incidents' spool directory: ``incidents/`` under ``GATEWAY_SPOOL_DIR``."""

    def __init__(self, spool_dir: Path) -> None:
        super().__init__(
            spool_dir / FOLDER, SpooledIncident.from_json, name="incident spool", logger=log.name
        )


class IncidentReplayer(SpoolReplayer[SpooledIncident]):
    """Keeps incidents the store cannot take, and appends them once it can."""

    def __init__(self, spool: IncidentSpool, store: Store, timing: ReplayTiming) -> None:
        self._store = store
        # Appends that outlived their attempt's time limit, by incident key.
        self._appending: dict[str, asyncio.Task[RecordResult]] = {}
        super().__init__(spool, self._append, timing, logger=log.name)

    async def keep(self, entry: EvidenceEntry) -> bool:
        """Return once ``entry`` is safe on disk; False if its key was already kept."""
        return await self.add(SpooledIncident(entry))

    async def stop(self, within: float = 5.0) -> None:
        await super().stop(within)
        appending, self._appending = list(self._appending.values()), {}
        for task in appending:
            task.cancel()  # only the wait: the store's appender finishes the write
        if appending:
            await asyncio.wait(appending)

    async def _append(self, incident: SpooledIncident, within: float) -> str:
        """Append ``incident``, or wait (``within``) for its append still under way."""
        task = self._appending.get(incident.key)
        if task is None:
            task = asyncio.ensure_future(self._store.append_evidence(incident.entry))
            task.add_done_callback(_retrieve)
            self._appending[incident.key] = task
        try:
            async with asyncio.timeout(within):
                result = await asyncio.shield(task)
        finally:
            if task.done():  # its outcome is reported now; a failed one is tried afresh
                self._appending.pop(incident.key, None)
        if not result.created:
            return f"already recorded as record {result.record.seq}"
        return f"recorded as record {result.record.seq}"


INCIDENT_SPOOL = web.AppKey("incident_spool", IncidentReplayer)


def add_incident_spool(
    app: web.Application, settings: Settings, *, store_key: web.AppKey[Store], prepare: bool
) -> None:
    """Keep and replay call incidents for as long as ``app`` runs (``app[INCIDENT_SPOOL]``).

    Call after the store's clean-up context is added and before the clean-up context
    that hands the spool to the call evidence, so the spool outlives the calls'
    background work on shutdown. ``prepare``: create the directory at start-up (when
    the webhooks answer), so a spool that cannot be written stops start-up.
    """

    async def spool_lifecycle(app: web.Application) -> AsyncIterator[None]:
        spool = IncidentSpool(settings.spool_dir)
        if prepare:
            await spool.prepare()
        replayer = IncidentReplayer(spool, app[store_key], app.get(REPLAY_TIMING, ReplayTiming()))
        app[INCIDENT_SPOOL] = replayer
        try:
            yield
        finally:
            await replayer.stop()

    async def start(app: web.Application) -> None:
        app[INCIDENT_SPOOL].start()

    async def stop(app: web.Application) -> None:
        await app[INCIDENT_SPOOL].stop()

    app.cleanup_ctx.append(spool_lifecycle)
    app.on_startup.append(start)
    app.on_shutdown.append(stop)


def _retrieve(task: asyncio.Task[RecordResult]) -> None:
    """Mark a failure as seen: the next attempt reports it, or appends afresh."""
    if not task.cancelled():
        task.exception()
