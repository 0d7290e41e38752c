"""The stored Merkle tree (``gateway.store.tree``) on SQLite and PostgreSQL: extended in
batches it holds exactly the perfect subtrees of the in-memory tree, two gateways
extending at once leave one tree, and the proofs it gives verify with the pure
verifier (``gateway.chain.merkle``)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.chain import merkle
from gateway.store import NotFound, Store
from gateway.store import tree as stored_tree
from gateway.store.schema import evidence, evidence_head, evidence_tree
from tests.conftest import open_store
from tests.gateway.store_factory import make_entry, raw


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Extend a few records at a time, so that short chains cross many batches."""
    monkeypatch.setattr(stored_tree, "EXTEND_BATCH", 3)


async def record(store: Store, first: int, last: int) -> None:
    """Contacts ``first``..``last``, sent together (so the appender batches them)."""
    await asyncio.gather(*(store.record_contact(make_entry(n)) for n in range(first, last + 1)))


async def leaves(store: Store) -> list[bytes]:
    """Every record's leaf hash, from the records themselves."""
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(evidence.c.hash).order_by(evidence.c.seq))
        return [merkle.record_leaf(h) for (h,) in rows]


async def stored_nodes(store: Store) -> dict[tuple[int, int], bytes]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(evidence_tree))
        return {(lv, ix): bytes(h) for lv, ix, h in rows}


def expected_nodes(hashes: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every perfect subtree of the tree over ``hashes``, worked out in memory."""
    out = {}
    level = 0
    while 1 << level <= len(hashes):
        for j in range(len(hashes) >> level):
            out[level, j] = merkle.root(hashes[j << level : (j + 1) << level])
        level += 1
    return out


async def test_an_empty_tree(store: Store) -> None:
    assert await store.extend_tree() == 0
    assert await store.tree_size() == 0
    assert await store.tree_root(0) == merkle.EMPTY_ROOT
    assert await store.consistency_proof(0, 0) == []


async def test_extending_matches_the_in_memory_tree_at_every_size(
    store: Store, small_batches: None
) -> None:
    total = 0
    for chunk in [1, 1, 2, 3, 1, 5, 8, 2, 13, 1, 4]:
        await record(store, total + 1, total + chunk)
        total += chunk
        assert await store.extend_tree() == total
        assert await store.tree_size() == total
        hashes = await leaves(store)
        assert await stored_nodes(store) == expected_nodes(hashes)
        assert await store.tree_root(total) == merkle.root(hashes)
    roots = merkle.root_at_sizes(hashes, range(total + 1))
    for size in range(total + 1):
        assert await store.tree_root(size) == roots[size], size
    assert await store.extend_tree() == total  # nothing new: nothing written
    assert await stored_nodes(store) == expected_nodes(hashes)


async def test_proofs_from_the_database_are_the_rfc_proofs_and_verify(store: Store) -> None:
    await record(store, 1, 21)
    hashes = await leaves(store)
    roots = merkle.root_at_sizes(hashes, range(22))
    for size in range(1, 22):
        for seq in range(1, size + 1):
            proof = await store.inclusion_proof(seq, size)
            assert proof == merkle.inclusion_path(seq - 1, hashes[:size]), (seq, size)
            assert merkle.verify_inclusion(hashes[seq - 1], seq - 1, size, proof, roots[size])
        for old in range(size + 1):
            proof = await store.consistency_proof(old, size)
            assert proof == merkle.consistency_path(old, hashes[:size]), (old, size)
            assert merkle.verify_consistency(old, size, roots[old], roots[size], proof)


async def test_a_proof_extends_the_tree_first(store: Store) -> None:
    await record(store, 1, 10)
    assert await store.tree_size() == 0
    proof = await store.inclusion_proof(4, 10)
    assert await store.tree_size() == 10
    hashes = await leaves(store)
    assert merkle.verify_inclusion(hashes[3], 3, 10, proof, merkle.root(hashes))


async def test_a_tree_larger_than_the_records_is_refused(store: Store) -> None:
    await record(store, 1, 5)
    with pytest.raises(NotFound, match="the evidence tree has 5 records, not 6"):
        await store.tree_root(6)
    with pytest.raises(NotFound, match="has 5 records, not 9"):
        await store.consistency_proof(5, 9)
    with pytest.raises(ValueError, match="record 6 is not in a tree of 5 records"):
        await store.inclusion_proof(6, 5)
    with pytest.raises(ValueError, match="record 0 is not in a tree of 5 records"):
        await store.inclusion_proof(0, 5)
    with pytest.raises(ValueError, match="no consistency proof from size 5 to size 4"):
        await store.consistency_proof(5, 4)


async def test_two_gateways_extending_at_once_leave_one_tree(
    database_url: str, small_batches: None
) -> None:
    async with open_store(database_url) as one, open_store(database_url) as two:
        await record(one, 1, 40)
        sizes = await asyncio.gather(
            one.extend_tree(), two.extend_tree(), one.extend_tree(), two.extend_tree()
        )
        assert max(sizes) == 40
        await record(two, 41, 77)
        await asyncio.gather(one.extend_tree(), two.extend_tree())
        hashes = await leaves(one)
        assert len(hashes) == 77
        assert await stored_nodes(one) == expected_nodes(hashes)
        assert await one.tree_root(77) == await two.tree_root(77) == merkle.root(hashes)


async def test_a_missing_node_is_named_and_stops_extending(store: Store) -> None:
    await record(store, 1, 6)
    await store.extend_tree()
    t = evidence_tree.c
    await raw(store, lambda c: c.execute(delete(evidence_tree).where(t.level == 2, t.idx == 0)))
    await record(store, 7, 8)
    with pytest.raises(
        stored_tree.TreeBroken, match=r"lacks the node at level 2, index 0 \(records 1 to 4\)"
    ):
        await store.extend_tree()
    with pytest.raises(stored_tree.TreeBroken, match="level 2, index 0"):
        await store.tree_root(6)


async def test_a_cut_and_rewritten_tail_has_another_root_at_the_old_size(
    database_url: str,
) -> None:
    # Someone with write access cuts records 6..10, moves the head back and lets the
    # gateway append others: the chain checks out, but the root at size 10 differs, so
    # a checkpoint of the old root kept outside exposes it.
    async with open_store(database_url) as store:
        await record(store, 1, 10)
        root_before = await store.tree_root(10)
        hashes_before = await leaves(store)
        fifth = await store.get_evidence(5)
        assert fifth is not None

        async def cut(conn: AsyncConnection) -> None:
            await conn.execute(delete(evidence).where(evidence.c.seq > 5))
            await conn.execute(delete(evidence_tree))
            await conn.execute(update(evidence_head).values(seq=5, hash=fifth.hash))

        await raw(store, cut)
    async with open_store(database_url) as store:
        await record(store, 106, 110)
        assert (await store.verify_evidence()).ok
        root_after = await store.tree_root(10)
        assert root_after != root_before
        old_root = merkle.root(hashes_before[:5])
        assert await store.tree_root(5) == old_root
        proof = await store.consistency_proof(5, 10)
        assert merkle.verify_consistency(5, 10, old_root, root_after, proof)
        # The old size-10 root is not the new one, and no proof makes it so.
        assert not merkle.verify_consistency(10, 10, root_before, root_after, [])
        assert not merkle.verify_consistency(5, 10, old_root, root_before, proof)
