"""Upserting an imported policy into the database, in one transaction and in bulk.

An import is a diff, not a replace: every officer, customer and restriction in the file
is created or updated by id and anything not in it is left alone, so a file holding one
new restriction cannot wipe out the others. Only what actually changed gets a history
row (for a restriction also a lifecycle transition, as the API writes), an audit row and
a new policy version, so re-importing the same file is a no-op.

Imports of tens of thousands of customers must be quick, so existing rows are read in a
few ``IN`` batches and writes go out as executemany batches, never row by row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.admin_schema import restriction_transitions
from gateway.store.audit import AuditItem
from gateway.store.errors import PolicyConflict
from gateway.store.policy_read import (
    chunked,
    customer_dumps,
    officer_dump,
    policy_version,
    rows_by_id,
)
from gateway.store.schema import (
    customers,
    identities,
    officers,
    policy_meta,
    representatives,
    restriction_history,
    restrictions,
)
from rules.models import Customer, Officer, Policy, Restriction


@dataclass(frozen=True, slots=True)
class KindSummary:
    """How an import changed one kind of thing."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an upsert did, per kind, and the policy version it left behind."""

    officers: KindSummary = field(default_factory=KindSummary)
    customers: KindSummary = field(default_factory=KindSummary)
    restrictions: KindSummary = field(default_factory=KindSummary)
    policy_version: int = 0

    @property
    def changed(self) -> bool:
        return any(
            k.created or k.updated for k in (self.officers, self.customers, self.restrictions)
        )


@dataclass
class _Plan:
    """The writes an import needs, gathered before any is made."""

    summary: dict[str, list[int]] = field(
        default_factory=lambda: {k: [0, 0, 0] for k in ("officer", "customer", "restriction")}
    )
    audit: list[AuditItem] = field(default_factory=list)

    def count(
        self,
        kind: str,
        before: Any,
        after: Any,
        actor: str,
        entity_id: str,
        action: str | None = None,
    ) -> bool:
        """Tally one item and queue its audit entry; True when it must be written."""
        tally = self.summary[kind]
        if before is None:
            tally[0] += 1
            self.audit.append(AuditItem(actor, action or "created", kind, entity_id, None, after))
            return True
        if before != after:
            tally[1] += 1
            self.audit.append(AuditItem(actor, action or "updated", kind, entity_id, before, after))
            return True
        tally[2] += 1
        return False

    def result(self, version: int) -> ImportSummary:
        o, c, r = (KindSummary(*self.summary[k]) for k in ("officer", "customer", "restriction"))
        return ImportSummary(officers=o, customers=c, restrictions=r, policy_version=version)


