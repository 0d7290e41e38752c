"""Reading the stored policy: the whole of it, the lean form the service holds, and
restriction history.

Customers are spread over three tables (customers, representatives, identities); the
functions here put them back together as the models' own ``model_dump`` shape, which is
also what an import compares against to find what changed, or (``load_lean_policy``)
straight into a ``CustomerDirectory``, without a model per customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.schema import (
    customers,
    identities,
    officers,
    policy_meta,
    representatives,
    restriction_history,
    restrictions,
)
from rules.models import Officer, Policy, Restriction
from rules.policy_index import CustomerDirectory

T = TypeVar("T")
CHUNK = 900  # under every engine's bound-parameter limit
STREAM_ROWS = 2000  # identity rows read at a time by load_lean_policy


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def rows_by_id(
    conn: AsyncConnection, table: Table, key: str, ids: Sequence[str]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    column = table.c[key]
    for part in chunked(ids):
        result = await conn.execute(select(table).where(column.in_(part)))
        out.extend(dict(row) for row in result.mappings())
    return out


def officer_dump(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in ("id", "name", "email", "phone", "deputy", "absent")}


def customer_dumps(
    customer_rows: Iterable[dict[str, Any]],
    rep_rows: Iterable[dict[str, Any]],
    identity_rows: Iterable[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Rebuild ``Customer.model_dump(mode="json")`` from the three tables."""
    out: dict[str, dict[str, Any]] = {}
    for row in customer_rows:
        out[row["id"]] = {
            "id": row["id"],
            "name": row["name"],
            "emails": [],
            "phones": [],
            "representatives": [],
        }
    reps: dict[tuple[str, int], dict[str, Any]] = {}
    for row in sorted(rep_rows, key=lambda r: (r["customer_id"], r["position"])):
        rep = {"name": row["name"], "emails": [], "phones": []}
        reps[(row["customer_id"], row["position"])] = rep
        out[row["customer_id"]]["representatives"].append(rep)
    for row in sorted(identity_rows, key=lambda r: (r["customer_id"], r["position"])):
        owner = (
            out[row["customer_id"]]
            if row["representative"] is None
            else reps[(row["customer_id"], row["representative"])]
        )
        owner["emails" if row["kind"] == "email" else "phones"].append(row["value"])
    return out


async def load_policy(conn: AsyncConnection) -> Policy:
    """Everything, validated again by the model, so bad rows fail loudly at load."""
    officer_rows = (await conn.execute(select(officers).order_by(officers.c.id))).mappings()
    customer_rows = (await conn.execute(select(customers).order_by(customers.c.id))).mappings()
    rep_rows = (await conn.execute(select(representatives))).mappings()
    identity_rows = (await conn.execute(select(identities))).mappings()
    restriction_rows = (
        await conn.execute(select(restrictions.c.data).order_by(restrictions.c.id))
    ).scalars()
    dumps = customer_dumps(
        [dict(r) for r in customer_rows],
        [dict(r) for r in rep_rows],
        [dict(r) for r in identity_rows],
    )
    return Policy.model_validate(
        {
            "officers": [officer_dump(dict(r)) for r in officer_rows],
            "customers": list(dumps.values()),
            "restrictions": list(restriction_rows),
        }
    )


@dataclass(frozen=True, slots=True)
class LeanPolicy:
    """The stored policy as the contact service holds it: officers and restrictions as
    models (validated again, as ``load_policy`` does), customers in a directory."""

    officers: list[Officer]
    customers: CustomerDirectory
    restrictions: list[Restriction]


async def load_lean_policy(conn: AsyncConnection) -> LeanPolicy:
    """The policy for ``PolicyIndex.from_directory``: what ``load_policy`` gives, without
    a pydantic model per customer (about 1.5 kB each) or all their rows at once.

    Customers' addresses and numbers are streamed, one customer's rows after another,
    straight into the directory; they were normalised and checked when imported.
    """
    officer_rows = (await conn.execute(select(officers).order_by(officers.c.id))).mappings()
    officer_models = [Officer.model_validate(officer_dump(dict(r))) for r in officer_rows]
    restriction_data = await conn.execute(select(restrictions.c.data).order_by(restrictions.c.id))
    restriction_models = [Restriction.model_validate(data) for data in restriction_data.scalars()]
    rep_query = select(
        representatives.c.customer_id, representatives.c.position, representatives.c.name
    ).order_by(representatives.c.customer_id, representatives.c.position)
    rep_names: dict[str, dict[int, str]] = {}
    for customer_id, position, name in await conn.execute(rep_query):
        rep_names.setdefault(customer_id, {})[position] = name
    query = (
        select(
            customers.c.id,
            customers.c.name,
            identities.c.representative,
            identities.c.kind,
            identities.c.value,
        )
        .select_from(customers.outerjoin(identities, identities.c.customer_id == customers.c.id))
        .order_by(customers.c.id, identities.c.position)
    )
    directory = CustomerDirectory()
    group: list[Any] = []
    result = await conn.stream(query)
    async for part in result.partitions(STREAM_ROWS):
        for row in part:
            if group and row[0] != group[0][0]:
                _add_customer(directory, group, rep_names.get(group[0][0], {}))
                group = []
            group.append(row)
    if group:
        _add_customer(directory, group, rep_names.get(group[0][0], {}))
    return LeanPolicy(officer_models, directory, restriction_models)


def _add_customer(directory: CustomerDirectory, rows: list[Any], rep_names: dict[int, str]) -> None:
    """One customer's rows (id, name, representative, kind, value), in position order;
    a customer with no identities has one row of NULLs after the name."""
    lists: dict[int | None, tuple[list[str], list[str]]] = {None: ([], [])}
    for position in sorted(rep_names):
        lists[position] = ([], [])
    for _, _, representative, kind, value in rows:
        if value is not None:
            lists[representative][0 if kind == "email" else 1].append(value)
    emails, phones = lists[None]
    reps = [(rep_names[p], *lists[p]) for p in sorted(rep_names)]
    directory.add(rows[0][0], rows[0][1], emails, phones, reps)


async def policy_version(conn: AsyncConnection) -> int:
    query = select(policy_meta.c.policy_version).where(policy_meta.c.id == 1)
    return int((await conn.execute(query)).scalar_one())


@dataclass(frozen=True, slots=True)
class RestrictionVersion:
    """One version of a restriction: what it said, who made it so, when, and how."""

    restriction_id: str
    version: int
    action: str
    actor: str
    at: datetime
    data: dict[str, Any]


async def read_restriction_history(
    conn: AsyncConnection, restriction_id: str
) -> list[RestrictionVersion]:
    query = (
        select(restriction_history)
        .where(restriction_history.c.restriction_id == restriction_id)
        .order_by(restriction_history.c.version)
    )
    return [
        RestrictionVersion(
            restriction_id=row["restriction_id"],
            version=row["version"],
            action=row["action"],
            actor=row["actor"],
            at=row["at"],
            data=row["data"],
        )
        for row in (await conn.execute(query)).mappings()
    ]
