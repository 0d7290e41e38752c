"""The Merkle tree worked out again by the fast scan (``gateway.chain.tree_scan``), on
SQLite and PostgreSQL, in one process and split across worker processes: the same
root as the in-memory tree and the store's own check, and a stored tree that
disagrees with the records named by its first leaf, each way it can."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.chain import merkle
from gateway.chain import scan as evidence_scan
from gateway.chain.tree_roots import recompute_roots
from gateway.chain.tree_scan import TreeCheck
from gateway.store import Store
from gateway.store.schema import evidence, evidence_head, evidence_tree
from tests.gateway.store_factory import make_entry, raw


@pytest.fixture
def split_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let even a short chain be cut into ranges checked by worker processes."""
    monkeypatch.setattr(evidence_scan, "MIN_PER_PROCESS", 1)


def url_of(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


async def record(store: Store, first: int, last: int) -> None:
    await asyncio.gather(*(store.record_contact(make_entry(n)) for n in range(first, last + 1)))


async def leaves(store: Store) -> list[bytes]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(evidence.c.hash).order_by(evidence.c.seq))
        return [merkle.record_leaf(h) for (h,) in rows]


async def fast(store: Store, sizes: list[int] = (), processes: int = 3) -> TreeCheck:  # type: ignore[assignment]
    check = await recompute_roots(url_of(store), sizes, processes=processes)
    assert check is not None, "the fast scan could not confirm the chain"
    return check


async def set_node(store: Store, level: int, index: int, value: bytes) -> None:
    t = evidence_tree.c
    await raw(
        store,
        lambda c: c.execute(
            update(evidence_tree).where(t.level == level, t.idx == index).values(hash=value)
        ),
    )


@pytest.mark.parametrize("processes", [1, 3])
async def test_the_scan_gives_the_roots_of_the_records_whatever_the_stored_tree_holds(
    store: Store, split_small: None, processes: int
) -> None:
    await record(store, 1, 13)
    hashes = await leaves(store)
    sizes = [0, 1, 5, 8, 13, 14, 99]
    empty_tree = await fast(store, sizes, processes)
    assert (empty_tree.size, empty_tree.root) == (13, merkle.root(hashes))
    assert empty_tree.roots == merkle.root_at_sizes(hashes, [0, 1, 5, 8, 13])
    assert (empty_tree.stored_size, empty_tree.problem) == (0, None)
    assert "covers 0 of them so far" in empty_tree.describe()
    await store.extend_tree()
    await record(store, 14, 20)  # the stored tree lags behind: not a problem
    hashes = await leaves(store)
    lagging = await fast(store, sizes, processes)
    assert (lagging.size, lagging.root, lagging.stored_size) == (20, merkle.root(hashes), 13)
    assert lagging.roots[14] == merkle.root(hashes[:14]) and 99 not in lagging.roots
    assert lagging.problem is None
    assert lagging == await store.check_tree(sizes)
    assert lagging.describe() == (
        f"evidence tree: 20 records, root {merkle.root(hashes).hex()} "
        "(the stored tree covers 13 of them so far)"
    )


async def test_an_empty_chain_has_the_empty_root(store: Store) -> None:
    check = await fast(store, [0, 3], processes=1)
    assert (check.size, check.root, check.roots, check.problem) == (
        0,
        merkle.EMPTY_ROOT,
        {0: merkle.EMPTY_ROOT},
        None,
    )


@pytest.mark.parametrize(
    ("level", "index", "first_leaf"),
    [
        (0, 6, 6),  # a leaf
        (2, 1, 4),  # inside one range of the scan (three ranges of 7 records)
        (3, 0, 0),  # spanning two ranges: checked when the parent stitches them
    ],
)
async def test_a_stored_node_that_differs_is_named_by_its_first_leaf(
    store: Store, split_small: None, level: int, index: int, first_leaf: int
) -> None:
    await record(store, 1, 21)
    await store.extend_tree()
    await set_node(store, level, index, b"\x07" * 32)
    for check in (await fast(store), await store.check_tree()):
        assert check.first_bad_leaf == first_leaf
        assert check.problem is not None
        assert f"from leaf {first_leaf} (record {first_leaf + 1})" in check.problem
        assert f"its node at level {level}, index {index}" in check.problem
        assert "differs" in check.problem
        # The root is the records', not the stored tree's.
        assert check.root == merkle.root(await leaves(store))


