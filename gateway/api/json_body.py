"""The one JSON reader for request bodies: hostile shapes are refused with a reason.

Python's ``json`` module accepts things an API must not: nesting deep enough to exhaust
the stack (a ``RecursionError``), integers past Python's 4,300-digit conversion limit (a
``ValueError``), ``1e400`` read as infinity, ``NaN`` and ``Infinity``, duplicate keys
(the last silently wins, where another parser might take the first), lone UTF-16
surrogates and NUL characters (which PostgreSQL cannot store). Each of these is refused
here with :class:`BodyProblem`, naming what is wrong and where, before any route sees
the data.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from rules.models import format_loc

MAX_DEPTH = 32  # the deepest real body (a proposal's call windows) is 4
MAX_NUMBER_CHARS = 100  # far more than any id, count or timestamp needs

# Strings, skipped whole (possessive, so an unterminated one costs one pass), brackets,
# and a quote that opens a string never closed (where the scan stops: json says why).
_STRUCTURE = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]|"')


class BodyProblem(ValueError):
    """Why a body cannot be read: a sentence, and the place in the body at fault."""

    def __init__(self, message: str, where: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.where = where


def parse_json(raw: bytes) -> Any:
    """The JSON value in ``raw``; :class:`BodyProblem` naming the fault if it has one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyProblem(f"the body is not UTF-8 text (byte {exc.start})") from None
    _check_depth(text)
    try:
        data = json.loads(
            text,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        # ("Unterminated string starting at" is one of json's messages.)
        reason = f"{exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno}"
        raise BodyProblem(f"the body is not valid JSON: {reason}") from None
    _check_text(data)
    return data


def _check_depth(text: str) -> None:
    depth = 0
    for match in _STRUCTURE.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise BodyProblem(
                    f"the body nests arrays and objects more than {MAX_DEPTH} deep "
                    f"(at character {match.start() + 1})"
                )
        elif piece in ("]", "}"):
            depth -= 1
        elif piece == '"':
            return  # an unterminated string: json.loads reports it


def _number_length(literal: str) -> None:
    if len(literal) > MAX_NUMBER_CHARS:
        raise BodyProblem(
            f"a number in the body is {len(literal)} characters long; "
            f"at most {MAX_NUMBER_CHARS} are accepted"
        )


def _integer(literal: str) -> int:
    _number_length(literal)
    return int(literal)


def _float(literal: str) -> float:
    _number_length(literal)
    value = float(literal)
    if not math.isfinite(value):
        raise BodyProblem(f"the number {literal} is too large to represent")
    return value


def _constant(name: str) -> Any:
    raise BodyProblem(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            # Objects are built inside out, so where this one sits is not known yet:
            # the walk after parsing finds it and reports it in place.
            return _Duplicated(dict(pairs), key)
        found[key] = value
    return found


class _Duplicated(dict[str, Any]):
    """An object that gave a key twice (which of the two values counts is parser-defined)."""

    def __init__(self, found: dict[str, Any], key: str) -> None:
        super().__init__(found)
        self.key = key


def _check_text(data: Any) -> None:
    """Every string and key is text PostgreSQL and UTF-8 can hold (no lone surrogate, no
    NUL). The walk is bounded: depth was checked before parsing."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(("body",), data)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str):
            _check_string(value, format_loc(loc))
        elif isinstance(value, dict):
            if isinstance(value, _Duplicated):
                where = format_loc(loc)
                raise BodyProblem(f"the key '{value.key}' appears twice in {where}", where)
            keys_at = f"a key of {format_loc(loc)}"
            for key, item in value.items():
                _check_string(key, keys_at)
                stack.append(((*loc, key), item))
        elif isinstance(value, list):
            stack.extend(((*loc, i), item) for i, item in enumerate(value))


def _check_string(value: str, where: str) -> None:
    if "\x00" in value:
        raise BodyProblem(f"{where}: a NUL character (\\u0000) is not accepted", where)
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        raise BodyProblem(
            f"{where}: a lone surrogate (\\u{code:04x}) is not a character", where
        ) from None
