"""Every letter rendered to PDF and read back with pypdf: the facts it must carry, in
English, Welsh and both, in ordinary and large print; and bad templates refused."""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.letters.facts import LetterKind
from gateway.letters.letter import check_letter_templates, sample_inputs, write_letter
from gateway.letters.templates import LetterTemplates, TemplateProblem

LONDON = ZoneInfo("Europe/London")
INPUTS = sample_inputs("Example Housing", LONDON)
FULL = {i.kind: i for i in INPUTS if i.restriction and i.restriction.id == "R-2026-0001"}
BARE = [i for i in INPUTS if i.restriction and i.restriction.id == "R-2026-0002"]


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def font_sizes(pdf: bytes) -> set[float]:
    sizes: set[float] = set()

    def visit(text: str, cm: object, tm: list[float], font: object, size: float) -> None:
        if text.strip():
            sizes.add(round(size * tm[0], 1))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return sizes


# What each letter must say, in each language (facts from sample_inputs).
MUST = {
    (LetterKind.DECISION, "en"): [
        "Decision to restrict how you contact us",
        "Sam Jones",
        "R-2026-0001",
        "Over 40 calls a week",  # why
        "Monday 7 December 2026, 9 am",  # from when (local time, plain form)
        "Monday 7 June 2027, 10 am",  # until when (BST)
        "Sunday 7 March 2027",  # review date
        "20 working days",
        "Wednesday 6 January 2027",  # appeal deadline
        "appeals@example.org",
        "2 emails a day",  # a limit, not P1D
        "Tuesdays and Thursdays between 10 am and 12 noon",
        "01632 960999",  # the emergency line
        "Jo Smith, your named officer",
        "Asha Khan, deputy to your named officer",
        "Dana Morgan",
        "Senior Manager",
    ],
    (LetterKind.DECISION, "cy"): [
        "Penderfyniad i gyfyngu ar sut rydych yn cysylltu â ni",
        "Annwyl Sam Jones",
        "Dydd Llun 7 Rhagfyr 2026, 9 y.b.",
        "Dydd Llun 7 Mehefin 2027, 10 y.b.",
        "Dydd Sul 7 Mawrth 2027",
        "20 diwrnod gwaith",
        "Dydd Mercher 6 Ionawr 2027",
        "E-bost: dim mwy na 2 y dydd",
        "ar ddydd Mawrth a dydd Iau, rhwng 10 y.b. a hanner dydd",
        "ddŵr",
        "Jo Smith, eich swyddog enwebedig",
        "Uwch Reolwr",
        "Yn gywir",
    ],
    (LetterKind.WARNING, "en"): ["Warning about how you contact us", "40 times in one week"],
    (LetterKind.WARNING, "cy"): ["Rhybudd am sut rydych yn cysylltu â ni", "Beth allai ddigwydd"],
    (LetterKind.VARIATION, "en"): [
        "Change to the restriction",
        "Calls about repairs are now allowed.",
        "Wednesday 6 January 2027",
    ],
    (LetterKind.VARIATION, "cy"): ["Newid i'r cyfyngiad", "Sut i apelio"],
    (LetterKind.REVIEW, "en"): ["it will continue", "The calls continue.", "Sunday 6 June 2027"],
    (LetterKind.REVIEW, "cy"): [
        "a bydd yn parhau",
        "Yr adolygiad nesaf",
        "Dydd Sul 6 Mehefin 2027",
    ],
    (LetterKind.APPEAL_ACKNOWLEDGEMENT, "en"): [
        "We have received your appeal",
        "Tuesday 1 December 2026",
        "I needed to call about a leak.",
    ],
    (LetterKind.APPEAL_ACKNOWLEDGEMENT, "cy"): [
        "Rydym wedi cael eich apêl",
        "Dydd Mawrth 1 Rhagfyr 2026",
    ],
    (LetterKind.APPEAL_OUTCOME, "en"): [
        "has been varied",
        "Calls about repairs were being refused.",
    ],
    (LetterKind.APPEAL_OUTCOME, "cy"): ["newid y penderfyniad", "Ombwdsmon"],
}


