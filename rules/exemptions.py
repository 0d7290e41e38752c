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

A reply whose subject or quoted letter names the restriction, and whose new text
challenges it ("I want to challenge this"), is an appeal when nothing else got it
through (``_challenges_restriction``): the new text alone says only "this".

A short message no phrase matches is then read by the trained model
(``rules.exemption_model``), which finds what phrasings no list foresaw, also when a
phrase was found and discounted (two readers that disagree deliver: "fixed last week"
may be about the last repair, not this one).
The model also weighs a short message that a data-request, appeal or complaint phrase
matched, and holds it when it finds it at least 80 % likely to be ordinary contact
("councillor Jones is coming to the residents' meeting on tuesday, what time does it
start"): a phrase sees a few words, the model all of them. It never holds what an
emergency or safeguarding phrase matched (``OVERRULED_CLASSES``). That limit was chosen
on the development splits (``train_model.py --evaluate``) as the one that lets the
fewest ordinary messages through at the model's threshold.

A second model looks again at what a phrase matched in a short message
(``rules.exemption_model.SecondLook``): trained only on messages a phrase matched, it
tells a live matter from a settled or routine one ("thank you to the plumber who came
on Monday about the burst pipe, he was lovely"), and the message is held when it is at
least as sure as the limit of the match's class (``SECOND_LOOK``: 80 % to 97 %, each
the lowest at which its development reads held no exempt message). It looks again at
emergency repairs, data requests, appeals and complaints; never at a safeguarding
concern, and never at a match whose words name a danger to life (gas, carbon monoxide,
fire, smoke, sparks, burning, exposed wires: ``DANGER_CONCEPTS``), and never at a
message the first model alone would let through (two readers that disagree deliver).

Deterministic and offline: the same text always gets the same answer, with the words
and the phrase (or the model's weightiest words) that decided it, so a reviewer sees why.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import NamedTuple

from rules.exemption_lexicon import (
    CLASS_ORDER,
    COMMON_WORDS,
    CONCEPTS,
    CONDITIONAL_VERBS,
    DANGER_CONCEPTS,
    DEFAULT_PHRASES,
    DOWNPLAYING,
    EVER_WORDS,
    GENERIC_RISK,
    IF_WORDS,
    SETTLED_PAIRS,
    SUPPOSING_WORDS,
)
from rules.exemption_model import (
    MAX_WORDS,
    LinearModel,
    SecondLook,
    default_model,
    default_second_look,
)
from rules.exemption_patterns import Pattern, parse
from rules.exemption_real_words import REAL_WORDS
from rules.exemption_text import BREAK, CLAUSE_WORDS, Tokens, plain_words, thread_of, tokens
from rules.exemption_words import SlipIndex, inflections, mutations, slip_index, slips

# Phrases per class and language: {class: {language: (phrase, ...)}}.
PhraseLists = Mapping[str, Mapping[str, Sequence[str]]]

_MEMO_LIMIT = 20_000  # words met whose slips are remembered (bounded memory)
# Short texts (a text message, a subject line) are answered again from memory: a
# retried webhook, a message replayed from the spool, the same text sent twice.
_SHORT = 280
_ANSWERS_LIMIT = 4096
# The classes whose phrase the trained model may overrule. Never an emergency's or a
# safeguarding concern's (the second look, trained for it, may set aside an emergency's
# that names no danger to life): there a miss could cost a life, and there the model's
# near misses are weakest ("the child next door is at risk" reads to it much like a noise
# report about next door; "the neighbours flat is on fire" like a fire-safety letter).
OVERRULED_CLASSES = frozenset({"subject_access_request", "appeal", "complaint"})


@dataclass(frozen=True, slots=True)
class ExemptionMatch:
    """Why a text is exempt: its class, the words that matched, and the phrase."""

    exempt_class: str
    words: str
    phrase: str  # the phrase; for the model, how likely it found the text exempt
    reader: str = "phrase"  # "phrase", or "model" (rules.exemption_model)
    # A word the phrase matched names a danger to life (``DANGER_CONCEPTS``: gas, fire...).
    danger: bool = field(default=False, compare=False)

    def describe(self) -> str:
        if self.reader == "model":
            return f"the words '{self.words}' (the trained model: {self.phrase})"
        return f"the words '{self.words}' (phrase '{self.phrase}')"


# How the check page and ``exemptions check`` name the model that set a match aside.
READER_NAMES = {
    "model": "the trained model",
    "second_look": "the second look (a model trained on what phrases matched)",
}


class SetAside(NamedTuple):
    """A phrase's match that a trained model set aside, holding the message: the match,
    how likely the model found the message to be ordinary contact, and which model:
    ``"model"`` (the model that reads what no phrase matched, overruling a phrase) or
    ``"second_look"`` (``rules.exemption_model.SecondLook``)."""

    match: ExemptionMatch
    ordinary: float
    reader: str


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
    # The model that looks again at what a phrase matched (None: the phrase stands).
    second_look: SecondLook | None = field(default=None, compare=False)
    # The phrases class by class, in CLASS_ORDER (see ``_Phrases``).
    _classes: tuple[_Phrases, ...] = field(init=False, repr=False, compare=False)
    _vocabulary: _Vocabulary = field(init=False, repr=False, compare=False)
    _base: frozenset[str] = field(init=False, repr=False, compare=False)
    _fillers: dict[frozenset[str], frozenset[str]] = field(init=False, repr=False, compare=False)
    # The atoms of every word met (none for most), the phrase forms first; and of the
    # words met that are one slip from a phrase word.
    _memo: tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]] = field(
        init=False, repr=False, compare=False
    )
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
        object.__setattr__(
            self,
            "_classes",
            tuple(
                _Phrases.of([p for p in patterns if p.exempt_class == name], fillers)
                for name in CLASS_ORDER
                if any(p.exempt_class == name for p in patterns)
            ),
        )
        object.__setattr__(self, "_vocabulary", vocabulary)
        object.__setattr__(self, "_memo", (dict(frozen), {}))
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
            default_second_look() if model else None,
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

    def overruled(self, text: str) -> SetAside | None:
        """The phrase match a trained model set aside in ``text``, which model, and how
        likely it found the message to be ordinary contact; None when nothing was set
        aside. (For the check page and ``exemptions check``: why a message with an
        exempt phrase's words is held.)"""
        if not text or self.model is None:
            return None
        read = tokens(text)
        found = self._by_phrase(read)
        if found is None:
            return None
        return self._set_aside(self.model, found, [w for w in read.words if w != BREAK])

    def _set_aside(
        self, model: LinearModel, found: ExemptionMatch, words: list[str]
    ) -> SetAside | None:
        """How likely the message of ``words`` that ``found``'s phrase matched is to be
        ordinary contact, when a model is sure enough of it to hold the message; else
        None, and the phrase stands. The model weighs every word of a message a phrase
        matched on a few: a data-request, appeal or complaint phrase is overruled when
        it is nearly sure (``LinearModel.overrules``); the second look sets aside a
        match of a class it looks again at, unless a word matched names a danger to
        life (``SecondLook``, ``DANGER_CONCEPTS``) or the first model alone would let the
        message through."""
        if found.exempt_class in OVERRULED_CLASSES:
            ordinary = model.overrules(words)
            if ordinary is not None:
                return SetAside(found, ordinary, "model")
        if self.second_look is None or found.danger:
            return None
        ordinary = self.second_look.sets_aside(found.exempt_class, words)
        # Two readers that disagree deliver: the second look does not set aside a match
        # that the first model, reading the message alone, would let through ("Not good
        # enough. Nobody from you told me", where the phrase's words are few).
        if ordinary is None or model.judge(words) is not None:
            return None
        return SetAside(found, ordinary, "second_look")

    def _explain(self, text: str) -> ExemptionMatch | None:
        read = tokens(text)
        found = self._read(read)
        if found is None:
            return self._challenges_restriction(text, read)
        return found

    def _read(self, read: Tokens) -> ExemptionMatch | None:
        matches = self._by_phrases(read)
        found = next(matches, None)
        if self.model is None:
            return found
        words = read.words
        # (The model reads short messages only: a long letter's words are counted, in C,
        # before they are copied for it.)
        if len(words) - words.count(BREAK) > MAX_WORDS:
            return found
        kept = [w for w in words if w != BREAK]
        if found is not None:
            # A match set aside is one class's phrase read as ordinary contact, and the
            # next class is read. Its phrase stands, whatever the models find: phrases
            # of two classes in one message are two readings that it is exempt ("the
            # new windows leak worse than the old ones ... escalate it": a repair, set
            # aside, then a complaint, which stands).
            if self._set_aside(self.model, found, kept) is None:
                return found
            second = next(matches, None)
            if second is not None:
                return second
        verdict = self.model.judge(kept)
        # A phrase found but discounted ("the pipe was fixed last week and its burst
        # again") or set aside does not stop the model: two readers that disagree deliver.
        if verdict is None:
            return None
        return ExemptionMatch(
            verdict.exempt_class,
            " … ".join(verdict.words),
            f"{1 - verdict.ordinary:.0%} likely not ordinary contact",
            "model",
        )

    def _challenges_restriction(self, text: str, read: Tokens) -> ExemptionMatch | None:
        """An appeal in a reply to the letter that restricted the sender: the new text
        challenges "this" ("I want to challenge this", "So I'm asking for a review",
        "dwi ddim yn derbyn hyn"), and what it replies to (the subject, the quoted
        letter) names the restriction. Only the new text is read for everything else."""
        if not read.reply:
            return None  # (most messages: the thread is not looked for in them again)
        thread = thread_of(text)
        context = plain_words(thread)
        if _RESTRICTION_WORDS.isdisjoint(context) and _RESTRICTION_PAIRS.isdisjoint(
            itertools.pairwise(context)
        ):
            return None
        words = read.words
        exact = self._vocabulary.exact
        for i, word in enumerate(words):
            atoms = exact.get(word, _NONE)
            before = words[max(i - 3, 0) : i]
            if not _THANKS.isdisjoint(before):
                continue  # "thanks for reconsidering": a reply to the outcome
            negated = not _NEGATING.isdisjoint(before)
            challenging = not atoms.isdisjoint(_CHALLENGE_ATOMS) or word in _DISAGREE
            if (challenging and (not negated or "@unfair" in atoms)) or (
                word in _ACCEPTING and negated
            ):
                return ExemptionMatch(
                    "appeal",
                    f"{word} … (in reply to: {_first_line(thread)})",
                    "a reply to the restriction that challenges it",
                )
        return None

    def _by_phrase(self, read: Tokens) -> ExemptionMatch | None:
        """The first phrase found in the text and not discounted, class by class."""
        return next(self._by_phrases(read), None)

    def _by_phrases(self, read: Tokens) -> Iterator[ExemptionMatch]:
        """Per class, in ``CLASS_ORDER``, the first phrase found in the text and not
        discounted; a class is read only when the one before has been taken.

        Work is put off until it is needed, as most of a long letter is ordinary words:
        which phrases could match is known from the distinct words alone (``present``,
        every atom the text has); a class's anchor words (each phrase's rarest) are
        placed only when that class has a phrase whose every slot is present, and the
        rest of a phrase is looked for around them. The classes after the first that
        matches are read only if its match is set aside (``_explain``).
        """
        words = read.words
        distinct = set(words)
        present, slipped = self._look_up(distinct)
        if not present:
            return
        atoms = _Atoms(self._vocabulary.exact, slipped, distinct)
        # The words that can fill each slot: its forms, and this text's slips.
        words_of = _Filling(self._fillers, slipped) if slipped else self._fillers
        anchors = _Where(words, words_of)
        context = _Context(read, atoms, present)
        for phrases in self._classes:
            filed = phrases.filed
            # The class's phrases whose anchor slot the text fills, in the order written.
            found = sorted({i for atom in present & phrases.anchor_atoms for i in filed[atom]})
            placed = False
            for i in found:
                pattern = phrases.patterns[i]
                if any(map(present.isdisjoint, pattern.slots)):
                    continue  # another slot none of the text's words fills
                if not placed:
                    anchors.place(phrases.anchor_words(distinct, slipped))
                    placed = True
                for places in pattern.occurrences_around(anchors, words, words_of):
                    if not context.discounted(pattern, places):
                        yield ExemptionMatch(
                            pattern.exempt_class,
                            _shown(words, places),
                            pattern.text,
                            danger=context.dangerous(places),
                        )
                        break
                else:
                    continue  # no occurrence of this phrase stands: the next phrase
                break  # this class has its match: the next class

    def _look_up(self, distinct: set[str]) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
        """Every atom the text's words have, and the text's words that are one slip from
        a phrase word, with their atoms.

        The distinct words are looked up once each, in C, among the phrase forms and the
        words met before (the memory is bounded): each is a cache miss in a large table,
        and a long letter has a thousand. Only the words not met before, if any, are
        read here.
        """
        seen, slipped = self._memo
        # A word not met before is given a marker atom, so that the one look-up tells
        # both what the text has and whether any of its words is new.
        present = frozenset().union(
            *filter(None, map(seen.get, distinct, itertools.repeat(_UNMET_ATOMS)))
        )
        # The remembered slips are taken before the memory may be replaced below.
        mine = {word: slipped[word] for word in slipped.keys() & distinct} if slipped else {}
        if _UNMET not in present:
            return present, mine
        new = distinct.difference(seen)
        exact = self._vocabulary.exact
        if len(seen) - len(exact) + len(new) > _MEMO_LIMIT:
            # A new memory rather than the old one emptied and filled again, in which
            # a phrase form would be missing for a moment.
            seen, slipped = dict(exact), {}
            object.__setattr__(self, "_memo", (seen, slipped))
        near_index = self._vocabulary.near
        atoms = [present - {_UNMET}]
        for word in new:
            near = slips(word, near_index, REAL_WORDS)
            if near:
                found = frozenset().union(*(exact[w] for w in near))
                seen[word] = slipped[word] = mine[word] = found
                atoms.append(found)
            else:
                seen[word] = _NONE
        return frozenset().union(*atoms), mine


