"""Exemptions: contact no restriction may stop (the first step of ``decide``).

Emergency repairs, safeguarding concerns, requests for one's own data, appeals against
a restriction and complaints must always get through. A restriction that held such a
message would put a person at risk or break the law, so the rule is "when in doubt,
deliver": a false exemption costs an officer a minute, a missed one could cost a life.

The classifier reads like a person in a hurry would (``rules.exemption_text``): the new
words of the message, case, accents and punctuation aside. It matches phrases
(``rules.exemption_patterns``), English and Welsh (``rules.exemption_lexicon``), in
their inflected and mutated forms and with one slip forgiven (``rules.exemption_words``).

False exemptions are cut only where recall does not suffer, and only for repairs, where
tenants most often mention a settled matter: a repair phrase does not count when the
word before it negates it ("no gas smell now") or when its clause says the matter is
over ("thanks for sorting the leak last year") without saying it is back ("again",
"still"). An appeal about a benefit (PIP, Universal Credit) is not an appeal against a
restriction, and a complaint about a neighbour is not a complaint about the landlord,
unless the message also speaks of the restriction or of the landlord's service.

Deterministic and offline: the same text always gets the same answer, with the words
and the phrase that decided it, so a reviewer sees why.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rules.exemption_lexicon import CLASS_ORDER, CONCEPTS, DEFAULT_PHRASES, SETTLED_PAIRS
from rules.exemption_patterns import Pattern, parse
from rules.exemption_real_words import REAL_WORDS
from rules.exemption_text import Tokens, tokens
from rules.exemption_words import SlipIndex, inflections, mutations, slip_index, slips

# Phrases per class and language: {class: {language: (phrase, ...)}}.
PhraseLists = Mapping[str, Mapping[str, Sequence[str]]]

_MEMO_LIMIT = 20_000  # words whose slips are remembered (bounded memory)


@dataclass(frozen=True, slots=True)
class ExemptionMatch:
    """Why a text is exempt: its class, the words that matched, and the phrase."""

    exempt_class: str
    words: str
    phrase: str

    def describe(self) -> str:
        return f"the words '{self.words}' (phrase '{self.phrase}')"


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    exact: dict[str, frozenset[str]]
    near: SlipIndex


@dataclass(frozen=True, slots=True)
class ExemptionClassifier:
    """Maps text to the first exemption class it belongs to (``CLASS_ORDER``), or None."""

    phrases: Mapping[str, Mapping[str, tuple[str, ...]]]
    _patterns: tuple[Pattern, ...] = field(init=False, repr=False, compare=False)
    _vocabulary: _Vocabulary = field(init=False, repr=False, compare=False)
    _filed: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _base: frozenset[str] = field(init=False, repr=False, compare=False)
    # Words with atoms (the phrase words' forms, and words met one slip from them),
    # and words met that have none.
    _memo: tuple[dict[str, frozenset[str]], set[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact: dict[str, set[str]] = {}
        base: set[str] = set()  # words as written (slips are forgiven on these only)
        for name, by_language in CONCEPTS.items():
            for language, words in by_language.items():
                for word in words:
                    _file(exact, word, "@" + name, language)
                    base.add(word)
        patterns = []
        for exempt_class in CLASS_ORDER:
            for language, texts in self.phrases.get(exempt_class, {}).items():
                for text in texts:
                    slots, gaps, near = parse(text, exempt_class, CONCEPTS)
                    atoms = []
                    for slot in slots:
                        atoms.append(frozenset(_atom(exact, piece, language) for piece in slot))
                        base.update(piece for piece in slot if not piece.startswith("@"))
                    patterns.append(Pattern(text, exempt_class, tuple(atoms), gaps, near))
        shared: dict[frozenset[str], frozenset[str]] = {}  # one copy of each set of atoms
        frozen = {word: shared.setdefault(frozenset(a), frozenset(a)) for word, a in exact.items()}
        vocabulary = _Vocabulary(frozen, slip_index(base))
        object.__setattr__(self, "_base", frozenset(base))
        object.__setattr__(self, "_patterns", tuple(patterns))
        filed: dict[str, list[int]] = {}
        for i, pattern in enumerate(patterns):
            for atom in pattern.slots[0]:
                filed.setdefault(atom, []).append(i)
        object.__setattr__(self, "_filed", {a: tuple(found) for a, found in filed.items()})
        object.__setattr__(self, "_vocabulary", vocabulary)
        object.__setattr__(self, "_memo", (dict(frozen), set()))

    @classmethod
    def build(cls, phrases: PhraseLists | None = None) -> ExemptionClassifier:
        """The classifier for ``phrases`` (the defaults when None); see
        ``rules.exemption_config`` for adding to and removing from the defaults."""
        source = DEFAULT_PHRASES if phrases is None else phrases
        return cls(
            {
                name: {lang: tuple(texts) for lang, texts in by_language.items()}
                for name, by_language in source.items()
            }
        )

    def vocabulary(self) -> frozenset[str]:
        """Every word form a phrase matches exactly."""
        return frozenset(self._vocabulary.exact)

    def base_words(self) -> frozenset[str]:
        """The words phrases and word lists are written with (slips are forgiven on these)."""
        return self._base

    def classify(self, text: str) -> str | None:
        """The exemption class of ``text``, or None when it is ordinary contact."""
        found = self.explain(text)
        return None if found is None else found.exempt_class

    def explain(self, text: str) -> ExemptionMatch | None:
        """The class of ``text`` with the words and phrase that decided it, or None.

        Work is put off until it is needed: which phrases could match is known from the
        distinct words alone, and only the words those phrases use are then placed.
        """
        if not text:
            return None
        read = tokens(text)
        hits = self._hits(set(read.every))
        if not hits:
            return None
        present = frozenset().union(*hits.values())
        filed = self._filed
        patterns = self._patterns
        candidates = [
            patterns[i]
            for i in sorted({i for atom in present for i in filed.get(atom, ())})
            if all(not slot.isdisjoint(present) for slot in patterns[i].slots)
        ]
        if not candidates:
            return None
        needed = set(_PLACED_CUES).union(*(slot for p in candidates for slot in p.slots))
        placed = {word: atoms for word, atoms in hits.items() if not atoms.isdisjoint(needed)}
        words = read.words
        where = _Where(words, placed)
        context = _Context(read, where, present)
        for pattern in candidates:
            for places in pattern.occurrences(where):
                if not context.discounted(pattern.exempt_class, places):
                    shown = _shown(words, places)
                    return ExemptionMatch(pattern.exempt_class, shown, pattern.text)
        return None

    def _hits(self, distinct: set[str]) -> dict[str, frozenset[str]]:
        """The atoms of each of ``distinct`` that has any: exact forms first, then one
        slip (remembered, for words not seen before; the memory is bounded)."""
        known, missed = self._memo
        distinct.difference_update(missed)
        unknown = distinct.difference(known)
        if unknown:
            vocabulary = self._vocabulary
            if len(known) + len(missed) + len(unknown) > len(vocabulary.exact) + _MEMO_LIMIT:
                known.clear()
                known.update(vocabulary.exact)
                missed.clear()
            for word in unknown:
                near = slips(word, vocabulary.near, REAL_WORDS)
                if near:
                    known[word] = frozenset().union(*(vocabulary.exact[w] for w in near))
                else:
                    missed.add(word)
                    distinct.discard(word)
        return {word: known[word] for word in distinct}


# Cues whose places (not just presence) a discount looks at.
_PLACED_CUES = (
    "@negator",
    "@settled",
    "@live_now",
    "@next_door",
    "@fire_compound",
    "@other_appeal",
    "@restriction",
    "@amend",
    "@copy",
)
_APPEAL_REACH = 16


def _file(exact: dict[str, set[str]], word: str, atom: str, language: str) -> None:
    forms = mutations(word) if language == "cy" else inflections(word)
    if language == "cy":
        forms |= inflections(word) if word.isascii() and len(word) > 5 else set()
    for form in forms:
        exact.setdefault(form, set()).add(atom)


def _atom(exact: dict[str, set[str]], piece: str, language: str) -> str:
    if piece.startswith("@"):
        return piece
    atom = "=" + piece
    _file(exact, piece, atom, language)
    return atom


def _shown(words: Sequence[str], places: tuple[int, ...]) -> str:
    ordered = sorted(places)
    out = [words[ordered[0]]]
    for before, place in itertools.pairwise(ordered):
        out.append(("… " if place - before > 1 else "") + words[place])
    return " ".join(out)


class _Where:
    """Where each atom lies in the words: worked out per atom when first asked for."""

    __slots__ = ("_by_atom", "_by_word", "_found")

    def __init__(self, words: Sequence[str], placed: Mapping[str, frozenset[str]]) -> None:
        by_word: dict[str, list[int]] = {word: [] for word in placed}
        chosen = itertools.compress(range(len(words)), map(placed.__contains__, words))
        for position in chosen:
            by_word[words[position]].append(position)
        by_atom: dict[str, list[str]] = {}
        for word, atoms in placed.items():
            for atom in atoms:
                by_atom.setdefault(atom, []).append(word)
        self._by_word = by_word
        self._by_atom = by_atom
        self._found: dict[str, list[int]] = {}

    def get(self, atom: str) -> Sequence[int]:
        """Where ``atom`` lies, in order (empty when it is nowhere)."""
        found = self._found.get(atom)
        if found is None:
            owners = self._by_atom.get(atom, ())
            if len(owners) == 1:
                found = self._by_word[owners[0]]
            else:
                found = sorted(p for word in owners for p in self._by_word[word])
            self._found[atom] = found
        return found


class _Context:
    """What around a match may discount it (see the module docstring)."""

    __slots__ = ("_read", "present", "where")

    def __init__(self, read: Tokens, where: _Where, present: frozenset[str]) -> None:
        self._read = read
        self.where = where
        self.present = present

    def _in_clauses(self, cue: str, places: tuple[int, ...]) -> bool:
        """Whether the cue is in a clause any of ``places`` is in."""
        spans = self._spans(places)
        return any(a <= p < b for p in self.where.get("@" + cue) for a, b in spans)

    def _settled_pair(self, places: tuple[int, ...]) -> bool:
        """Whether a clause of ``places`` says the matter is over in two words."""
        words = self._read.words
        return any(
            pair in SETTLED_PAIRS
            for a, b in self._spans(places)
            for pair in itertools.pairwise(words[a:b])
        )

    def _spans(self, places: tuple[int, ...]) -> list[tuple[int, int]]:
        return [self._read.clause(p) for p in places]

    def _near_any(self, cue: str, places: tuple[int, ...], reach: int) -> bool:
        return any(abs(c - p) <= reach for c in self.where.get("@" + cue) for p in places)

    def discounted(self, exempt_class: str, places: tuple[int, ...]) -> bool:
        if exempt_class == "emergency_repair":
            first = min(places)
            if first >= 1 and first - 1 in self.where.get("@negator"):
                return True
            fire = self.where.get("@fire")
            compound = self.where.get("@fire_compound")
            if any(p in fire and (p + 1 in compound or p - 1 in compound) for p in places):
                return True
            settled = self._in_clauses("settled", places) or self._settled_pair(places)
            return settled and not self._in_clauses("live_now", places)
        if exempt_class == "appeal":
            # An appeal about a benefit or a parking ticket, unless the restriction is
            # mentioned with it.
            near = self._near_any("other_appeal", places, _APPEAL_REACH)
            return near and not self._near_any("restriction", places, _APPEAL_REACH)
        if exempt_class == "subject_access_request":
            # "Please update my details" is not a request for them.
            return self._in_clauses("amend", places) and not self._in_clauses("copy", places)
        if exempt_class == "complaint":
            return (
                self._in_clauses("next_door", places)
                and "@landlord" not in self.present
                and "@escalation" not in self.present
            )
        return False
