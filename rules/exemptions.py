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
over ("thanks for sorting the leak last year", or after a "but": "it was broken this
morning but its working again now") without saying it is back ("again", "still"). An
appeal the tenant says they will not make ("I'm not going to appeal") is not one. An
appeal about a benefit (PIP, Universal Credit) is not an appeal against a
restriction, and a complaint about a neighbour is not a complaint about the landlord,
unless the message also speaks of the restriction or of the landlord's service.

A short message no phrase matches is then read by the trained model
(``rules.exemption_model``), which finds what phrasings no list foresaw, unless a phrase
of the class it finds was found and discounted (the phrases read that matter closer).
The model never overrules a phrase that was found: when in doubt, deliver.

Deterministic and offline: the same text always gets the same answer, with the words
and the phrase (or the model's weightiest words) that decided it, so a reviewer sees why.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from rules.exemption_lexicon import (
    CLASS_ORDER,
    COMMON_WORDS,
    CONCEPTS,
    DEFAULT_PHRASES,
    GENERIC_RISK,
    SETTLED_PAIRS,
)
from rules.exemption_model import LinearModel, default_model
from rules.exemption_patterns import Pattern, parse
from rules.exemption_real_words import REAL_WORDS
from rules.exemption_text import BREAK, CLAUSE_WORDS, Tokens, tokens
from rules.exemption_words import SlipIndex, inflections, mutations, slip_index, slips

# Phrases per class and language: {class: {language: (phrase, ...)}}.
PhraseLists = Mapping[str, Mapping[str, Sequence[str]]]

_MEMO_LIMIT = 20_000  # words whose slips are remembered (bounded memory)
# Short texts (a text message, a subject line) are answered again from memory: a
# retried webhook, a message replayed from the spool, the same text sent twice.
_SHORT = 280
_ANSWERS_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class ExemptionMatch:
    """Why a text is exempt: its class, the words that matched, and the phrase."""

    exempt_class: str
    words: str
    phrase: str  # the phrase; for the model, how likely it found the text exempt
    reader: str = "phrase"  # "phrase", or "model" (rules.exemption_model)

    def describe(self) -> str:
        if self.reader == "model":
            return f"the words '{self.words}' (the trained model: {self.phrase})"
        return f"the words '{self.words}' (phrase '{self.phrase}')"


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    exact: dict[str, frozenset[str]]
    near: SlipIndex


@dataclass(frozen=True, slots=True)
class ExemptionClassifier:
    """Maps text to the first exemption class it belongs to (``CLASS_ORDER``), or None."""

    phrases: Mapping[str, Mapping[str, tuple[str, ...]]]
    # The second reader, for short messages no phrase matches (None: phrases alone).
    model: LinearModel | None = field(default=None, compare=False)
    _patterns: tuple[Pattern, ...] = field(init=False, repr=False, compare=False)
    _vocabulary: _Vocabulary = field(init=False, repr=False, compare=False)
    _filed: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _base: frozenset[str] = field(init=False, repr=False, compare=False)
    _fillers: dict[frozenset[str], frozenset[str]] = field(init=False, repr=False, compare=False)
    # Per class, every form that fills the anchor slot of one of its phrases.
    _anchor_forms: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    # Words met that are one slip from a phrase word (with its atoms), and words met
    # that have none.
    _memo: tuple[dict[str, frozenset[str]], set[str]] = field(init=False, repr=False, compare=False)
    _answers: dict[str, ExemptionMatch | None] = field(init=False, repr=False, compare=False)

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
                    patterns.append(
                        Pattern(text, exempt_class, tuple(atoms), gaps, near, _anchor(atoms, exact))
                    )
        shared: dict[frozenset[str], frozenset[str]] = {}  # one copy of each set of atoms
        frozen = {word: shared.setdefault(frozenset(a), frozenset(a)) for word, a in exact.items()}
        vocabulary = _Vocabulary(frozen, slip_index(base))
        object.__setattr__(self, "_base", frozenset(base))
        fillers = _slot_fillers(patterns, frozen)
        object.__setattr__(self, "_fillers", fillers)
        anchor_forms: dict[str, set[str]] = {}
        for pattern in patterns:
            anchor_forms.setdefault(pattern.exempt_class, set()).update(
                fillers[pattern.slots[pattern.anchor]]
            )
        object.__setattr__(
            self, "_anchor_forms", {name: frozenset(f) for name, f in anchor_forms.items()}
        )
        object.__setattr__(self, "_patterns", tuple(patterns))
        filed: dict[str, list[int]] = {}
        for i, pattern in enumerate(patterns):
            # Filed under its anchor's atoms (the rarest): a text holds few of them.
            for atom in pattern.slots[pattern.anchor]:
                filed.setdefault(atom, []).append(i)
        object.__setattr__(self, "_filed", {a: tuple(found) for a, found in filed.items()})
        object.__setattr__(self, "_vocabulary", vocabulary)
        object.__setattr__(self, "_memo", ({}, set()))
        object.__setattr__(self, "_answers", {})

    @classmethod
    def build(
        cls, phrases: PhraseLists | None = None, *, model: bool = True
    ) -> ExemptionClassifier:
        """The classifier for ``phrases`` (the defaults when None; see
        ``rules.exemption_config`` for adding to and removing from them), with the
        trained model as its second reader unless ``model`` is False."""
        source = DEFAULT_PHRASES if phrases is None else phrases
        return cls(
            {
                name: {lang: tuple(texts) for lang, texts in by_language.items()}
                for name, by_language in source.items()
            },
            default_model() if model else None,
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
        short = len(text) <= _SHORT
        if short:
            remembered = self._answers
            if text in remembered:
                return remembered[text]
            if len(remembered) >= _ANSWERS_LIMIT:
                remembered.clear()
            found = remembered[text] = self._explain(text)
            return found
        return self._explain(text)

    def _explain(self, text: str) -> ExemptionMatch | None:
        read = tokens(text)
        discounted: set[str] = set()
        found = self._by_phrase(read, discounted)
        if self.model is None:
            return found
        if found is not None:
            return found
        verdict = self.model.judge([w for w in read.words if w != BREAK])
        # A phrase of the model's class was found and discounted ("no gas smell now"):
        # the phrases have read that matter closer than a bag of words can.
        if verdict is None or verdict.exempt_class in discounted:
            return None
        return ExemptionMatch(
            verdict.exempt_class,
            " … ".join(verdict.words),
            f"{1 - verdict.ordinary:.0%} likely not ordinary contact",
            "model",
        )

    def _by_phrase(self, read: Tokens, discounted: set[str]) -> ExemptionMatch | None:
        """The first phrase found and not discounted; the classes of phrases found but
        discounted are added to ``discounted``."""
        hits = self._hits(set(read.words))
        if not hits:
            return None
        present = frozenset().union(*hits.values())
        candidates = self._candidates(present)
        if not candidates:
            return None
        return self._match(read, hits, present, candidates, discounted)

    def _candidates(self, present: frozenset[str]) -> list[Pattern]:
        """The phrases all of whose slots have a word in the text, in class order."""
        filed = self._filed
        patterns = self._patterns
        return [
            patterns[i]
            for i in sorted({i for atom in present for i in filed.get(atom, ())})
            if not any(map(present.isdisjoint, patterns[i].slots))
        ]

    def _match(
        self,
        read: Tokens,
        hits: dict[str, frozenset[str]],
        present: frozenset[str],
        candidates: list[Pattern],
        discounted: set[str],
    ) -> ExemptionMatch | None:
        """The first candidate found in the text and not discounted, class by class."""
        words = read.words
        anchors = _Where(words, hits)
        exact = self._vocabulary.exact
        slipped = {word: atoms for word, atoms in hits.items() if word not in exact}
        filling: dict[frozenset[str], AbstractSet[str]] = {}
        fillers = self._fillers

        def words_of(slot: frozenset[str]) -> AbstractSet[str]:
            """The words that can fill ``slot``: its forms, and this text's slips."""
            if not slipped:
                return fillers[slot]
            found = filling.get(slot)
            if found is None:
                extra = {w for w, a in slipped.items() if not a.isdisjoint(slot)}
                found = filling[slot] = fillers[slot] | extra if extra else fillers[slot]
            return found

        context = _Context(read, hits, present)
        for _, group in itertools.groupby(candidates, key=_class_of):
            # Only the anchor words (each phrase's rarest) of this class's phrases are
            # placed, class by class; the rest of a phrase is looked for around them.
            mine = list(group)
            # (A frozenset's intersection walks the smaller side; a dict view's does not.)
            wanted = self._anchor_forms[mine[0].exempt_class].intersection(hits)
            if slipped:
                atoms = set().union(*(p.slots[p.anchor] for p in mine))
                wanted = wanted.union(w for w, a in slipped.items() if not a.isdisjoint(atoms))
            anchors.place(wanted)
            for pattern in mine:
                for places in pattern.occurrences_around(anchors, words, words_of):
                    if not context.discounted(pattern, places):
                        shown = _shown(words, places)
                        return ExemptionMatch(pattern.exempt_class, shown, pattern.text)
                    discounted.add(pattern.exempt_class)
        return None

    def _hits(self, distinct: set[str]) -> dict[str, frozenset[str]]:
        """The atoms of each of ``distinct`` that has any: exact forms first, then one
        slip (remembered, for words not seen before; the memory is bounded)."""
        slipped, missed = self._memo
        exact = self._vocabulary.exact
        distinct = distinct - missed  # (a new set: removing in place walks all of ``missed``)
        unknown = distinct.difference(exact, slipped)
        if unknown:
            if len(slipped) + len(missed) + len(unknown) > _MEMO_LIMIT:
                slipped.clear()
                missed.clear()
            near_index = self._vocabulary.near
            for word in unknown:
                near = slips(word, near_index, REAL_WORDS)
                if near:
                    slipped[word] = frozenset().union(*(exact[w] for w in near))
                else:
                    missed.add(word)
                    distinct.discard(word)
        # (Iterating the text's few words: a set's intersection with a dict walks the dict.)
        return {word: exact.get(word) or slipped[word] for word in distinct}


_NONE: frozenset[str] = frozenset()
_APPEAL_REACH = 16
_PAIR_WORDS = frozenset(word for pair in SETTLED_PAIRS for word in pair)
_I_AM = frozenset({"dwi", "dw"})  # "dwi ddim yn apelio": I am not appealing ("am" is dropped)
_FINE_BEFORE = frozenset({"yn", "n"})  # "mae'n iawn": fine; "cryf iawn": very strong


def _class_of(pattern: Pattern) -> str:
    return pattern.exempt_class


def _slot_fillers(
    patterns: Sequence[Pattern], vocabulary: Mapping[str, frozenset[str]]
) -> dict[frozenset[str], frozenset[str]]:
    """Every form that can fill each slot of a phrase (slots are shared, and so are
    these sets), to look for a phrase's other words around its anchor."""
    by_atom: dict[str, set[str]] = {}
    for word, atoms in vocabulary.items():
        for atom in atoms:
            by_atom.setdefault(atom, set()).add(word)
    fillers: dict[frozenset[str], frozenset[str]] = {}
    for pattern in patterns:
        for slot in pattern.slots:
            if slot not in fillers:
                fillers[slot] = frozenset().union(*(by_atom.get(a, ()) for a in slot))
    return fillers


def _anchor(slots: list[frozenset[str]], exact: Mapping[str, set[str]]) -> int:
    """The slot a phrase is looked for around: the one least likely to be everywhere
    (fewest very common words among its forms), then the one with the fewest forms."""

    def weight(slot: frozenset[str]) -> tuple[int, int]:
        common = sum(1 for word in COMMON_WORDS if not slot.isdisjoint(exact.get(word, ())))
        return (common, len(slot))

    return min(range(len(slots)), key=lambda i: weight(slots[i]))


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
    """Where anchor words lie in the text. Words are placed in batches, when the phrases
    being tried need them (``place``); a slot's places are merged when first asked for."""

    __slots__ = ("_by_atom", "_by_word", "_found", "_hits", "_words")

    def __init__(self, words: Sequence[str], hits: Mapping[str, frozenset[str]]) -> None:
        self._words = words
        self._hits = hits
        self._by_word: dict[str, list[int]] = {}
        self._by_atom: dict[str, list[str]] = {}
        self._found: dict[frozenset[str], Sequence[int]] = {}

    def place(self, wanted: AbstractSet[str]) -> None:
        """Place every word of ``wanted`` (words of the text) not placed yet."""
        by_word = self._by_word
        new: dict[str, list[int]] = {w: [] for w in wanted if w not in by_word}
        if not new:
            return
        words = self._words
        for position in itertools.compress(range(len(words)), map(new.__contains__, words)):
            new[words[position]].append(position)
        by_word.update(new)
        by_atom = self._by_atom
        for word in new:
            for atom in self._hits[word]:
                by_atom.setdefault(atom, []).append(word)
        self._found.clear()

    def of(self, slot: frozenset[str]) -> Sequence[int]:
        """Where any word of ``slot`` lies, in order (empty when none is)."""
        found = self._found.get(slot)
        if found is None:
            owners = {word for atom in slot for word in self._by_atom.get(atom, ())}
            if len(owners) == 1:
                found = self._by_word[owners.pop()]
            else:
                found = sorted(p for word in owners for p in self._by_word[word])
            self._found[slot] = found
        return found


class _Context:
    """What around a match may discount it (see the module docstring). Everything is
    looked up around the match, in the words themselves: nothing else is placed."""

    __slots__ = ("_hits", "_read", "_seen", "present")

    def __init__(
        self, read: Tokens, hits: Mapping[str, frozenset[str]], present: frozenset[str]
    ) -> None:
        self._read = read
        self._hits = hits
        self.present = present
        self._seen: dict[tuple[int, ...], tuple[frozenset[str], bool]] = {}

    def _has(self, position: int, atom: str) -> bool:
        words = self._read.words
        return 0 <= position < len(words) and atom in self._hits.get(words[position], _NONE)

    def _in_clauses(self, cue: str, places: tuple[int, ...]) -> bool:
        """Whether the cue is in a clause any of ``places`` is in."""
        return "@" + cue in self._clauses(places)[0]

    def _settled_pair(self, places: tuple[int, ...]) -> bool:
        """Whether a clause of ``places`` says the matter is over in two words."""
        return self._clauses(places)[1]

    def _clauses(self, places: tuple[int, ...]) -> tuple[frozenset[str], bool]:
        """The atoms in the clauses ``places`` are in, and whether those clauses hold a
        pair of words that says a matter is over; worked out once per match."""
        found = self._seen.get(places)
        if found is None:
            words = self._read.words
            hits = self._hits
            atoms: set[str] = set()
            pair = False
            for a, b in {self._read.clause(p) for p in places}:
                clause = words[a:b]
                atoms.update(*(hits.get(word, _NONE) for word in clause if word != "iawn"))
                if "iawn" in clause and self._fine():
                    atoms.add("@settled")
                pair = pair or any(two in SETTLED_PAIRS for two in itertools.pairwise(clause))
            found = self._seen[places] = (frozenset(atoms), pair)
        return found

    def _fine(self) -> bool:
        """Whether Welsh "iawn" says "fine" ("mae'n iawn", "yn iawn") somewhere in the
        text, not "very" ("yn gryf iawn") or "real" ("go iawn")."""
        every = self._read.every
        return any(w == "iawn" and every[i - 1] in _FINE_BEFORE for i, w in enumerate(every) if i)

    def _resolved_after(self, places: tuple[int, ...]) -> bool:
        """Whether the clause after the match's, joined to it by "but", says the matter
        is over in two words ("the lift was broken but its working again now")."""
        words = self._read.words
        end = self._read.clause(max(places))[1]
        if end >= len(words) or words[end] not in CLAUSE_WORDS:
            return False
        a, b = self._read.clause(end + 1) if end + 1 < len(words) else (end, end)
        clause = words[a:b]
        if any("@live_now" in self._hits.get(word, _NONE) for word in clause):
            return False
        return any(two in SETTLED_PAIRS for two in itertools.pairwise(clause))

    def _not_meant(self, places: tuple[int, ...]) -> bool:
        """Whether the tenant says they will not appeal: "not going to appeal", "dont
        want to appeal", "ddim am apelio", "not appealing"."""
        words = self._read.words
        for p in places:
            if "@appeal" not in self._hits.get(words[p], _NONE):
                continue
            if self._has(p - 1, "@negator") and (
                words[p].endswith("ing") or not _I_AM.isdisjoint(words[max(p - 3, 0) : p - 1])
            ):
                return True
            for q in (p - 3, p - 2):
                if self._has(q, "@negator") and any(
                    self._has(r, "@intent") for r in range(q + 1, p)
                ):
                    return True
        return False

    def _near_any(self, cue: str, places: tuple[int, ...], reach: int) -> bool:
        atom = "@" + cue
        return any(self._has(q, atom) for p in places for q in range(p - reach, p + reach + 1))

    def discounted(self, pattern: Pattern, places: tuple[int, ...]) -> bool:
        exempt_class = pattern.exempt_class
        if exempt_class == "safeguarding":
            # "at risk of eviction": a risk to the tenancy, not to a person; "killing
            # themselves laughing" is laughter.
            last = max(places)
            if self._has(last + 1, "@laughing"):
                return True
            return pattern.text in GENERIC_RISK and any(
                self._has(q, "@tenancy_risk") for q in range(last + 1, last + 4)
            )
        if exempt_class == "emergency_repair":
            # Negated: "no gas smell", "not leaking" (a negation that is itself part of
            # the phrase, "no heating", does not count).
            present = self.present  # each cue is looked for only when the text has it
            if "@negator" in present and any(
                self._has(p - 1, "@negator") and p - 1 not in places for p in places
            ):
                return True
            if "@fire_compound" in present and any(
                self._has(p, "@fire")
                and (self._has(p + 1, "@fire_compound") or self._has(p - 1, "@fire_compound"))
                for p in places
            ):
                return True
            # A cupboard door is not the door of the home.
            if "@door_compound" in present and any(
                self._has(p, "@door") and self._has(p - 1, "@door_compound") for p in places
            ):
                return True
            settled = ("@settled" in present and self._in_clauses("settled", places)) or (
                not _PAIR_WORDS.isdisjoint(self._hits) and self._settled_pair(places)
            )
            if settled and not self._in_clauses("live_now", places):
                return True
            # "... but it's working again now": settled in the clause that follows.
            return not self._in_clauses("live_now", places) and self._resolved_after(places)
        if exempt_class == "appeal":
            # Not meant: "I'm not going to appeal".
            if "@negator" in self.present and self._not_meant(places):
                return True
            # An appeal about a benefit or a parking ticket, unless the restriction is
            # mentioned with it.
            near = self._near_any("other_appeal", places, _APPEAL_REACH)
            return near and not self._near_any("restriction", places, _APPEAL_REACH)
        if exempt_class == "subject_access_request":
            # "Please update my details" is not a request for them.
            return self._in_clauses("amend", places) and not self._in_clauses("copy", places)
        # A complaint: "no complaints", "I can't complain" are not one; nor is one about
        # a neighbour, unless it is about the landlord too.
        first = min(places)
        if self._has(first - 1, "@negator") or self._has(first - 1, "@cannot"):
            return True
        return (
            self._in_clauses("next_door", places)
            and "@landlord" not in self.present
            and "@escalation" not in self.present
        )
