"""The organisation-wide facts decisions depend on, as the gateway's settings give them
and as an administrator has changed them (stored, audited, and versioned with the
policy, so every gateway sees a change at its next contact)."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date
from typing import Any

from gateway.config.exemption_phrases import ORG_SETTING, load_classifier
from gateway.config.org_settings import closed_days, org_settings_from
from gateway.config.settings import parse_identities
from gateway.config.teams import stored_teams, team_members
from gateway.store.casework.casework import read_settings
from gateway.store.engine import read_transaction
from gateway.store.store import Store
from rules.exemptions import ExemptionClassifier
from rules.policy_index import DecisionSettings
from rules.protected import ProtectedRoutes, RouteName
from rules.scope import Teams

ROUTES_SETTING = "protected_routes"


async def decision_settings_with_org(
    store: Store, base: DecisionSettings, *, today: date | None = None
) -> DecisionSettings:
    """``base`` with the organisation's settings that change decisions applied (the
    days the office is closed only when ``today`` is given: see ``with_org``)."""
    return with_org(await read_org_values(store), base, today=today)


async def read_org_values(store: Store) -> dict[str, Any]:
    """Every stored organisation setting, as stored."""
    async with read_transaction(store.engine, "reading the organisation's settings") as conn:
        return await read_settings(conn)


def with_org(
    values: dict[str, Any], base: DecisionSettings, *, today: date | None
) -> DecisionSettings:
    """``base`` with the organisation's stored settings that change decisions applied.

    Changing one bumps the policy version, so the contact service reads them together
    with the policy and every channel sees the change on its next contact. ``today``
    (local) places the bank holidays: those from the year before it to three after.
    """
    changed = replace(base, lapse_at_review=bool(values.get("lapse_at_review", False)))
    if today is not None:
        changed = replace(changed, closed=closed_days(org_settings_from(values), today))
    phrases = values.get(ORG_SETTING)
    if isinstance(phrases, str) and phrases.strip():
        # Checked whole when stored (gateway.api.exemptions_api); built once per text.
        with_model = base.exemptions.model is not None
        changed = replace(changed, exemptions=_classifier(phrases, with_model))
    teams = team_members(stored_teams(values))
    if teams:
        changed = replace(changed, teams=teams)
    routes = values.get(ROUTES_SETTING)
    if isinstance(routes, dict) and routes:
        changed = replace(changed, protected=_with_routes(base, routes))
    return changed


@functools.lru_cache(maxsize=4)
def _classifier(text: str, model: bool) -> ExemptionClassifier:
    return load_classifier(None, text, model=model)


def _with_routes(base: DecisionSettings, stored: dict[str, Any]) -> ProtectedRoutes:
    """The gateway's protected routes with those an administrator set replacing theirs."""
    routes: dict[RouteName, tuple[str, ...]] = dict(base.protected.routes)
    for name, identities in stored.items():
        if name in RouteName.__members__.values():
            routes[RouteName(name)] = parse_identities(str(identities))
    return ProtectedRoutes.of(routes, base.emergency_number)


async def organisation_teams(store: Store) -> Teams:
    """The organisation's teams (gateway.config.teams), to check what a scope names."""
    async with read_transaction(store.engine, "reading the organisation's teams") as conn:
        values = await read_settings(conn)
    return team_members(stored_teams(values))