async def test_a_missing_node_is_named(store: Store, split_small: None) -> None:
    await record(store, 1, 21)
    await store.extend_tree()
    t = evidence_tree.c
    await raw(store, lambda c: c.execute(delete(evidence_tree).where(t.level == 1, t.idx == 5)))
    for check in (await fast(store), await store.check_tree()):
        assert check.first_bad_leaf == 10
        assert "its node at level 1, index 5 (records 11 to 12) is missing" in str(check.problem)


async def test_a_tree_longer_than_the_records_shows_a_cut_tail(
    store: Store, split_small: None
) -> None:
    await record(store, 1, 12)
    await store.extend_tree()
    ninth = await store.get_evidence(9)
    assert ninth is not None

    async def cut(conn: AsyncConnection) -> None:
        await conn.execute(delete(evidence).where(evidence.c.seq > 9))
        await conn.execute(update(evidence_head).values(seq=9, hash=ninth.hash))

    await raw(store, cut)
    for check in (await fast(store), await store.check_tree()):
        assert check.size == 9 and check.first_bad_leaf == 9
        assert "covers 12 records but there are only 9" in str(check.problem)
        assert "the first missing is record 10" in str(check.problem)


async def test_a_node_beyond_the_stored_leaves_is_named(store: Store, split_small: None) -> None:
    await record(store, 1, 12)
    await store.extend_tree()
    t = evidence_tree.c
    # Leaves 8..11 taken away, their level-2 parent left behind.
    gone = or_(and_(t.level == 0, t.idx >= 8), and_(t.level == 1, t.idx >= 4))
    await raw(store, lambda c: c.execute(delete(evidence_tree).where(gone)))
    for check in (await fast(store), await store.check_tree()):
        assert check.stored_size == 8 and check.first_bad_leaf == 8
        assert "a node beyond its 8 leaves, from leaf 8 (record 9)" in str(check.problem)
        assert "level 2, index 2" in str(check.problem)


async def test_a_rehashed_chain_has_another_root_at_every_size_from_the_change(
    store: Store,
) -> None:
    # Someone changes record 4 and re-hashes every record after it: the chain checks
    # out, and a rebuilt tree agrees with it; only a root kept outside shows the change.
    await record(store, 1, 10)
    before = merkle.root_at_sizes(await leaves(store), range(11))
    async with store.engine.connect() as conn:
        rows = [
            dict(r)
            for r in (await conn.execute(select(evidence).order_by(evidence.c.seq))).mappings()
        ]
    from gateway.chain.links import chain_hash
    from gateway.store.evidence_db import evidence_hashed_fields

    prev = rows[2]["hash"]
    for row in rows[3:]:
        if row["seq"] == 4:
            row["sender"] = "someone-else@example.org"
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(evidence_hashed_fields(row))

    async def rewrite(conn: AsyncConnection) -> None:
        await conn.execute(delete(evidence).where(evidence.c.seq >= 4))
        await conn.execute(delete(evidence_tree))
        await conn.execute(insert(evidence), rows[3:])
        await conn.execute(update(evidence_head).values(seq=10, hash=prev))

    await raw(store, rewrite)
    assert (await store.verify_evidence()).ok
    await store.extend_tree()
    after = await fast(store, list(range(11)), processes=1)
    assert after.problem is None
    assert [after.roots[n] == before[n] for n in range(11)] == [True] * 4 + [False] * 7


async def test_the_stores_own_check_asks_for_the_chain_alone(store: Store) -> None:
    await record(store, 1, 3)
    found = await evidence_scan.confirm(url_of(store), tree=False)
    assert found is not None and (found.head_seq, found.tree) == (3, None)
    assert (await store.verify_evidence()).ok
