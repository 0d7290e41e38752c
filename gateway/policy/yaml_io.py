"""YAML for the policy file (private to ``gateway.policy.file``): reading and writing.

The loader keeps plain values as text and notices repeated keys; YAML's own errors are
explained here in plain words. The dumper writes the SPEC §3 layout.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import Enum
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gateway.policy.problems import SECTIONS, FileProblem, item_place, node_line
from rules.models import format_utc

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class PolicyLoader(_BaseLoader):
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


PolicyLoader.yaml_implicit_resolvers = {}  # drop YAML 1.1's guesses: int, float, bool, dates
PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
PolicyLoader.add_implicit_resolver(_MERGE_TAG, re.compile(r"^(?:<<)$"), ["<"])


def _tagged(tag: str) -> Any:
    """PyYAML's constructor for an explicit tag (``!!int x``), failing as a YAML error."""
    construct = yaml.constructor.SafeConstructor.yaml_constructors[tag]

    def checked(loader: PolicyLoader, node: Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, OverflowError, IndexError, KeyError, AttributeError):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"'{node.value}' cannot be read as {tag.rpartition(':')[2]}",
                node.start_mark,
            ) from None

    return checked


for _tag in ("bool", "int", "float", "timestamp"):
    PolicyLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _tagged(f"tag:yaml.org,2002:{_tag}"))


def repeated_key_problem(first: Node, again: Node, root: Node | None) -> FileProblem:
    """A key written twice, reported on its second line and named by its item."""
    key, line = first.value, node_line(again)
    sections = root.value if isinstance(root, MappingNode) else []
    if any(k is first for k, _ in sections):
        message = f"section '{key}' is written twice (also at line {node_line(first)}); "
        return FileProblem(line, "", message + f"put all {key} in one list")
    where = ""
    for section_key, section in sections:
        if section_key.value in SECTIONS and isinstance(section, SequenceNode):
            for index, item in enumerate(section.value):
                if item.start_mark.line < line <= item.end_mark.line + 1:
                    pairs = item.value if isinstance(item, MappingNode) else []
                    written = {
                        k.value: v.value
                        for k, v in pairs
                        if isinstance(k, ScalarNode) and isinstance(v, ScalarNode)
                    }
                    where = item_place(section_key.value, index, written, ())
    return FileProblem(
        line,
        where,
        f"field '{key}' is written twice (also at line {node_line(first)}); "
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


def yaml_problem(exc: yaml.YAMLError, text: str) -> FileProblem:
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


class PolicyDumper(yaml.SafeDumper):
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


PolicyDumper.add_representer(datetime, _timestamp)
PolicyDumper.add_representer(date, _timestamp)
PolicyDumper.add_multi_representer(Enum, _enum)
PolicyDumper.add_representer(str, _text)


class Block(dict[str, Any]):
    """A mapping written one field a line."""


class _Flow(dict[str, Any]):
    """A mapping written on one line, in braces."""


def prune(value: Any) -> Any:
    """``value`` without ``None`` and empty lists, its inner mappings marked to flow."""
    if isinstance(value, dict):
        return _Flow({k: prune(v) for k, v in value.items() if v is not None and v != []})
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


PolicyDumper.add_representer(
    Block, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=False)
)
PolicyDumper.add_representer(
    _Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True)
)
PolicyDumper.add_representer(
    list,
    lambda d, v: d.represent_sequence(
        "tag:yaml.org,2002:seq", v, flow_style=not v or not isinstance(v[0], dict)
    ),
)
