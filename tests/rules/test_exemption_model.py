"""The second reader: a small trained model for short messages no phrase matches."""

from __future__ import annotations

import base64
import hashlib
import math
from array import array
from pathlib import Path

import pytest

from rules import exemption_model_data, exemption_second_look_data
from rules.exemption_model import (
    FLOORS,
    LOOKED_AGAIN,
    MAX_WORDS,
    SECOND_LOOK,
    LinearModel,
    SecondLook,
    char_features,
    default_model,
    default_second_look,
    letter_groups,
    second_look_words,
    word_features,
)
from rules.exemption_text import BREAK, tokens
from rules.exemptions import ExemptionClassifier

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "exemptions"
FULL = ExemptionClassifier.build()
PHRASES_ALONE = ExemptionClassifier.build(model=False)


def message_words(text: str) -> list[str]:
    return [w for w in tokens(text).words if w != BREAK]


def _weights(rows: list[list[float]]) -> str:
    """Class-major float32 weights, as the trainer writes them."""
    return base64.b64encode(array("f", [w for row in rows for w in row]).tobytes()).decode()


def _toy(threshold: float = 0.3) -> LinearModel:
    """'gas' and 'leak' weigh 2 towards an emergency; 'thanks' 1 towards ordinary."""
    words = ("gas\nleak\nthanks", _weights([[0, 0, 1], [2, 2, 0]]))
    chars = ("", "")
    return LinearModel(("none", "emergency_repair"), (0.0, 0.0), words, chars, threshold)


def _toy_parts() -> tuple[tuple[str, ...], tuple[float, ...], tuple[str, str], tuple[str, str]]:
    """'gas' weighs 1 towards an emergency, 'thanks' 1 towards ordinary."""
    words = ("gas\nthanks", _weights([[0, 1], [1, 0]]))
    return ("none", "emergency_repair"), (0.0, 0.0), words, ("", "")


def test_features_are_words_pairs_and_letter_groups() -> None:
    assert word_features(["no", "heat"]) == ["no", "heat", "no heat"]
    assert letter_groups("gas") == [" ga", "gas", "as ", " gas", "gas ", " gas "]
    assert letter_groups("a") == [" a "]  # shorter than a group: itself, once
    assert char_features(["a", "i"]) == [" a ", " i "]


def test_probabilities_are_a_softmax_over_unit_length_features() -> None:
    model = _toy()
    chances = model.probabilities(["gas", "leak"])  # two known features, each 1/sqrt(2)
    emergency = (2 + 2) / math.sqrt(2)
    assert chances["none"] == pytest.approx(1 / (1 + math.exp(emergency)))
    assert chances["emergency_repair"] == pytest.approx(1 - chances["none"])
    assert model.probabilities(["hello"]) == {"none": 0.5, "emergency_repair": 0.5}


def test_a_verdict_below_the_threshold_names_the_class_and_the_weightiest_words() -> None:
    verdict = _toy().judge(["thanks", "gas", "leak", "hall", "again"])
    assert verdict is not None and verdict.exempt_class == "emergency_repair"
    # 'thanks' weighs against, 'hall' is unknown, 'again' too common to tell anything
    assert verdict.words == ("gas", "leak")
    assert verdict.ordinary < 0.3
    assert _toy().judge(["thanks"]) is None  # ordinary
    assert _toy(threshold=0.01).judge(["gas", "leak"]) is None  # not sure enough
    assert _toy().judge([]) is None


