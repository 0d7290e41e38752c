"""Exemptions: contact no restriction may stop (SPEC §4 step 1).

Emergency repairs, gas or water leaks, loss of heating or hot water, safeguarding and
subject access requests are statutory or contractual duties. A restriction that held
such a message would put a person at risk or break the law, so the classifier is
deliberately generous: a false positive costs an officer a minute; a false negative
could cost a life. Matching is on whole words after folding case and punctuation, so
"GAS LEAK!!!" and "gas-leak" both match "gas leak".
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_PHRASES: Mapping[str, tuple[str, ...]] = {
    "emergency_repair": (
        "emergency",
        "urgent repair",
        "emergency repair",
        "flood",
        "flooding",
        "flooded",
        "burst pipe",
        "sewage",
        "fire",
        "smoke",
        "sparks",
        "sparking",
        "electric shock",
        "no electricity",
        "no power",
        "power cut",
        "exposed wires",
        "ceiling collapse",
        "ceiling collapsed",
        "cannot lock",
        "can't lock",
        "cant lock",
        "door will not lock",
        "broken in",
        "break in",
        "insecure",
        "carbon monoxide",
        "co alarm",
    ),
    "gas_or_water_leak": (
        "gas leak",
        "smell of gas",
        "smell gas",
        "smells of gas",
        "gas smell",
        "leak",
        "leaking",
        "water leak",
        "water coming through",
        "water pouring",
    ),
    "no_heating_or_hot_water": (
        "no heating",
        "no heat",
        "heating not working",
        "heating broken",
        "boiler broken",
        "boiler not working",
        "no hot water",
        "hot water not working",
        "no water",
    ),
    "safeguarding": (
        "safeguarding",
        "in danger",
        "at risk",
        "abuse",
        "abused",
        "being hurt",
        "hurt me",
        "hit me",
        "violence",
        "violent",
        "domestic abuse",
        "self harm",
        "suicide",
        "suicidal",
        "kill myself",
        "end my life",
        "threatened",
        "threatening me",
        "child at risk",
        "neglect",
        "vulnerable adult",
    ),
    "subject_access_request": (
        "subject access",
        "subject access request",
        "sar",
        "dsar",
        "data protection act",
        "gdpr",
        "my personal data",
        "my data",
        "information you hold",
        "information held about me",
        "data you hold",
        "copy of my records",
        "copy of my file",
        "freedom of information",
    ),
}

_WORD = re.compile(r"\w+")
# For ASCII text: every byte that is not a word character (``\w``) becomes a space.
_ASCII_WORD_BYTES = frozenset((string.ascii_letters + string.digits + "_").encode())
_ASCII_SPACES = bytes(b if b in _ASCII_WORD_BYTES else 0x20 for b in range(256))


def words(text: str) -> list[str]:
    r"""The words of ``text``, case-folded, apostrophes dropped ("it's" is "its").

    Words are runs of ``\w``. ASCII text (most mail) takes a path three times faster
    with the same result: bytes that are not word characters become spaces, then split.
    """
    text = text.casefold().replace("'", "")
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_SPACES).decode("ascii").split()
    return _WORD.findall(text)


def fold(text: str) -> str:
    """Case- and punctuation-insensitive form, padded so phrases match whole words."""
    return " " + " ".join(words(text)) + " "


@dataclass(frozen=True, slots=True)
class ExemptionClassifier:
    """Maps text to the first exemption class it belongs to, or None.

    Classes are tried in a fixed order (safeguarding first: when a message is both a
    repair and a safeguarding matter, the safeguarding label is the one that must be
    seen), so the answer is deterministic.
    """

    phrases: tuple[tuple[str, tuple[str, ...]], ...]
    # Each phrase filed under its first word, with its rank (class order, then phrase
    # order) and all its words: a phrase can only occur in a text that has all its words,
    # so only the phrases filed under the text's own words are tried, a dict lookup per
    # distinct word (a long email usually tries none).
    _by_first_word: dict[str, tuple[tuple[int, str, str, tuple[str, ...]], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        filed: dict[str, list[tuple[int, str, str, tuple[str, ...]]]] = {}
        rank = 0
        for name, folded in self.phrases:
            for phrase in folded:
                needed = tuple(phrase.split())
                filed.setdefault(needed[0], []).append((rank, name, phrase, needed))
                rank += 1
        object.__setattr__(
            self, "_by_first_word", {word: tuple(found) for word, found in filed.items()}
        )

    @classmethod
    def build(cls, phrases: Mapping[str, Sequence[str]] | None = None) -> ExemptionClassifier:
        """Build from configured phrase lists (defaults when None); empty phrases are ignored."""
        source = DEFAULT_PHRASES if phrases is None else phrases
        order = sorted(source, key=lambda name: (name != "safeguarding", name))
        compiled = []
        for name in order:
            folded = tuple(dict.fromkeys(f for p in source[name] if (f := fold(p)).strip()))
            if folded:
                compiled.append((name, folded))
        return cls(tuple(compiled))

    def classify(self, text: str) -> str | None:
        """The exemption class of ``text``, or None when it is ordinary contact."""
        if not text:
            return None
        found = words(text)
        present = set(found)
        by_first_word = self._by_first_word
        tried = [
            candidate
            for word in present
            if (filed := by_first_word.get(word)) is not None
            for candidate in filed
        ]
        if not tried:
            return None
        tried.sort()
        folded = " " + " ".join(found) + " "
        for _, name, phrase, needed in tried:
            if all(word in present for word in needed) and phrase in folded:
                return name
        return None
