"""The officer's whisper: who is calling, their flags' level and what to do, never why."""

from __future__ import annotations

import pytest

from rules.casework import FlagLevel
from rules.whisper import ACCEPT, CONTROL_MEASURES, control_measure, whisper_words

RED, AMBER = FlagLevel.RED, FlagLevel.AMBER


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], None),
        ([AMBER], (AMBER, CONTROL_MEASURES[AMBER])),
        ([RED], (RED, CONTROL_MEASURES[RED])),
        ([AMBER, RED, AMBER], (RED, CONTROL_MEASURES[RED])),
    ],
)
def test_the_most_serious_level_sets_the_control_measure(
    levels: list[FlagLevel], expected: tuple[FlagLevel, str] | None
) -> None:
    assert control_measure(levels) == expected


@pytest.mark.parametrize(
    ("customer_id", "levels", "middle"),
    [
        ("C-1042", [], "They have no warning flags."),
        ("C-1042", [AMBER], f"Warning flag: amber. {CONTROL_MEASURES[AMBER]}"),
        (
            "C-1042",
            [AMBER, RED],
            f"2 warning flags, the most serious red. {CONTROL_MEASURES[RED]}",
        ),
    ],
)
def test_whisper_words(customer_id: str, levels: list[FlagLevel], middle: str) -> None:
    assert whisper_words(customer_id, levels) == (
        f"A call from restricted customer C, 1, 0, 4, 2. {middle} {ACCEPT}"
    )


def test_an_id_with_nothing_to_spell_is_said_as_it_is() -> None:
    assert whisper_words("--", []).startswith("A call from restricted customer --.")
