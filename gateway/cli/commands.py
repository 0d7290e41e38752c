"""What the CLI's subcommands do, one coroutine each; ``gateway.cli.main`` parses arguments.

Each opens the store for as long as it needs it and prints for a person: an
administrator at a housing association, not a programmer. The commands that decide a
contact (``explain``, ``exemptions check``) are in ``gateway.cli.explain_commands``:
they need the contact service, which these do not, and every command is a process that
pays for what it imports before it does anything.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from gateway.cli.failed import CommandFailed
from gateway.common.clock import system_clock
from gateway.common.plurals import counted
from gateway.config.database_url import announce_database, shown_url, sqlite_file_is_new
from gateway.config.settings import Settings
from gateway.decisions.org_decisions import organisation_teams
from gateway.evidence.export import customer_records, export_csv, export_json
from gateway.evidence.pack import build_pdf
from gateway.evidence.proofs import export_proofs
from gateway.policy.file import PolicyFileError, dump_policy, load_policy_file
from gateway.store import NotFound, Store, StoreError, upgrade
from gateway.store.casework.admin import AdminStore
from rules.models import Restriction, Status


def cannot_open(settings: Settings, exc: BaseException) -> CommandFailed:
    """The one line a command ends with when its database cannot be opened."""
    return CommandFailed(f"cannot open the database {shown_url(settings.database.url)}: {exc}")


@asynccontextmanager
async def opened_store(settings: Settings, *, announce: bool = True) -> AsyncIterator[Store]:
    """The store, migrated, or a plain message when it cannot be opened; says which
    database it is (unless ``announce`` is false: a second opening by the same command)."""
    new = sqlite_file_is_new(settings.database.url)
    try:
        store = await Store.open(settings.database.url, migrate=True)
    except (StoreError, OSError) as exc:
        raise cannot_open(settings, exc) from None
    if announce:
        announce_database(settings, new=new)
    try:
        yield store
    finally:
        await store.close()


async def db_upgrade(settings: Settings) -> int:
    new = sqlite_file_is_new(settings.database.url)
    try:
        await upgrade(settings.database.url)
    except (StoreError, OSError) as exc:
        raise CommandFailed(
            f"cannot upgrade the database {shown_url(settings.database.url)}: {exc}"
        ) from None
    announce_database(settings, new=new)
    print("the database is up to date")
    return 0


async def rules_import(settings: Settings, path: Path, *, actor: str, dry_run: bool) -> int:
    """Validate the whole file against the stored policy, then upsert it in one go."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except OSError as exc:
        raise CommandFailed(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CommandFailed(f"{path} is not a UTF-8 text file") from None
    async with opened_store(settings) as store:
        existing = await store.load_policy()
        teams = await organisation_teams(store)
        try:
            policy = load_policy_file(
                text, region=settings.default_region, existing=existing, teams=teams
            )
        except PolicyFileError as exc:
            print(f"{path}: nothing was imported, because:\n{exc}", file=sys.stderr)
            return 1
        standing = in_force(policy.restrictions, system_clock())
        _note_unstated_drafts(policy.restrictions)
        if dry_run:
            print(
                f"{path} is valid: {counted(len(policy.officers), 'officer')}, "
                f"{counted(len(policy.customers), 'customer')}, "
                f"{counted(len(policy.restrictions), 'restriction')}: {standing} "
                "(dry run: nothing written)"
            )
            return 0
        summary = await store.upsert_policy(policy, actor=actor)
    print(f"imported {path} (policy version {summary.policy_version}):")
    for kind in ("officers", "customers", "restrictions"):
        counts = getattr(summary, kind)
        print(
            f"  {kind}: {counts.created} created, {counts.updated} updated, "
            f"{counts.unchanged} unchanged"
        )
    if policy.restrictions:
        print(f"  the file's {counted(len(policy.restrictions), 'restriction')}: {standing}")
    if summary.changed and settings.redis.url:
        # Only then: announcing loads Redis and the contact service (a third of a second).
        from gateway.policy.fanout import announce_policy

        if problem := await announce_policy(settings, summary.policy_version):
            print(f"note: {problem}", file=sys.stderr)
    return 0


def in_force(restrictions: Sequence[Restriction], now: datetime) -> str:
    """How many of ``restrictions`` are enforced now, and how many are drafts (which are
    not, until authorised and made active): "1 in force now, 1 draft"."""
    enforced = sum(r.is_active(now) for r in restrictions)
    drafts = sum(r.status is Status.DRAFT for r in restrictions)
    words = f"{enforced} in force now, {counted(drafts, 'draft')}"
    if rest := len(restrictions) - enforced - drafts:
        words += f", {rest} neither (starting later, ended, suspended, revoked, lapsed or rejected)"
    return words


def _note_unstated_drafts(restrictions: Sequence[Restriction]) -> None:
    """An authorised restriction written without a ``status`` is imported as a draft,
    which is rarely what its author meant: say so, naming it."""
    for restriction in restrictions:
        if restriction.authorised_by and "status" not in restriction.model_fields_set:
            print(
                f"note: restriction {restriction.id} has authorised_by but no status, so it "
                "is a draft and is not enforced; add 'status: active' to enforce it",
                file=sys.stderr,
            )


async def rules_export(settings: Settings, output: Path | None) -> int:
    async with opened_store(settings) as store:
        policy = await store.load_policy()
    _write(dump_policy(policy), output)
    return 0


async def evidence_export(settings: Settings, customer: str, fmt: str, output: Path | None) -> int:
    """One customer's records with the chain proof; a known customer with none gets an
    empty document (no records yet is an answer, not a failure), an unknown id fails."""
    async with opened_store(settings) as store:
        try:
            records = await customer_records(store, customer)
        except NotFound as exc:
            raise CommandFailed(str(exc)) from None
        head = await store.evidence_head()
        verification = await store.verify_evidence() if fmt == "json" else None
        now = system_clock()
        proofs = await export_proofs(store, settings, records, now)
    if proofs.problem:
        print(f"note: {proofs.problem}", file=sys.stderr)
    if fmt == "csv":
        text = export_csv(records, head, proofs)
    else:
        text = export_json(
            records,
            head,
            customer_id=customer,
            exported_at=now,
            verification=verification,
            proofs=proofs,
        )
    _write(text, output)
    return 0


async def evidence_checkpoint(settings: Settings) -> int:
    """Sign a checkpoint of the log now: kept in the database, written to the checkpoint
    directory and queued for the witnesses (any running gateway's mail worker sends it)."""
    from gateway.chain.signing_key import SigningKeyError
    from gateway.evidence.checkpoints import (
        CheckpointRefused,
        checkpointer_for,
        make_checkpoint,
    )

    async with opened_store(settings) as store:
        try:
            checkpointer = checkpointer_for(settings, store)
        except SigningKeyError as exc:
            raise CommandFailed(str(exc)) from None
        if checkpointer is None:
            raise CommandFailed(
                "no signing key is configured: set GATEWAY_EVIDENCE_SIGNING_KEY (create one "
                "with 'contact-gateway evidence key new --output FILE')"
            )
        try:
            made = await make_checkpoint(checkpointer, system_clock())
        except CheckpointRefused as exc:
            raise CommandFailed(str(exc)) from None
    assert made is not None  # only a scheduled checkpoint can lose its period
    sys.stdout.write(made.note)
    witnesses = settings.evidence.witness_addresses
    print(
        f"signed checkpoint {made.id} of {counted(made.tree_size, 'record')}; "
        + (f"written to {made.file}" if made.file else "its file could not be written")
        + (f"; queued for {', '.join(witnesses)}" if witnesses else "; no witnesses set"),
        file=sys.stderr,
    )
    return 0


async def evidence_pack(
    settings: Settings, customer: str, output: Path | None, *, actor: str
) -> int:
    """The PDF pack an ombudsman or court reads (the same as the web UI's); audited."""
    if output is None and sys.stdout.isatty():
        raise CommandFailed(
            "a PDF is not for the terminal: give -o FILE.pdf or redirect the output"
        )
    async with opened_store(settings) as store:
        now = system_clock()
        try:
            data = await build_pdf(
                AdminStore(store, system_clock),
                customer,
                zone=settings.zone,
                today=now.astimezone(settings.zone).date(),
                now=now,
                actor=actor,
                settings=settings,
            )
        except NotFound:
            raise CommandFailed(f"there is no customer '{customer}'") from None
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        await asyncio.to_thread(output.write_bytes, data)
        print(f"wrote {output}", file=sys.stderr)
    return 0


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)
