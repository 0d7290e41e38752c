"""The Merkle tree worked out again from the records during the fast scan, and the
stored tree (``evidence_tree``) checked against it.

``evidence verify`` must not trust the stored tree: whoever could rewrite the records
could rewrite it too. So each range of the chain that a scan worker finds intact also
gives its records' leaf hashes (from the chain hashes it has just checked), builds every
perfect subtree inside the range, compares the stored nodes of the range with them,
and answers with the few maximal subtrees that cover the range (:func:`range_part`).
The parent stitches those into the whole tree (``merkle.CompactRange``), checking the
nodes that straddle two ranges on the way, and so has the root over every record and,
for any sizes asked for (a checkpoint's), the root at that size (:func:`combine`).

What the stored tree can get wrong, each named by the first leaf it concerns:

* a node below the stored size that differs from the records' or is missing;
* more leaves than records (records were cut from the end, the tree was not), or
  nodes beyond the stored leaves.

A tree that merely lags behind the records (it is extended every few seconds) is
not a problem: only what it holds is compared.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.chain import merkle

Node = tuple[int, int, bytes]


@dataclass(frozen=True, slots=True)
class TreeCheck:
    """The tree over the records, from their chain hashes, and how the stored one fares.

    ``size`` records, ``root`` the root over them; ``roots`` the root at each size asked
    for that is at most ``size`` (a larger one has no root: those records are not
    there). ``stored_size``: how many records the stored tree covers. ``problem``: what
    is wrong with the stored tree, in words, naming ``first_bad_leaf`` (0-based; record
    ``first_bad_leaf + 1``); None when it agrees with the records."""

    size: int
    root: bytes
    roots: dict[int, bytes] = field(default_factory=dict)
    stored_size: int = 0
    problem: str | None = None
    first_bad_leaf: int | None = None

    def describe(self) -> str:
        """One line for a person: the size and root, and the stored tree's state."""
        line = f"evidence tree: {self.size} records, root {self.root.hex()}"
        if self.problem is None and self.stored_size < self.size:
            line += f" (the stored tree covers {self.stored_size} of them so far)"
        return line


@dataclass(frozen=True, slots=True)
class StoredShape:
    """What the stored tree holds, read in the same snapshot as the chain's bounds.

    ``leaves``: its size (the highest leaf index + 1); ``stray``: the first node
    (level, index) lying beyond those leaves, if any."""

    leaves: int = 0
    stray: tuple[int, int] | None = None


def _node_words(level: int, index: int) -> str:
    first = index << level
    span = f"record {first + 1}" if level == 0 else f"records {first + 1} to {first + (1 << level)}"
    return f"its node at level {level}, index {index} ({span})"


def bad_node_problem(level: int, index: int, what: str) -> str:
    """The stored tree's node (level, index) ``what`` ("differs", "is missing"), said
    with the first leaf it concerns."""
    leaf = index << level
    return (
        f"the stored evidence tree disagrees with the records from leaf {leaf} "
        f"(record {leaf + 1}): {_node_words(level, index)} {what}, so the evidence_tree "
        "table was altered"
    )


# ---------------------------------------------------------------- one range, in a worker


def perfect_levels(leaves: Sequence[bytes], start: int) -> list[tuple[int, list[bytes]]]:
    """Every perfect subtree inside leaves [start, start + len(leaves)), level by level:
    for level k, (index of its first node, the nodes' hashes)."""
    end = start + len(leaves)
    levels = [(start, list(leaves))]
    sha256 = hashlib.sha256
    level = 0
    while True:
        first, below = levels[-1]
        up_first = -(-start >> (level + 1))  # ceil(start / 2^(level+1))
        up_end = end >> (level + 1)
        if up_end <= up_first:
            return levels
        offset = 2 * up_first - first
        count = up_end - up_first
        levels.append(
            (
                up_first,
                [
                    sha256(b"\x01" + below[i] + below[i + 1]).digest()
                    for i in range(offset, offset + 2 * count, 2)
                ],
            )
        )
        level += 1


def _pick(levels: list[tuple[int, list[bytes]]], start: int, end: int) -> list[Node]:
    """[start, end) (inside the levels' range) as its maximal perfect subtrees."""
    return [(k, j, levels[k][1][j - levels[k][0]]) for k, j in merkle.subtree_ranges(start, end)]


def _encode(nodes: Iterable[Node]) -> list[list[Any]]:
    return [[k, j, h.hex()] for k, j, h in nodes]


def _decode(nodes: Iterable[Sequence[Any]]) -> list[Node]:
    return [(int(k), int(j), bytes.fromhex(h)) for k, j, h in nodes]


