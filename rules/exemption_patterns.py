"""Phrases as the classifier matches them: a small, documented pattern language.

A phrase is a line of words, written as a person would ("no hot water", "smell of
gas"). Beyond plain words it may use:

* ``{concept}``: any word of a named list (``{gas}`` is gas, gass, nwy...);
* ``a|b``: either word in that place;
* ``..`` between two words: up to three other words may come between them;
* ``~`` between words: all of them within eight words of each other, in any order;
  ``~~``: within sixteen.

Every word is read in its inflected and mutated forms and with one slip forgiven
(``rules.exemption_words``). Words that carry no meaning (``rules.exemption_text``'s
stop words) are dropped from phrases as from texts, so a phrase reads as it is written.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Protocol

from rules.exemption_text import STOPWORDS, plain

GAP_ADJACENT = 1
GAP_NEAR = 4  # ".." : up to three words between
NEAR_WINDOW = 8  # "~" : all within eight words
WIDE_WINDOW = 16  # "~~"


# Anything but letters, digits and the pattern marks separates words, as in a text.
_PUNCTUATION = re.compile(r"(?:[^a-z0-9{}|~._]|(?<!\.)\.(?!\.)|_(?![a-z0-9_]*}))+")


class Places(Protocol):
    """Where a slot's words lie in a text (positions in order; empty where none is)."""

    def of(self, slot: frozenset[str]) -> Sequence[int]: ...


class PhraseError(ValueError):
    """A phrase that cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled phrase: its slots (each a set of atoms) and how they must lie."""

    text: str
    exempt_class: str
    slots: tuple[frozenset[str], ...]
    gaps: tuple[int, ...]  # between consecutive slots, for ordered phrases
    near: int  # for "~" and "~~": any order, within this many words (0: ordered)
    anchor: int = 0  # the slot the phrase is looked for around (its rarest)
    # How many words before and after the anchor the other slots may lie (worked out
    # once: a long letter tries a phrase around every place of its anchor).
    reach: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.near:
            reach = (self.near - 1, self.near - 1)
        else:
            reach = (sum(self.gaps[: self.anchor]), sum(self.gaps[self.anchor :]))
        object.__setattr__(self, "reach", reach)

    def occurrences_around(
        self,
        anchors: Places,
        words: Sequence[str],
        words_of: Mapping[frozenset[str], AbstractSet[str]],
    ) -> Iterator[tuple[int, ...]]:
        """Occurrences found around each place of the anchor slot: the other slots are
        looked for only in the words within reach of it (``words_of[slot]``: the words
        that can fill a slot)."""
        starts = anchors.of(self.slots[self.anchor])
        if not starts:
            return
        before, after = self.reach
        fillers = [words_of[slot] for slot in self.slots]
        others = fillers[: self.anchor] + fillers[self.anchor + 1 :]
        for start in starts:
            low = start - before if start > before else 0
            near = words[low : start + after + 1]
            for fill in others:
                if fill.isdisjoint(near):
                    break  # (most places: a word of the phrase is not within reach)
            else:
                found = self._first(start, low, near, fillers)
                if found is not None:
                    yield found

    def _first(
        self, start: int, low: int, near: Sequence[str], fillers: list[AbstractSet[str]]
    ) -> tuple[int, ...] | None:
        """The first occurrence around ``start`` (``near``: the words within reach of it,
        from ``low``), or None."""
        places = [
            [start]
            if i == self.anchor
            else [low + k for k, word in enumerate(near) if word in fill]
            for i, fill in enumerate(fillers)
        ]
        if self.near:
            return next(_near(places, self.near), None)
        return next(
            (d for f in places[0] if (d := _ordered(places, self.gaps, f)) is not None),
            None,
        )


def _ordered(places: list[list[int]], gaps: tuple[int, ...], first: int) -> tuple[int, ...] | None:
    def extend(chosen: tuple[int, ...]) -> tuple[int, ...] | None:
        if len(chosen) == len(places):
            return chosen
        options = places[len(chosen)]
        last = chosen[-1]
        start = bisect.bisect_right(options, last)
        for position in options[start:]:
            if position - last > gaps[len(chosen) - 1]:
                break
            done = extend((*chosen, position))
            if done is not None:
                return done
        return None

    return extend((first,))


def _near(places: list[list[int]], window: int) -> Iterator[tuple[int, ...]]:
    """Each window of ``window`` words holding a place of every slot, from its start."""
    for start in sorted({p for found in places for p in found}):
        chosen = []
        for found in places:
            i = bisect.bisect_left(found, start)
            if i == len(found) or found[i] >= start + window:
                break
            chosen.append(found[i])
        else:
            yield tuple(chosen)


def parse(
    text: str, exempt_class: str, concepts: Mapping[str, object]
) -> tuple[tuple[tuple[str, ...], ...], tuple[int, ...], int]:
    """A phrase's slots (each the concept names or plain words that may fill it), the
    gaps between them, and whether it is order-free. Raises PhraseError."""
    near = WIDE_WINDOW if "~~" in text else NEAR_WINDOW if "~" in text else 0
    if near and ".." in text:
        raise PhraseError(f"'{text}' mixes '~' and '..': use one or the other")
    spaced = plain(text).replace("..", " .. ").replace("~~", "~").replace("~", " ~ ")
    pieces = _PUNCTUATION.sub(" ", spaced).split()
    slots: list[tuple[str, ...]] = []
    gaps: list[int] = []
    gap = GAP_ADJACENT
    for piece in pieces:
        if piece in ("~", ".."):
            if not slots:
                raise PhraseError(f"'{text}' starts with '{piece}'")
            gap = GAP_NEAR
            continue
        choices = tuple(_choice(c, text, concepts) for c in piece.split("|"))
        words = tuple(c for c in choices if c)
        if not words:
            continue
        if slots:
            gaps.append(gap)
        slots.append(words)
        gap = GAP_ADJACENT
    if not slots:
        raise PhraseError(f"'{text}' has no words to match")
    if pieces[-1] in ("~", ".."):
        raise PhraseError(f"'{text}' ends with '{pieces[-1]}'")
    return tuple(slots), tuple(gaps), near


def _choice(piece: str, text: str, concepts: Mapping[str, object]) -> str:
    if piece.startswith("{") or piece.endswith("}"):
        name = piece.strip("{}")
        if not (piece.startswith("{") and piece.endswith("}")) or name not in concepts:
            known = ", ".join(sorted(concepts))
            raise PhraseError(f"'{text}': {piece} is not a known word list (known: {known})")
        return "@" + name
    return "" if piece in STOPWORDS else piece