@pytest.mark.parametrize(("kind", "lang"), sorted(MUST, key=str))
def test_each_letter_carries_its_facts(kind: LetterKind, lang: str) -> None:
    letter = write_letter(LetterTemplates(), FULL[kind], lang, large_print=False)  # type: ignore[arg-type]
    text = text_of(letter.pdf)
    missing = [fact for fact in MUST[(kind, lang)] if fact not in text]
    assert not missing, f"{kind} {lang} lacks {missing}:\n{text}"
    headings = ("What stays open to you", "Beth sy'n dal ar agor i chi")
    heading = next(h for h in headings if h in text)
    assert text.index(heading) < text.index("Jo Smith"), "a heading must come before its list"
    assert "P1D" not in text and "T09:00" not in text and "+44" not in text
    reader = PdfReader(io.BytesIO(letter.pdf))
    assert reader.metadata is not None and reader.metadata.title == letter.title
    assert reader.metadata.author == "Example Housing"
    assert reader.trailer["/Root"]["/Lang"] == ("en-GB" if lang == "en" else "cy-GB")


def test_bilingual_letter_is_welsh_first_then_english() -> None:
    letter = write_letter(
        LetterTemplates(), FULL[LetterKind.DECISION], "bilingual", large_print=False
    )
    text = text_of(letter.pdf)
    welsh, english = text.find("Penderfyniad i gyfyngu"), text.find("Decision to restrict")
    assert 0 <= welsh < english
    assert "Dydd Mercher 6 Ionawr 2027" in text and "Wednesday 6 January 2027" in text
    assert letter.title.startswith("Penderfyniad") and "/ Decision" in letter.title


def test_large_print_is_16_point_or_more_and_ordinary_print_is_not() -> None:
    decision = FULL[LetterKind.DECISION]
    large = write_letter(LetterTemplates(), decision, "en", large_print=True)
    ordinary = write_letter(LetterTemplates(), decision, "en", large_print=False)
    assert min(font_sizes(large.pdf)) >= 16, font_sizes(large.pdf)
    assert min(font_sizes(ordinary.pdf)) < 16
    assert len(PdfReader(io.BytesIO(large.pdf)).pages) > len(
        PdfReader(io.BytesIO(ordinary.pdf)).pages
    )
    assert "2 emails a day" in text_of(large.pdf)


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_the_other_side_of_each_choice(lang: str) -> None:
    """No officer, no channels, a review that lifts, an appeal that quashes."""
    kinds = {i.kind: i for i in BARE if i.appeal and i.appeal["outcome"] == "quash"}
    review = text_of(
        write_letter(LetterTemplates(), kinds[LetterKind.REVIEW], lang, large_print=False).pdf
    )  # type: ignore[arg-type]
    outcome = text_of(
        write_letter(
            LetterTemplates(), kinds[LetterKind.APPEAL_OUTCOME], lang, large_print=False
        ).pdf
    )  # type: ignore[arg-type]
    decision = text_of(
        write_letter(LetterTemplates(), kinds[LetterKind.DECISION], lang, large_print=False).pdf
    )  # type: ignore[arg-type]
    if lang == "en":
        assert "we have lifted it" in review and "No incidents since June." in review
        assert "The restriction has ended" in outcome
        assert "You may not contact us in any of the usual ways" in decision
        assert "call 999" in decision and "until we review it" in decision
    else:
        assert "rydym wedi'i godi" in review
        assert "Mae'r cyfyngiad wedi dod i ben" in outcome
        assert "Ni chewch gysylltu â ni" in decision and "ffoniwch 999" in decision


def test_the_same_letter_gives_the_same_pdf_and_hash() -> None:
    a = write_letter(LetterTemplates(), FULL[LetterKind.DECISION], "cy", large_print=False)
    b = write_letter(LetterTemplates(), FULL[LetterKind.DECISION], "cy", large_print=False)
    assert a.pdf == b.pdf and a.sha256 == b.sha256 and len(a.sha256) == 64