def range_part(
    kind: str,
    target: str,
    first: int,
    chain_hashes: Sequence[str],
    stored_size: int,
    cuts: Iterable[int],
) -> dict[str, Any]:
    """The tree's part for records ``first``.. (whose checked chain hashes are given):
    the maximal perfect subtrees covering them, those of each prefix ending at a size
    in ``cuts`` that falls inside, and the first stored node inside the range (below
    ``stored_size``) that is missing or differs. Plain JSON, to cross a pipe."""
    start = first - 1
    end = start + len(chain_hashes)
    sha256 = hashlib.sha256
    fromhex = bytes.fromhex
    leaves = [sha256(b"\x00" + fromhex(h)).digest() for h in chain_hashes]
    levels = perfect_levels(leaves, start)
    bad = _compare_stored(kind, target, levels, min(stored_size, end))
    return {
        "nodes": _encode(_pick(levels, start, end)),
        "cuts": {str(s): _encode(_pick(levels, start, s)) for s in cuts if start < s <= end},
        "bad": bad,
    }


def _compare_stored(
    kind: str, target: str, levels: list[tuple[int, list[bytes]]], covered: int
) -> list[Any] | None:
    """The lowest (level, index, what) of the stored nodes inside the levels' range and
    below ``covered`` leaves that are missing or differ; None when all agree.

    Each level's stored hashes come back from the database as one string of bytes,
    concatenated there, and are compared with the expected ones joined: a million rows
    turned into Python objects one by one cost a quarter of the scan. Only a level that
    does not match is read row by row, to find the node."""
    wanted = []
    for k, (first, hashes) in enumerate(levels):
        stop = min(first + len(hashes), covered >> k)
        if stop > first:
            wanted.append((k, first, stop, hashes[: stop - first]))
    if not wanted:
        return None
    spans = [(k, lo, hi) for k, lo, hi, _ in wanted]
    joined = _stored_joined(kind, target, spans)
    differing = [
        (k, lo, hi, expected)
        for (k, lo, hi, expected), found in zip(wanted, joined, strict=True)
        if found != b"".join(expected)
    ]
    if not differing:
        return None
    rows_by_span = _stored_levels(kind, target, [(k, lo, hi) for k, lo, hi, _ in differing])
    for (k, lo, _, expected), rows in zip(differing, rows_by_span, strict=True):
        at = dict(rows)
        for offset, h in enumerate(expected):
            found = at.get(lo + offset)
            if found != h:
                return [k, lo + offset, "is missing" if found is None else "differs"]
    return None  # concatenated in another order, but every node is right


_LEVEL_SQL = (
    "SELECT idx, hash FROM evidence_tree WHERE level = {} AND idx >= {} AND idx < {} ORDER BY idx"
)
# SQLite: the blobs joined in index order (group_concat keeps the subquery's order; a
# CAST back to BLOB keeps every byte). PostgreSQL: string_agg with its own ORDER BY.
_JOINED_SQLITE = (
    "SELECT CAST(group_concat(hash, '') AS BLOB) FROM (SELECT hash FROM evidence_tree "
    "WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx)"
)
_JOINED_POSTGRES = (
    "SELECT string_agg(hash, ''::bytea ORDER BY idx) FROM evidence_tree "
    "WHERE level = $1 AND idx >= $2 AND idx < $3"
)


def _stored_joined(kind: str, target: str, spans: list[tuple[int, int, int]]) -> list[bytes]:
    """The stored hashes of each (level, from, to) span, joined in index order."""
    if kind == "sqlite":
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            return [
                bytes(conn.execute(_JOINED_SQLITE, span).fetchone()[0] or b"") for span in spans
            ]
        finally:
            conn.close()
    import asyncio

    async def read() -> list[bytes]:
        import asyncpg

        conn = await asyncpg.connect(target)
        try:
            return [bytes(await conn.fetchval(_JOINED_POSTGRES, *span) or b"") for span in spans]
        finally:
            await conn.close()

    return asyncio.run(read())


def _stored_levels(
    kind: str, target: str, spans: list[tuple[int, int, int]]
) -> list[list[tuple[int, bytes]]]:
    """The stored (index, hash) of each (level, from, to) span."""
    if kind == "sqlite":
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            sql = _LEVEL_SQL.format("?", "?", "?")
            return [
                [(int(j), bytes(h)) for j, h in conn.execute(sql, span).fetchall()]
                for span in spans
            ]
        finally:
            conn.close()
    import asyncio

    async def read() -> list[list[tuple[int, bytes]]]:
        import asyncpg

        conn = await asyncpg.connect(target)
        try:
            sql = _LEVEL_SQL.format("$1", "$2", "$3")
            return [[(int(j), bytes(h)) for j, h in await conn.fetch(sql, *span)] for span in spans]
        finally:
            await conn.close()

    return asyncio.run(read())