def test_a_class_with_a_floor_is_delivered_when_likely_enough_however_ordinary() -> None:
    """'gas' weighs 1 towards an emergency; 'thanks' 1 towards ordinary: with both, each
    is 50 % likely, over the threshold but at the floor."""
    floored = LinearModel(*_toy_parts(), floors={"emergency_repair": 0.5})
    verdict = floored.judge(["thanks", "gas", "hall", "again"])
    assert verdict is not None and verdict.exempt_class == "emergency_repair"
    assert verdict.ordinary == pytest.approx(0.5)
    assert (
        LinearModel(*_toy_parts(), floors={"emergency_repair": 0.51}).judge(
            ["thanks", "gas", "hall", "again"]
        )
        is None
    )
    assert LinearModel(*_toy_parts(), floors={}).judge(["thanks", "gas", "hall", "again"]) is None
    with pytest.raises(ValueError, match="floors for \\['none'\\]"):
        LinearModel(*_toy_parts(), floors={"none": 0.5})
    with pytest.raises(ValueError, match="floors for \\['appeal'\\]"):
        LinearModel(*_toy_parts(), floors={"appeal": 0.5})


def test_the_shipped_model_delivers_a_likely_safeguarding_concern() -> None:
    """Short, and sharing words with everyday texts: the model finds this over 30 %
    likely ordinary, but likely enough a safeguarding concern to deliver it."""
    text = "the lad in flat 9 is sat on the roof of the car park again"  # not in the corpus
    chances = default_model().probabilities(message_words(text))
    assert chances["none"] >= default_model().threshold
    assert chances["safeguarding"] >= FLOORS["safeguarding"]
    assert PHRASES_ALONE.classify(text) is None
    assert FULL.classify(text) == "safeguarding"


def test_long_messages_are_left_to_the_phrases() -> None:
    assert _toy().judge(["gas"] * MAX_WORDS) is not None
    assert _toy().judge(["gas"] * (MAX_WORDS + 1)) is None


def test_weights_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="3 weights for 3 features and 2 classes"):
        LinearModel(("none", "appeal"), (0, 0), ("a\nb\nc", _weights([[1, 2, 3]])), ("", ""))
    with pytest.raises(ValueError, match="lack 'none'"):
        LinearModel(("appeal", "complaint"), (0, 0), ("", ""), ("", ""))


def test_letter_groups_are_remembered_within_a_bounded_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = LinearModel(
        ("none", "emergency_repair"), (0, 0), ("", ""), (" ga", _weights([[0], [1]]))
    )
    assert model.probabilities(["gas"])["emergency_repair"] > 0.5
    assert model._letters == {"gas": (0,)}
    monkeypatch.setattr("rules.exemption_model._WORD_MEMO_LIMIT", 1)
    model.probabilities(["hall"])
    assert model._letters == {"hall": ()}


@pytest.mark.parametrize("data", [exemption_model_data, exemption_second_look_data])
def test_the_shipped_models_were_trained_on_the_development_splits_as_they_are(
    data: object,
) -> None:
    trained_on: dict[str, str] = data.TRAINED_ON  # type: ignore[attr-defined]
    assert not any(split.startswith("heldout") for split in trained_on)
    development = sorted(p.stem for p in CORPUS.glob("dev*.jsonl"))
    assert sorted(trained_on) == development  # every development split, no other
    for split, digest in trained_on.items():
        now = hashlib.sha256((CORPUS / f"{split}.jsonl").read_bytes()).hexdigest()
        assert now == digest, (
            f"{split}.jsonl changed since the model was trained: run "
            "python tests/corpus/exemptions/train_model.py (needs the 'train' extra)"
        )
    assert default_model() is default_model()  # read once
    assert default_second_look() is default_second_look()


def test_the_model_reads_what_no_phrase_foresaw() -> None:
    text = "my ex was at the door again and the kids hid under the bed"
    assert PHRASES_ALONE.explain(text) is None
    found = FULL.explain(text)
    assert found is not None and found.exempt_class == "safeguarding"
    assert found.reader == "model"
    assert set(found.words.split(" … ")) <= set(text.split())  # words of the text
    assert found.describe().startswith(f"the words '{found.words}' (the trained model: ")
    assert found.phrase.endswith("likely not ordinary contact")


def test_ordinary_short_messages_stay_ordinary() -> None:
    for text in ("thanks for fixing the fence, all good now", "hello can you ring me re rent"):
        assert FULL.explain(text) is None


