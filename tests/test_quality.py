"""The house rules that tools can check: lint, format, types, import layering.

Run as tests so that the one test command (README, .ci/run) checks them too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        pytest.param(("mypy", "rules"), marks=pytest.mark.slow),
        pytest.param(("mypy", "gateway", "channels"), marks=pytest.mark.slow),
        ("lint-imports",),
    ],
    ids=["ruff check", "ruff format", "mypy --strict rules", "mypy gateway channels", "imports"],
)
def test_tool_is_clean(command: tuple[str, ...]) -> None:
    result = _run(*command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_imports_one_that_imports_it_back() -> None:
    """No import cycle inside ``gateway``, ``channels`` or ``rules``, direct or roundabout.

    import-linter checks that the parts are layered; this checks the modules inside
    each part too (``rules.decision`` and ``rules.notices`` once imported each other).
    """
    import grimp

    graph = grimp.build_graph("gateway", "channels", "rules")
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.append(" -> ".join((module, *back)))
    assert cycles == [], "\n".join(cycles)
