"""Identity normalisation: the same person must look the same however they write.

Email addresses compare case-insensitively (RFC 5321 allows case-sensitive local parts,
but no mail system a housing customer uses relies on that, and treating ``Alex@`` and
``alex@`` as two people would let a restricted customer step round a restriction).
Phone numbers are normalised to E.164 with ``phonenumbers`` so that ``07700 900123`` and
``+447700900123`` are one person. A number must be of a possible length for its country
(a full number, not a local-only one); it need not be in an allocated range, because
Ofcom's drama ranges (07700 900xxx) are what test data and training use.
"""

from __future__ import annotations

from email.utils import parseaddr
from functools import lru_cache

import phonenumbers


class IdentityError(ValueError):
    """An address or number that cannot identify anyone."""


def normalise_email(raw: str) -> str:
    """Return the bare address, trimmed and lower-cased.

    Accepts ``Name <addr>`` forms because that is what a header From carries.
    """
    _, address = parseaddr(raw.strip())
    address = address.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or "." not in domain or " " in address:
        raise IdentityError(f"'{raw}' is not an email address")
    return address


def normalise_phone(raw: str, region: str = "GB") -> str:
    """Return the number in E.164, reading numbers without a country code in ``region``."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise IdentityError(f"'{raw}' is not a phone number ({exc})") from None
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise IdentityError(f"'{raw}' is not a possible phone number for region {region}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_identity(raw: str, region: str = "GB") -> str:
    """Normalise an email address or a phone number, whichever ``raw`` is."""
    if "@" in raw:
        return normalise_email(raw)
    return normalise_phone(raw, region)


@lru_cache(maxsize=4096)
def display_phone(e164: str) -> str:
    """Format a number the way a UK customer reads it back (national format at home)."""
    parsed = phonenumbers.parse(e164, None)
    if parsed.country_code == 44:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