_NONE: frozenset[str] = frozenset()
# A reply's subject or quoted letter that names a restriction (``_challenges_restriction``):
# its words, or pairs of words ("arrangements" alone is too common: "repair arrangements").
_RESTRICTION_WORDS = frozenset(
    {
        "restriction", "restrictions", "restricted", "restricting", "restrict",
        "cyfyngiad", "cyfyngiadau", "cyfyngu",
    }
)  # fmt: skip
_RESTRICTION_PAIRS = frozenset(
    {
        ("contact", "arrangements"), ("contact", "arrangement"), ("managed", "contact"),
        ("single", "point"), ("unacceptable", "behaviour"), ("unacceptable", "behavior"),
        ("trefniadau", "cyswllt"), ("trefniant", "cyswllt"), ("un", "pwynt"),
        ("ymddygiad", "annerbyniol"),
    }
)  # fmt: skip
# What in the new text of such a reply challenges it: a word of these concepts (not
# after a negation, "I'm not going to appeal", but "not fair" stands) or "disagree";
# or a negated "accept" or "fair" ("I don't accept this", "this is not fair").
_CHALLENGE_ATOMS = frozenset({"@challenge", "@appeal", "@unfair"})
_DISAGREE = frozenset({"disagree", "disagreeing", "anghytuno"})
_ACCEPTING = frozenset({"accept", "accepting", "agree", "fair", "derbyn", "cytuno", "deg"})
_NEGATING = frozenset(
    {"not", "dont", "wont", "never", "no", "didnt", "cant", "ddim", "dim", "nid", "na"}
)
_THANKS = frozenset({"thanks", "thank", "thankyou", "thx", "diolch", "cheers"})


