"""A decision as JSON: the one shape that ``contact-gateway explain --json`` prints and
the admin API's explain returns."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from rules.decision import Decision


def decision_json(decision: Decision) -> dict[str, Any]:
    """A decision as JSON (the shape the admin API's explain returns too)."""
    out = asdict(decision)
    out.pop("notice_facts", None)
    out["notice"] = decision.notice
    plain: dict[str, Any] = json.loads(json.dumps(out, default=_jsonable))
    return plain


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)
