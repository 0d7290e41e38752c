"""Plain-English wording for the policy file's problems (private to ``gateway.policy.file``).

Housing officers read these messages, so pydantic's error types and Python's reprs are put
into words about the file they wrote: what a value is, what was expected, what was meant.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

Loc = tuple[str | int, ...]


def error_message(model: type[BaseModel], loc: Loc, errors: list[ErrorDetails]) -> str:
    """One message for all of pydantic's errors at ``loc``, without repeats."""
    if len(errors) > 1 and all(e["type"] in ("enum", "literal_error") for e in errors):
        allowed = [v for e in errors for v in re.findall(r"'([^']*)'", str(e["ctx"]["expected"]))]
        return _not_one_of(errors[0]["input"], allowed)
    return "; ".join(dict.fromkeys(_error_text(model, loc, e) for e in errors))


def _error_text(model: type[BaseModel], loc: Loc, error: ErrorDetails) -> str:
    """Pydantic's error in the words of someone who has never heard of pydantic."""
    kind, value, ctx = error["type"], error["input"], error.get("ctx", {})
    shown = show(value)
    if kind == "missing":
        return f"missing field '{loc[-1]}'"
    if kind == "extra_forbidden":
        return unknown("field", loc[-1], field_names(model, loc[:-1]))
    if kind == "invalid_key":
        return "a field has no name" if value is None else f"field name {shown} is not a word"
    if value is None and kind not in ("value_error", "assertion_error"):
        return "has no value; write one, or leave the field out if it is optional"
    if kind in ("enum", "literal_error"):
        return _not_one_of(value, re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    if kind == "string_type":
        return f"should be a single piece of text, not {describe(value)}"
    if kind == "list_type":
        example = f": write [{value}]" if isinstance(value, str) else ""
        return f"should be a list{example}, not {describe(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"should be a set of fields like 'name: value', not {describe(value)}"
    if kind.startswith("int_"):
        return f"{shown} is not a whole number"
    if kind.startswith("bool_"):
        return f"{shown} is not true or false"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {"greater_than_equal": "at least", "less_than_equal": "at most"}
        bound = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
        return f"must be {words.get(kind, kind.replace('_', ' '))} {bound}, not {value}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} entry, but has none"
    if kind == "timezone_aware":
        return (
            f"{shown} has no time zone: add Z for UTC (e.g. 2026-11-01T09:00:00Z) "
            "or an offset such as +01:00"
        )
    if kind.startswith("datetime_"):
        return f"{shown} is not a date and time like 2026-11-01T09:00:00Z{_why(ctx)}"
    if kind.startswith("date_"):
        return f"{shown} is not a date like 2027-05-01{_why(ctx)}"
    return clean_message(error["msg"])


def _why(ctx: dict[str, Any]) -> str:
    return f" ({ctx['error']})" if isinstance(ctx.get("error"), str) else ""


def clean_message(message: str) -> str:
    message = re.sub(r"^(Value error|Assertion failed), ", "", message)
    return re.sub(r"\s*\[?For further information visit \S+\]?", "", message).strip()


def _not_one_of(value: Any, allowed: Sequence[str]) -> str:
    if value is None:
        return f"has no value; write one of: {', '.join(allowed)}"
    return f"{show(value)} is not one of: {', '.join(allowed)}"


def unknown(what: str, key: Any, allowed: list[str]) -> str:
    text = f"unknown {what} {show(key)} (allowed: {', '.join(allowed)})"
    close = suggestion(key, allowed)
    return text + (f"; did you mean '{close}'?" if close else "")


def suggestion(key: Any, allowed: list[str]) -> str | None:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    return close[0] if close else None


def field_names(model: type[BaseModel], loc: Loc) -> list[str]:
    target = _model_at(model, loc)
    return list(target.model_fields) if target is not None else []


def show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, datetime | date | int | float | bool):
        return f"'{value.isoformat() if isinstance(value, date) else value}'"
    return describe(value)


def describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a set of fields"
    return f"the value {show(value)}"


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if typing.get_origin(current) is list and args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field is not None else None
        else:
            return None
        if isinstance(current, types.UnionType) or typing.get_origin(current) is typing.Union:
            current = next((a for a in typing.get_args(current) if a is not type(None)), None)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None
