"""What in a contact could say who sent it, and which restricted customer it points to.

Clues are read from what the sender wrote, never from anything they cannot choose: the
display name of the From field, a name signed on one of the last lines, a phone number
(read with ``phonenumbers``, as UK numbers unless written with a country code) or an
email address anywhere in the text. A name counts only when it is a whole name of at
least two words, compared without case, accents or punctuation, so that "Alex" alone,
or a name inside a sentence, does not point at anyone.

Work is bounded: only the first ``TEXT_LIMIT`` characters are searched for numbers and
addresses, and only the last ``SIGNATURE_LINES`` non-empty lines for a signed name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

from rules.identity import IdentityError, normalise_email
from rules.policy_index import PolicyIndex

TEXT_LIMIT = 20_000
SIGNATURE_LINES = 8
MAX_NUMBERS = 20
# A signature line is short: "Regards, Alex Example" yes, a sentence naming them no.
_SIGNATURE_WORDS = 6
_SIGN_OFF = re.compile(r"\s[-\u2013\u2014]+\s|,")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

# Clue names, as listed and shown to the person deciding.
DISPLAY_NAME = "display_name"
SIGNED_NAME = "signed_name"
PHONE_IN_TEXT = "phone_in_text"
EMAIL_IN_TEXT = "email_in_text"
SAME_TEXT = "same_text"

# The same text: a fingerprint of the start of what was written, at least this long
# once normalised (a short "thanks" or "ok" is anyone's), quoted lines left out.
FINGERPRINT_CHARS = 4000
FINGERPRINT_MIN = 40


def name_key(name: str) -> str:
    """A name compared without case, accents, punctuation or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]|_", " ", letters.casefold()).split())


@dataclass(frozen=True, slots=True)
class Restricted:
    """The restricted customers' names, numbers and addresses, looked up by value."""

    by_name: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_identity: Mapping[str, str] = field(default_factory=dict)
    customers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, index: PolicyIndex, now: datetime) -> Restricted:
        by_name: dict[str, list[str]] = {}
        by_identity: dict[str, str] = {}
        for customer_id in index.restricted_customers(now):
            customer = index.customers[customer_id]
            key = name_key(customer.name)
            if len(key.split()) >= 2:
                by_name.setdefault(key, []).append(customer_id)
            for identity in (*customer.emails, *customer.phones):
                by_identity.setdefault(identity, customer_id)
        customers = frozenset(index.restricted_customers(now))
        return cls({k: tuple(v) for k, v in by_name.items()}, by_identity, customers)

    def __bool__(self) -> bool:
        return bool(self.by_name or self.by_identity or self.customers)


@dataclass(frozen=True, slots=True)
class Clue:
    """One reason to think a contact is a customer's: what kind, and the value seen."""

    kind: str
    value: str

    def as_json(self) -> dict[str, str]:
        return {"clue": self.kind, "value": self.value}


def find(
    restricted: Restricted, *, display_name: str, text: str, sender: str | None
) -> dict[str, list[Clue]]:
    """The restricted customers the contact points to, each with the clues that do."""
    found: dict[str, list[Clue]] = {}

    def add(customer_ids: Iterable[str], clue: Clue) -> None:
        for customer_id in customer_ids:
            clues = found.setdefault(customer_id, [])
            if clue not in clues:
                clues.append(clue)

    text = text[:TEXT_LIMIT]
    key = name_key(display_name)
    if key in restricted.by_name:
        add(restricted.by_name[key], Clue(DISPLAY_NAME, display_name.strip()))
    for line in _last_lines(text):
        # A text is often signed on its one line: "... off again - Alex Example".
        signed = _SIGN_OFF.split(line)[-1]
        words = name_key(signed).split()
        if len(words) > _SIGNATURE_WORDS:
            continue
        for start in range(len(words) - 1):  # the name ends the line
            tail = " ".join(words[start:])
            if tail in restricted.by_name:
                add(restricted.by_name[tail], Clue(SIGNED_NAME, line.strip()))
                break
    for number in _numbers(text):
        if number in restricted.by_identity and number != sender:
            add([restricted.by_identity[number]], Clue(PHONE_IN_TEXT, number))
    for address in _addresses(text):
        if address in restricted.by_identity and address != sender:
            add([restricted.by_identity[address]], Clue(EMAIL_IN_TEXT, address))
    return found


def fingerprint(text: str) -> str | None:
    """The SHA-256 of the normalised start of ``text`` (case, accents, punctuation and
    spacing ignored; quoted lines ("> ...") left out), or None when what is left is too
    short to say anything. Only the hash is ever kept, never the words."""
    own = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    normalised = name_key(own[: FINGERPRINT_CHARS * 2])[:FINGERPRINT_CHARS]
    if len(normalised) < FINGERPRINT_MIN:
        return None
    return hashlib.sha256(normalised.encode()).hexdigest()


def _last_lines(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-SIGNATURE_LINES:]


def _numbers(text: str) -> list[str]:
    found: list[str] = []
    leniency = phonenumbers.Leniency.POSSIBLE  # drama-range test numbers are not "valid"
    for match in phonenumbers.PhoneNumberMatcher(text, "GB", leniency, MAX_NUMBERS):
        found.append(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
    return found


def _addresses(text: str) -> list[str]:
    found: list[str] = []
    for raw in _ADDRESS.findall(text)[:MAX_NUMBERS]:
        try:
            found.append(normalise_email(raw))
        except IdentityError:
            continue
    return found