def _first_line(text: str) -> str:
    return text.strip().partition("\n")[0].strip()[:80]


_UNMET = "?"  # no phrase's atom: those are "@concept" and "=word"
_UNMET_ATOMS = frozenset({_UNMET})
_APPEAL_REACH = 16
_DOWNPLAYING = frozenset(tuple(tokens(cue).words) for cue in DOWNPLAYING)
_DOWNPLAYING_FIRST = frozenset(cue[0] for cue in _DOWNPLAYING)
_DANGER_ATOMS = frozenset("@" + name for name in DANGER_CONCEPTS)
_IF_REACH = 4  # "if I ever smell gas", "os dwi'n clywed ogla nwy": the "if" this close
_PAIR_WORDS = frozenset(word for pair in SETTLED_PAIRS for word in pair)
_I_AM = frozenset({"dwi", "dw"})  # "dwi ddim yn apelio": I am not appealing ("am" is dropped)
_FINE_BEFORE = frozenset({"yn", "n"})  # "mae'n iawn": fine; "cryf iawn": very strong
_PEOPLE = frozenset({"dwi", "dw", "i", "ni", "hi", "fo", "fe", "e", "nhw", "chi", "plant", "babi"})
# Who else may be fine when the tenant is not: "the neighbours are fine", "everyone else".
_OTHERS = frozenset(
    {
        "block", "rest", "else", "everyone", "everybody", "others", "street",
        # A person who is fine: "the switch gave her a shock, she's fine".
        "she", "shes", "he", "hes", "they", "theyre", "kids", "baby", "partner",
    }
)  # fmt: skip
# Saying one is not complaining: a present negation, then only these words before the
# complaint's word ("dont want to make complaint", "no need to complain", "ddim isio cwyno",
# "dont log it as complaint"); "this" or "it" only with "as" ("I don't want this complaint
# ignored" is one).
_DECLINING = frozenset({"dont", "not", "no", "ddim", "dim"})
_DECLINE_BETWEEN = frozenset(
    {
        "want", "wanting", "wanna", "wish", "looking", "trying", "mean", "need", "to", "make",
        "making", "raise", "raising", "log", "treat", "count", "as", "this", "it", "isio",
        "isie", "eisiau", "moyn", "gwneud", "neud", "wneud", "n",
    }
)  # fmt: skip
_OBJECTS = frozenset({"this", "it"})
_NOT_THERE = frozenset({"wasnt", "werent", "not", "never"})
_NEXT = frozenset({"nesa", "nesaf"})  # "drws nesa": next door
_THREATEN = frozenset({"bygwth", "fygwth"})
_HEAD = frozenset({"pen", "ben", "mhen"})  # "pen tost": a headache
_WEATHER = frozenset({"glaw", "bwrw", "eira", "storm", "tywydd", "taranau", "gwynt"})
# What follows "tan" meaning until: a time ("tan 3", "tan naw", "tan y bore", "tan fory").
_UNTIL = frozenset(
    {
        "un", "dau", "dri", "tri", "pedwar", "pump", "chwech", "saith", "wyth", "naw", "deg",
        "hanner", "canol", "ganol", "bore", "nos", "hwyr", "fory", "yfory", "wedyn", "diwedd",
        "dydd", "mis", "wythnos", "amser", "heno",
    }
)  # fmt: skip


