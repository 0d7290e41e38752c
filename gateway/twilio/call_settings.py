"""The organisation's call options and the officer's whisper, for the Twilio channel.

The options are the organisation's run-time settings (``OrgSettings``), read with the
policy by the contact service, so a change reaches every gateway at its next call. The
whisper reads the customer's current warning flags without their reasons (the store
never hands those out in a listing) and words them with ``rules.whisper``.
"""

from __future__ import annotations

from channels.twilio import CallOptions
from gateway.decisions.service import ContactService
from gateway.store import Store
from gateway.store.casework.casework import list_flags
from gateway.store.engine import read_transaction
from rules.casework import FlagLevel
from rules.whisper import whisper_words


class OrgCallSettings:
    """``channels.twilio.CallSettings`` from the stored settings and warning flags."""

    def __init__(self, service: ContactService, store: Store) -> None:
        self._service = service
        self._store = store

    async def call_options(self) -> CallOptions:
        org = await self._service.org_settings()
        return CallOptions(
            whisper=org.call_whisper,
            withheld_emergency_only=org.withheld_callers == "emergency_only",
        )

    async def whisper(self, customer_id: str) -> str:
        async with read_transaction(self._store.engine, "reading warning flags") as conn:
            flags = await list_flags(conn, customer_id)
        return whisper_words(customer_id, [FlagLevel(flag["level"]) for flag in flags])
