"""Problems of a policy file and their lines (private to ``gateway.policy.file``).

Pydantic's errors for each item and the reference problems of the stored policy merged
with the file are both given as locations inside the data; here they are placed on the
line of the YAML node tree that wrote them and named by the item's id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gateway.policy.wording import (
    Loc,
    clean_message,
    error_message,
    field_names,
    suggestion,
)
from rules.models import (
    Customer,
    Officer,
    Policy,
    Restriction,
    format_loc,
    reference_problems,
)
from rules.scope import Teams

MAX_REPORTED = 50
"""How many problems ``str(PolicyFileError)`` lists before "and N more"."""

SECTIONS: dict[str, type[Officer] | type[Customer] | type[Restriction]] = {
    "officers": Officer,
    "customers": Customer,
    "restrictions": Restriction,
}
_KIND = {"officers": "officer", "customers": "customer", "restrictions": "restriction"}
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


def unchecked_policy(sections: dict[str, list[Any]]) -> Policy:
    """A Policy of already-validated items, without the Policy-level reference check."""
    return Policy.model_construct(
        officers=sections.get("officers", []),
        customers=sections.get("customers", []),
        restrictions=sections.get("restrictions", []),
    )


def item_problems(
    section: str, index: int, raw: Any, exc: ValidationError, root: Node | None
) -> list[FileProblem]:
    """Pydantic's errors for one item, put into words and onto lines."""
    grouped: dict[Loc, list[ErrorDetails]] = {}
    for error in exc.errors(include_url=False):
        grouped.setdefault(_data_loc(raw, error), []).append(error)
    model = SECTIONS[section]
    misspelt = {  # 'emial' is reported as unknown; its "missing field 'email'" would be noise
        (*loc[:-1], suggestion(loc[-1], field_names(model, loc[:-1])))
        for loc, errors in grouped.items()
        if errors[0]["type"] == "extra_forbidden"
    }
    out: list[FileProblem] = []
    for loc, errors in grouped.items():
        if errors[0]["type"] == "missing" and loc in misspelt:
            continue
        loc = _pin_list_item(raw, loc, errors)
        message = error_message(model, loc, errors)
        shown = loc[:-1] if errors[0]["type"] in ("missing", "extra_forbidden") else loc
        line_loc = loc
        if not loc or isinstance(_at(raw, loc), dict):
            line_loc = loc + _leading_field(model, raw, loc, message)
        line = locate(root, (section, index, *line_loc))
        out.append(FileProblem(line, item_place(section, index, raw, shown), message))
    return out


def cross_problems(
    items: dict[str, list[Item | None]],
    sections: dict[str, list[Any]],
    existing: Policy,
    root: Node | None,
    teams: Teams | None = None,
) -> list[FileProblem]:
    """reference_problems over the stored policy with the file's items laid over it.

    Stored items come first so that a clash between a stored and a new item is reported
    on the new one, which is the line the person can change. An item that failed its own
    checks still counts as present (by its written id), so that its mistakes are not
    repeated as "unknown customer" everywhere it is named.
    """
    merged: dict[str, list[Any]] = {}
    origin: dict[str, list[int | None]] = {}
    for name in SECTIONS:
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
    for problem in reference_problems(unchecked_policy(merged), teams):
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
            message += f" (also at line {locate(root, (kind, first_at))})"
    if len(rest) == 2 and isinstance(rest[1], int):
        written = _at(raw, (rest[0],))
        if not isinstance(written, list) or len(written) != len(getattr(found, str(rest[0]))):
            rest = rest[:1]  # de-duplication moved the entries; point at the field
    line = locate(root, (kind, at, *rest))
    return FileProblem(line, item_place(kind, at, raw, tuple(rest)), message)


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
    quoted = re.match(r"^'(.*?)' ", clean_message(errors[0]["msg"]))
    if quoted:
        for position, entry in enumerate(written):
            if isinstance(entry, str) and entry.strip() == quoted.group(1):
                return (*loc, position)
    return loc


def _leading_field(model: type[BaseModel], raw: Any, loc: Loc, message: str) -> Loc:
    """For a whole-item error that starts with a field name, the line of that field."""
    word = re.match(r"^([a-z_]+)\b", message)
    fields = field_names(model, loc)
    mapping = _at(raw, loc)
    if word and word.group(1) in fields and isinstance(mapping, dict) and word.group(1) in mapping:
        return (word.group(1),)
    return ()


def item_place(section: str, index: int, raw: Any, loc: Loc) -> str:
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


def locate(root: Node | None, loc: Loc) -> int | None:
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


def node_line(node: Node) -> int:
    return int(node.start_mark.line) + 1
