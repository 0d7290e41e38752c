"""Reading the stored policy: the whole of it for the service, and restriction history.

Customers are spread over three tables (customers, representatives, identities); the
functions here put them back together as the models' own ``model_dump`` shape, which is
also what an import compares against to find what changed.
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
from rules.models import Policy

T = TypeVar("T")
CHUNK = 900  # under every engine's bound-parameter limit


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
