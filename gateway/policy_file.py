"""The policy file of SPEC §3: read it for ``rules import``, write it for ``rules export``.

The people who write these files are housing officers, so a refused file must say what
is wrong in their words and where: every problem (not just the first) with its line, the
item it belongs to (by id) and the field. Nothing here touches the store: the caller
passes what is already stored as ``existing`` and writes the result only if this module
raised nothing.

Plain YAML values are read as text, and the models decide what each field means. YAML
1.1 would otherwise read ``start: 10:00`` as the number 600, ``phones: [+447700900123]``
as an integer, ``name: No`` as false and ``id: 0123`` as an octal number; each of those
is a silent change of meaning in a document a person typed. Only ``~``, ``null`` and an
empty value mean "nothing". ``true``/``yes`` and numbers still work because the models
accept them as text (``max: "5"`` is 5). Files written by :func:`dump_policy` quote every
value a standard YAML reader would mistype, so other tools read them the same way.

The YAML node tree (with line numbers) is composed anyway on the way to Python data, so
it is kept and walked to place each problem on its line; the happy path costs nothing
extra for it.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.models import (
    Customer,
    Officer,
    Policy,
    Restriction,
    format_loc,
    format_utc,
    reference_problems,
)

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_REPORTED = 50
"""How many problems ``str(PolicyFileError)`` lists before "and N more"."""

_SECTIONS: dict[str, type[Officer] | type[Customer] | type[Restriction]] = {
    "officers": Officer,
    "customers": Customer,
    "restrictions": Restriction,
}
_KIND = {"officers": "officer", "customers": "customer", "restrictions": "restriction"}
_MERGE_TAG = "tag:yaml.org,2002:merge"
Loc = tuple[str | int, ...]
Item = Officer | Customer | Restriction


@dataclass(frozen=True)
class FileProblem:
    """One thing wrong with a policy file, placed where a person can find it."""

    line: int | None
    where: str
    message: str
    column: int | None = None

    def __str__(self) -> str:
        place = "" if self.line is None else f"line {self.line}"
        if place and self.column is not None:
            place += f", column {self.column}"
        return ": ".join(part for part in (place, self.where, self.message) if part)


class PolicyFileError(ValueError):
    """A policy file that cannot be imported; ``problems`` holds all of them, in file order."""

    def __init__(self, problems: Iterable[FileProblem]) -> None:
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0))
        self.problems: list[FileProblem] = ordered
        super().__init__(self.report())

    def report(self, limit: int = MAX_REPORTED) -> str:
        """One problem a line, at most ``limit`` of them, so a terminal stays readable."""
        lines = [str(p) for p in self.problems[:limit]]
        hidden = len(self.problems) - limit
        if hidden > 0:
            lines.append(f"... and {hidden} more problem{'s' if hidden > 1 else ''}")
        return "\n".join(lines)


class _PolicyLoader(_BaseLoader):
    """Safe YAML loading where plain values stay text and repeated keys are noticed.

    PyYAML keeps the last of two equal keys without a word; in a policy file that drops
    a whole section or an officer's email, so every repeat is recorded as a problem.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.repeated_keys: list[tuple[Node, Node]] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, Node] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE_TAG:
                first = seen.setdefault(key_node.value, key_node)
                if first is not key_node:
                    self.repeated_keys.append((first, key_node))
        return super().construct_mapping(node, deep)


_PolicyLoader.yaml_implicit_resolvers = {}  # drop YAML 1.1's guesses: int, float, bool, dates
_PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_PolicyLoader.add_implicit_resolver(_MERGE_TAG, re.compile(r"^(?:<<)$"), ["<"])


def _tagged(tag: str) -> Any:
    """PyYAML's constructor for an explicit tag (``!!int x``), failing as a YAML error."""
    construct = yaml.constructor.SafeConstructor.yaml_constructors[tag]

    def checked(loader: _PolicyLoader, node: Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, OverflowError, IndexError, KeyError):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"'{node.value}' cannot be read as {tag.rpartition(':')[2]}",
                node.start_mark,
            ) from None

    return checked


