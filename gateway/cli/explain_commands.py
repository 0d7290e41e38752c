"""``contact-gateway explain`` and ``contact-gateway exemptions check``: what the gateway
would decide, and whether a text would get through as an exemption; nothing recorded."""

from __future__ import annotations

import json
from datetime import datetime

from gateway.cli.commands import opened_store
from gateway.cli.failed import CommandFailed
from gateway.common.clock import system_clock
from gateway.config.settings import Settings
from gateway.counters.in_process import InProcessCounter
from gateway.decisions.decision_json import decision_json
from gateway.decisions.org_decisions import decision_settings_with_org
from gateway.decisions.service import ContactService
from rules.decision import Contact, Decision
from rules.exemptions import READER_NAMES
from rules.identity import IdentityError, normalise_identity
from rules.models import Channel
from rules.policy_index import DecisionSettings


async def explain(
    settings: Settings,
    decision_settings: DecisionSettings,
    *,
    channel: str,
    sender: str,
    recipient: str,
    at: datetime | None,
    text: str,
    emergency: bool,
    as_json: bool,
) -> int:
    """The decision a hypothetical contact would get; nothing is counted or recorded."""
    try:
        contact = Contact(
            channel=Channel(channel),
            sender=normalise_identity(sender, settings.default_region),
            recipient=normalise_identity(recipient, settings.default_region),
            at=at or system_clock(),
            text=text,
            emergency_requested=emergency,
        )
    except IdentityError as exc:
        raise CommandFailed(str(exc)) from None
    async with opened_store(settings) as store:
        service = ContactService(store, InProcessCounter(), decision_settings, system_clock)
        await service.rebuild_usage()
        decision = await service.explain(contact)
    if as_json:
        print(json.dumps(decision_json(decision), indent=2))
    else:
        print(describe(decision))
    return 0


async def exemptions_check(
    settings: Settings, decision_settings: DecisionSettings, text: str, *, as_json: bool
) -> int:
    """Classify ``text`` as a restricted customer's contact would be: with the phrases
    an administrator stored, else the phrase file's, else the defaults."""
    async with opened_store(settings) as store:
        current = await decision_settings_with_org(store, decision_settings)
    found = current.exemptions.explain(text)
    if as_json:
        out = (
            None
            if found is None
            else {
                "exempt_class": found.exempt_class,
                "words": found.words,
                "phrase": found.phrase,
                "reader": found.reader,
            }
        )
        print(json.dumps(out))
    elif found is None:
        print("no exemption: held like any other contact under a restriction")
        overruled = current.exemptions.overruled(text)
        if overruled is not None:
            match, ordinary, reader = overruled
            print(
                f"the phrase '{match.phrase}' ({match.exempt_class}) matched the words "
                f"'{match.words}', but {READER_NAMES[reader]} finds the message "
                f"{ordinary:.0%} likely ordinary contact"
            )
    else:
        print(f"exempt: {found.exempt_class}")
        print(f"words: {found.words}")
        if found.reader == "model":
            print(f"read by the trained model: {found.phrase}")
        else:
            print(f"phrase: {found.phrase}")
    return 0


def describe(decision: Decision) -> str:
    """A decision in plain words for a terminal."""
    lines = [f"decision: {decision.action.value}"]
    if decision.deliver_to:
        lines.append(f"to: {decision.deliver_to}")
    if decision.customer_id:
        lines.append(f"customer: {decision.customer_id}")
    if decision.restriction_id:
        lines.append(f"restriction: {decision.restriction_id}")
    if decision.exemption:
        lines.append(f"exempt: {decision.exemption}")
    if decision.hold_reason:
        lines.append(f"held because: {decision.hold_reason.value}")
    if decision.call_time_limit:
        lines.append(f"call time limit: {decision.call_time_limit} s")
    if decision.record_call:
        lines.append("call recorded: yes")
    for count in decision.counts:
        lines.append(
            f"limit: {count.used} of {count.max} {count.channel} per {count.per} "
            f"({count.restriction_id})"
        )
    for reason in decision.reasons:
        lines.append(f"reason [{reason.code}]: {reason.text}")
    if decision.notice:
        lines.append(f"the customer is told: {decision.notice}")
    return "\n".join(lines)
