"""The organisation's teams: named sets of staff addresses and numbers that a
restriction's scope may name (``rules.scope``).

Teams are an organisation setting (``teams``), like the protected routes: an
administrator sets them with ``PUT /api/teams``; they are stored, audited and versioned
with the policy, so a change of a team's members reaches every restriction naming it at
the next contact. Stored as ``{team id: {"name", "addresses", "numbers"}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from rules.scope import Team, Teams

TEAMS_SETTING = "teams"


def stored_teams(values: Mapping[str, Any]) -> list[Team]:
    """The teams in the organisation's stored settings (checked when stored; anything
    that no longer reads is left out rather than stopping every decision)."""
    raw = values.get(TEAMS_SETTING)
    if not isinstance(raw, dict):
        return []
    teams = []
    for team_id, body in raw.items():
        try:
            teams.append(Team.model_validate({"id": team_id, **body}))
        except (ValidationError, TypeError):
            continue
    return teams


def team_members(teams: list[Team]) -> Teams:
    """Team id -> members, as ``rules`` takes them."""
    return {team.id: team.members for team in teams}