def _until(following: str) -> bool:
    """Whether Welsh "tan" followed by ``following`` means until."""
    return following in _UNTIL or following[:1].isdigit()


_TAKE = frozenset({"tynnu", "dynnu", "nhynnu"})  # "tynnu ... yn ôl": take back
_TO = frozenset({"to", "with", "wrth", "i", "against"})
_OURS = frozenset({"@landlord", "@escalation"})
# The words before "gŵyn" (a mutated "cwyn", complaint): "y gŵyn", "i'r gŵyn", "ei gŵyn".
_GWYN_COMPLAINT = frozenset({"y", "r", "ei", "dy", "ail", "un", "unrhyw", "pa"})


def _says_over(clause: Sequence[str]) -> bool:
    """Whether ``clause`` says a matter is over in two words (``SETTLED_PAIRS``: "last
    week", "working again"), other than a pair that says when a thing was not there, so
    that it is new ("a crack that wasn't there last week")."""
    return any(
        two in SETTLED_PAIRS
        and not (i >= 2 and clause[i - 1] == "there" and clause[i - 2] in _NOT_THERE)
        for i, two in enumerate(itertools.pairwise(clause))
    )


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


@dataclass(frozen=True, slots=True)
class _Phrases:
    """One class's phrases, in the order written, filed under their anchor slot's atoms
    (a text has few of them: a short one few of any), and the words that fill an anchor
    slot of one of them."""

    patterns: tuple[Pattern, ...]
    filed: dict[str, tuple[int, ...]]  # atom -> the phrases whose anchor slot it is in
    anchor_atoms: frozenset[str]
    anchor_forms: frozenset[str]

    @classmethod
    def of(
        cls, patterns: Sequence[Pattern], fillers: Mapping[frozenset[str], frozenset[str]]
    ) -> _Phrases:
        filed: dict[str, list[int]] = {}
        forms: set[str] = set()
        for i, pattern in enumerate(patterns):
            anchor = pattern.slots[pattern.anchor]
            for atom in anchor:
                filed.setdefault(atom, []).append(i)
            forms.update(fillers[anchor])
        return cls(
            tuple(patterns),
            {atom: tuple(found) for atom, found in filed.items()},
            frozenset(filed),
            frozenset(forms),
        )

    def anchor_words(
        self, distinct: AbstractSet[str], slipped: Mapping[str, frozenset[str]]
    ) -> frozenset[str]:
        """The text's words that fill the anchor slot of any of these phrases."""
        # (A frozenset's intersection with a set walks the smaller side.)
        wanted = self.anchor_forms.intersection(distinct)
        if slipped:
            atoms = self.anchor_atoms
            wanted = wanted.union(w for w, a in slipped.items() if not a.isdisjoint(atoms))
        return wanted


