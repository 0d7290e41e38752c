"""rules/exemption_real_words.py is what its generator makes from today's phrases.

The list of English words never taken for a slip is written from Debian's word lists
(wbritish, wamerican) by tests/corpus/exemptions/real_words.py. After a phrase change
the generator must be run again; this test says so. .ci/run installs the word lists;
on a machine without them there is nothing to compare against.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rules.exemption_real_words import REAL_WORDS

GENERATOR = Path(__file__).resolve().parents[1] / "corpus" / "exemptions" / "real_words.py"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("real_words", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_real_words_are_up_to_date() -> None:
    generator = _generator()
    if not all(path.is_file() for path in generator.DICTIONARIES):
        pytest.skip("Debian's word lists (wbritish, wamerican) are not installed")
    assert sorted(REAL_WORDS) == generator.real_words(), (
        "run: python tests/corpus/exemptions/real_words.py"
    )
    assert "scarred" in REAL_WORDS  # one letter from "scared"
