"""Gather one customer's evidence pack and render it as PDF (web UI and CLI alike).

The export is audited like the JSON and CSV exports (who, when, which customer).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gateway.config.settings import Settings
from gateway.store.accounts.users import people_by_name
from gateway.store.casework.admin import AdminStore
from gateway.store.casework.incidents import list_incidents
from gateway.store.casework.letters import get_notice_exception, list_letters
from gateway.store.casework.lifecycle import (
    list_appeals,
    list_restrictions,
    list_reviews,
    list_transitions,
)
from gateway.store.casework.records import get_customer
from gateway.store.policy_read import read_restriction_history
from gateway.store.schema import officers


async def build_pdf(
    admin: AdminStore,
    customer_id: str,
    *,
    zone: ZoneInfo,
    today: date,
    now: datetime,
    actor: str,
    settings: Settings | None = None,
) -> bytes:
    """The PDF pack for ``customer_id`` (raises ``NotFound`` for an unknown customer);
    with ``settings``, also the signed checkpoint and each record's inclusion proof."""
    # Imported here: the UI package imports this module, and the CLI imports this
    # module without the UI, so a module-level import would make a cycle.
    from gateway.evidence.pdf import evidence_pack
    from gateway.evidence.proofs import export_proofs
    from gateway.evidence.timeline import kind_of, per_day

    store = admin.store
    async with admin.reading("gathering an evidence pack") as conn:
        customer = await get_customer(conn, customer_id)
        found = await list_restrictions(
            conn, customer=customer_id, status=None, limit=10_000, offset=0
        )
        restrictions: list[dict[str, Any]] = []
        for restriction, _ in found:
            restrictions.append(
                {
                    **restriction.model_dump(mode="json"),
                    "transitions": await list_transitions(conn, restriction.id),
                    "versions": [
                        {"version": v.version, "action": v.action, "actor": v.actor, "at": v.at}
                        for v in await read_restriction_history(conn, restriction.id)
                    ],
                    "reviews": await list_reviews(conn, restriction.id),
                    "appeals": await list_appeals(conn, restriction.id),
                    "notice_exception": await get_notice_exception(conn, restriction.id),
                }
            )
        incidents = await list_incidents(conn, customer_id)
        letters = await list_letters(conn, customer_id=customer_id, limit=10_000)
        users = await people_by_name(conn)
        people = {name: (user.full_name or name, user.role.value) for name, user in users.items()}
        officer_names = {
            str(i): str(n)
            for i, n in (await conn.execute(select(officers.c.id, officers.c.name))).all()
        }
    records = await store.evidence_for_customer(customer_id)
    head = await store.evidence_head()
    verification = await store.verify_evidence()
    # Each record's stored content checked against the SHA-256 it carries: what fails
    # is flagged in the pack, never passed over.
    content_problems = await store.content_problems(
        r.content_sha256 for r in records if r.content_sha256 is not None
    )
    contacts = [
        (r.occurred_at, kind_of(r.action, r.hold_reason, r.exemption))
        for r in records
        if r.kind == "contact"
    ]
    proofs = None if settings is None else await export_proofs(store, settings, records, now)
    await store.append_audit(actor, "exported", "evidence", customer_id, None, {"format": "pdf"})
    return evidence_pack(
        customer=customer,
        restrictions=restrictions,
        records=records,
        days=per_day(contacts, zone, until=today),
        head=head,
        verification=verification,
        content_problems=content_problems,
        exported_at=now,
        exported_by=actor,
        proofs=proofs,
        zone=zone,
        people=people,
        officer_names=officer_names,
        incidents=incidents,
        letters=letters,
    )