class _Filling(dict[frozenset[str], frozenset[str]]):
    """The words that can fill each slot: its forms, and the text's slips that fill it
    (worked out when a slot is first asked for)."""

    __slots__ = ("_fillers", "_slipped")

    def __init__(
        self,
        fillers: Mapping[frozenset[str], frozenset[str]],
        slipped: Mapping[str, frozenset[str]],
    ) -> None:
        super().__init__()
        self._fillers = fillers
        self._slipped = slipped

    def __missing__(self, slot: frozenset[str]) -> frozenset[str]:
        forms = self._fillers[slot]
        extra = {word for word, atoms in self._slipped.items() if not atoms.isdisjoint(slot)}
        found = self[slot] = forms | extra if extra else forms
        return found


class _Atoms:
    """The atoms of the text's words: a phrase word's, or a slip's (none for the rest)."""

    __slots__ = ("_distinct", "_exact", "_slipped")

    def __init__(
        self,
        exact: Mapping[str, frozenset[str]],
        slipped: Mapping[str, frozenset[str]],
        distinct: AbstractSet[str],
    ) -> None:
        self._exact = exact
        self._slipped = slipped
        self._distinct = distinct

    def of(self, word: str) -> frozenset[str]:
        """The atoms of ``word``, a word of the text."""
        return self._exact.get(word) or self._slipped.get(word, _NONE)

    def any_of(self, words: frozenset[str]) -> bool:
        """Whether any of ``words`` is a word of the text that has atoms."""
        return any(self.of(word) for word in words.intersection(self._distinct))


