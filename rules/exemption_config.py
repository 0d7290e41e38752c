"""An organisation's changes to the exemption phrases, checked as a whole.

Organisations add phrases their tenants use and remove defaults that misfire for them,
per class and language::

    emergency_repair:
      en:
        add: ["stairlift stuck", "{lift} ~ wheelchair"]
        remove: ["keeps tripping"]
      cy:
        add: ["lifft grisiau"]

Every problem is found before anything is used, each named by where it is (the gateway
turns that into a line of the file), so a file with one bad line changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.exemption_lexicon import CLASS_ORDER, CONCEPTS, DEFAULT_PHRASES, LANGUAGES
from rules.exemption_patterns import PhraseError, parse

Path = tuple[str | int, ...]
ACTIONS = ("add", "remove")


@dataclass(frozen=True, slots=True)
class PhraseProblem:
    """One thing wrong with the changes, and where: e.g. ("appeal", "en", "add", 2)."""

    path: Path
    message: str


class PhraseConfigError(ValueError):
    """The changes cannot be used; ``problems`` lists everything wrong with them."""

    def __init__(self, problems: list[PhraseProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems))


PhraseLists = dict[str, dict[str, tuple[str, ...]]]


def apply_changes(changes: Any) -> PhraseLists:
    """The default phrases with ``changes`` applied; raises PhraseConfigError."""
    problems: list[PhraseProblem] = []
    merged: PhraseLists = {
        name: {lang: tuple(texts) for lang, texts in by_language.items()}
        for name, by_language in DEFAULT_PHRASES.items()
    }
    if changes is None:
        return merged
    if not isinstance(changes, Mapping):
        raise PhraseConfigError(
            [PhraseProblem((), "must be a mapping of class -> language -> add/remove")]
        )
    for name, by_language in changes.items():
        if name not in CLASS_ORDER:
            problems.append(
                PhraseProblem((str(name),), f"'{name}' is not a class ({', '.join(CLASS_ORDER)})")
            )
            continue
        if not isinstance(by_language, Mapping):
            problems.append(PhraseProblem((name,), "must map languages (en, cy) to add/remove"))
            continue
        for lang, actions in by_language.items():
            where: Path = (name, str(lang))
            if lang not in LANGUAGES:
                problems.append(
                    PhraseProblem(where, f"'{lang}' is not a language ({', '.join(LANGUAGES)})")
                )
                continue
            if not isinstance(actions, Mapping):
                problems.append(PhraseProblem(where, "must have 'add' and/or 'remove' lists"))
                continue
            current = list(merged[name].get(lang, ()))
            for action, texts in actions.items():
                problems += _apply(current, (name, lang, str(action)), action, texts, name)
            merged[name][lang] = tuple(current)
    if problems:
        raise PhraseConfigError(problems)
    return merged


def _apply(
    current: list[str], where: Path, action: object, texts: object, name: str
) -> list[PhraseProblem]:
    if action not in ACTIONS:
        return [PhraseProblem(where, f"'{action}' is neither 'add' nor 'remove'")]
    if not isinstance(texts, list):
        return [PhraseProblem(where, "must be a list of phrases")]
    problems = []
    for i, text in enumerate(texts):
        at = (*where, i)
        if not isinstance(text, str) or not text.strip():
            problems.append(PhraseProblem(at, "is empty: a phrase needs at least one word"))
            continue
        text = " ".join(text.split())
        if action == "remove":
            if text not in current:
                problems.append(PhraseProblem(at, f"'{text}' is not one of the phrases"))
            else:
                current.remove(text)
            continue
        try:
            parse(text, name, CONCEPTS)
        except PhraseError as exc:
            problems.append(PhraseProblem(at, str(exc)))
            continue
        if text not in current:
            current.append(text)
    return problems