for _tag in ("bool", "int", "float", "timestamp"):
    _PolicyLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _tagged(f"tag:yaml.org,2002:{_tag}"))


def load_policy_file(text: str, *, region: str = "GB", existing: Policy | None = None) -> Policy:
    """Read and check a whole policy file before anything of it is stored.

    Items with the id of a stored item replace it, so references are checked against
    ``existing`` merged with the file. Returns only the file's own items: a Policy that
    may refer to stored officers and customers (it is built without re-running the
    Policy-level check, which would see only the file). Raises :class:`PolicyFileError`
    with every problem found.
    """
    text = text.removeprefix("\ufeff")
    loader = _PolicyLoader(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise PolicyFileError([_yaml_problem(exc, text)]) from None
    finally:
        loader.dispose()
    problems = [_repeated_key_problem(first, again, root) for first, again in loader.repeated_keys]
    sections = _sections(data, root, problems)
    context = {"region": region}
    items: dict[str, list[Item | None]] = {}
    for name, raw_items in sections.items():
        model = _SECTIONS[name]
        checked: list[Item | None] = []
        for index, raw in enumerate(raw_items):
            try:
                checked.append(model.model_validate(raw, context=context))
            except ValidationError as exc:
                checked.append(None)
                problems.extend(_item_problems(name, index, raw, exc, root))
        items[name] = checked
    problems.extend(_cross_problems(items, sections, existing or Policy(), root))
    if problems:
        raise PolicyFileError(problems)
    return _unchecked({name: [i for i in found if i is not None] for name, found in items.items()})


def _unchecked(sections: dict[str, list[Any]]) -> Policy:
    """A Policy of already-validated items, without the Policy-level reference check."""
    return Policy.model_construct(
        officers=sections.get("officers", []),
        customers=sections.get("customers", []),
        restrictions=sections.get("restrictions", []),
    )


def _sections(data: Any, root: Node | None, problems: list[FileProblem]) -> dict[str, list[Any]]:
    """The file's sections as lists, recording what is wrong with the file's outline."""
    if root is None or data is None or data == {}:
        problems.append(
            FileProblem(
                None if root is None else _line(root),
                "",
                "the file has nothing to import: it needs at least one of the sections "
                "officers:, customers: or restrictions:",
            )
        )
        return {}
    if not isinstance(data, dict):
        problems.append(
            FileProblem(
                _line(root),
                "",
                "the file should be made of the sections officers:, customers: and "
                f"restrictions:, but it is {_describe(data)}",
            )
        )
        return {}
    sections: dict[str, list[Any]] = {}
    for key, value in data.items():
        line = _locate(root, (key,))
        if key not in _SECTIONS:
            problems.append(FileProblem(line, "", _unknown("section", key, list(_SECTIONS))))
        elif value is None:
            sections[key] = []
        elif not isinstance(value, list):
            hint = " (put '- ' before each item)" if isinstance(value, dict) else ""
            problems.append(
                FileProblem(line, key, f"should be a list of items{hint}, not {_describe(value)}")
            )
        else:
            sections[key] = value
    return sections


def _item_problems(
    section: str, index: int, raw: Any, exc: ValidationError, root: Node | None
) -> list[FileProblem]:
    """Pydantic's errors for one item, put into words and onto lines."""
    grouped: dict[Loc, list[ErrorDetails]] = {}
    for error in exc.errors(include_url=False):
        grouped.setdefault(_data_loc(raw, error), []).append(error)
    model = _SECTIONS[section]
    misspelt = {  # 'emial' is reported as unknown; its "missing field 'email'" would be noise
        (*loc[:-1], _suggestion(loc[-1], _fields(model, loc[:-1])))
        for loc, errors in grouped.items()
        if errors[0]["type"] == "extra_forbidden"
    }
    out: list[FileProblem] = []
    for loc, errors in grouped.items():
        if errors[0]["type"] == "missing" and loc in misspelt:
            continue
        loc = _pin_list_item(raw, loc, errors)
        message = _message(model, loc, errors)
        shown = loc[:-1] if errors[0]["type"] in ("missing", "extra_forbidden") else loc
        line_loc = loc
        if not loc or isinstance(_at(raw, loc), dict):
            line_loc = loc + _leading_field(model, raw, loc, message)
        line = _locate(root, (section, index, *line_loc))
        out.append(FileProblem(line, _where(section, index, raw, shown), message))
    return out


def _cross_problems(
    items: dict[str, list[Item | None]],
    sections: dict[str, list[Any]],
    existing: Policy,
    root: Node | None,
) -> list[FileProblem]:
    """reference_problems over the stored policy with the file's items laid over it.

    Stored items come first so that a clash between a stored and a new item is reported
    on the new one, which is the line the person can change. An item that failed its own
    checks still counts as present (by its written id), so that its mistakes are not
    repeated as "unknown customer" everywhere it is named.
    """
    merged: dict[str, list[Any]] = {}
    origin: dict[str, list[int | None]] = {}
    for name in _SECTIONS:
        mine: list[tuple[int, Any]] = []
        for index, item in enumerate(items.get(name, [])):
            if item is None:
                item = _stand_in(name, sections[name][index])
            if item is not None:
                mine.append((index, item))
        ids = {item.id for _, item in mine}
        kept = [item for item in getattr(existing, name) if item.id not in ids]
        merged[name] = kept + [item for _, item in mine]
        origin[name] = [None] * len(kept) + [index for index, _ in mine]
    out: list[FileProblem] = []
    for problem in reference_problems(_unchecked(merged)):
        kind, position, *rest = problem.loc
        assert isinstance(kind, str) and isinstance(position, int)
        out.append(
            _cross_problem(kind, position, rest, problem.message, merged, origin, sections, root)
        )
    return out


def _cross_problem(
    kind: str,
    position: int,
    rest: list[str | int],
    message: str,
    merged: dict[str, list[Any]],
    origin: dict[str, list[int | None]],
    sections: dict[str, list[Any]],
    root: Node | None,
) -> FileProblem:
    """Place one reference problem of the merged policy on the file's line for it."""
    found = merged[kind][position]
    at = origin[kind][position]
    if at is None:
        where = f"{_KIND[kind]} {found.id} (already stored)"
        return FileProblem(None, f"{where}, {format_loc(tuple(rest))}" if rest else where, message)
    raw = sections[kind][at]
    if rest == ["id"]:
        first = next(i for i, other in enumerate(merged[kind]) if other.id == found.id)
        first_at = origin[kind][first]
        if first_at is not None:
            message += f" (also at line {_locate(root, (kind, first_at))})"
    if len(rest) == 2 and isinstance(rest[1], int):
        written = _at(raw, (rest[0],))
        if not isinstance(written, list) or len(written) != len(getattr(found, str(rest[0]))):
            rest = rest[:1]  # de-duplication moved the entries; point at the field
    line = _locate(root, (kind, at, *rest))
    return FileProblem(line, _where(kind, at, raw, tuple(rest)), message)


def _stand_in(section: str, raw: Any) -> Item | None:
    """A placeholder for an invalid item, carrying only its written id."""
    written = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(written, str) or not written.strip():
        return None
    if section == "officers":
        return Officer.model_construct(id=written.strip(), name="", email="", deputy=None)
    if section == "customers":
        return Customer.model_construct(id=written.strip(), name="", emails=[], phones=[])
    return None  # a broken restriction's own references are not worth guessing at


def _data_loc(raw: Any, error: ErrorDetails) -> Loc:
    """The error's loc cut to what exists in the file (drops union tags like 'str-enum')."""
    loc = error["loc"]
    if error["type"] == "invalid_key":
        return loc[:-1]
    if error["type"] == "missing" and _at(raw, loc[:-1]) is not _ABSENT:
        return loc
    end = len(loc)
    while end and _at(raw, loc[:end]) is _ABSENT:
        end -= 1
    return loc[:end]


def _pin_list_item(raw: Any, loc: Loc, errors: list[ErrorDetails]) -> Loc:
    """Point a whole-list error ("'0770' is not a possible number") at the entry it quotes."""
    written = _at(raw, loc)
    if not isinstance(written, list) or errors[0]["type"] != "value_error":
        return loc
    quoted = re.match(r"^'(.*?)' ", _clean(errors[0]["msg"]))
    if quoted:
        for position, entry in enumerate(written):
            if isinstance(entry, str) and entry.strip() == quoted.group(1):
                return (*loc, position)
    return loc


def _leading_field(model: type[BaseModel], raw: Any, loc: Loc, message: str) -> Loc:
    """For a whole-item error that starts with a field name, the line of that field."""
    word = re.match(r"^([a-z_]+)\b", message)
    fields = _fields(model, loc)
    mapping = _at(raw, loc)
    if word and word.group(1) in fields and isinstance(mapping, dict) and word.group(1) in mapping:
        return (word.group(1),)
    return ()


def _message(model: type[BaseModel], loc: Loc, errors: list[ErrorDetails]) -> str:
    if len(errors) > 1 and all(e["type"] in ("enum", "literal_error") for e in errors):
        allowed = [v for e in errors for v in re.findall(r"'([^']*)'", str(e["ctx"]["expected"]))]
        return _not_one_of(errors[0]["input"], allowed)
    return "; ".join(dict.fromkeys(_error_text(model, loc, e) for e in errors))


def _error_text(model: type[BaseModel], loc: Loc, error: ErrorDetails) -> str:
    """Pydantic's error in the words of someone who has never heard of pydantic."""
    kind, value, ctx = error["type"], error["input"], error.get("ctx", {})
    shown = _show(value)
    if kind == "missing":
        return f"missing field '{loc[-1]}'"
    if kind == "extra_forbidden":
        return _unknown("field", loc[-1], _fields(model, loc[:-1]))
    if kind == "invalid_key":
        return "a field has no name" if value is None else f"field name {shown} is not a word"
    if value is None and kind not in ("value_error", "assertion_error"):
        return "has no value; write one, or leave the field out if it is optional"
    if kind in ("enum", "literal_error"):
        return _not_one_of(value, re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    if kind == "string_type":
        return f"should be a single piece of text, not {_describe(value)}"
    if kind == "list_type":
        example = f": write [{value}]" if isinstance(value, str) else ""
        return f"should be a list{example}, not {_describe(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"should be a set of fields like 'name: value', not {_describe(value)}"
    if kind.startswith("int_"):
        return f"{shown} is not a whole number"
    if kind.startswith("bool_"):
        return f"{shown} is not true or false"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {"greater_than_equal": "at least", "less_than_equal": "at most"}
        bound = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
        return f"must be {words.get(kind, kind.replace('_', ' '))} {bound}, not {value}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} entry, but has none"
    if kind == "timezone_aware":
        return (
            f"{shown} has no time zone: add Z for UTC (e.g. 2026-11-01T09:00:00Z) "
            "or an offset such as +01:00"
        )
    if kind.startswith("datetime_"):
        return f"{shown} is not a date and time like 2026-11-01T09:00:00Z{_why(ctx)}"
    if kind.startswith("date_"):
        return f"{shown} is not a date like 2027-05-01{_why(ctx)}"
    return _clean(error["msg"])


def _why(ctx: dict[str, Any]) -> str:
    return f" ({ctx['error']})" if isinstance(ctx.get("error"), str) else ""


def _clean(message: str) -> str:
    message = re.sub(r"^(Value error|Assertion failed), ", "", message)
    return re.sub(r"\s*\[?For further information visit \S+\]?", "", message).strip()


def _not_one_of(value: Any, allowed: Sequence[str]) -> str:
    if value is None:
        return f"has no value; write one of: {', '.join(allowed)}"
    return f"{_show(value)} is not one of: {', '.join(allowed)}"


def _unknown(what: str, key: Any, allowed: list[str]) -> str:
    text = f"unknown {what} {_show(key)} (allowed: {', '.join(allowed)})"
    close = _suggestion(key, allowed)
    return text + (f"; did you mean '{close}'?" if close else "")


def _suggestion(key: Any, allowed: list[str]) -> str | None:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    return close[0] if close else None


def _fields(model: type[BaseModel], loc: Loc) -> list[str]:
    target = _model_at(model, loc)
    return list(target.model_fields) if target is not None else []


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, datetime | date | int | float | bool):
        return f"'{value.isoformat() if isinstance(value, date) else value}'"
    return _describe(value)


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a set of fields"
    return f"the value {_show(value)}"


def _where(section: str, index: int, raw: Any, loc: Loc) -> str:
    """Name the item as its author knows it: by id, else by its place in the section."""
    written = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(written, str) and written.strip():
        name = f"{_KIND[section]} {written.strip()}"
    else:
        name = f"{_KIND[section]} #{index + 1}"
    return f"{name}, {format_loc(loc)}" if loc else name


_ABSENT = object()


def _at(data: Any, loc: Loc) -> Any:
    """The written value at ``loc``, or ``_ABSENT``."""
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif not (isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)):
            return _ABSENT
        else:
            data = data[part]
    return data


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if typing.get_origin(current) is list and args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field is not None else None
        else:
            return None
        if isinstance(current, types.UnionType) or typing.get_origin(current) is typing.Union:
            current = next((a for a in typing.get_args(current) if a is not type(None)), None)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _locate(root: Node | None, loc: Loc) -> int | None:
    """The 1-based line of the deepest part of ``loc`` that the file has."""
    if root is None:
        return None
    node: Node = root
    line = node.start_mark.line
    for part in loc:
        if isinstance(node, MappingNode) and isinstance(part, str):
            pairs = [(k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == part]
            if not pairs:
                break
            key, node = pairs[-1]  # the value YAML kept is the last one written
            line = key.start_mark.line
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _repeated_key_problem(first: Node, again: Node, root: Node | None) -> FileProblem:
    key, line = first.value, _line(again)
    sections = root.value if isinstance(root, MappingNode) else []
    if any(k is first for k, _ in sections):
        message = f"section '{key}' is written twice (also at line {_line(first)}); "
        return FileProblem(line, "", message + f"put all {key} in one list")
    where = ""
    for section_key, section in sections:
        if section_key.value in _SECTIONS and isinstance(section, SequenceNode):
            for index, item in enumerate(section.value):
                if item.start_mark.line < line <= item.end_mark.line + 1:
                    pairs = item.value if isinstance(item, MappingNode) else []
                    written = {
                        k.value: v.value
                        for k, v in pairs
                        if isinstance(k, ScalarNode) and isinstance(v, ScalarNode)
                    }
                    where = _where(section_key.value, index, written, ())
    return FileProblem(
        line,
        where,
        f"field '{key}' is written twice (also at line {_line(first)}); "
        "only one can be kept, so remove the other",
    )


_YAML_HINTS = (
    (
        "mapping values are not allowed",
        "a ':' is not expected here: check that this line is "
        "indented like the lines around it, and put a value that contains ': ' in quotes",
    ),
    (
        "cannot start any token",
        "YAML does not allow this character here: indent with spaces "
        "(not tabs), and put a value that starts with '@' or '`' in quotes",
    ),
    (
        "did not find expected key",
        "this line does not line up with the lines above it: "
        "check the indentation, and that every quote is closed",
    ),
    (
        "expected <block end>",
        "this line does not line up with the lines above it: check the indentation",
    ),
    (
        "expected '-' indicator",
        "this line does not line up with the list above it: "
        "every item of a list starts with '- ' at the same indentation",
    ),
    (
        "could not find expected ':'",
        "expected 'field: value' here: is a ':' missing, or a quote not closed?",
    ),
    ("unexpected end of stream", "the file ends before a quote or bracket is closed"),
    ("',' or ']'", "a list in [ ] is not closed, or its entries are not separated by commas"),
    (
        "',' or '}'",
        "a set of fields in { } is not closed, or its fields are not separated by commas",
    ),
    ("another document", "the file holds a second document (a '---' line); keep everything in one"),
    ("undefined alias", "'*name' refers to an anchor '&name' that is not defined above it"),
    ("determine a constructor", "tags such as '!name' cannot be used in a policy file"),
    ("unhashable key", "a field name must be a plain word, not a list or a set of fields"),
)


def _yaml_problem(exc: yaml.YAMLError, text: str) -> FileProblem:
    """A YAML syntax error, placed at its line and column and explained plainly."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return FileProblem(
            line,
            "",
            f"the file contains a character that is not allowed (#x{exc.character:04x})",
        )
    mark = getattr(exc, "problem_mark", None)
    problem = str(getattr(exc, "problem", None) or exc)
    hint = next((words for key, words in _YAML_HINTS if key in problem), problem)
    if mark is None:
        return FileProblem(None, "", f"this is not valid YAML: {hint}")
    lines = text.splitlines()
    written = lines[mark.line] if mark.line < len(lines) else ""
    if "\t" in written[: len(written) - len(written.lstrip())]:
        hint = "this line is indented with a tab; YAML needs spaces"
    context, opened = getattr(exc, "context_mark", None), str(getattr(exc, "context", ""))
    if (
        context is not None
        and context.line != mark.line
        and ("quoted" in opened or "flow" in opened)
    ):
        hint += f" (the quote or bracket opened at line {context.line + 1})"
    return FileProblem(mark.line + 1, "", f"this is not valid YAML: {hint}", mark.column + 1)


class _PolicyDumper(yaml.SafeDumper):
    """SafeDumper that writes instants and dates as SPEC §3 shows them, lists indented."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _timestamp(dumper: yaml.SafeDumper, value: date) -> yaml.ScalarNode:
    text = format_utc(value) if isinstance(value, datetime) else value.isoformat()
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


def _enum(dumper: yaml.SafeDumper, value: Enum) -> yaml.ScalarNode:
    return dumper.represent_str(str(value.value))


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Double-quote text with a YAML 1.1 line break (NEL, LS, PS): other styles fold it."""
    if any(ch in value for ch in "\x85\u2028\u2029"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_PolicyDumper.add_representer(datetime, _timestamp)
_PolicyDumper.add_representer(date, _timestamp)
_PolicyDumper.add_multi_representer(Enum, _enum)
_PolicyDumper.add_representer(str, _text)


def dump_policy(policy: Policy) -> str:
    """Write a policy in the SPEC §3 layout, leaving out what is empty or unset.

    The result reads back to an equal Policy with :func:`load_policy_file`; leaving out
    ``None`` and empty lists is safe because those are the models' defaults. Each item is
    written one field a line, and the small parts of an item (windows, limits,
    representatives, lists of addresses) one a line, as in SPEC §3.
    """
    data = {
        name: [_Block(_prune(item.model_dump())) for item in getattr(policy, name)]
        for name in _SECTIONS
    }
    return yaml.dump(data, Dumper=_PolicyDumper, sort_keys=False, allow_unicode=True, width=10**6)


class _Block(dict[str, Any]):
    """A mapping written one field a line."""


class _Flow(dict[str, Any]):
    """A mapping written on one line, in braces."""


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return _Flow({k: _prune(v) for k, v in value.items() if v is not None and v != []})
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


_PolicyDumper.add_representer(
    _Block, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=False)
)
_PolicyDumper.add_representer(
    _Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True)
)
_PolicyDumper.add_representer(
    list,
    lambda d, v: d.represent_sequence(
        "tag:yaml.org,2002:seq", v, flow_style=not v or not isinstance(v[0], dict)
    ),
)
