"""What the officer hears before a restricted customer's call is put through.

A warning flag exists so that the person dealing with the customer knows to take care,
and on the phone that person is whoever answers. So, when the organisation turns the
whisper on, the officer hears who is calling, how serious the customer's flags are and
what to do about it, and presses 1 to take the call. Never the flag's reason: it often
records what the customer did or said, it is read only by those with a need
(``rules.casework.may_read_flag_reason``), and a whisper can be overheard.
"""

from __future__ import annotations

from collections.abc import Iterable

from rules.casework import FlagLevel

# What to do, by the most serious level among the customer's flags.
CONTROL_MEASURES = {
    FlagLevel.RED: (
        "Do not agree to see the customer alone, keep to the arrangement, and end the "
        "call if you feel threatened."
    ),
    FlagLevel.AMBER: (
        "Take care: keep to the arrangement, and end the call if the customer becomes abusive."
    ),
}
_ORDER = (FlagLevel.RED, FlagLevel.AMBER)
ACCEPT = "Press 1 to take the call. To refuse it, hang up or press any other key."
NOT_TAKEN = "The call was not put through. Goodbye."


def control_measure(levels: Iterable[FlagLevel]) -> tuple[FlagLevel, str] | None:
    """The most serious level among ``levels`` and what to do about it; None for none."""
    present = set(levels)
    for level in _ORDER:
        if level in present:
            return level, CONTROL_MEASURES[level]
    return None


def whisper_words(customer_id: str, levels: Iterable[FlagLevel]) -> str:
    """The whisper: the customer's id, their flags' level and the control measure, and
    how to take the call. ``levels`` are those of the customer's current flags."""
    found = list(levels)
    lead = f"A call from restricted customer {_spoken_id(customer_id)}."
    measure = control_measure(found)
    if measure is None:
        flags = "They have no warning flags."
    else:
        level, what = measure
        many = len(found) > 1
        flags = f"{len(found)} warning flags, the most serious" if many else "Warning flag:"
        flags = f"{flags} {level.value}. {what}"
    return f"{lead} {flags} {ACCEPT}"


def _spoken_id(customer_id: str) -> str:
    """The id character by character, so text-to-speech does not read "C-1042" as a word
    and a number: "C, 1, 0, 4, 2"."""
    return ", ".join(ch for ch in customer_id if ch.isalnum()) or customer_id
