"""Making signed checkpoints of the evidence log, and handing them to witnesses outside.

A checkpoint (``gateway.chain.checkpoint``) signs the log's size and Merkle root. Kept
only in the database it would prove little: whoever can rewrite the records can delete
it. So each one, once made, is also

* written as a file to ``GATEWAY_EVIDENCE_CHECKPOINT_DIR``
  (``checkpoint-<size>-<time>.txt``, never over an existing file), for backups and
  copies kept elsewhere; and
* emailed through the mail upstream to every ``GATEWAY_EVIDENCE_WITNESSES`` address.

Exactly once, however many gateways share the database: one transaction inserts the
checkpoint row and queues its email (key ``checkpoint:<id>``) together, so the email
is sent by whichever gateway's mail worker gets to it, once. A scheduled checkpoint
carries its ``period`` (the interval it belongs to, e.g. ``2026-12-06T10`` for the hour
from 10:00 UTC), which is UNIQUE: two gateways making the same hour's checkpoint both
sign, but only one insert succeeds, and only its maker writes the file and queues the
email. A checkpoint made on demand (``contact-gateway evidence checkpoint``, the admin
API, an export that needs one) has no period.

``scheduled_checkpoint(checkpointer, now)`` is one pass, with the time passed in (tests
call it with their clock); ``gateway.evidence.checkpoint_task`` runs it while the app runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from gateway.chain.checkpoint import Checkpoint, VerifierKey, signed_checkpoint
from gateway.chain.merkle import verify_consistency
from gateway.chain.signing_key import load_signing_key, verifier_key_for
from gateway.config.settings import Settings
from gateway.store import NewMail, Store
from gateway.store.engine import read_transaction, write_transaction
from gateway.store.outbox import enqueue_in
from gateway.store.schema import evidence_checkpoint

# The cryptography bindings cost about 9 MB of memory: they are loaded only when a
# key is used (to sign, load, make or check one), not by a gateway that never signs.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

log = logging.getLogger(__name__)

KIND = "checkpoint"


class CheckpointRefused(Exception):
    """The log no longer extends its latest checkpoint: signing it would launder a
    rewrite (a log must never sign a checkpoint inconsistent with an earlier one)."""


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint as the database keeps it: the signed note and what it says."""

    id: int
    tree_size: int
    root: bytes
    made_at: datetime
    period: str | None
    note: str
    file: Path | None = None  # where this gateway wrote it, when it just made it


def _stored(row: Mapping[Any, Any]) -> StoredCheckpoint:
    return StoredCheckpoint(
        id=int(row["id"]),
        tree_size=int(row["tree_size"]),
        root=bytes.fromhex(row["root"]),
        made_at=row["made_at"],
        period=row["period"],
        note=row["note"],
    )


@dataclass
class Checkpointer:
    """What making a checkpoint needs: the store, the key and the settings.

    ``wake`` is called once a witness email is queued, to start this gateway's mail
    worker at once (else it finds the email on its next round)."""

    store: Store
    settings: Settings
    key: Ed25519PrivateKey
    wake: Callable[[], None] | None = None

    @property
    def origin(self) -> str:
        return self.settings.evidence_log_name

    @property
    def verifier(self) -> VerifierKey:
        return verifier_key_for(self.origin, self.key)


def checkpointer_for(
    settings: Settings, store: Store, wake: Callable[[], None] | None = None
) -> Checkpointer | None:
    """A checkpointer with the configured key; None when no key is configured.
    A configured key that cannot be used raises ``SigningKeyError`` saying why."""
    if settings.evidence.signing_key is None:
        return None
    return Checkpointer(store, settings, load_signing_key(settings.evidence.signing_key), wake)


