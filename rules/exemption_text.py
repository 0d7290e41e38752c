"""Text as the exemption classifier reads it: the new words of a message, as tokens.

Tenants write on phones, in a hurry, sometimes in crisis: capitals, no punctuation,
curly apostrophes, Welsh with or without its accents. Reading starts by making all of
that one shape:

* the quoted part of a reply is dropped (lines starting ``>`` and everything after an
  "On ... wrote:" line or an Outlook "Original Message" block), because it was decided
  when it was first sent, and because our own notices, quoted back, name the emergency
  and appeal routes; a message that is nothing but quotation is read whole;
* case is folded, accents are taken off (``dŵr`` is ``dwr``), apostrophes dropped
  (``can't`` is ``cant``);
* words are runs of letters and digits; sentence ends (``. ! ? ;`` and line breaks) and
  "but" (``ond``) end a clause, which is how far a "that was last year" reaches;
* a few words that carry no meaning for the classes (articles, forms of "be" and
  "have", Welsh ``y``, ``yr``, ``mae``, ``yn``) are left out, so "the gas is leaking" and
  "gas leaking" are read alike.
"""

from __future__ import annotations

import codecs
import itertools
import re
import string
import unicodedata

# Lines and blocks that start the quoted part of a reply (English and Welsh clients).
_QUOTE_START = re.compile(
    r"^(?:>|On\b.{0,300}\bwrote:\s*$|Ar\b.{0,300}\bysgrifennodd.{0,80}:\s*$|"
    r"-{2,}\s*(?:Original Message|Forwarded message|Neges Wreiddiol)\s*-{2,}|"
    r"From:\s.*\n(?:.*\n)?\s*(?:Sent|Date):\s)",
    re.MULTILINE | re.IGNORECASE,
)

# Welsh 'n and 'r written onto the word before ("gwifrau'n", "i'r") are kept apart
# when what follows them ends the word.
_CLITIC_LETTERS = "nr"
_CLITIC_AFTER = " ,.\n"
_REPLY_SUBJECT = re.compile(r"^\s*(?:re|fw|fwd|aw|ateb)\s*:", re.IGNORECASE)
# What any quoted part contains (a cheap look before the regular expression).
_QUOTE_MARKS = (">", "wrote:", "ysgrifennodd", "-----", "From:")
_PLAIN_MARKS = tuple(mark.lower() for mark in _QUOTE_MARKS)  # as ``plain`` leaves them

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "am",
        "was",
        "were",
        "be",
        "been",
        "being",
        "its",
        "theres",
        "thats",
        "of",
        "just",
        "really",
        "very",
        "like",
        "proper",
        "so",
        "fy",
        "di",
        "eu",
        "ei",
        "y",
        "yr",
        "r",
        "mae",
        "yn",
        "roedd",
        "oedd",
        "wedi",
    ]
)
# Words that end a clause as a full stop does.
CLAUSE_WORDS = frozenset({"but", "however", "although", "though", "ond"})
BREAK = "|"

_BREAK_CHARS = ".!?;\n"
_WORD_CHARS = frozenset((string.ascii_letters + string.digits).encode())
_TABLE = bytes(
    b if b in _WORD_CHARS else (ord(BREAK) if chr(b) in _BREAK_CHARS else 0x20) for b in range(256)
)


def new_text(text: str) -> str:
    """``text`` without the quoted part of a reply (see the module docstring)."""
    text = _split_subject(text)[1]
    at = _quote_at(text)
    return text if at is None else text[:at]


def _split_subject(text: str) -> tuple[str, str]:
    """A reply's subject line and the rest; ``("", text)`` when ``text`` is not a reply
    (a reply's subject is the thread's, not this message's)."""
    first, newline, rest = text.partition("\n")
    if newline and rest.strip() and _REPLY_SUBJECT.match(first):
        return first, rest
    return "", text


def _quote_at(text: str) -> int | None:
    """Where the quoted part of a reply begins, when new text comes before it."""
    if not any(mark in text for mark in _QUOTE_MARKS):
        return None
    found = _QUOTE_START.search(text)
    if found is None or not text[: found.start()].strip():
        return None
    return found.start()


