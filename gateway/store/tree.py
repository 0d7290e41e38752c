"""The Merkle tree over the evidence records, kept in ``evidence_tree``, and its proofs.

The tree itself (RFC 9162, leaf i = record seq i + 1's chain hash) is defined in
``gateway.chain.merkle``; here it is stored. Every *perfect* subtree is a row (level k,
index j: the hash over leaves [j * 2^k, (j + 1) * 2^k)), about two rows a record, so a
root or a proof is ``merkle.subtree_ranges`` worth of rows read by primary key in one
query, and folded: about log2(n) rows, a millisecond or so at a million records.

The tree is extended after the records are written, not while: appending evidence is
the gateway's hot path and keeps its pace (a background task in the app calls
:func:`extend_tree` every few seconds, and anything that needs the tree calls it
first). Extending reads the records past the tree's size and the tree's frontier (the
perfect subtrees over [0, size)) in one read transaction, works out the new nodes, and
inserts them in a short write transaction with insert-or-ignore: every node is a
function of the records alone, so gateways extending at once write the same rows and
the second insert of a row changes nothing. Each write holds a batch's leaves together
with the nodes they complete, so the stored tree is always whole up to its size (the
number of leaves).

The stored tree is derived data that anyone with write access could rewrite, so
``evidence verify`` recomputes it from the records and compares; what it is good for is
answering proofs quickly, which are checked against a signed root anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from sqlalchemy import Connection, TextClause, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.chain import merkle, tree_scan
from gateway.chain.tree_scan import StoredShape, TreeCheck
from gateway.store.bulk_insert import insert_rows
from gateway.store.engine import read_transaction, write_transaction
from gateway.store.errors import NotFound, StoreError
from gateway.store.schema import evidence, evidence_tree

# Records taken into the tree per write (about twice as many rows): short enough that
# a SQLite writer never waits long behind it, long enough that a million records take
# a few seconds.
EXTEND_BATCH = 4096

Node = tuple[int, int, bytes]
_INSERT_SQLITE = (
    "INSERT INTO evidence_tree (level, idx, hash) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)


class TreeBroken(StoreError):
    """The stored tree lacks a node it should have below its size: it was altered."""


async def tree_size(engine: AsyncEngine) -> int:
    """How many records the stored tree covers (its number of leaves)."""
    async with read_transaction(engine, "reading the evidence tree") as conn:
        return await _size(conn)


async def _size(conn: AsyncConnection) -> int:
    t = evidence_tree.c
    last = (await conn.execute(select(func.max(t.idx)).where(t.level == 0))).scalar()
    return 0 if last is None else int(last) + 1


async def _read_nodes(
    conn: AsyncConnection, keys: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    params = {}
    for n, (level, idx) in enumerate(wanted):
        params[f"l{n}"], params[f"i{n}"] = level, idx
    rows = await conn.execute(_nodes_query(len(wanted)), params)
    return {(int(lv), int(ix)): bytes(h) for lv, ix, h in rows}


@lru_cache(maxsize=256)
def _nodes_query(count: int) -> TextClause:
    """The nodes at ``count`` (level, idx) pairs, as an OR of pairs: SQLite looks each
    up in the primary key (a row-value ``IN (VALUES ...)`` scanned the whole table),
    and as text written once per count, since a proof is a millisecond or two and
    building the expression anew each time was a good part of that."""
    pairs = " OR ".join(f"(level = :l{n} AND idx = :i{n})" for n in range(count))
    return text(f"SELECT level, idx, hash FROM evidence_tree WHERE {pairs}")  # noqa: S608


def _describe(level: int, index: int) -> str:
    first = index << level
    last = first + (1 << level)
    span = f"record {first + 1}" if level == 0 else f"records {first + 1} to {last}"
    return f"the node at level {level}, index {index} ({span})"


async def extend_tree(engine: AsyncEngine) -> int:
    """Add the nodes for every record not yet in the tree; returns the size now covered.

    Safe to run in several gateways at once (see the module's docstring). Stops at the
    first gap in the records' seqs, so the tree only ever covers a whole prefix."""
    while True:
        async with read_transaction(engine, "reading evidence for its tree", snapshot=True) as c:
            size = await _size(c)
            frontier_keys = merkle.subtree_ranges(0, size)
            found = await _read_nodes(c, frontier_keys)
            query = (
                select(evidence.c.seq, evidence.c.hash)
                .where(evidence.c.seq > size)
                .order_by(evidence.c.seq)
                .limit(EXTEND_BATCH)
            )
            rows = (await c.execute(query)).all()
        missing = [key for key in frontier_keys if key not in found]
        if missing:
            raise TreeBroken(
                f"the evidence tree lacks {_describe(*missing[0])} below its size {size}: "
                "it was altered; run 'contact-gateway evidence verify'"
            )
        tree = merkle.CompactRange([(lv, ix, found[lv, ix]) for lv, ix in frontier_keys])
        new = _new_nodes(tree, rows)
        if new:
            async with write_transaction(engine, "extending the evidence tree") as conn:
                await conn.run_sync(_insert_nodes, sorted(new))
        if len(rows) < EXTEND_BATCH or tree.size < size + len(rows):
            return tree.size


def _new_nodes(tree: merkle.CompactRange, rows: Sequence[Sequence[object]]) -> list[Node]:
    """The leaves for ``rows`` (seq, hash), in order while the seqs run on from the
    tree's size, and every perfect subtree they complete."""
    new: list[Node] = []
    for seq, chain_hash in rows:
        if seq != tree.size + 1:
            break  # a gap: wait until the record before it is there
        try:
            leaf = merkle.record_leaf(str(chain_hash))
        except ValueError:
            raise TreeBroken(
                f"record {seq}'s hash is not 64 hex digits, so it cannot be a leaf: the "
                "evidence was altered; run 'contact-gateway evidence verify'"
            ) from None
        new.append((0, tree.size, leaf))
        new.extend(tree.push(0, tree.size, leaf))
    return new


def _insert_nodes(conn: Connection, nodes: list[Node]) -> None:
    """Insert-or-ignore, in (level, idx) order so that two PostgreSQL writers of the
    same rows wait on each other in one order, never in a cycle."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_INSERT_SQLITE, nodes)
        return
    rows = [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in nodes]
    insert_rows(conn, evidence_tree, rows, skip_duplicates=True)


async def _folded(
    engine: AsyncEngine, parts: list[list[tuple[int, int]]], size: int
) -> list[bytes]:
    """Each part's stored perfect subtrees folded into one hash, in one query, the tree
    extended first when it does not reach ``size`` yet."""
    # The last leaf too: its presence says the tree covers ``size``.
    wanted = {key for part in parts for key in part} | {(0, size - 1)}
    async with read_transaction(engine, "reading the evidence tree") as conn:
        found = await _read_nodes(conn, wanted)
    if len(found) < len(wanted):
        covered = await extend_tree(engine)
        if covered < size:
            raise NotFound(f"the evidence tree has {covered} records, not {size}")
        async with read_transaction(engine, "reading the evidence tree") as conn:
            found = await _read_nodes(conn, wanted)
        missing = sorted(wanted - found.keys())
        if missing:
            raise TreeBroken(
                f"the evidence tree lacks {_describe(*missing[0])} below its size {covered}: "
                "it was altered; run 'contact-gateway evidence verify'"
            )
    return [merkle.fold([found[key] for key in part]) for part in parts]


async def tree_root(engine: AsyncEngine, size: int) -> bytes:
    """The root of the tree of the first ``size`` records (the empty root for 0)."""
    if size < 0:
        raise ValueError(f"a tree cannot have {size} records")
    if size == 0:
        return merkle.EMPTY_ROOT
    (root,) = await _folded(engine, [merkle.subtree_ranges(0, size)], size)
    return root


async def inclusion_proof(engine: AsyncEngine, seq: int, size: int) -> list[bytes]:
    """The audit path of record ``seq`` in the tree of the first ``size`` records
    (check it with ``merkle.verify_inclusion(leaf, seq - 1, size, proof, root)``)."""
    if not 1 <= seq <= size:
        raise ValueError(f"record {seq} is not in a tree of {size} records")
    return await _folded(engine, merkle.range_nodes(merkle.inclusion_ranges(seq - 1, size)), size)


async def consistency_proof(engine: AsyncEngine, old_size: int, new_size: int) -> list[bytes]:
    """That the tree of the first ``old_size`` records is the start of the tree of the
    first ``new_size`` (check it with ``merkle.verify_consistency``)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if new_size == 0:
        return []
    ranges = merkle.consistency_ranges(old_size, new_size)
    return await _folded(engine, merkle.range_nodes(ranges), new_size)


async def check_tree(engine: AsyncEngine, sizes: Iterable[int] = ()) -> TreeCheck:
    """The tree worked out again from every record's chain hash, with its roots at
    ``sizes``, and the stored tree compared with it node for node: the plain,
    in-memory counterpart of the fast scan's check (``gateway.chain.tree_scan``), for
    databases the scan cannot open and to test it by. Assumes the chain itself checked
    out (its hashes are then 64 hex digits)."""
    t = evidence_tree.c
    async with read_transaction(engine, "checking the evidence tree", snapshot=True) as conn:
        rows = await conn.execute(select(evidence.c.hash).order_by(evidence.c.seq))
        leaves = [merkle.record_leaf(h) for (h,) in rows]
        stored = {
            (int(lv), int(ix)): bytes(h)
            for lv, ix, h in await conn.execute(select(t.level, t.idx, t.hash))
        }
    size = len(leaves)
    stored_size = 1 + max((ix for lv, ix in stored if lv == 0), default=-1)
    covered = min(size, stored_size)
    bad = []
    for level, (first, hashes) in enumerate(tree_scan.perfect_levels(leaves, 0) if leaves else []):
        for j, h in enumerate(hashes[: covered >> level], start=first):
            found = stored.get((level, j))
            if found != h:
                bad.append((level, j, "is missing" if found is None else "differs"))
    stray = min(((lv, ix) for lv, ix in stored if (ix + 1) << lv > stored_size), default=None)
    roots = merkle.root_at_sizes(leaves, [s for s in sizes if 0 <= s <= size])
    check = TreeCheck(size, merkle.root(leaves), roots, stored_size)
    return tree_scan.with_problem(check, bad, StoredShape(stored_size, stray))
