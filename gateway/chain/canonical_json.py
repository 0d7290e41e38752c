"""The canonical JSON of a value, written exactly one way (see ``gateway.chain.links``).

Kept apart from the store so the fast evidence scan (``gateway.chain.scan``) can use
it without importing SQLAlchemy: these need only the standard library and orjson.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def canonical_text(value: Any) -> str:
    """The one JSON text of a value of JSON's own types, as it appears inside a record's
    canonical JSON."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


# orjson writes JSON's own types exactly as ``canonical_text`` does (sorted keys, compact,
# UTF-8, the same string escapes) except floats, which it formats its own way (1e-7, not
# 1e-07). Anything not a JSON type (a datetime, a subclass) it refuses here, as it does
# integers beyond 64 bits and unpaired surrogates; the caller then uses canonical_text.
_EXACT = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
_EXACT |= orjson.OPT_PASSTHROUGH_DATACLASS


def exact_json(value: Any) -> bytes | None:
    """``canonical_text(value)``'s bytes, written by orjson (a tenth of the time), for a
    value known to hold no float; None when orjson refuses it (then use canonical_text).
    """
    try:
        return orjson.dumps(value, option=_EXACT)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None


_PLAIN_LEAVES = frozenset({str, int, bool, type(None)})


def only_plain(value: Any) -> bool:
    """True when ``value`` is dicts with ``str`` keys, lists, tuples, ``str``, ``int``,
    ``bool`` and None all the way down (exactly those types: no float, no subclass)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _PLAIN_LEAVES:
            continue
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True
