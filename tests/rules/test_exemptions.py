"""The exemption classifier: generous, whole-word, case- and punctuation-insensitive."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.exemptions import DEFAULT_PHRASES, ExemptionClassifier, fold, words

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
        ("The heating has no timer", None),  # a phrase's words, but not the phrase
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


def _reference(classifier: ExemptionClassifier, text: str) -> str | None:
    """The classifier's definition, written plainly: the first class (in order) with a
    phrase that occurs, as whole words, in the folded text."""
    folded = fold(text)
    for name, phrases in classifier.phrases:
        if any(phrase in folded for phrase in phrases):
            return name
    return None


_PHRASE_WORDS = sorted({w for _, ps in DEFAULT.phrases for p in ps for w in p.split()})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_PHRASE_WORDS),
            st.text(alphabet="abcdefghij'’_é", min_size=1, max_size=6),
        ),
        max_size=40,
    ),
    st.lists(st.sampled_from([" ", ", ", "!\n", "—", " - ", "'", "  "]), min_size=1),
)
def test_classify_agrees_with_its_definition(words: list[str], gaps: list[str]) -> None:
    """The word-set shortcut never changes an answer: texts made of the phrases' own
    words, joined by punctuation, are classified as the plain definition says."""
    text = "".join(word + gaps[i % len(gaps)] for i, word in enumerate(words))
    assert DEFAULT.classify(text) == _reference(DEFAULT, text)
    shouted = text.upper()
    assert DEFAULT.classify(shouted) == _reference(DEFAULT, shouted)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=string.printable, max_size=200),  # ASCII: the fast path
        st.text(max_size=200),  # anything else, including text ASCII only once folded
    )
)
def test_words_are_the_runs_of_word_characters(text: str) -> None:
    """Both ways of splitting give the words the definition does."""
    assert words(text) == re.findall(r"\w+", text.casefold().replace("'", ""))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gas_leak: it's 2 AM!", ["gas_leak", "its", "2", "am"]),
        ("\u212a\u017fss", ["ksss"]),  # Kelvin sign and long s fold to ASCII
        ("Caf\u00e9 \u2014 d\u00e9j\u00e0", ["caf\u00e9", "d\u00e9j\u00e0"]),
    ],
)
def test_words_examples(text: str, expected: list[str]) -> None:
    assert words(text) == expected
