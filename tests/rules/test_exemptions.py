"""The exemption classifier: generous, whole-word, case- and punctuation-insensitive."""

from __future__ import annotations

import pytest

from rules.exemptions import DEFAULT_PHRASES, ExemptionClassifier, fold

DEFAULT = ExemptionClassifier.build()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("There is a GAS LEAK!!!", "gas_or_water_leak"),
        ("I can smell gas in the hallway", "gas_or_water_leak"),
        ("water is leaking through the ceiling", "gas_or_water_leak"),
        ("Boiler broken, no heating and no hot water", "no_heating_or_hot_water"),
        ("Emergency: the front door won't lock", "emergency_repair"),
        ("sparks coming from the socket", "emergency_repair"),
        ("I am worried a child at risk next door", "safeguarding"),
        ("This is a Subject-Access Request under GDPR", "subject_access_request"),
        ("please send a copy of my records", "subject_access_request"),
        ("He hit me and there is a leak", "safeguarding"),
        ("Why haven't you answered my complaint?", None),
        ("The gasket on the oven", None),
        ("", None),
    ],
)
def test_default_classes(text: str, expected: str | None) -> None:
    assert DEFAULT.classify(text) == expected


def test_fold_is_whole_words() -> None:
    assert fold("Gas-Leak!! now") == " gas leak now "
    assert fold("can't") == " cant "


def test_configured_phrase_lists_replace_the_defaults() -> None:
    classifier = ExemptionClassifier.build({"pest": ["Rats!", "  "], "empty": [" ", "!!"]})
    assert classifier.classify("there are rats in the loft") == "pest"
    assert classifier.classify("gas leak") is None
    assert [name for name, _ in classifier.phrases] == ["pest"]


def test_safeguarding_is_tried_first() -> None:
    assert DEFAULT.phrases[0][0] == "safeguarding"
    assert set(DEFAULT_PHRASES) == {name for name, _ in DEFAULT.phrases}
