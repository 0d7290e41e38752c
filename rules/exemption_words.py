"""Forms of a word the classifier accepts: inflections, Welsh mutations, one slip.

A phrase is written once, in its plain form, and read in the forms tenants write it:

* English inflections: ``leak`` also reads ``leaks``, ``leaked``, ``leaking``, ``leaky``;
* Welsh initial mutations (soft, nasal, aspirate): ``trydan`` also reads ``drydan`` and
  ``nhrydan``, ``cwyn`` reads ``gwyn`` and ``nghwyn``, ``tan`` (tân) reads ``dan`` and
  ``than``; a mutated form that is also a common English word (``than``) is not taken;
* one slip of the finger in a word of six letters or more (a letter missing or added,
  or two swapped; the first letter kept): ``boilr``, ``elecricity``, ``celing``. Short
  words are not fuzzed, and a changed letter is not forgiven: ``flood`` and ``blood``,
  ``meeting`` and ``melting`` are different words.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

# Mutated forms that are ordinary English words, or common Welsh words of their own
# ("chi", you, is not a mutated "ci", dog), never taken as mutations.
_ENGLISH_COLLISIONS = frozenset(
    [
        "than",
        "then",
        "this",
        "that",
        "there",
        "thaw",
        "bin",
        "ban",
        "fan",
        "dan",
        "den",
        "do",
        "did",
        "dry",
        "me",
        "my",
        "mine",
        "no",
        "not",
        "on",
        "nor",
        "or",
        "go",
        "got",
        "get",
        "a",
        "i",
        "in",
        "an",
        "am",
        "as",
        "at",
        "be",
        "by",
        "he",
        "if",
        "is",
        "it",
        "of",
        "so",
        "to",
        "up",
        "us",
        "we",
        "ring",
        "rod",
        "ran",
        "mad",
        "mat",
        "dog",
        "chi",
        "gi",
    ]
)

_SOFT = (
    ("ll", "l"),
    ("rh", "r"),
    ("p", "b"),
    ("t", "d"),
    ("c", "g"),
    ("b", "f"),
    ("d", "dd"),
    ("g", ""),
    ("m", "f"),
)
_NASAL = (("p", "mh"), ("t", "nh"), ("c", "ngh"), ("b", "m"), ("d", "n"), ("g", "ng"))
_ASPIRATE = (("p", "ph"), ("t", "th"), ("c", "ch"))

FUZZY_MIN = 6  # letters a phrase word needs before one slip is forgiven


def inflections(word: str) -> set[str]:
    """``word`` and its regular English inflections (plural, past, -ing, -er)."""
    forms = {word}
    if len(word) < 3 or not word.isalpha():
        return forms
    stem = word[:-1] if word.endswith("e") else word
    forms |= {word + "s", stem + "ed", stem + "ing", stem + "er"}
    if word.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(word + "es")
    if word.endswith("y") and len(word) > 3:
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    last = word[-1]
    if (
        last not in "aeiouywx"
        and word[-2] in "aeiou"
        and (len(word) < 4 or word[-3] not in "aeiou")
    ):
        forms |= {word + last + "ing", word + last + "ed", word + last + "er"}
    return forms


def mutations(word: str) -> set[str]:
    """``word`` and its Welsh mutated forms, less any that are common English words."""
    forms = {word}
    for table in (_SOFT, _NASAL, _ASPIRATE):
        for start, becomes in table:
            if word.startswith(start):
                mutated = becomes + word[len(start) :]
                if len(mutated) >= 2 and mutated not in _ENGLISH_COLLISIONS:
                    forms.add(mutated)
                break
    return forms


def deletes(word: str) -> Iterable[str]:
    """``word`` with each one of its letters after the first left out."""
    return (word[:i] + word[i + 1 :] for i in range(1, len(word)))


def transposes(word: str) -> Iterable[str]:
    """``word`` with each pair of neighbouring letters after the first swapped."""
    return (word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(1, len(word) - 1))


@dataclass(frozen=True, slots=True)
class SlipIndex:
    """The phrase words that can be slipped on, and each of them less one letter."""

    words: frozenset[str]
    shortened: dict[str, frozenset[str]]


def slip_index(vocabulary: Iterable[str]) -> SlipIndex:
    """Every phrase word of at least FUZZY_MIN letters, and its deletes (see ``slips``)."""
    words = frozenset(w for w in vocabulary if len(w) >= FUZZY_MIN and w.isalpha())
    shortened: dict[str, set[str]] = {}
    for word in words:
        for shorter in deletes(word):
            shortened.setdefault(shorter, set()).add(word)
    shared: dict[frozenset[str], frozenset[str]] = {}  # one copy of each set of words
    return SlipIndex(
        words,
        {key: shared.setdefault(frozenset(f), frozenset(f)) for key, f in shortened.items()},
    )


def slips(token: str, index: SlipIndex, real_words: AbstractSet[str]) -> frozenset[str]:
    """The phrase words ``token`` is one slip from: a letter missing (``boilr``), one
    added (``boiller``) or two neighbours swapped (``boielr``), the first letter kept.

    A changed letter is not forgiven: it mostly turns one real word into another
    (``meeting`` and ``melting``, ``looked`` and ``locked``); nor is a token that is
    itself a word (``real_words``: ``treat`` is not a slip for ``threat``).
    """
    if len(token) < FUZZY_MIN - 1 or not token.isalpha() or token in real_words:
        return frozenset()
    found = set(index.shortened.get(token, ()))
    found.update(w for w in deletes(token) if w in index.words)
    found.update(w for w in transposes(token) if w in index.words)
    return frozenset(found)