def test_a_phrase_is_read_first_and_says_so() -> None:
    found = FULL.explain("gas leak in the hall")
    assert found is not None and found.reader == "phrase"


def test_a_long_message_is_read_by_the_phrases_alone() -> None:
    key = "my ex was at the door again and the kids hid under the bed. "
    filler = "I am writing about the rent statement for this year and the service charge. "
    long_text = key + filler * 16
    assert len([w for w in tokens(long_text).words if w != BREAK]) > MAX_WORDS
    assert FULL.explain(key) is not None and FULL.explain(long_text) is None


def test_a_phrase_found_and_discounted_does_not_stop_the_model() -> None:
    both = ExemptionClassifier(PHRASES_ALONE.phrases, _toy())
    # The toy model finds "gas" an emergency; the phrase "gas smell" was negated, and
    # the phrases alone hold the message. The two readers disagree: it is delivered.
    assert PHRASES_ALONE.explain("no gas smell now") is None
    found = both.explain("no gas smell now")
    assert found is not None and found.reader == "model"
    assert found.exempt_class == "emergency_repair"
    found = both.explain("some gas about the hall")  # no phrase, found or discounted
    assert found is not None and found.reader == "model"


def _settled(overrule: float = 0.9) -> LinearModel:
    """'gas' and 'leak' weigh 2 towards an emergency; 'sofa', 'cushion' and 'telly' 4
    each towards ordinary contact."""
    words = ("gas\nleak\nsofa\ncushion\ntelly", _weights([[0, 0, 4, 4, 4], [2, 2, 0, 0, 0]]))
    return LinearModel(("none", "emergency_repair"), (0.0, 0.0), words, ("", ""), overrule=overrule)


def test_the_model_overrules_a_phrase_only_when_nearly_sure_it_is_ordinary() -> None:
    model = _settled()
    assert model.overrules(["gas", "leak", "now", "please"]) is None  # an emergency
    settled = ["sofa", "gas", "leak", "cushion", "telly"]
    ordinary = model.probabilities(settled)["none"]
    assert ordinary >= model.overrule
    assert model.overrules(settled) == ordinary
    # Outside the lengths the model reads, the phrase stands.
    assert model.overrules(["sofa", "cushion", "telly"]) is None  # three words
    assert model.overrules(settled * 30) is None
    # The bar is the model's own.
    assert _settled(overrule=0.999).overrules(settled) is None


def test_an_overruled_phrase_is_held_and_says_why() -> None:
    words = ("complaint\nsofa\ncushion\ntelly", _weights([[0, 4, 4, 4], [2, 0, 0, 0]]))
    model = LinearModel(("none", "complaint"), (0.0, 0.0), words, ("", ""))
    both = ExemptionClassifier(PHRASES_ALONE.phrases, model)
    text = "complaint about the sofa cushion and the telly"
    assert PHRASES_ALONE.explain(text) is not None  # the phrase alone lets it through
    assert both.explain(text) is None
    overruled = both.overruled(text)
    assert overruled is not None
    match, ordinary, reader = overruled
    assert match.exempt_class == "complaint" and match.words == "complaint"
    assert ordinary >= 0.8 and reader == "model"
    # Nothing to say where the phrase stands, none matched, or there is no model.
    assert both.explain("complaint about the repairs service") is not None
    assert both.overruled("complaint about the repairs service") is None
    assert both.overruled("a new sofa and telly") is None
    assert PHRASES_ALONE.overruled(text) is None
    assert both.overruled("") is None


def test_an_emergency_or_safeguarding_phrase_is_never_overruled() -> None:
    both = ExemptionClassifier(PHRASES_ALONE.phrases, _settled())
    text = "gas leak on the sofa cushion by the telly"
    assert _settled().overrules(message_words(text)) is not None  # the model is sure
    found = both.explain(text)
    assert found is not None and found.exempt_class == "emergency_repair"
    assert both.overruled(text) is None
    # The shipped model finds these much like ordinary contact; the phrases stand.
    for text in ("the child next door is at risk", "the neighbours flat is on fire"):
        assert FULL.explain(text) is not None


