"""Long letters: a phrase is found wherever it is in one, and read as it is alone.

A long email is read with less work per word than a short one (``rules.exemptions``
puts off placing words until a class needs them; ``rules.exemption_text`` folds only
the characters that are not ASCII), so these check that nothing is missed at the very
start or end of a letter, across a line break, in Welsh, or through a slip.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import exemption_model, exemption_text
from rules.exemption_text import new_text, plain, tokens
from rules.exemptions import ExemptionClassifier

DEFAULT = ExemptionClassifier.build(model=False)

# Ordinary contact, about 20 KB of it, with a pound sign and curly apostrophes (the
# characters that are folded to ASCII) in every sentence.
SENTENCE = (
    "I paid £40 towards the rent statement for this month and I’d like to know when "
    "the bins are collected, my neighbour’s asking too. "
)
FILLER = SENTENCE * (20_000 // len(SENTENCE))

MESSAGES = [
    "There's a really strong smell of gas in the kitchen",
    "gas leak",
    "smell of\n\ngas",  # across a line break
    "Mae nwy yn gollwng yn y gegin",
    "dim dŵr poeth o gwbl",  # Welsh with its accent
    "ma’r gwifrau’n hongian allan o’r wal",  # Welsh 'r and 'n written onto the word
    "dwi di bod yn meddwl am ladd fy hun",  # a mutation: lladd
    "elecricity gone in the whole flat",  # a slip
    "send me everything you hold about me",
    "I want to challenge the decision restricting my contact",
    "Dwi am wneud cwyn ffurfiol",
    "no gas smell at all",  # discounted, alone and in a letter
]


def test_the_filler_is_ordinary_contact() -> None:
    assert len(FILLER) > 19_000
    assert DEFAULT.explain(FILLER) is None


@pytest.mark.parametrize("message", MESSAGES)
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_phrase_is_found_anywhere_in_a_long_letter(message: str, where: str) -> None:
    """The very first and very last words of a letter are within reach like any other."""
    half = len(FILLER) // 2 // len(SENTENCE) * len(SENTENCE)
    text = {
        "start": f"{message}\n{FILLER}",
        "middle": f"{FILLER[:half]}\n{message}\n{FILLER[half:]}",
        "end": f"{FILLER}\n{message}",
    }[where]
    alone = DEFAULT.explain(message)
    assert (message == "no gas smell at all") == (alone is None)
    assert DEFAULT.explain(text) == alone


def test_the_first_class_wins_wherever_its_phrase_is() -> None:
    """Safeguarding at the end of a letter comes before a repair at its start."""
    text = f"the boiler is broken\n{FILLER}\nhe hit me last night"
    found = DEFAULT.explain(text)
    assert found is not None and found.exempt_class == "safeguarding"


def test_a_long_reply_is_read_without_its_quoted_part() -> None:
    quoted = "\n".join(f"> {line}" for line in ["There is a gas leak procedure.", FILLER])
    text = f"{FILLER}\n\nOn Tue, 3 Mar 2026, Housing Team wrote:\n{quoted}"
    assert DEFAULT.explain(text) is None
    assert DEFAULT.explain(f"{FILLER}\ngas leak\nOn Tue, Housing wrote:\n{quoted}") == (
        DEFAULT.explain("gas leak")
    )


def test_a_slip_remembered_from_an_earlier_text_is_read_when_the_memory_is_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The memory is cleared by a text with many new words; a slip it remembered that
    the same text holds still counts (this raised KeyError once)."""
    classifier = ExemptionClassifier.build(model=False)
    assert classifier.classify("the elecricity has gone") == "emergency_repair"
    monkeypatch.setattr("rules.exemptions._MEMO_LIMIT", 2)
    found = classifier.explain("elecricity gone zzzzzz yyyyyy xxxxxx")
    assert found == DEFAULT.explain("elecricity gone")
    seen, slipped = classifier._memo
    assert slipped == {}  # cleared, then only the new words remembered
    assert set(seen) - classifier.vocabulary() == {"zzzzzz", "yyyyyy", "xxxxxx"}


def test_the_model_reads_a_message_of_up_to_max_words_not_counting_sentence_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Long letters are not copied for the model; a message whose sentence ends take it
    over the limit is still read by it."""
    read: list[int] = []
    judge = exemption_model.LinearModel.judge

    def counting(self: exemption_model.LinearModel, words: list[str]) -> object:
        read.append(len(words))
        return judge(self, words)

    monkeypatch.setattr(exemption_model.LinearModel, "judge", counting)
    classifier = ExemptionClassifier.build()
    limit = exemption_model.MAX_WORDS
    short = "ok. " * limit  # as many words as the model reads, and as many sentence ends
    assert len(tokens(short).words) == 2 * limit
    classifier.explain(short)
    assert read == [limit]
    classifier.explain(short + "ok")  # one word too many
    classifier.explain(FILLER)
    assert read == [limit]


def _plain_by_definition(text: str) -> str:
    """``plain`` as its docstring defines it: the whole text normalized, then each
    apostrophe dropped, or made a space before Welsh 'n and 'r."""
    for curly in "’‘ʼ":
        text = text.replace(curly, "'")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"'(?=[nr][ ,.\n])", " ", text.lower()).replace("'", "")


TRICKY = "’‘ʼ'nr ,.\nŵâÂİßﬁ½…Ａ\u0302\u0301\u0327eEŴ|;!?£\u00a0\u2028ǅ\ud800"


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from(TRICKY) | st.characters(exclude_categories=()), max_size=60))
def test_plain_folds_only_the_characters_it_must(text: str) -> None:
    assert plain(text) == _plain_by_definition(text)
    assert plain(text * 50) == _plain_by_definition(text * 50)


def test_the_ascii_fold_is_for_encoding_only() -> None:
    with pytest.raises(UnicodeDecodeError):
        b"caf\xe9".decode("ascii", exemption_text._FOLD)


def test_only_a_mark_as_sent_starts_a_quoted_part() -> None:
    """Marks are looked for in the text made plain, where a full-width sign has become
    ">": the text as sent decides, and there it is no quotation."""
    assert DEFAULT.classify("thanks\n> gas leak in the kitchen") is None  # quoted
    assert DEFAULT.classify("thanks\n＞ gas leak in the kitchen") == "emergency_repair"
    assert tokens("FROM: me\ngas leak").words == ["from", "me", "|", "gas", "leak"]


def test_new_text_drops_a_reply_subject_and_the_quoted_part() -> None:
    assert new_text("Re: boiler\nthanks\nOn Tue, Housing wrote:\n> gas leak") == "thanks\n"
    assert new_text("Re: boiler\n\n") == "Re: boiler\n\n"  # nothing after the subject
    assert new_text("> all of it quoted") == "> all of it quoted"
