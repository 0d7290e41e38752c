"""The organisation's exemption phrases: a YAML file named by GATEWAY_EXEMPTION_PHRASES,
or the same YAML stored by an administrator through the API or the web UI.

Either way the text is read whole and checked whole (rules.exemption_config): a
problem is reported with the line it is on, and nothing is used until nothing is wrong.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from rules.exemption_config import PhraseConfigError, PhraseLists, PhraseProblem, apply_changes
from rules.exemptions import ExemptionClassifier

ORG_SETTING = "exemption_phrases"  # the organisation's setting that holds the YAML text


class PhraseFileError(ValueError):
    """The phrases cannot be used; the message names each problem and its line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def read_phrases(text: str, source: str) -> PhraseLists:
    """The phrase lists the YAML ``text`` makes (the defaults with its changes)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PhraseFileError(source, [f"{line}not valid YAML ({problem})"]) from None
    try:
        return apply_changes(data)
    except PhraseConfigError as exc:
        lines = _lines(node)
        raise PhraseFileError(source, [_located(p, lines) for p in exc.problems]) from None


def load_classifier(
    path: Path | None, org_text: str | None = None, *, model: bool = True
) -> ExemptionClassifier:
    """The classifier for the organisation: the administrator's stored phrases when
    there are any, else the file's, else the defaults; with the trained model as its
    second reader unless ``model`` is False (GATEWAY_EXEMPTION_MODEL). Raises
    PhraseFileError.

    The file is read every time; the classifier is built once per process for each text
    (``_built``), so a changed file makes a new one."""
    if org_text:
        return _built(org_text, "the stored exemption phrases", model)
    if path is None:
        return _built(None, "", model)
    return _built(_read_text(path), str(path), model)


@functools.lru_cache(maxsize=4)
def _built(text: str | None, source: str, model: bool) -> ExemptionClassifier:
    """The classifier for the phrase YAML ``text`` (the defaults when None).

    Building one takes a tenth of a second or more, and a process that builds gateways
    again and again (the tests build hundreds, ``with_org`` one per stored text) would
    pay it each time for the same answer. Sharing one is safe: a classifier is frozen,
    and what it keeps as it reads (the words met, short texts' answers) only saves work,
    never changes an answer."""
    if text is None:
        return ExemptionClassifier.build(model=model)
    return ExemptionClassifier.build(read_phrases(text, source), model=model)


def read_phrase_file(path: Path) -> PhraseLists:
    """The phrase lists the file at ``path`` makes; raises PhraseFileError. (Checking a
    file this way builds no classifier: settings check it, the app builds it once.)"""
    return read_phrases(_read_text(path), str(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PhraseFileError(str(path), [f"cannot be read ({exc})"]) from None


def _located(problem: PhraseProblem, lines: dict[tuple[Any, ...], int]) -> str:
    path = problem.path
    while path and path not in lines:
        path = path[:-1]
    line = lines.get(path)
    where = ".".join(str(p) for p in problem.path) or "the file"
    prefix = f"line {line}: " if line is not None else ""
    return f"{prefix}{where}: {problem.message}"


def _lines(node: yaml.Node | None, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """The line (1-based) each key or item of the YAML document is on, by its path."""
    found: dict[tuple[Any, ...], int] = {}
    if node is None:
        return found
    found[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            deeper = _lines(value, child)
            deeper[child] = key.start_mark.line + 1  # a key's line, not its value's
            found.update(deeper)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.update(_lines(item, (*path, i)))
    return found