def test_the_shipped_model_holds_ordinary_contact_a_complaint_phrase_matched() -> None:
    text = "councillor Jones is coming to the residents meeting on tuesday, what time is it"
    assert PHRASES_ALONE.explain(text) is not None  # 'councillor'
    assert FULL.explain(text) is None
    overruled = FULL.overruled(text)
    assert overruled is not None and overruled.match.exempt_class == "complaint"
    assert overruled.reader == "model"
    assert FULL.explain("I want to complain to my councillor about the repairs") is not None


def _second_look(limit: float = 0.9, classes: frozenset[str] = LOOKED_AGAIN) -> SecondLook:
    """'thanks', 'fixed' and 'sofa' weigh 4 each towards ordinary contact, 'now' 4
    towards exempt; the class a phrase found ('@emergency_repair') weighs nothing."""
    words = ("thanks\nfixed\nsofa\nnow", _weights([[0, 0, 0, 4], [4, 4, 4, 0]]))
    model = LinearModel(("exempt", "none"), (0.0, 0.0), words, ("", ""))
    return SecondLook(model, limit, classes)


def test_the_second_look_sets_a_match_aside_only_when_sure_enough() -> None:
    look = _second_look(0.9, frozenset({"emergency_repair"}))
    settled = ["thanks", "burst", "pipe", "fixed"]
    ordinary = look.model.probabilities(second_look_words("emergency_repair", settled))["none"]
    assert 0.9 <= ordinary < 0.999
    assert look.sets_aside("emergency_repair", settled) == ordinary
    assert _second_look(0.999).sets_aside("emergency_repair", settled) is None  # not so sure
    assert look.sets_aside("complaint", settled) is None  # not a class looked at again
    assert look.sets_aside("emergency_repair", ["burst", "pipe", "now", "help"]) is None
    # Only the lengths the models read.
    assert look.sets_aside("emergency_repair", ["thanks", "fixed", "sofa"]) is None
    assert look.sets_aside("emergency_repair", settled * 31) is None
    assert second_look_words("appeal", ["a", "b"]) == ["@appeal", "a", "b"]


def test_each_class_is_looked_at_again_at_its_own_limit() -> None:
    model = _second_look().model
    settled = ["thanks", "burst", "pipe", "fixed"]
    ordinary = model.probabilities(second_look_words("emergency_repair", settled))["none"]
    look = SecondLook(model, {"emergency_repair": 0.999, "appeal": 0.9})
    assert look.classes == {"emergency_repair", "appeal"}
    assert look.sets_aside("emergency_repair", settled) is None  # its limit is higher
    # ("@appeal" weighs nothing in this model, as "@emergency_repair" does not.)
    assert look.sets_aside("appeal", settled) == ordinary
    assert look.sets_aside("complaint", settled) is None  # no limit: not looked at again
    with pytest.raises(ValueError, match="no second-look limit for \\['complaint'\\]"):
        SecondLook(model, {"appeal": 0.9}, frozenset({"appeal", "complaint"}))
    # The shipped limits: one for every class looked at again, none for safeguarding.
    assert set(SECOND_LOOK) == LOOKED_AGAIN == default_second_look().classes
    assert all(0.5 < limit < 1 for limit in SECOND_LOOK.values())


def test_the_second_look_never_looks_again_at_a_safeguarding_concern() -> None:
    assert "safeguarding" not in LOOKED_AGAIN
    with pytest.raises(ValueError, match="no second look for \\['safeguarding'\\]"):
        _second_look(classes=frozenset({"safeguarding", "appeal"}))
    with pytest.raises(ValueError, match="no second look for \\['leak'\\]"):
        _second_look(classes=frozenset({"leak"}))


