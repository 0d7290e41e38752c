"""Counts in words that agree: "1 customer", "2 customers", never "1 customers".

For every count a person reads (the command line, the dashboard, the evidence pack).
"""

from __future__ import annotations


def noun(count: int, singular: str, plural: str | None = None) -> str:
    """The noun that agrees with ``count``; ``plural`` when adding an s is wrong."""
    if count == 1:
        return singular
    return plural if plural is not None else singular + "s"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``count`` and its noun: ``counted(1, "customer")`` is "1 customer"."""
    return f"{count} {noun(count, singular, plural)}"
