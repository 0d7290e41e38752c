"""The README and docs/ hold together: short README, links that land, one test command.

MkDocs (``mkdocs build --strict`` in .ci/run) checks the links between pages of the site;
these checks also cover the README and the links from docs/ to files outside it (the
README, deploy/, examples/), which the site cannot check, and they run in the suite.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
MARKDOWN = [README, *PAGES]

FENCE = re.compile(r"^```.*?^```$", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def prose(text: str) -> str:
    """The text without code blocks and code spans, where links are only examples."""
    return CODE.sub("", FENCE.sub("", text))


def links(path: Path) -> list[str]:
    return LINK.findall(prose(path.read_text(encoding="utf-8")))


def mkdocs_slug(heading: str) -> str:
    """Python-Markdown's toc slug (what the site uses)."""
    text = re.sub(r"[^\w\s-]", "", heading).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def github_slug(heading: str) -> str:
    """GitHub's heading anchor (what a reader of the repository uses)."""
    text = re.sub(r"[^\w\s-]", "", heading.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Anchors that work both on GitHub and on the site: a link must use one of these."""
    headings = [
        CODE.sub(lambda m: m.group(0).strip("`"), h)
        for h in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8")))
    ]
    return {mkdocs_slug(h) for h in headings} & {github_slug(h) for h in headings}


def test_the_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= 250, f"README.md has {lines} lines; move detail into docs/"


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_lands(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif not resolved.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_checks_would_see_a_broken_link(tmp_path: Path) -> None:
    """The link and anchor checks above are not vacuous."""
    page = tmp_path / "page.md"
    page.write_text(
        "# A page: with `code`\n\nSee [this](#a-page-with-code), [that](missing.md), "
        "`[not this](nowhere.md)` and ![an image](pic.png).\n\n```\n[nor](this.md)\n```\n"
    )
    assert links(page) == ["#a-page-with-code", "missing.md", "pic.png"]
    assert anchors(page) == {"a-page-with-code"}


def test_the_readme_and_ci_run_the_same_test_command() -> None:
    readme = README.read_text(encoding="utf-8").splitlines()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line for line in readme if line.startswith("python3 -m venv .venv && ")]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/contact-gateway serve",
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/pytest",
    ]
    assert commands[1] in ci


def test_the_site_lists_every_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = [next(iter(item.values())) for item in config["nav"]]
    assert sorted(listed) == sorted(p.name for p in PAGES)
    assert config["theme"]["name"] == "material" and config["strict"] is True


def test_no_page_sends_readers_to_the_original_specification() -> None:
    """The specification is not in the repository; docs/contract.md is the contract."""
    for page in MARKDOWN:
        assert "SPEC.md" not in page.read_text(encoding="utf-8"), page