def test_an_organisation_template_replaces_the_default(tmp_path: Path) -> None:
    (tmp_path / "warning.en.txt").write_text(
        "# A word about your calls\n\nDear {{ customer.name }},\n\n{{ behaviour }}\n", "utf-8"
    )
    templates = LetterTemplates(tmp_path)
    check_letter_templates(templates, "Example Housing", LONDON)
    text = text_of(write_letter(templates, FULL[LetterKind.WARNING], "en", large_print=False).pdf)
    assert "A word about your calls" in text and "Warning about how" not in text
    assert templates.source("warning.en.txt") == "organisation"
    assert templates.source("decision.en.txt") == "default"


def test_a_template_changed_since_it_was_compiled_is_compiled_again(tmp_path: Path) -> None:
    """Every gateway in a process shares the compiled templates
    (gateway.common.compiled_templates), by file and the checksum of its text."""
    template = tmp_path / "warning.en.txt"
    template.write_text("# A word about your calls\n\n{{ behaviour }}\n", "utf-8")
    first = write_letter(
        LetterTemplates(tmp_path), FULL[LetterKind.WARNING], "en", large_print=False
    )
    template.write_text("# A second word about your calls\n\n{{ behaviour }}\n", "utf-8")
    second = write_letter(
        LetterTemplates(tmp_path), FULL[LetterKind.WARNING], "en", large_print=False
    )
    assert "A word about your calls" in text_of(first.pdf)
    assert "A second word about your calls" in text_of(second.pdf)


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ("# Title\n\n{% if customer.name %}\nno end\n", "line 4", "endif"),
        (
            "# Title\n\nDear {{ customer.name }},\n\n{{ customer.shoe_size }}\n",
            "line 5",
            "shoe_size",
        ),
        ("# Title\n\n{{ restriction.review_date }}\n", "line 3", "review_date"),
        ("# Title\n\n{{ customer.name | nosuchfilter }}\n", "line 3", "nosuchfilter"),
    ],
    ids=["syntax", "unknown-field", "unknown-restriction-field", "unknown-filter"],
)
def test_a_bad_template_is_refused_naming_file_and_line(
    tmp_path: Path, body: str, where: str, words: str
) -> None:
    (tmp_path / "decision.cy.txt").write_text(body, "utf-8")
    with pytest.raises(TemplateProblem) as caught:
        check_letter_templates(LetterTemplates(tmp_path), "Example Housing", LONDON)
    message = str(caught.value)
    assert "decision.cy.txt" in message and where in message and words in message, message


def test_a_bad_template_stops_the_gateway_starting(tmp_path: Path) -> None:
    (tmp_path / "_open.en.txt").write_text("## Open\n- {{ officer.nickname }}\n", "utf-8")
    settings = Settings(
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/g.db"},
        letter={"templates": tmp_path},
    )
    with pytest.raises(TemplateProblem, match=r"_open\.en\.txt line 2: .*nickname"):
        create_app(settings)


def test_the_templates_folder_must_exist(tmp_path: Path) -> None:
    from gateway.config.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=r"GATEWAY_LETTER_TEMPLATES: .*not a folder"):
        load_settings(letter={"templates": tmp_path / "nowhere"})


def test_a_gateway_loads_reportlab_only_when_a_document_is_drawn(tmp_path: Path) -> None:
    """Start-up checks every template's text, which needs no PDF library: reportlab and
    Pillow (about 20 MB, bench/memory.py's 200 MB target) wait for the first letter."""
    import subprocess
    import sys

    probe = (
        "import asyncio, sys\n"
        "from aiohttp import web\n"
        "from gateway.cli.main import server_app\n"
        "from gateway.config.settings import load_settings\n"
        "async def main():\n"
        "    runner = web.AppRunner(server_app(load_settings()))\n"
        "    await runner.setup()\n"
        "    print(sorted({m.split('.')[0] for m in sys.modules} & {'reportlab', 'PIL'}))\n"
        "    await runner.cleanup()\n"
        "asyncio.run(main())\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
        "GATEWAY_SMTP_PORT": "0",
        "GATEWAY_UPSTREAM": f"maildir:{tmp_path / 'mail'}",
        "GATEWAY_SPOOL_DIR": str(tmp_path / "spool"),
    }
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip().splitlines()[-1] == "[]"