def test_a_match_set_aside_is_held_and_says_why_unless_it_names_a_danger() -> None:
    both = ExemptionClassifier(PHRASES_ALONE.phrases, _toy(), _second_look())
    text = "thanks, the burst pipe, the sofa"
    assert PHRASES_ALONE.classify(text) == "emergency_repair"
    assert both.explain(text) is None
    overruled = both.overruled(text)
    assert overruled is not None and overruled.match.exempt_class == "emergency_repair"
    assert overruled.ordinary >= 0.9 and overruled.reader == "second_look"
    # Gas, fire, smoke, sparks: a danger to life is never set aside.
    danger = "thanks, the gas smell, the sofa"
    found = both.explain(danger)
    assert found is not None and found.danger and found.exempt_class == "emergency_repair"
    assert both.overruled(danger) is None
    # Nor is a match the second look is not sure of.
    assert both.explain("the burst pipe is pouring water now") is not None
    # Nor one the first model, reading the message alone, would let through ("leak"
    # weighs towards an emergency there): two readers that disagree deliver.
    disputed = "the burst pipe leak, the sofa"
    words = message_words(disputed)
    assert both.second_look is not None
    assert both.second_look.sets_aside("emergency_repair", words) is not None
    assert _toy().judge(words) is not None
    found = both.explain(disputed)
    assert found is not None and found.reader == "phrase"
    assert both.overruled(disputed) is None


def test_the_shipped_second_look_holds_settled_matters_and_delivers_live_ones() -> None:
    settled = (
        "Thank you to the plumber who came on Monday about the burst pipe, he was lovely",
        "thank you for fixing the burst pipe so fast, the plumber was lovely",
    )
    for text in settled:  # not in the corpus
        assert PHRASES_ALONE.classify(text) == "emergency_repair"
        assert FULL.explain(text) is None
    for text in (
        "the pipe under the sink has burst and water is pouring everywhere",
        "front door lock hanging off cant secure the flat",
        "the neighbours flat is on fire",
        "the child next door is at risk",
        "I want a copy of all the notes you hold on me",
    ):
        assert FULL.explain(text) is not None


def test_a_match_set_aside_lets_the_next_class_be_read() -> None:
    # A repair read as settled; the complaint in the same message still gets through.
    both = ExemptionClassifier(
        PHRASES_ALONE.phrases, _toy(), _second_look(classes=frozenset({"emergency_repair"}))
    )
    text = "thanks, the burst pipe, the sofa. I am taking this to the ombudsman"
    assert PHRASES_ALONE.classify(text) == "emergency_repair"
    assert both.second_look is not None
    assert both.second_look.sets_aside("emergency_repair", message_words(text)) is not None
    found = both.explain(text)
    assert found is not None and found.exempt_class == "complaint" and found.reader == "phrase"
    # With nothing after it, the set-aside match is held, as before.
    assert both.explain("thanks, the burst pipe, the sofa") is None


def test_a_second_class_phrase_stands_whatever_the_models_find() -> None:
    # Both readers would hold the complaint alone: the second look is as sure of it as of
    # the repair, and the first model overrules it ('sofa', 'cushion', 'telly').
    both = ExemptionClassifier(PHRASES_ALONE.phrases, _settled(), _second_look())
    alone = "complaint, thanks, fixed, the sofa cushion and the telly"
    assert PHRASES_ALONE.classify(alone) == "complaint"
    assert both.explain(alone) is None
    overruled = both.overruled(alone)
    assert overruled is not None and overruled.match.exempt_class == "complaint"
    # With a repair phrase before it, set aside, the complaint is a second reading that
    # the message is exempt: it stands ("the new windows leak worse than the old ones
    # ... escalate it").
    text = "thanks, the burst pipe, the sofa cushion and the telly. a complaint"
    words = message_words(text)
    assert both.second_look is not None
    assert both.second_look.sets_aside("emergency_repair", words) is not None
    assert both.second_look.sets_aside("complaint", words) is not None
    assert _settled().overrules(words) is not None
    found = both.explain(text)
    assert found is not None and found.exempt_class == "complaint" and found.reader == "phrase"
    assert both.overruled(text) is not None  # the repair, the first match: set aside
