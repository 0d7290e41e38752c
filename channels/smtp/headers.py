"""Editing a message's header section without touching a byte of anything else.

The gateway is a relay: what it passes on must be what it was given, plus its own
header fields at the top. Re-serialising through ``email`` would refold headers and
re-encode bodies, which breaks DKIM signatures and changes what an ombudsman later
compares against the stored copy. So the header section is split into its raw fields
here (a field is its first line plus continuation lines, RFC 5322 §2.2.3), fields are
dropped or prepended as whole byte strings, and the body is carried over untouched.
New fields are folded and encoded by ``email.policy.SMTP``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from email.policy import SMTP

# The start of a header field, as the stdlib feed parser recognises it: a name of
# printable characters other than ':' followed by ':'.
_FIELD_START = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")


def split_header(raw: bytes) -> tuple[list[bytes], bytes]:
    """The raw header fields (each with its line endings) and everything after them.

    The header section ends at the first empty line, or, as in the stdlib parser, at
    the first line that is neither a field nor a continuation (a defect; the rest is
    then the body).
    """
    fields: list[bytes] = []
    pos = 0
    size = len(raw)
    while pos < size:
        newline = raw.find(b"\n", pos)
        end = size if newline == -1 else newline + 1
        line = raw[pos:end]
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        elif _FIELD_START.match(line):
            fields.append(line)
        else:
            break
        pos = end
    return fields, raw[pos:]


def field_name(field: bytes) -> str:
    """The lower-cased name of a raw field (``b"Received: ..."`` -> ``"received"``)."""
    return field.split(b":", 1)[0].strip().decode("ascii", "replace").lower()


def field_value(field: bytes) -> str:
    """The unfolded value of a raw field, decoded leniently (8-bit bytes as UTF-8)."""
    value = field.split(b":", 1)[1] if b":" in field else b""
    text = value.decode("utf-8", "replace")
    return " ".join(text.split())


def fold(name: str, value: str) -> bytes:
    """One new header field, folded to 78 columns and RFC 2047-encoded where needed."""
    return SMTP.fold_binary(name, _printable(value))


def assemble(
    new_fields: Iterable[bytes], fields: Sequence[bytes], body: bytes, *, linesep: bytes = b"\r\n"
) -> bytes:
    """New fields on top, then the kept original fields, then the original body.

    A last original field without a line ending (a message that is nothing but
    headers) gets one, so the fields that follow it stay separate.
    """
    kept = list(fields)
    if kept and not kept[-1].endswith(b"\n"):
        kept[-1] += linesep
    return b"".join((*new_fields, *kept, body))


def _printable(value: str) -> str:
    # A header field never carries line breaks or control characters from input we
    # were given (a HELO name, a subject line): that is how header injection happens.
    return "".join(ch if ch.isprintable() else " " for ch in value)
