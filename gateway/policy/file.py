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

from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import Node

from gateway.policy.problems import (
    MAX_REPORTED,
    SECTIONS,
    FileProblem,
    Item,
    PolicyFileError,
    cross_problems,
    item_problems,
    locate,
    node_line,
    unchecked_policy,
)
from gateway.policy.wording import describe, unknown
from gateway.policy.yaml_io import (
    Block,
    PolicyDumper,
    PolicyLoader,
    prune,
    repeated_key_problem,
    yaml_problem,
)
from rules.models import Policy
from rules.scope import Teams

__all__ = ["MAX_REPORTED", "FileProblem", "PolicyFileError", "dump_policy", "load_policy_file"]


def load_policy_file(
    text: str,
    *,
    region: str = "GB",
    existing: Policy | None = None,
    teams: Teams | None = None,
) -> Policy:
    """Read and check a whole policy file before anything of it is stored.

    Items with the id of a stored item replace it, so references are checked against
    ``existing`` merged with the file, and the teams a restriction's scope names against
    the organisation's ``teams`` (not checked when None). Returns only the file's own
    items: a Policy that may refer to stored officers and customers (it is built without
    re-running the Policy-level check, which would see only the file). Raises
    :class:`PolicyFileError` with every problem found.
    """
    text = text.removeprefix("\ufeff")
    loader = PolicyLoader(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise PolicyFileError([yaml_problem(exc, text)]) from None
    finally:
        loader.dispose()
    problems = [repeated_key_problem(first, again, root) for first, again in loader.repeated_keys]
    sections = _sections(data, root, problems)
    context = {"region": region}
    items: dict[str, list[Item | None]] = {}
    for name, raw_items in sections.items():
        model = SECTIONS[name]
        checked: list[Item | None] = []
        for index, raw in enumerate(raw_items):
            try:
                checked.append(model.model_validate(raw, context=context))
            except ValidationError as exc:
                checked.append(None)
                problems.extend(item_problems(name, index, raw, exc, root))
        items[name] = checked
    problems.extend(cross_problems(items, sections, existing or Policy(), root, teams))
    if problems:
        raise PolicyFileError(problems)
    return unchecked_policy(
        {name: [i for i in found if i is not None] for name, found in items.items()}
    )


def _sections(data: Any, root: Node | None, problems: list[FileProblem]) -> dict[str, list[Any]]:
    """The file's sections as lists, recording what is wrong with the file's outline."""
    if root is None or data is None or data == {}:
        problems.append(
            FileProblem(
                None if root is None else node_line(root),
                "",
                "the file has nothing to import: it needs at least one of the sections "
                "officers:, customers: or restrictions:",
            )
        )
        return {}
    if not isinstance(data, dict):
        problems.append(
            FileProblem(
                node_line(root),
                "",
                "the file should be made of the sections officers:, customers: and "
                f"restrictions:, but it is {describe(data)}",
            )
        )
        return {}
    sections: dict[str, list[Any]] = {}
    for key, value in data.items():
        line = locate(root, (key,))
        if key not in SECTIONS:
            problems.append(FileProblem(line, "", unknown("section", key, list(SECTIONS))))
        elif value is None:
            sections[key] = []
        elif not isinstance(value, list):
            hint = " (put '- ' before each item)" if isinstance(value, dict) else ""
            problems.append(
                FileProblem(line, key, f"should be a list of items{hint}, not {describe(value)}")
            )
        else:
            sections[key] = value
    return sections


def dump_policy(policy: Policy) -> str:
    """Write a policy in the SPEC §3 layout, leaving out what is empty or unset.

    The result reads back to an equal Policy with :func:`load_policy_file`; leaving out
    ``None`` and empty lists is safe because those are the models' defaults. Each item is
    written one field a line, and the small parts of an item (windows, limits,
    representatives, lists of addresses) one a line, as in SPEC §3.
    """
    data = {
        name: [Block(prune(item.model_dump())) for item in getattr(policy, name)]
        for name in SECTIONS
    }
    return yaml.dump(data, Dumper=PolicyDumper, sort_keys=False, allow_unicode=True, width=10**6)
