"""Was the sender authenticated? Read from the organisation's edge, never from the sender.

The organisation's edge mail server checks SPF, DKIM and DMARC and records the outcome
in an ``Authentication-Results`` field (RFC 8601) under its own ``authserv-id``. Only a
field carrying the trusted id *and added by the edge* counts: the edge prepends it after
receiving the message, so it sits above the topmost ``Received:`` field (the edge's own
trace line). A field with the trusted id further down was written by someone before the
edge — a forgery meant to look authenticated — and is stripped from the message as RFC
8601 §5 asks, so that nothing downstream trusts it either.

"Authenticated" here means: DMARC passed; or DKIM passed for the From or envelope
sender's domain (or a parent of it); or SPF passed for the envelope sender's domain.
Auto-replies go to the envelope sender, and SPF or aligned DKIM is what shows that
address was not forged, which is what keeps the gateway from sending backscatter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import authres

from channels.smtp.headers import field_name, field_value


@dataclass(frozen=True, slots=True)
class Authentication:
    """The edge's verdict on one message, as the evidence records it.

    ``authenticated`` is None when no trusted authserv-id is configured (nothing can
    be said), False when one is configured and no trusted field shows a pass.
    """

    authserv_id: str | None = None
    authenticated: bool | None = None
    results: dict[str, str] = field(default_factory=dict)
    stripped: int = 0

    def as_details(self) -> dict[str, Any]:
        return {
            "authserv_id": self.authserv_id,
            "authenticated": self.authenticated,
            "results": dict(self.results),
            "forged_fields_stripped": self.stripped,
        }


NOT_CHECKED = Authentication()


def assess(
    fields: list[bytes],
    trusted_id: str,
    *,
    from_domain: str | None,
    envelope_domain: str | None,
) -> tuple[Authentication, list[bytes]]:
    """The verdict, and the header fields with forged trusted-id results removed."""
    if not trusted_id:
        return NOT_CHECKED, fields
    wanted = trusted_id.lower()
    kept: list[bytes] = []
    trusted: list[Any] = []
    stripped = 0
    above_trace = True
    for raw in fields:
        name = field_name(raw)
        if name == "received":
            above_trace = False
        elif name == "authentication-results":
            value = field_value(raw)
            if _claimed_id(value) == wanted:
                if not above_trace:
                    stripped += 1
                    continue
                parsed = _parse(value)
                if parsed is not None:
                    trusted.append(parsed)
        kept.append(raw)
    results: dict[str, str] = {}
    passed = False
    for header in trusted:
        for result in header.results:
            method, outcome = str(result.method).lower(), str(result.result).lower()
            results.setdefault(method, outcome)
            if outcome == "pass" and _vouches(method, result, from_domain, envelope_domain):
                passed = True
    verdict = Authentication(
        authserv_id=trusted_id, authenticated=passed, results=results, stripped=stripped
    )
    return verdict, kept


def _claimed_id(value: str) -> str:
    """The authserv-id a field claims, read leniently so a garbled forgery still matches."""
    return value.split(";", 1)[0].strip().split(" ", 1)[0].strip().lower()


def _parse(value: str) -> Any | None:
    try:
        return authres.AuthenticationResultsHeader.parse_value(value)
    except authres.AuthResError:
        return None


def _vouches(
    method: str, result: Any, from_domain: str | None, envelope_domain: str | None
) -> bool:
    if method == "dmarc":
        return True
    if method == "dkim":
        signer = _property(result, "header", "d")
        return signer is not None and any(
            _aligned(signer, domain) for domain in (from_domain, envelope_domain) if domain
        )
    if method == "spf":
        checked = _property(result, "smtp", "mailfrom") or _property(result, "smtp", "helo")
        domain = checked.rpartition("@")[2] if checked else None
        return bool(domain and envelope_domain and domain == envelope_domain)
    return False


def _property(result: Any, ptype: str, name: str) -> str | None:
    for prop in getattr(result, "properties", ()):
        if str(prop.type).lower() == ptype and str(prop.name).lower() == name:
            return str(prop.value).lower()
    return None


def _aligned(signer: str, domain: str) -> bool:
    """Relaxed alignment without the public suffix list: equal, or one inside the other."""
    return signer == domain or domain.endswith("." + signer) or signer.endswith("." + domain)