def period_of(now: datetime, interval: timedelta) -> str:
    """The name of the interval ``now`` falls in, counted from midnight UTC: the start
    of the interval, as precise as the interval needs (``2026-12-06T10`` for an hour)."""
    seconds = int(interval.total_seconds())
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    elapsed = int((now - epoch).total_seconds())
    start = epoch + timedelta(seconds=elapsed - elapsed % seconds)
    if seconds % 86400 == 0:
        return start.strftime("%Y-%m-%d")
    if seconds % 3600 == 0:
        return start.strftime("%Y-%m-%dT%H")
    if seconds % 60 == 0:
        return start.strftime("%Y-%m-%dT%H:%M")
    return start.strftime("%Y-%m-%dT%H:%M:%S")


def next_period_start(now: datetime, interval: timedelta) -> datetime:
    """When the interval after the one ``now`` falls in begins."""
    seconds = int(interval.total_seconds())
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    elapsed = int((now - epoch).total_seconds())
    return epoch + timedelta(seconds=elapsed - elapsed % seconds + seconds)


async def latest_checkpoint(store: Store) -> StoredCheckpoint | None:
    """The checkpoint made most recently (by any gateway), if any."""
    query = select(evidence_checkpoint).order_by(evidence_checkpoint.c.id.desc()).limit(1)
    async with read_transaction(store.engine, "reading the latest checkpoint") as conn:
        row = (await conn.execute(query)).mappings().first()
    return None if row is None else _stored(row)


async def checkpoint_for_period(store: Store, period: str) -> StoredCheckpoint | None:
    query = select(evidence_checkpoint).where(evidence_checkpoint.c.period == period)
    async with read_transaction(store.engine, "reading a checkpoint") as conn:
        row = (await conn.execute(query)).mappings().first()
    return None if row is None else _stored(row)


async def make_checkpoint(
    checkpointer: Checkpointer, now: datetime, *, period: str | None = None
) -> StoredCheckpoint | None:
    """Extend the tree, sign its size and root, and keep the checkpoint: in the
    database with its witness email queued (one transaction), then as a file.

    None when ``period`` already has its checkpoint (another gateway made it)."""
    store = checkpointer.store
    size = await store.extend_tree()
    latest = await latest_checkpoint(store)
    if latest is not None and latest.tree_size > size:
        size = await store.extend_tree()  # another gateway signed records added meanwhile
    root = await store.tree_root(size)
    if latest is not None:
        await _must_extend(store, latest, size, root)
    note = signed_checkpoint(checkpointer.origin, size, root, now, checkpointer.key)
    values = {
        "tree_size": size,
        "root": root.hex(),
        "made_at": now,
        "period": period,
        "note": note,
    }
    witnesses = checkpointer.settings.evidence.witness_addresses
    async with write_transaction(store.engine, "keeping a checkpoint") as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(evidence_checkpoint).values(**values).on_conflict_do_nothing()
        found = await conn.execute(statement.returning(evidence_checkpoint.c.id))
        row_id = found.scalar_one_or_none()
        if row_id is None:
            return None
        made = StoredCheckpoint(int(row_id), size, root, now, period, note)
        if witnesses:
            mail = NewMail(
                queue_key=f"checkpoint:{made.id}",
                kind=KIND,
                mail_from="",
                recipients=witnesses,
                content=witness_mail(checkpointer.settings, made, checkpointer.verifier),
            )
            await enqueue_in(
                conn, mail, now=now, lifetime=checkpointer.settings.smtp.queue_lifetime
            )
    if witnesses and checkpointer.wake is not None:
        checkpointer.wake()
    try:
        path = write_checkpoint_file(checkpointer.settings.evidence.checkpoint_dir, made)
    except OSError as exc:
        log.warning(
            "checkpoint %d (%d records) is kept in the database%s, but its file could not "
            "be written to %s: %s",
            made.id,
            size,
            " and emailed to the witnesses" if witnesses else "",
            checkpointer.settings.evidence.checkpoint_dir,
            exc,
        )
    else:
        log.info("signed checkpoint %d of %d records, written to %s", made.id, size, path)
        made = replace(made, file=path)
    return made


