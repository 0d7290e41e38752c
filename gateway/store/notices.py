"""Notices to customers (at most one per channel per local day) and SMS opt-outs.

A claim is an insert on the (customer, channel, day) key, so two gateways deciding at
once cannot both tell the customer. The claim carries the contact key: when the same
contact comes again (a Twilio retry, a re-sent message) it finds its own claim and gets
the same answer, so a retry never turns a reply into silence.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.schema import notices_sent, sms_opt_outs


async def claim_notice(
    conn: AsyncConnection,
    *,
    customer_id: str,
    channel: str,
    day: date,
    contact_key: str,
    now: datetime,
) -> bool:
    """True when this contact may tell the customer today (first claim, or its own)."""
    key = (
        (notices_sent.c.customer_id == customer_id)
        & (notices_sent.c.channel == channel)
        & (notices_sent.c.day == day)
    )
    existing = (await conn.execute(select(notices_sent.c.contact_key).where(key))).scalar()
    if existing is not None:
        return bool(existing == contact_key)
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(notices_sent).values(
                    customer_id=customer_id,
                    channel=channel,
                    day=day,
                    contact_key=contact_key,
                    sent_at=now,
                )
            )
    except IntegrityError:
        # Another gateway claimed it between our read and our write.
        existing = (await conn.execute(select(notices_sent.c.contact_key).where(key))).scalar()
        return bool(existing == contact_key)
    return True


async def claimed_by(
    conn: AsyncConnection, *, customer_id: str, channel: str, day: date
) -> str | None:
    """The contact key that claimed the day's notice, if any has."""
    query = select(notices_sent.c.contact_key).where(
        (notices_sent.c.customer_id == customer_id)
        & (notices_sent.c.channel == channel)
        & (notices_sent.c.day == day)
    )
    found = (await conn.execute(query)).scalar()
    return None if found is None else str(found)


async def set_opt_out(conn: AsyncConnection, number: str, opted_out: bool, now: datetime) -> None:
    await conn.execute(delete(sms_opt_outs).where(sms_opt_outs.c.number == number))
    if opted_out:
        await conn.execute(insert(sms_opt_outs).values(number=number, opted_out_at=now))


async def is_opted_out(conn: AsyncConnection, number: str) -> bool:
    query = select(sms_opt_outs.c.number).where(sms_opt_outs.c.number == number)
    return (await conn.execute(query)).first() is not None


async def claims_by_contact(conn: AsyncConnection, contact_key: str) -> bool:
    """Did this contact claim a notice (so a retry of it may repeat the same words)?"""
    query = select(notices_sent.c.contact_key).where(notices_sent.c.contact_key == contact_key)
    return (await conn.execute(query.limit(1))).first() is not None
