"""Regenerate the example letters shown in the docs: docs/images/letter-decision-*.png.

    .venv/bin/python docs/letters_images.py

Renders the sample decision letter (gateway.letters.letter.sample_inputs) with the
shipped templates in English, Welsh and English large print, and turns the first page
of each PDF into a PNG with pdftoppm (poppler-utils).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.letters.facts import LetterKind
from gateway.letters.letter import sample_inputs, write_letter
from gateway.letters.templates import LetterTemplates

OUT = Path(__file__).parent / "images"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    decision = next(
        i
        for i in sample_inputs("Example Housing", ZoneInfo("Europe/London"))
        if i.kind is LetterKind.DECISION and i.officers
    )
    for name, lang, large in (
        ("en", "en", False),
        ("cy", "cy", False),
        ("large-print", "en", True),
    ):
        letter = write_letter(LetterTemplates(), decision, lang, large_print=large)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory() as tmp:
            pdf = Path(tmp) / "letter.pdf"
            pdf.write_bytes(letter.pdf)
            target = OUT / f"letter-decision-{name}"
            subprocess.run(  # noqa: S603 - fixed arguments, our own files
                [  # noqa: S607 - pdftoppm from poppler-utils, on PATH
                    "pdftoppm",
                    "-png",
                    "-r",
                    "70",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(pdf),
                    str(target),
                ],
                check=True,
            )
        print(f"{target}.png")


if __name__ == "__main__":
    main()