async def _must_extend(store: Store, latest: StoredCheckpoint, size: int, root: bytes) -> None:
    """Refuse to sign unless the tree of ``size`` records extends the latest checkpoint
    (checked with a consistency proof, RFC 9162 §2.1.4)."""
    signed = f"checkpoint {latest.id} (signed for {latest.tree_size} records)"
    if size < latest.tree_size:
        raise CheckpointRefused(
            f"the evidence log holds {size} records, fewer than its latest {signed}: records "
            "have been removed; no new checkpoint is signed (check it with 'contact-gateway "
            "evidence verify --checkpoint')"
        )
    proof = await store.consistency_proof(latest.tree_size, size)
    if not verify_consistency(latest.tree_size, size, latest.root, root, proof):
        raise CheckpointRefused(
            f"the evidence log no longer extends its latest {signed}: records up to "
            f"{latest.tree_size} have been changed, removed or re-written since; no new "
            "checkpoint is signed (check it with 'contact-gateway evidence verify "
            "--checkpoint')"
        )


async def scheduled_checkpoint(
    checkpointer: Checkpointer, now: datetime
) -> StoredCheckpoint | None:
    """This interval's checkpoint, if it has none yet and the log has grown since the
    latest one (an idle log is not signed again every hour: the last checkpoint still
    covers it all). None when there was nothing to do or another gateway did it."""
    period = period_of(now, checkpointer.settings.evidence.checkpoint_interval)
    if await checkpoint_for_period(checkpointer.store, period) is not None:
        return None
    latest = await latest_checkpoint(checkpointer.store)
    if latest is not None:
        head = await checkpointer.store.evidence_head()
        if head.seq == latest.tree_size:
            return None
    return await make_checkpoint(checkpointer, now, period=period)


def checkpoint_file_name(made: StoredCheckpoint) -> str:
    return f"checkpoint-{made.tree_size}-{made.made_at.astimezone(UTC):%Y%m%dT%H%M%SZ}.txt"


def write_checkpoint_file(directory: Path, made: StoredCheckpoint) -> Path:
    """Write the signed checkpoint into ``directory``, never over an existing file
    (a second checkpoint of the same size in the same second gets ``-2``, ...)."""
    directory.mkdir(parents=True, exist_ok=True)
    name = checkpoint_file_name(made)
    for n in range(1, 1000):
        path = directory / (name if n == 1 else name.replace(".txt", f"-{n}.txt"))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(made.note)
            out.flush()
            os.fsync(out.fileno())
        return path
    raise FileExistsError(f"too many checkpoint files named {name} in {directory}")


def witness_mail(settings: Settings, made: StoredCheckpoint, verifier: VerifierKey) -> bytes:
    """The email a witness keeps: what the checkpoint says, and the file itself."""
    domain = settings.org_domains[0]
    message = EmailMessage()
    message["From"] = f"contact-gateway <contact-gateway@{domain}>"
    message["To"] = ", ".join(settings.evidence.witness_addresses)
    message["Subject"] = (
        f"Evidence log checkpoint: {made.tree_size} records ({settings.evidence_log_name})"
    )
    message["Date"] = format_datetime(made.made_at)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Contact-Gateway-Checkpoint"] = f"{made.tree_size} {made.root.hex()}"
    checkpoint = Checkpoint(settings.evidence_log_name, made.tree_size, made.root)
    lines = [
        f"This is a signed checkpoint of {settings.evidence_log_name}, the contact "
        "restriction evidence log. Please keep this email (or the attached file) "
        "unchanged: it lets anyone show later that the log's records up to this point "
        "have not been changed, removed or re-written.",
        "",
        f"Records covered: {made.tree_size}",
        f"Made: {made.made_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
        f"Root hash: {checkpoint.text().splitlines()[2]}",
        f"Verifier key: {verifier.text()}",
        "",
        "To check the log against it: contact-gateway evidence verify --checkpoint "
        f"{checkpoint_file_name(made)} --key '{verifier.text()}'",
        "",
        "The signed checkpoint:",
        "",
        made.note,
    ]
    message.set_content("\n".join(lines))
    message.add_attachment(
        made.note.encode("utf-8"),
        maintype="text",
        subtype="plain",
        filename=checkpoint_file_name(made),
    )
    return message.as_bytes()
