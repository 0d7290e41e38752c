"""The evidence pack's letters: what the customer was sent or posted, and how each
restriction's written notice was given (a letter, or the exception to notice and who
signed it off), as rows of plain words; the PDF lays them out (``gateway.evidence.pdf``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from gateway.common.plain_words import plain_when
from gateway.store.casework.letters import DELIVERED

_KINDS = {
    "warning": "Warning",
    "decision": "Decision to restrict",
    "variation": "Change to a restriction",
    "review": "Review",
    "appeal_acknowledgement": "Appeal received",
    "appeal_outcome": "Appeal outcome",
}
_LANGUAGES = {"en": "English", "cy": "Welsh", "bilingual": "Welsh and English"}

Person = Callable[[str | None], str]


def delivered(letters: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The letters that reached the customer (emailed, or printed and posted), oldest first."""
    return sorted(
        (x for x in letters if x["status"] in DELIVERED), key=lambda x: (x["sent_at"], x["id"])
    )


def letter_rows(
    letters: Sequence[Mapping[str, Any]], person: Person, zone: ZoneInfo
) -> list[list[str]]:
    """One row a letter: which, about what, when it went, how, in what language."""
    rows = []
    for x in delivered(letters):
        kind = _KINDS.get(str(x["kind"]), str(x["kind"]).replace("_", " "))
        about = f"restriction {x['restriction_id']}" if x["restriction_id"] else "—"
        if x.get("incidents"):
            about = f"{len(x['incidents'])} incidents (section 3)"
            if len(x["incidents"]) == 1:
                about = "1 incident (section 3)"
        how = (
            f"emailed to {x['to_address']}"
            if x["delivery"] == "email"
            else f"printed and posted by {person(x['posted_by'])}"
        )
        language = _LANGUAGES.get(str(x["language"]), str(x["language"]))
        if x["large_print"]:
            language += ", large print"
        rows.append(
            [
                f"Letter {x['id']}: {kind}",
                about,
                plain_when(x["sent_at"], zone),
                how,
                f"{language}; signed by {x['signatory']}",
            ]
        )
    return rows


def letter_hash_rows(letters: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Each sent letter's PDF SHA-256 (the audit log's and the reprint's)."""
    return [[f"Letter {x['id']}", str(x["sha256"])] for x in delivered(letters)]


def notice_rows(
    restrictions: Sequence[Mapping[str, Any]], person: Person, zone: ZoneInfo
) -> list[list[str]]:
    """How each authorised restriction's written notice was given, from its authorise
    step: the letter (by number), or the exception to notice with who signed it off
    and why it was asked."""
    rows = []
    for r in restrictions:
        steps = [t for t in r.get("transitions", []) if t["action"] == "authorise"]
        if not steps:
            continue
        details = steps[-1].get("details") or {}
        exception = r.get("notice_exception")
        if details.get("notice") == "letter":
            how = f"by letter {details.get('letter')} (the decision letter, before it was in force)"
        elif details.get("notice") == "exception":
            how = "not told in writing: an exception to notice"
            if exception is not None:
                how += (
                    f", asked by {person(exception['proposed_by'])} because: {exception['reasons']}"
                )
            how += f"; signed off by {person(details.get('exception_signed_off_by'))}"
            if exception is not None and exception.get("signed_off_at") is not None:
                how += f" on {plain_when(exception['signed_off_at'], zone)}"
                if exception.get("sign_off_reason"):
                    how += f" ({exception['sign_off_reason']})"
        else:
            how = "authorised while written notice was not required first"
        rows.append([f"Restriction {r['id']}", how])
    return rows
