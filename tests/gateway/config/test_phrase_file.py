"""The exemption phrase file is read each time a gateway is built, and a classifier is
built once per process for each text (gateway.config.exemption_phrases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.exemption_phrases import PhraseFileError, load_classifier

STAIRLIFT = "emergency_repair:\n  en:\n    add: [stairlift stuck]\n"
HOIST = "emergency_repair:\n  en:\n    add: [hoist stuck]\n"


def test_the_same_text_shares_a_classifier_and_a_changed_file_is_read_again(
    tmp_path: Path,
) -> None:
    phrases = tmp_path / "phrases.yaml"
    phrases.write_text(STAIRLIFT, encoding="utf-8")
    first = load_classifier(phrases, model=False)
    assert load_classifier(phrases, model=False) is first
    assert first.classify("the stairlift stuck again") == "emergency_repair"
    assert first.classify("the hoist stuck again") is None

    phrases.write_text(HOIST, encoding="utf-8")  # changed before the next start
    changed = load_classifier(phrases, model=False)
    assert changed is not first
    assert changed.classify("the hoist stuck again") == "emergency_repair"
    assert changed.classify("the stairlift stuck again") is None
    # The administrator's stored phrases come first, whatever the file says.
    stored = load_classifier(phrases, STAIRLIFT, model=False)
    assert stored.classify("the stairlift stuck again") == "emergency_repair"


def test_a_file_gone_or_broken_is_refused_every_time(tmp_path: Path) -> None:
    phrases = tmp_path / "phrases.yaml"
    phrases.write_text(STAIRLIFT, encoding="utf-8")
    load_classifier(phrases, model=False)
    phrases.write_text("emergency_repair: [", encoding="utf-8")
    with pytest.raises(PhraseFileError, match="not valid YAML"):
        load_classifier(phrases, model=False)
    phrases.unlink()
    with pytest.raises(PhraseFileError, match="cannot be read"):
        load_classifier(phrases, model=False)