# ------------------------------------------------------------- the whole, in the parent


def combine(
    kind: str,
    target: str,
    parts: Sequence[tuple[int, dict[str, Any]]],
    shape: StoredShape,
    sizes: Iterable[int],
) -> TreeCheck:
    """The whole tree from each range's part ((first record, part), in any order), the
    roots at ``sizes``, and the stored tree's first problem, if any."""
    tree = merkle.CompactRange()
    wanted = sorted(set(sizes))
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in wanted else {}
    straddling: list[Node] = []
    bad: list[tuple[int, int, str]] = []
    for _, part in sorted(parts, key=lambda item: item[0]):
        for size, nodes in part["cuts"].items():
            partial = merkle.CompactRange(tree.nodes)
            for node in _decode(nodes):
                partial.push(*node)
            roots[int(size)] = partial.root()
        for node in _decode(part["nodes"]):
            straddling.extend(tree.push(*node))
        if part["bad"] is not None:
            level, index, what = part["bad"]
            bad.append((int(level), int(index), str(what)))
    covered = min(shape.leaves, tree.size)
    checked = [(k, j, h) for k, j, h in straddling if (j + 1) << k <= covered]
    if checked:
        stored = dict(_stored_nodes(kind, target, [(k, j) for k, j, _ in checked]))
        for k, j, h in checked:
            found = stored.get((k, j))
            if found != h:
                bad.append((k, j, "is missing" if found is None else "differs"))
    check = TreeCheck(size=tree.size, root=tree.root(), roots=roots, stored_size=shape.leaves)
    return with_problem(check, bad, shape)


def with_problem(
    check: TreeCheck, bad: list[tuple[int, int, str]], shape: StoredShape
) -> TreeCheck:
    """``check`` with the stored tree's first problem: a node that differs or is missing
    (the lowest, then the leftmost), else leaves or nodes beyond the records."""
    from dataclasses import replace

    if bad:
        k, j, what = min(bad)
        return replace(check, problem=bad_node_problem(k, j, what), first_bad_leaf=j << k)
    if shape.leaves > check.size:
        return replace(
            check,
            problem=(
                f"the stored evidence tree covers {shape.leaves} records but there are only "
                f"{check.size}: records were removed from the end (the first missing is "
                f"record {check.size + 1}, leaf {check.size})"
            ),
            first_bad_leaf=check.size,
        )
    if shape.stray is not None:
        k, j = shape.stray
        leaf = j << k
        return replace(
            check,
            problem=(
                f"the stored evidence tree has a node beyond its {shape.leaves} leaves, from "
                f"leaf {leaf} (record {leaf + 1}): {_node_words(k, j)}; records or leaves "
                "were removed from the end"
            ),
            first_bad_leaf=leaf,
        )
    return check


def _stored_nodes(
    kind: str, target: str, keys: list[tuple[int, int]]
) -> list[tuple[tuple[int, int], bytes]]:
    spans = [(k, j, j + 1) for k, j in keys]
    found = _stored_levels(kind, target, spans)
    return [((k, j), h) for (k, _, _), rows in zip(spans, found, strict=True) for j, h in rows]


# ------------------------------------------------------ the stored tree's shape, in bounds

SHAPE_LEAVES_SQL = "(SELECT max(idx) FROM evidence_tree WHERE level = 0)"
_STRAY_SQL = "SELECT min(idx) FROM evidence_tree WHERE level = {} AND idx >= {}"
_TOP_SQL = "SELECT max(level) FROM evidence_tree"


def shape_sqlite(conn: sqlite3.Connection, leaves_high: int | None) -> StoredShape:
    """The stored tree's shape, on the connection (and in the snapshot) that read the
    bounds: ``leaves_high`` is what :data:`SHAPE_LEAVES_SQL` gave."""
    leaves = 0 if leaves_high is None else int(leaves_high) + 1
    top = conn.execute(_TOP_SQL).fetchone()[0]
    sql = _STRAY_SQL.format("?", "?")
    for level in range(0 if top is None else int(top) + 1):
        found = conn.execute(sql, (level, leaves >> level)).fetchone()[0]
        if found is not None:
            return StoredShape(leaves, (level, int(found)))
    return StoredShape(leaves)


async def shape_postgres(conn: Any, leaves_high: int | None) -> StoredShape:
    """:func:`shape_sqlite` on an asyncpg connection."""
    leaves = 0 if leaves_high is None else int(leaves_high) + 1
    top = await conn.fetchval(_TOP_SQL)
    sql = _STRAY_SQL.format("$1", "$2")
    for level in range(0 if top is None else int(top) + 1):
        found = await conn.fetchval(sql, level, leaves >> level)
        if found is not None:
            return StoredShape(leaves, (level, int(found)))
    return StoredShape(leaves)
