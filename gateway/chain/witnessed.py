"""Does the log still extend the checkpoints it signed? The check behind
``contact-gateway evidence verify --checkpoint FILE...``.

A checkpoint kept outside (a witness's copy) fixes the first N records: their Merkle
root, under the log's signature. The log today is a consistent extension of it when
it holds at least N records and the root over its first N records, recomputed from the
records' own chain hashes, is the one signed. A tail cut off (and the head moved back),
a record changed or removed and everything after it re-hashed: each leaves a signed
checkpoint the log no longer matches, however well its hash chain checks.

Pure: checkpoints and leaf hashes in, the first contradiction out.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.chain.checkpoint import Checkpoint, CheckpointError, VerifierKey, open_checkpoint
from gateway.chain.merkle import root_at_sizes


@dataclass(frozen=True)
class Witnessed:
    """A checkpoint as given to the check, with what to call it (its file's name)."""

    label: str
    checkpoint: Checkpoint


class Contradiction(Exception):
    """A checkpoint the log contradicts (or that is not a checkpoint of this log)."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"{label}: {reason}")
        self.label = label
        self.reason = reason


def read_witnessed(label: str, text: str, key: VerifierKey) -> Witnessed:
    """The checkpoint in ``text``, its signature by ``key`` verified."""
    try:
        return Witnessed(label, open_checkpoint(text, key))
    except CheckpointError as exc:
        raise Contradiction(label, f"not a valid checkpoint of this log: {exc}") from None


def first_contradiction(
    witnessed: Sequence[Witnessed], log_size: int, leaves: Sequence[bytes]
) -> Contradiction | None:
    """The earliest checkpoint (smallest tree size) the log contradicts, or None.

    ``log_size`` is the log's head (how many records it says it has); ``leaves`` are the
    leaf hashes of records 1, 2, ... as stored, stopping at the first missing record."""
    fit = [w.checkpoint.size for w in witnessed if w.checkpoint.size <= len(leaves)]
    return contradiction_in_roots(witnessed, log_size, len(leaves), root_at_sizes(leaves, fit))


def contradiction_in_roots(
    witnessed: Sequence[Witnessed], log_size: int, present: int, roots: Mapping[int, bytes]
) -> Contradiction | None:
    """:func:`first_contradiction` from the roots already worked out (by the fast scan,
    which reads every record anyway): ``present`` records 1, 2, ... are in order, and
    ``roots`` has the root at each checkpoint's size up to ``present``."""
    ordered = sorted(witnessed, key=lambda w: w.checkpoint.size)
    for item in ordered:
        size = item.checkpoint.size
        signed = f"signed for {size} record{'s' if size != 1 else ''}"
        if size > log_size:
            return Contradiction(
                item.label,
                f"{signed}, but the log now holds only {log_size}: records have been "
                "removed from its end since",
            )
        if size > present:
            return Contradiction(
                item.label,
                f"{signed}, but record {present + 1} is missing from the log",
            )
        if roots[size] != item.checkpoint.root:
            return Contradiction(
                item.label,
                f"{signed} with root {_b64(item.checkpoint.root)}, but the log's first "
                f"{size} records now give root {_b64(roots[size])}: a record up to {size} "
                "has been changed, removed or re-hashed since it was signed",
            )
    return None


def _b64(root: bytes) -> str:
    return base64.b64encode(root).decode()
