"""Writes rules/exemption_real_words.py: English words one slip from a phrase word.

The classifier forgives one slip in a long phrase word ("boilr" is "boiler"), but a
real word one slip from a phrase word is not a slip: "treat" is not "threat", "looked"
is not "locked". This script takes a word list (Debian's wbritish and wamerican, at
/usr/share/dict), keeps the words that one slip would turn into a phrase word (by the
classifier's own rules) and are not phrase words themselves, and writes them into the
rules package as data, so the classifier reads no file at run time.

Run after changing the default phrases: ``python tests/corpus/exemptions/real_words.py``.
tests/rules/test_exemption_real_words.py checks the module is up to date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from rules.exemption_text import plain  # noqa: E402
from rules.exemption_words import slip_index, slips  # noqa: E402

DICTIONARIES = (Path("/usr/share/dict/british-english"), Path("/usr/share/dict/american-english"))
TARGET = ROOT / "rules" / "exemption_real_words.py"


def real_words() -> list[str]:
    from rules.exemptions import ExemptionClassifier

    classifier = ExemptionClassifier.build()
    vocabulary = classifier.vocabulary()
    index = slip_index(classifier.base_words())
    found = set()
    for dictionary in DICTIONARIES:
        for line in dictionary.read_text(encoding="utf-8").splitlines():
            word = plain(line.strip())
            if word.isalpha() and word not in vocabulary and slips(word, index, frozenset()):
                found.add(word)
    return sorted(found)


def render(words: list[str]) -> str:
    lines = [
        '"""English words one slip from a phrase word: never taken for a slip.',
        "",
        "Written by tests/corpus/exemptions/real_words.py from Debian's word lists; do not",
        'edit by hand."""',
        "",
        "REAL_WORDS = frozenset(",
        '    """',
    ]
    line = ""
    for word in words:
        if len(line) + len(word) + 1 > 88:
            lines.append("    " + line.rstrip())
            line = ""
        line += word + " "
    if line:
        lines.append("    " + line.rstrip())
    lines += ['    """.split()  # noqa: SIM905 (one word a place, as data)', ")", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    TARGET.write_text(render(real_words()), encoding="utf-8")
    print(f"wrote {TARGET}")