async def lock_policy(conn: AsyncConnection) -> None:
    """Serialise imports across processes (SQLite's BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        query = select(policy_meta.c.id).where(policy_meta.c.id == 1).with_for_update()
        await conn.execute(query)


async def upsert_policy(
    conn: AsyncConnection, policy: Policy, *, actor: str, now: datetime
) -> tuple[ImportSummary, list[AuditItem]]:
    """Create or update every item of ``policy`` in the caller's transaction.

    Returns the summary and the audit items to append (the caller owns the audit chain).
    """
    await lock_policy(conn)
    plan = _Plan()
    await _upsert_officers(conn, policy.officers, plan, actor, now)
    await _upsert_customers(conn, policy.customers, plan, actor, now)
    await _upsert_restrictions(conn, policy.restrictions, plan, actor, now)
    if plan.audit:
        await conn.execute(
            update(policy_meta)
            .where(policy_meta.c.id == 1)
            .values(
                policy_version=policy_meta.c.policy_version + 1, updated_at=now, updated_by=actor
            )
        )
    return plan.result(await policy_version(conn)), plan.audit


async def _upsert_officers(
    conn: AsyncConnection, items: Sequence[Officer], plan: _Plan, actor: str, now: datetime
) -> None:
    existing = {
        row["id"]: officer_dump(row)
        for row in await rows_by_id(conn, officers, "id", [o.id for o in items])
    }
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for officer in items:
        after = officer.model_dump(mode="json")
        before = existing.get(officer.id)
        if plan.count("officer", before, after, actor, officer.id):
            row = {**officer_dump(after), "updated_at": now}
            (new if before is None else changed).append(row)
    if new:
        await conn.execute(insert(officers), new)
    if changed:
        await conn.execute(
            update(officers).where(officers.c.id == bindparam("b_id")),
            [{**{k: v for k, v in row.items() if k != "id"}, "b_id": row["id"]} for row in changed],
        )


async def _upsert_customers(
    conn: AsyncConnection, items: Sequence[Customer], plan: _Plan, actor: str, now: datetime
) -> None:
    ids = [c.id for c in items]
    existing = customer_dumps(
        await rows_by_id(conn, customers, "id", ids),
        await rows_by_id(conn, representatives, "customer_id", ids),
        await rows_by_id(conn, identities, "customer_id", ids),
    )
    await _check_identities(conn, items)
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    replace: list[Customer] = []
    for customer in items:
        after = customer.model_dump(mode="json")
        before = existing.get(customer.id)
        if plan.count("customer", before, after, actor, customer.id):
            row = {"id": customer.id, "name": customer.name, "updated_at": now}
            (new if before is None else changed).append(row)
            replace.append(customer)
    if changed:
        changed_ids = [row["id"] for row in changed]
        for part in chunked(changed_ids):
            await conn.execute(delete(identities).where(identities.c.customer_id.in_(part)))
            await conn.execute(
                delete(representatives).where(representatives.c.customer_id.in_(part))
            )
        await conn.execute(
            update(customers).where(customers.c.id == bindparam("b_id")),
            [{"name": r["name"], "updated_at": now, "b_id": r["id"]} for r in changed],
        )
    if new:
        await conn.execute(insert(customers), new)
    rep_rows, identity_rows = _identity_rows(replace)
    if rep_rows:
        await conn.execute(insert(representatives), rep_rows)
    if identity_rows:
        await conn.execute(insert(identities), identity_rows)


def _identity_rows(items: Iterable[Customer]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    reps: list[dict[str, Any]] = []
    ids: list[dict[str, Any]] = []

    def add(customer_id: str, rep: int | None, kind: str, values: list[str]) -> None:
        for position, value in enumerate(values):
            ids.append(
                {
                    "customer_id": customer_id,
                    "representative": rep,
                    "kind": kind,
                    "value": value,
                    "position": position,
                }
            )

    for customer in items:
        add(customer.id, None, "email", customer.emails)
        add(customer.id, None, "phone", customer.phones)
        for position, rep in enumerate(customer.representatives):
            reps.append({"customer_id": customer.id, "position": position, "name": rep.name})
            add(customer.id, position, "email", rep.emails)
            add(customer.id, position, "phone", rep.phones)
    return reps, ids


async def _check_identities(conn: AsyncConnection, items: Sequence[Customer]) -> None:
    """Refuse an address or number that a customer outside the import already has."""
    owner: dict[str, str] = {}
    for customer in items:
        for value in (*customer.emails, *customer.phones):
            owner[value] = customer.id
    importing = {c.id for c in items}
    for part in chunked(list(owner)):
        query = select(identities.c.value, identities.c.customer_id).where(
            identities.c.value.in_(part), identities.c.representative.is_(None)
        )
        for value, customer_id in (await conn.execute(query)).all():
            if customer_id not in importing:
                raise PolicyConflict(
                    f"'{value}' is given to customer '{owner[value]}' but already belongs to "
                    f"customer '{customer_id}'; one address or number identifies one customer"
                )


async def _upsert_restrictions(
    conn: AsyncConnection, items: Sequence[Restriction], plan: _Plan, actor: str, now: datetime
) -> None:
    existing = {
        row["id"]: row for row in await rows_by_id(conn, restrictions, "id", [r.id for r in items])
    }
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for restriction in items:
        after = restriction.model_dump(mode="json")
        old = existing.get(restriction.id)
        before = None if old is None else old["data"]
        action = _history_action(None if old is None else str(old["status"]), after)
        if not plan.count("restriction", before, after, actor, restriction.id, action):
            continue
        version = 1 if old is None else int(old["version"]) + 1
        row = {
            "customer_id": restriction.customer,
            "status": restriction.status.value,
            "starts": restriction.starts,
            "ends": restriction.ends,
            "review_on": restriction.review_on,
            "data": after,
            "version": version,
            "updated_at": now,
        }
        if old is None:
            new.append({"id": restriction.id, **row})
        else:
            changed.append({"b_id": restriction.id, **row})
        history.append(
            {
                "restriction_id": restriction.id,
                "version": version,
                "action": action,
                "actor": actor,
                "at": now,
                "data": after,
            }
        )
        # The lifecycle's own record of the step, as the API writes one for each change:
        # the restriction's history shows the import, who made it and what it did.
        moves.append(
            {
                "restriction_id": restriction.id,
                "version": version,
                "action": IMPORT_ACTION,
                "from_status": None if old is None else str(old["status"]),
                "to_status": restriction.status.value,
                "actor": actor,
                "at": now,
                "reason": f"imported from a policy file ({action})",
                "details": {},
            }
        )
    if new:
        await conn.execute(insert(restrictions), new)
    if changed:
        await conn.execute(
            update(restrictions).where(restrictions.c.id == bindparam("b_id")), changed
        )
    if history:
        await conn.execute(insert(restriction_history), history)
        await conn.execute(insert(restriction_transitions), moves)


# The transition an import records: it states what the file says, whoever decided it.
IMPORT_ACTION = "import"

_STATUS_ACTIONS = {
    ("draft", "active"): "authorised",
    ("suspended", "active"): "reinstated",
    ("revoked", "active"): "reinstated",
}


def _history_action(old_status: str | None, after: dict[str, Any]) -> str:
    """Name a restriction's change the way its lifecycle does (authorised, suspended...)."""
    new_status = str(after["status"])
    if old_status is None:
        return "created"
    if old_status == new_status:
        return "updated"
    return _STATUS_ACTIONS.get((old_status, new_status), new_status)