def thread_of(text: str) -> str:
    """What a reply carries of its thread: its subject (without "Re:") and its quoted
    part; "" when ``text`` is not a reply (``new_text`` is the rest)."""
    subject, text = _split_subject(text)
    at = _quote_at(text)
    quoted = "" if at is None else text[at:]
    return f"{_REPLY_SUBJECT.sub('', subject, count=1)}\n{quoted}".strip()


def _words_and_breaks(read: str) -> str:
    """``plain`` text as words and ``BREAK`` marks, everything else a space."""
    return read.encode("ascii").translate(_TABLE).decode("ascii")


def plain_words(text: str) -> list[str]:
    """Every word of ``text``, spelt as ``tokens`` spells them: quoted parts, stop words
    and all, without sentence ends."""
    return _words_and_breaks(plain(text)).replace(BREAK, " ").split()


_APOSTROPHES = str.maketrans("’‘ʼ", "'''")


def _to_ascii(error: UnicodeError) -> tuple[str, int]:
    """The ASCII for a run of other characters, for ``str.encode`` (``plain``): curly
    apostrophes straight, accents off (``ŵ`` is ``w``), anything else left out."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    run = error.object[error.start : error.end].translate(_APOSTROPHES)
    return unicodedata.normalize("NFKD", run).encode("ascii", "ignore").decode("ascii"), error.end


# Encoding to ASCII with this handler folds only the runs of other characters (a dozen
# in a long letter: a pound sign, a circumflex), where normalizing the whole text reads
# every character (most of the time ``plain`` took on a 20 KB email). The result is the
# same: NFKD decomposes each character on its own, and the only reordering it does is of
# combining marks, which are left out.
_FOLD = "rules.exemption_text.to_ascii"
codecs.register_error(_FOLD, _to_ascii)


def plain(text: str) -> str:
    """Lower case ASCII: accents off, apostrophes (straight and curly) dropped, but
    Welsh ``'n`` and ``'r`` kept apart (``gwifrau'n`` is ``gwifrau n``)."""
    if not text.isascii():
        text = text.encode("ascii", _FOLD).decode("ascii")
    text = text.lower()
    if "'" not in text:
        return text
    # One pass over the pieces between apostrophes (a search per clitic is slower).
    pieces = text.split("'")
    out = [pieces[0]]
    for piece in itertools.islice(pieces, 1, None):
        if len(piece) > 1 and piece[0] in _CLITIC_LETTERS and piece[1] in _CLITIC_AFTER:
            out.append(" ")
        out.append(piece)
    return "".join(out)


class Tokens:
    """The words of a text in order, with ``BREAK`` where a sentence ends; the words
    that count (stop words left out) and their clauses are worked out when asked for."""

    __slots__ = ("_kept", "every", "reply")

    def __init__(self, every: list[str], *, reply: bool = False) -> None:
        self.every = every
        # A reply: a "Re:" subject, or a quoted part cut off (``thread_of`` is not "").
        self.reply = reply
        self._kept: list[str] | None = None

    @property
    def words(self) -> list[str]:
        if self._kept is None:
            self._kept = list(itertools.filterfalse(STOPWORDS.__contains__, self.every))
        return self._kept

    def clause(self, position: int) -> tuple[int, int]:
        """The clause ``position`` is in, as the span of ``words`` it covers: from the
        last sentence end or word like "but" before it to the next."""
        words = self.words
        start = position
        while start > 0 and words[start - 1] != BREAK and words[start] not in CLAUSE_WORDS:
            start -= 1
        end = position + 1
        while end < len(words) and words[end] != BREAK and words[end] not in CLAUSE_WORDS:
            end += 1
        return start, end


def tokens(text: str) -> Tokens:
    """The words of ``text`` that the classifier reads (see the module docstring)."""
    subject, text = _split_subject(text)
    read = plain(text)
    # ``plain`` keeps every mark of a quoted part (in lower case), and looking for them
    # in its ASCII is quicker than in the text as sent: only when one is there is the
    # quoted part looked for, and the text read again without it (``new_text``).
    at = _quote_at(text) if any(mark in read for mark in _PLAIN_MARKS) else None
    if at is not None:
        read = plain(text[:at])
    words = _words_and_breaks(read).replace(BREAK, " | ").split()
    return Tokens(words, reply=bool(subject) or at is not None)
