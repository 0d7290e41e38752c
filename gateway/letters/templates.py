"""The letter templates: the organisation's own, over the defaults shipped here.

Templates are Jinja2 text files named ``<kind>.<lang>.txt`` (``decision.cy.txt``), with
includes such as ``_terms.en.txt``. A file of that name in ``GATEWAY_LETTER_TEMPLATES``
replaces the default; the rest come from ``gateway/letters/defaults``. Rendering uses
``StrictUndefined``, so a field a template names that the letter does not have is an
error rather than a blank, and every template is rendered with sample facts at start-up
(:func:`check_templates`): a mistake is refused then, naming the file and line, instead
of in a letter to a customer.

The text they produce is a small block format (see ``gateway.letters.render``):
``# title``, ``## heading``, ``- item``, paragraphs separated by blank lines.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from gateway.common.compiled_templates import CompiledTemplates
from gateway.letters.facts import LetterKind
from gateway.letters.words import Lang

DEFAULTS = Path(__file__).parent / "defaults"
LANGS: tuple[Lang, ...] = ("en", "cy")
# The templates compiled once per process, for every gateway's environment (all alike):
# a file changed since is compiled again.
_COMPILED = CompiledTemplates()


class TemplateProblem(ValueError):
    """A letter template cannot be used; the message names the file and line."""

    def __init__(self, name: str, line: int | None, message: str) -> None:
        where = f"{name} line {line}" if line else name
        super().__init__(f"letter template {where}: {message}")
        self.name = name
        self.line = line


def template_name(kind: LetterKind, lang: Lang) -> str:
    return f"{kind.value}.{lang}.txt"


class LetterTemplates:
    """The templates in force: ``folder`` (the organisation's) over the defaults."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        loaders: list[jinja2.BaseLoader] = []
        if folder is not None:
            loaders.append(jinja2.FileSystemLoader(str(folder)))
        loaders.append(jinja2.FileSystemLoader(str(DEFAULTS)))
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            bytecode_cache=_COMPILED,
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # noqa: S701 - plain text, escaped where it becomes PDF markup
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def source(self, name: str) -> str:
        """Where ``name`` comes from: the organisation's folder or the defaults."""
        if self.folder is not None and (self.folder / name).is_file():
            return "organisation"
        return "default"

    def render(self, kind: LetterKind, lang: Lang, context: dict[str, Any]) -> str:
        """The letter's text in full, or :class:`TemplateProblem` (never a part of it)."""
        name = template_name(kind, lang)
        try:
            return self._env.get_template(name).render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(exc.name or name, exc.lineno, exc.message or str(exc)) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(name, None, f"cannot find {exc.name}") from None
        except (jinja2.UndefinedError, TypeError, ValueError) as exc:
            where, line = _template_frame(exc, name)
            raise TemplateProblem(where, line, _undefined_words(exc)) from None


def _template_frame(exc: BaseException, default: str) -> tuple[str, int | None]:
    """The innermost template file and line in ``exc``'s traceback (Jinja2 rewrites
    the frames of compiled templates to the template's own file and line)."""
    found: tuple[str, int | None] = (default, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".txt"):
            found = (Path(frame.filename).name, frame.lineno)
    return found


def _undefined_words(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        return f"{text} (a field letters do not have; see docs/administrator.md for the fields)"
    return text


def check_templates(templates: LetterTemplates, samples: Iterable[dict[str, Any]]) -> None:
    """Render every letter in every language with each sample context; raise the first
    :class:`TemplateProblem` (a syntax error, an unknown field) found."""
    samples = list(samples)
    for kind in LetterKind:
        for lang in LANGS:
            for context in samples:
                if context["lang"] == lang and context["kind"] == kind.value:
                    templates.render(kind, lang, context)
