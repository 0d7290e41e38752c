"""An organisation's phrase changes: applied whole, or refused with every problem named."""

from __future__ import annotations

import pytest

from rules.exemption_config import PhraseConfigError, PhraseProblem, apply_changes
from rules.exemption_lexicon import DEFAULT_PHRASES
from rules.exemption_patterns import Pattern, PhraseError, parse
from rules.exemptions import ExemptionClassifier


def test_no_changes_are_the_defaults() -> None:
    assert apply_changes(None) == {
        name: {lang: tuple(texts) for lang, texts in by_lang.items()}
        for name, by_lang in DEFAULT_PHRASES.items()
    }


def test_phrases_are_added_and_removed() -> None:
    merged = apply_changes(
        {
            "emergency_repair": {
                "en": {"add": ["stairlift  stuck", "stairlift stuck"], "remove": ["power cut"]},
                "cy": {"add": ["lifft grisiau ~ sownd"]},
            }
        }
    )
    assert merged["emergency_repair"]["en"].count("stairlift stuck") == 1
    assert "power cut" not in merged["emergency_repair"]["en"]
    classifier = ExemptionClassifier.build(merged, model=False)
    assert classifier.classify("my stairlift stuck halfway") == "emergency_repair"
    assert classifier.classify("power cut") is None
    assert classifier.classify("lifft grisiau wedi mynd yn sownd") == "emergency_repair"


def test_every_problem_is_named_by_where_it_is() -> None:
    with pytest.raises(PhraseConfigError) as caught:
        apply_changes(
            {
                "pest": {"en": {"add": ["rats"]}},
                "appeal": {"fr": {"add": ["x"]}, "en": {"add": ["", 3, "{nope}"], "drop": []}},
                "complaint": {"en": {"remove": ["not a phrase"], "add": "one"}},
                "safeguarding": ["x"],
                "emergency_repair": {"cy": ["x"]},
            }
        )
    problems = caught.value.problems
    assert [p.path for p in problems] == [
        ("pest",),
        ("appeal", "fr"),
        ("appeal", "en", "add", 0),
        ("appeal", "en", "add", 1),
        ("appeal", "en", "add", 2),
        ("appeal", "en", "drop"),
        ("complaint", "en", "remove", 0),
        ("complaint", "en", "add"),
        ("safeguarding",),
        ("emergency_repair", "cy"),
    ]
    assert "is not a class" in problems[0].message
    assert "is empty" in problems[2].message and "is empty" in problems[3].message
    assert "not a known word list" in problems[4].message
    assert "pest: 'pest' is not a class" in str(caught.value)


def test_the_whole_must_be_a_mapping() -> None:
    with pytest.raises(PhraseConfigError) as caught:
        apply_changes(["emergency_repair"])
    assert caught.value.problems == [
        PhraseProblem((), "must be a mapping of class -> language -> add/remove")
    ]


@pytest.mark.parametrize(
    ("phrase", "message"),
    [
        ("", "has no words to match"),
        ("the a an", "has no words to match"),
        ("~ gas", "starts with '~'"),
        ("gas ..", "ends with '..'"),
        ("gas ~ smell .. x", "mixes '~' and '..'"),
        ("{gas", "is not a known word list"),
        ("{unknown}", "is not a known word list"),
    ],
)
def test_bad_phrases_are_refused(phrase: str, message: str) -> None:
    with pytest.raises(PhraseError, match=message):
        parse(phrase, "emergency_repair", {"gas": ()})


def test_the_pattern_language() -> None:
    concepts = {"gas": ()}
    assert parse("smell of gas", "x", concepts) == ((("smell",), ("gas",)), (1,), 0)
    assert parse("{gas} ~ smell|whiff", "x", concepts) == (
        (("@gas",), ("smell", "whiff")),
        (4,),
        8,
    )
    assert parse("gas ~~ leak", "x", concepts)[2] == 16
    assert parse("can't lock .. door", "x", concepts) == (
        (("cant",), ("lock",), ("door",)),
        (1, 4),
        0,
    )
    assert parse("self-harm", "x", concepts)[0] == (("self",), ("harm",))


class _At:
    def __init__(self, **places: list[int]) -> None:
        self.places = places

    def of(self, slot: frozenset[str]) -> list[int]:
        return sorted(p for atom in slot for p in self.places.get(atom, []))


class _Fill(dict[frozenset[str], frozenset[str]]):
    """The words that fill a slot: its plain words ("=a" is filled by "a")."""

    def __missing__(self, slot: frozenset[str]) -> frozenset[str]:
        return frozenset(atom.lstrip("=") for atom in slot)


_fill = _Fill()


def _slots(*words: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset({"=" + w}) for w in words)


def test_ordered_phrases_try_every_way_through() -> None:
    pattern = Pattern("a .. b c", "x", _slots("a", "b", "c"), (4, 1), 0, anchor=0)
    words = ["a", "b", "y", "b", "c"]
    # The first "b" after "a" is not followed by "c"; the second is.
    assert list(pattern.occurrences_around(_At(**{"=a": [0]}), words, _fill)) == [(0, 3, 4)]
    assert list(pattern.occurrences_around(_At(**{"=a": [0]}), ["a", "b", "y"], _fill)) == []
    assert list(pattern.occurrences_around(_At(), words, _fill)) == []  # no anchor anywhere
    around_c = Pattern("a .. b c", "x", _slots("a", "b", "c"), (4, 1), 0, anchor=2)
    assert list(around_c.occurrences_around(_At(**{"=c": [4]}), words, _fill)) == [(0, 3, 4)]


def test_order_free_phrases_give_every_window() -> None:
    pattern = Pattern("a ~ b", "x", _slots("a", "b"), (4,), 8, anchor=0)
    words = ["a", "x", "b", *["x"] * 17, "a", "b"]
    found = list(pattern.occurrences_around(_At(**{"=a": [0, 20]}), words, _fill))
    assert found == [(0, 2), (20, 21)]


def test_an_anchor_with_its_other_words_out_of_order_is_no_occurrence() -> None:
    pattern = Pattern("a .. b c", "x", _slots("a", "b", "c"), (4, 1), 0, anchor=0)
    words = ["a", "b", "x", "b", "x", "c"]  # every "b" is in reach, none is followed by "c"
    assert list(pattern.occurrences_around(_At(**{"=a": [0]}), words, _fill)) == []


def test_no_window_holds_words_too_far_apart() -> None:
    from rules.exemption_patterns import _near

    assert list(_near([[0], [9]], 8)) == []
    assert list(_near([[0], [7]], 8)) == [(0, 7)]