class _Where:
    """Where anchor words lie in the text. Words are placed in batches, when the phrases
    being tried need them (``place``); a slot's places are merged when first asked for
    (``words_of[slot]``: every word that can fill the slot)."""

    __slots__ = ("_by_word", "_found", "_placed", "_words", "_words_of")

    def __init__(
        self, words: Sequence[str], words_of: Mapping[frozenset[str], frozenset[str]]
    ) -> None:
        self._words = words
        self._words_of = words_of
        self._by_word: dict[str, list[int]] = {}
        self._placed: set[str] = set()  # (the same words: a set's intersection is quick)
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
        self._placed.update(new)
        self._found.clear()

    def of(self, slot: frozenset[str]) -> Sequence[int]:
        """Where any placed word that fills ``slot`` lies, in order (empty when none is)."""
        found = self._found.get(slot)
        if found is None:
            # (Sets: the intersection walks the smaller, a slot's few forms or the few
            # words placed.)
            owners = self._words_of[slot] & self._placed
            if len(owners) == 1:
                (owner,) = owners
                found = self._by_word[owner]
            else:
                found = sorted(p for word in owners for p in self._by_word[word])
            self._found[slot] = found
        return found


class _Context:
    """What around a match may discount it (see the module docstring). Everything is
    looked up around the match, in the words themselves: nothing else is placed."""

    __slots__ = ("_atoms", "_read", "_seen", "present")

    def __init__(self, read: Tokens, atoms: _Atoms, present: frozenset[str]) -> None:
        self._read = read
        self._atoms = atoms
        self.present = present
        self._seen: dict[tuple[int, ...], tuple[frozenset[str], bool]] = {}

    def _has(self, position: int, atom: str) -> bool:
        words = self._read.words
        return 0 <= position < len(words) and atom in self._atoms.of(words[position])

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
            of = self._atoms.of
            atoms: set[str] = set()
            pair = False
            for a, b in {self._read.clause(p) for p in places}:
                clause = words[a:b]
                # (Southern Welsh "pen tost" is a headache, not toast.)
                atoms.update(
                    *(
                        of(word)
                        for i, word in enumerate(clause)
                        if word != "iawn" and not (word == "tost" and i and clause[i - 1] in _HEAD)
                    )
                )
                if "iawn" in clause and self._fine():
                    atoms.add("@settled")
                pair = pair or _says_over(clause)
            found = self._seen[places] = (frozenset(atoms), pair)
        return found

    def _settled(self, places: tuple[int, ...]) -> bool:
        """Whether the clause of the match's last word has a word that says the matter
        is over ("fixed", "last year", "fine", "mae'n iawn"), other than one that says
        what was lost or that others are fine:

        * "anymore", where the phrase is itself a negation ("the door won't lock
          anymore", "no heating anymore"), unlike "it isn't leaking anymore";
        * "fine" said of others or of a person ("power's gone just in my flat, the
          neighbours are fine", "the switch gave her a shock, she's fine");
        * "used" in "used to" ("a hole where the lock used to be")."""
        if not self._in_clauses("settled", (max(places),)):  # remembered: a long letter
            return False  # has many matches, and a clause can be long
        words = self._read.words
        negated = any(self._has(p, "@negator") or self._has(p, "@cannot") for p in places)
        a, b = self._read.clause(max(places))
        for i in range(a, b):
            word = words[i]
            if word == "iawn":
                if self._fine():
                    return True
                continue
            if "@settled" not in self._atoms.of(word):
                continue
            if word == "anymore" and negated:
                continue
            if word == "used" and i + 1 < b and words[i + 1] == "to":
                continue  # "where the lock used to be"
            if word == "fine" and any(
                words[j] in _OTHERS or self._has(j, "@next_door") for j in range(max(a, i - 3), i)
            ):
                continue
            return True
        return False

    def _fine(self) -> bool:
        """Whether Welsh "iawn" says "fine" ("mae'n iawn", "yn iawn") of a thing somewhere
        in the text, not "very" ("yn gryf iawn"), "real" ("go iawn") or of a person
        ("dwi'n iawn", "ma hi'n iawn": the tenant may be fine and the heating not)."""
        every = self._read.every
        return any(
            w == "iawn" and every[i - 1] in _FINE_BEFORE and (i < 2 or every[i - 2] not in _PEOPLE)
            for i, w in enumerate(every)
            if i
        )

    def _resolved_after(self, places: tuple[int, ...]) -> bool:
        """Whether the clause after the match's, joined to it by "but", says the matter
        is over in two words ("the lift was broken but its working again now")."""
        words = self._read.words
        end = self._read.clause(max(places))[1]
        if end >= len(words) or words[end] not in CLAUSE_WORDS:
            return False
        a, b = self._read.clause(end + 1) if end + 1 < len(words) else (end, end)
        clause = words[a:b]
        if any("@live_now" in self._atoms.of(word) for word in clause):
            return False
        return _says_over(clause)

    def _not_meant(self, places: tuple[int, ...]) -> bool:
        """Whether the tenant says they will not appeal: "not going to appeal", "dont
        want to appeal", "ddim am apelio", "not appealing"."""
        words = self._read.words
        for p in places:
            if "@appeal" not in self._atoms.of(words[p]):
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

    def _supposed(self, places: tuple[int, ...]) -> bool:
        """Whether the clause supposes the matter rather than reports it, before the
        phrase's first word: "if I ever smell gas", "hypothetically if I had a leak",
        "petai'r lifft yn torri", "os dwi'n clywed ogla nwy rywbryd" (``SUPPOSING_WORDS``
        and the rest in rules.exemption_lexicon). "My boiler broke, if it ever happens
        again..." reports the repair before it supposes anything, and stands."""
        words = self._read.words
        first = min(places)
        start, end = self._read.clause(first)
        before = words[start:first]
        if not SUPPOSING_WORDS.isdisjoint(before):
            return True
        # The "if" leads into the phrase ("if I ever smell gas"): in "if you ever get
        # this I smell gas" it is about something else.
        for i in range(max(start, first - _IF_REACH), first):
            if words[i] in IF_WORDS and (
                not EVER_WORDS.isdisjoint(words[i + 1 : end]) or words[i + 1] in CONDITIONAL_VERBS
            ):
                return True
            if words[i] == "pe" and words[i + 1] in CONDITIONAL_VERBS:
                return True
        return False

    def _withdrawn(self, places: tuple[int, ...]) -> bool:
        """Whether the complaint matched is one taken back: "I withdrew my complaint",
        "complaint withdrawn", "canslwch fy nghwyn", "tynnu'n ôl y gŵyn"; not "I complain
        that you withdrew my offer"."""
        words = self._read.words
        for p in places:
            if not self._has(p, "@complaint"):
                continue
            if "@withdrawn" in self.present and any(
                self._has(q, "@withdrawn") for q in range(p - 3, p + 2)
            ):
                return True
            # "tynnu ... yn ôl" (take back) around the word: "tynnu'n nghwyn yn ôl".
            if (
                not _TAKE.isdisjoint(words[max(p - 3, 0) : p])
                and "ol" in words[max(p - 2, 0) : p + 3]
            ):
                return True
        return False

    def _declined(self, places: tuple[int, ...]) -> bool:
        """Whether the tenant says they are not complaining: "I don't want to make a
        complaint", "no need to complain", "please don't log this as a complaint", "dwi
        ddim isio cwyno"; not when a "but" follows in the sentence ("I don't want to
        complain but this is the third time"), and not "I didn't want to complain"."""
        words = self._read.words
        for p in places:
            if not self._has(p, "@complaint"):
                continue
            for q in range(max(p - 5, 0), p - 1):
                between = words[q + 1 : p]
                if (
                    words[q] in _DECLINING
                    and _DECLINE_BETWEEN.issuperset(between)
                    and ("as" in between or _OBJECTS.isdisjoint(between))
                ):
                    end = self._read.clause(p)[1]
                    return end >= len(words) or words[end] not in CLAUSE_WORDS
        return False

    def _elsewhere(self, places: tuple[int, ...]) -> bool:
        """Whether the complaint is made to someone else ("I've complained to BT",
        "complaint's been with the DVLA", "cwyno wrth y feddygfa") and the landlord is
        not named in the text."""
        if "@elsewhere" not in self.present or not self.present.isdisjoint(_OURS):
            return False
        words = self._read.words
        for p in places:
            if not self._has(p, "@complaint"):
                continue
            q = p + 1
            if q < len(words) and words[q] in _TO:
                q += 1
            if self._has(q, "@elsewhere"):
                return True
        return False

    def _white(self) -> bool:
        """Whether every Welsh "gwyn" of the text is the colour or a name ("Heol Gwyn",
        "Mr Gwyn Jones"), not "y gŵyn" (the complaint)."""
        every = self._read.every
        return all(
            i == 0 or every[i - 1] not in _GWYN_COMPLAINT
            for i, word in enumerate(every)
            if word == "gwyn"
        )

    def dangerous(self, places: tuple[int, ...]) -> bool:
        """Whether a word at ``places`` names a danger to life (``DANGER_CONCEPTS``)."""
        words = self._read.words
        return any(not _DANGER_ATOMS.isdisjoint(self._atoms.of(words[p])) for p in places)

    def _downplayed(self, places: tuple[int, ...]) -> bool:
        """Whether the clause of the match says it is not urgent or not the landlord's
        (``DOWNPLAYING``) and the match is no danger to life (``DANGER_CONCEPTS``)."""
        if self.dangerous(places):
            return False
        words = self._read.words
        for start, end in {self._read.clause(p) for p in places}:
            for i in range(start, end):
                if words[i] in _DOWNPLAYING_FIRST and any(
                    tuple(words[i : i + len(cue)]) == cue for cue in _DOWNPLAYING
                ):
                    return True
        return False

    def _next(self, position: int) -> str:
        """The word after ``position`` ("" at the end)."""
        words = self._read.words
        return words[position + 1] if position + 1 < len(words) else ""

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
            # "this rent is killing me", "my back is killing me": a threat to kill is
            # said of what someone will do ("he said he'd kill me"), not is doing.
            words = self._read.words
            if any(words[p] == "killing" for p in places):
                return True
            # "mae'n bygwth glaw" (it's threatening rain).
            if any(words[p] in _THREATEN and self._next(p) in _WEATHER for p in places):
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
            # A cupboard door is not the door of the home, nor is next door ("drws nesa").
            if "@door_compound" in present and any(
                self._has(p, "@door") and self._has(p - 1, "@door_compound") for p in places
            ):
                return True
            words = self._read.words
            if any(self._has(p, "@door") and self._next(p) in _NEXT for p in places):
                return True
            # Welsh "tan" is fire ("tân") or until ("tan 3 y bore", "tan naw"); "shocking"
            # is mostly said of a service ("shocking really"), not of a switch.
            if any(
                (words[p] == "tan" and _until(self._next(p)))
                or (words[p] == "shocking" and not self._has(p + 1, "@about_me"))
                for p in places
            ):
                return True
            # Said to be over in the clause of the phrase's last word: "the lift was
            # working again but now its broken" is about now, not the morning.
            latest = (max(places),)
            settled = (
                ("@settled" in present and self._settled(places))
                or (
                    "@cooking" in present
                    and self._in_clauses("cooking", latest)
                    and self._in_clauses("alarm", latest)
                )
                or (self._atoms.any_of(_PAIR_WORDS) and self._settled_pair(latest))
            )
            if (settled or self._supposed(places) or self._downplayed(places)) and not (
                self._in_clauses("live_now", places)
            ):
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
        # A complaint: "no complaints", "I can't complain" are not one, nor one supposed
        # ("taswn i isio cwyno, at bwy...", if I wanted to complain); nor is one about a
        # neighbour, unless it is about the landlord too.
        first = min(places)
        if (self._has(first - 1, "@negator") or self._has(first - 1, "@cannot")) and (
            self._has(first, "@complaint")  # not "dim ymddiheuriad" (no apology)
        ):
            return True
        if self._supposed(places) or self._withdrawn(places) or self._declined(places):
            return True
        if self._elsewhere(places):
            return True
        # "Heol Gwyn" is a street: "gŵyn" (complaint) is said after "y", "i'r", "ei".
        said = {self._read.words[p] for p in places if self._has(p, "@complaint")}
        if said == {"gwyn"} and self._white():
            return True
        return (
            self._in_clauses("next_door", places)
            and "@landlord" not in self.present
            and "@escalation" not in self.present
        )
