"""``decide``: one decision for every inbound contact, in the order of SPEC §4.

The chain is written as data: ``STEPS`` is the ordered list of clauses after the
exemptions, each a small function that either stops the contact (returns a Decision) or
lets it through (returns None). Whatever passes every step is delivered. Reading the
list top to bottom is reading the policy's precedence.

When a customer has several restrictions in force, each is evaluated on its own and the
most restrictive outcome wins (held or refused beats voicemail beats delivered; among
equals the earlier clause, then the lower restriction id). A person under two
restrictions must satisfy both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from rules.closed_days import ClosedKind
from rules.decision import (
    Action,
    Contact,
    Decision,
    HoldReason,
    LimitCount,
    Reason,
    Usage,
)
from rules.models import Channel, Handling, Officer
from rules.notices import NoticeFacts
from rules.policy_index import Ambiguous, CompiledRestriction, Match, PolicyIndex
from rules.protected import ExemptClass, RouteName
from rules.scope import OffRoute
from rules.windows import closed_today, in_call_window, next_window
from rules.wording import date_words


@dataclass(slots=True)
class _Case:
    """One contact evaluated against one restriction. (Not frozen: it never leaves
    ``decide``, and a frozen dataclass costs several times as much to build.)"""

    contact: Contact
    compiled: CompiledRestriction
    index: PolicyIndex
    usage: Usage
    now: datetime
    match: Match
    counts: tuple[LimitCount, ...]

    @property
    def rid(self) -> str:
        return self.compiled.id


def decide(contact: Contact, policy: PolicyIndex, usage: Usage, now: datetime) -> Decision:
    """Decide what happens to ``contact`` at ``now``.

    Total and deterministic: every input gets exactly one decision, and the same input
    always gets the same one, so any logged case can be replayed. Contact from people
    without an active restriction is passed on untouched to the address or number used.
    """
    match = policy.resolve(contact.sender)
    if match is None:
        return _untouched(contact, "unknown_sender")
    if isinstance(match, Ambiguous):
        return _untouched(contact, "representative_of_several")
    active = policy.active_restrictions(match.customer_id, now)
    if not active:
        return _untouched(contact, "no_active_restriction", customer_id=match.customer_id)
    for compiled in active:
        if compiled.scope is not None:
            # Step 0: restrictions fitted to a service drop out for contact elsewhere.
            covering = tuple(r for r in active if r.covers(contact.recipient))
            if not covering:
                return _out_of_scope(contact, match, active)
            active = covering
            break
    counts = _counts(active, usage, now)
    exempt = _exemption(contact, policy, active, match, counts)
    if exempt is not None:
        return exempt
    if len(active) == 1:
        return _evaluate(_Case(contact, active[0], policy, usage, now, match, counts))[2]
    outcomes = [_evaluate(_Case(contact, r, policy, usage, now, match, counts)) for r in active]
    return min(outcomes, key=lambda o: (-o[0], o[1]))[2]


_UNKNOWN_SENDER = (Reason(code="unknown_sender", text="The sender is not a known customer."),)
_SEVERAL_CUSTOMERS = (
    Reason(
        code="representative_of_several",
        text="The sender represents several customers, so no one customer's restriction "
        "can be applied; passed on as sent.",
    ),
)
_NO_ACTIVE_RESTRICTION = (
    Reason(code="no_active_restriction", text="The customer has no restriction in force."),
)
_UNTOUCHED = {
    reasons[0].code: reasons
    for reasons in (_UNKNOWN_SENDER, _SEVERAL_CUSTOMERS, _NO_ACTIVE_RESTRICTION)
}


def _untouched(contact: Contact, why: str, customer_id: str | None = None) -> Decision:
    """Passed on as sent; ``why`` is the code of the reason (see ``_UNTOUCHED``)."""
    voice = contact.channel is Channel.VOICE
    if customer_id is None:
        return _passed_on(voice, contact.recipient, why)
    return _pass_on(voice, contact.recipient, why, customer_id)


@lru_cache(maxsize=4096)
def _passed_on(voice: bool, recipient: str, why: str) -> Decision:
    """Most contact is from senders nobody knows, passed on untouched to one of a few
    staff addresses; decisions are immutable, so equal ones are shared rather than built
    for every contact. (A customer's decisions are not kept: each names the customer, so
    a cache would hold one per customer, and building a decision costs less than looking
    for it in a cache that misses.)"""
    return _pass_on(voice, recipient, why, None)


def _pass_on(voice: bool, recipient: str, why: str, customer_id: str | None) -> Decision:
    action = Action.CONNECT if voice else Action.DELIVER
    return Decision(
        action=action, deliver_to=recipient, reasons=_UNTOUCHED[why], customer_id=customer_id
    )


def _out_of_scope(
    contact: Contact, match: Match, active: tuple[CompiledRestriction, ...]
) -> Decision:
    """Contact to staff outside every restriction's scope: passed on as sent, neither
    counted nor recorded, exactly as if the customer had no restriction."""
    reasons = tuple(
        Reason(
            code="out_of_scope",
            text=f"Restriction {r.id} covers only "
            f"{r.restriction.scope.words() if r.restriction.scope else 'named staff'}; "
            f"contact to {contact.recipient} is passed on as sent.",
            restriction_id=r.id,
            clause="scope",
        )
        for r in active
    )
    return Decision(
        action=Action.CONNECT if contact.channel is Channel.VOICE else Action.DELIVER,
        deliver_to=contact.recipient,
        reasons=reasons,
        customer_id=match.customer_id,
        via_representative=match.representative,
    )


def _counts(
    active: tuple[CompiledRestriction, ...], usage: Usage, now: datetime
) -> tuple[LimitCount, ...]:
    """Every cap of the restrictions in force, with what it has used by ``now``."""
    count = usage.count
    return tuple(
        [
            LimitCount(
                r.id, cl.name, cl.limit.max, cl.limit.per, count(cl.channel, now - cl.period, now)
            )
            for r in active
            for cl in r.limits
        ]
    )


def _exemption(
    contact: Contact,
    index: PolicyIndex,
    active: tuple[CompiledRestriction, ...],
    match: Match,
    counts: tuple[LimitCount, ...],
) -> Decision | None:
    """Step 1: statutory and contractual contact always gets through."""
    first = active[0].restriction
    if contact.emergency_requested:
        number = index.settings.emergency_number or contact.recipient
        return Decision(
            action=Action.CONNECT,
            deliver_to=number,
            exemption="emergency_option",
            reasons=(
                Reason(
                    code="exempt.emergency_option",
                    text="The caller chose the emergency option; connected to the emergency line.",
                    restriction_id=first.id,
                    clause="exemptions",
                ),
            ),
            customer_id=match.customer_id,
            restriction_id=first.id,
            via_representative=match.representative,
            counts=counts,
        )
    routes = index.settings.protected
    route = routes.route_of(contact.recipient)
    if route is not None:
        return _protected(contact, route, first.id, match, counts)
    found = index.settings.exemptions.explain(contact.text) if contact.text else None
    if found is None:
        return None
    exemption = found.exempt_class
    named = next((r.restriction for r in active if r.restriction.named_officer), None)
    officer, why = _officer_for(index, named.named_officer if named else None)
    target = _address(contact, officer)
    destination = None
    if contact.channel is not Channel.VOICE:
        no_contact = any(r.restriction.handling is Handling.NO_CONTACT for r in active)
        destination = routes.destination(ExemptClass(exemption), no_contact=no_contact)
    if destination is not None:
        target, officer, why = (
            destination,
            None,
            f" Sent to {destination}, where {_WORDS[ExemptClass(exemption)]} go.",
        )
    return Decision(
        action=Action.CONNECT if contact.channel is Channel.VOICE else Action.DELIVER,
        deliver_to=target,
        officer_id=officer.id if officer else None,
        exemption=exemption,
        reasons=(
            Reason(
                code=f"exempt.{exemption}",
                text=f"Exempt from the restriction ({exemption.replace('_', ' ')}): "
                f"{found.describe()}; delivered whatever the restriction says." + why,
                restriction_id=first.id,
                clause="exemptions",
            ),
        ),
        customer_id=match.customer_id,
        restriction_id=first.id,
        via_representative=match.representative,
        counts=counts,
    )


# What each class of exempt contact is called where it is sent on.
_WORDS = {
    ExemptClass.SAFEGUARDING: "safeguarding concerns",
    ExemptClass.EMERGENCY_REPAIR: "emergency repairs",
    ExemptClass.SUBJECT_ACCESS_REQUEST: "requests for one's own data",
    ExemptClass.APPEAL: "appeals",
    ExemptClass.COMPLAINT: "complaints",
}


def _protected(
    contact: Contact,
    route: RouteName,
    restriction_id: str,
    match: Match,
    counts: tuple[LimitCount, ...],
) -> Decision:
    """Contact to a protected route: delivered as addressed, recorded as exempt."""
    return Decision(
        action=Action.CONNECT if contact.channel is Channel.VOICE else Action.DELIVER,
        deliver_to=contact.recipient,
        exemption=PROTECTED_ROUTE,
        reasons=(
            Reason(
                code=f"exempt.{PROTECTED_ROUTE}",
                text=f"Sent to a protected route ({route.value.replace('_', ' ')}, "
                f"{contact.recipient}): no restriction applies to it.",
                restriction_id=restriction_id,
                clause="exemptions",
            ),
        ),
        customer_id=match.customer_id,
        restriction_id=restriction_id,
        via_representative=match.representative,
        counts=counts,
    )


PROTECTED_ROUTE = "protected_route"


def _blocked(
    case: _Case,
    hold_reason: HoldReason,
    clause: str,
    text: str,
    exceeded: LimitCount | None = None,
) -> Decision:
    """A contact the clause stops: held (email, SMS) or refused with a message (call)."""
    voice = case.contact.channel is Channel.VOICE
    voicemail = voice and hold_reason is HoldReason.READ_AND_FILE
    if voicemail:
        action = Action.VOICEMAIL
    elif voice:
        action = Action.MESSAGE
    else:
        action = Action.HOLD
    restriction = case.compiled.restriction
    window = None
    if hold_reason is HoldReason.OUTSIDE_CALL_WINDOW:
        settings = case.index.settings
        window = next_window(restriction.call_windows, case.now, settings.zone, settings.closed)
    facts = None
    # A caller on the line is told when they may call, whatever notify_customer says
    # (SPEC §4.5): it governs what the gateway sends, texts and email.
    when_to_call_only = voice and hold_reason is HoldReason.OUTSIDE_CALL_WINDOW
    if restriction.notify_customer or when_to_call_only:
        facts = NoticeFacts(
            channel=case.contact.channel,
            hold_reason=hold_reason,
            restriction=restriction,
            officer=_officer_for(case.index, restriction.named_officer)[0],
            zone=case.index.settings.zone,
            emergency_number=case.index.settings.emergency_number,
            representatives=case.index.representative_names(case.match.customer_id),
            now=case.now,
            exceeded=exceeded,
            reset_at=_reset_at(case) if exceeded is not None else None,
            routes=case.index.settings.protected.open_routes(),
            when_to_call_only=not restriction.notify_customer,
            closed=case.index.settings.closed,
        )
    return Decision(
        action=action,
        reasons=(
            Reason(
                code=f"{clause}.{hold_reason}",
                text=text,
                restriction_id=case.rid,
                clause=clause,
            ),
        ),
        customer_id=case.match.customer_id,
        restriction_id=case.rid,
        via_representative=case.match.representative,
        hold_reason=hold_reason,
        counts=case.counts,
        offer_emergency=voice and not voicemail,
        next_window=window,
        notice_facts=facts,
    )


def _no_contact(case: _Case) -> Decision | None:
    """Step 2: no contact at all (exemptions have already been let through)."""
    if case.compiled.restriction.handling is not Handling.NO_CONTACT:
        return None
    return _blocked(
        case,
        HoldReason.NO_CONTACT,
        "handling",
        "The restriction allows no contact; held for the record.",
    )


def _representative_only(case: _Case) -> Decision | None:
    """Step 3: only a designated representative may make contact."""
    restriction = case.compiled.restriction
    if restriction.handling is not Handling.REPRESENTATIVE_ONLY:
        return None
    if case.match.representative is not None:
        return None
    return _blocked(
        case,
        HoldReason.REPRESENTATIVE_ONLY,
        "handling",
        "The restriction allows contact only through a representative; contact from the "
        "customer's own address or number is held.",
    )


def _channel(case: _Case) -> Decision | None:
    """Step 4: the channel must be one the restriction allows (visits by appointment)."""
    restriction = case.compiled.restriction
    channel = case.contact.channel
    if channel not in restriction.channels:
        return _blocked(
            case,
            HoldReason.CHANNEL_NOT_ALLOWED,
            "channels",
            f"The restriction does not allow contact by {channel.value.replace('_', ' ')}.",
        )
    if channel is Channel.VISIT and restriction.visits_by_appointment:
        if case.contact.by_appointment:
            return None
        return _blocked(
            case,
            HoldReason.CHANNEL_NOT_ALLOWED,
            "channels",
            "The restriction allows visits by appointment only, and this visit had none.",
        )
    return None


def _dedicated_route(case: _Case) -> Decision | None:
    """Step 5: contact sent elsewhere than the dedicated route, where the restriction
    says such contact is held rather than redirected (redirection is at delivery)."""
    route = case.compiled.restriction.dedicated_route
    if route is None or route.otherwise is not OffRoute.HOLD:
        return None
    way = route.way_for(case.contact.channel)
    if way is None or way == case.contact.recipient:
        return None
    return _blocked(
        case,
        HoldReason.OFF_ROUTE,
        "dedicated_route",
        f"Sent to {case.contact.recipient}, not to {way}, the dedicated route the "
        "restriction asks the customer to use; held.",
    )


_CALLS = frozenset({Channel.VOICE, Channel.STAFF_MOBILE})


def _call_window(case: _Case) -> Decision | None:
    """Step 6: calls (to the gateway's numbers or to a staff mobile) only in a window."""
    restriction = case.compiled.restriction
    if case.contact.channel not in _CALLS or not restriction.call_windows:
        return None
    settings = case.index.settings
    if in_call_window(restriction.call_windows, case.now, settings.zone, settings.closed):
        return None
    text = "The call is outside every call window the restriction sets."
    closed = closed_today(case.now, settings.zone, settings.closed)
    if closed is not None:
        day, why = closed
        text = (
            f"The call is on {_CLOSED_WORDS[why]} ({date_words(day)}), when no call window applies."
        )
    return _blocked(case, HoldReason.OUTSIDE_CALL_WINDOW, "call_windows", text)


_CLOSED_WORDS = {
    ClosedKind.BANK_HOLIDAY: "a bank holiday",
    ClosedKind.CLOSURE: "a day the office is closed",
}


def _limits(case: _Case) -> Decision | None:
    """Step 7: a contact over a cap is excess. Only delivered contacts are in ``usage``."""
    for count in case.counts:
        if count.restriction_id != case.rid:
            continue
        if count.channel not in ("any", case.contact.channel.value):
            continue
        if count.used >= count.max:
            return _blocked(
                case,
                HoldReason.EXCESS,
                "limits",
                f"Excess contact: {count.used} of at most {count.max} {count.channel} "
                f"contacts per {count.per} already delivered.",
                exceeded=count,
            )
    return None


def _read_and_file(case: _Case) -> Decision | None:
    """Step 8: read for new issues and filed, not passed to staff."""
    if case.compiled.restriction.handling is not Handling.READ_AND_FILE:
        return None
    return _blocked(
        case,
        HoldReason.READ_AND_FILE,
        "handling",
        "The restriction is read-and-file: held to be read for new issues, not passed on.",
    )


Step = Callable[[_Case], Decision | None]

STEPS: tuple[Step, ...] = (
    _no_contact,
    _representative_only,
    _channel,
    _dedicated_route,
    _call_window,
    _limits,
    _read_and_file,
)

_SEVERITY = {
    Action.HOLD: 2,
    Action.MESSAGE: 2,
    Action.VOICEMAIL: 1,
    Action.DELIVER: 0,
    Action.CONNECT: 0,
}


def _evaluate(case: _Case) -> tuple[int, int, Decision]:
    """Run the chain for one restriction: (severity, step number, decision)."""
    for number, step in enumerate(STEPS):
        decision = step(case)
        if decision is not None:
            return _SEVERITY[decision.action], number, decision
    return 0, len(STEPS), _deliver(case)


def _deliver(case: _Case) -> Decision:
    """Step 9: deliver, to the named officer (or deputy) whatever address was used,
    else to the dedicated route whatever address was used, else as addressed."""
    restriction = case.compiled.restriction
    officer, why = _officer_for(case.index, restriction.named_officer)
    voice = case.contact.channel is Channel.VOICE
    target = _address(case.contact, officer)
    code = "deliver.named_officer" if officer else "deliver.as_addressed"
    clause = "named_officer" if officer else None
    if officer is None:
        text = "Delivered as addressed: the restriction names no officer."
    else:
        text = f"Delivered to the named officer {officer.name}." + why
    route = restriction.dedicated_route
    way = None if route is None else route.way_for(case.contact.channel)
    unnamed = officer is None or (voice and officer.phone is None)
    if way is not None and way != case.contact.recipient and unnamed:
        # Redirected (a route that holds contact sent elsewhere stopped it at step 5).
        target, code, clause = way, "deliver.dedicated_route", "dedicated_route"
        text = (
            f"Redirected to {way}, the dedicated route the restriction asks the customer "
            f"to use (it was sent to {case.contact.recipient})."
        )
    elif voice and officer is not None and officer.phone is None:
        text += (
            " The officer has no phone number on record, so the call goes to the number dialled."
        )
    return Decision(
        action=Action.CONNECT if voice else Action.DELIVER,
        deliver_to=target,
        reasons=(Reason(code=code, text=text, restriction_id=case.rid, clause=clause),),
        customer_id=case.match.customer_id,
        restriction_id=case.rid,
        officer_id=officer.id if officer else None,
        via_representative=case.match.representative,
        counts=case.counts,
        counted=True,
        call_time_limit=restriction.call_time_limit if voice else None,
        record_call=voice and restriction.record_calls,
    )


def covering_officer(index: PolicyIndex, officer_id: str | None) -> Officer | None:
    """Who takes a named officer's contact now: them, or the deputy covering an absence.

    The same choice ``decide`` makes, for contact released later by hand.
    """
    return _officer_for(index, officer_id)[0]


def _officer_for(index: PolicyIndex, officer_id: str | None) -> tuple[Officer | None, str]:
    """The named officer, or the first deputy in the chain who is not absent.

    When everyone in the chain is absent the named officer still gets it: the contact
    waits for them rather than escaping the single point of contact.
    """
    named = index.officer(officer_id)
    if named is None:
        return None, ""
    current = named
    seen = {named.id}
    while current.absent:
        deputy = index.officer(current.deputy)
        if deputy is None or deputy.id in seen:
            return named, " Everyone covering for them is absent, so it waits for them."
        seen.add(deputy.id)
        current = deputy
    if current is named:
        return named, ""
    return current, f" {named.name} is absent, so it goes to the deputy {current.name}."


def _address(contact: Contact, officer: Officer | None) -> str:
    if officer is None:
        return contact.recipient
    if contact.channel is Channel.VOICE:
        return officer.phone or contact.recipient
    return officer.email


def _reset_at(case: _Case) -> datetime | None:
    """When the caps that stopped this contact have all freed up again."""
    resets: list[datetime] = []
    for cl in case.compiled.limits:
        if cl.channel not in (None, case.contact.channel):
            continue
        times = case.usage.within(cl.channel, case.now - cl.period, case.now)
        if len(times) >= cl.limit.max:
            resets.append(times[len(times) - cl.limit.max] + cl.period)
    return max(resets, default=None)
