"""The RFC 9162 tree (``gateway.chain.merkle``) against the RFC 6962 / CT test vectors,
and properties: every proof it makes verifies, and a changed leaf, root, size or proof
element does not.

The vectors are transparency-dev/merkle's (testonly/constants.go, testonly/
reference_test.go, proof/verify_test.go), copied byte for byte; they are the ones
Certificate Transparency's own tests use.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.chain import merkle


def hd(text: str) -> bytes:
    return bytes.fromhex(text)


LEAF_INPUTS = [
    hd(""),
    hd("00"),
    hd("10"),
    hd("2021"),
    hd("3031"),
    hd("40414243"),
    hd("5051525354555657"),
    hd("606162636465666768696a6b6c6d6e6f"),
]
LEAVES = [merkle.leaf_hash(data) for data in LEAF_INPUTS]

# NodeHashes(): [level][index] of every perfect subtree of the 8 leaves.
NODE_HASHES = [
    [
        hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        hd("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        hd("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        hd("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        hd("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        hd("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        hd("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        hd("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        hd("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        hd("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [hd("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]

# RootHashes(): the root for each size 0..8.
ROOTS = [
    hd("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    hd("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    hd("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    hd("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    hd("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    hd("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    hd("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# (leaf index, tree size, path): reference_test.go and verify_test.go (whose leaf
# numbers count from one) together.
INCLUSION = [
    (0, 1, []),
    (0, 2, [hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")]),
    (1, 2, [hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]),
    (2, 3, [hd("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        0,
        8,
        [
            hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            hd("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# (old size, new size, proof): reference_test.go and verify_test.go together.
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        2,
        5,
        [
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        8,
        [
            hd("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            hd("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        6,
        7,
        [
            hd("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            hd("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]


def node(level: int, index: int) -> bytes:
    return NODE_HASHES[level][index]


# --- the test vectors ---------------------------------------------------------------


def test_leaf_hashes_are_the_vectors_level_zero() -> None:
    assert NODE_HASHES[0] == LEAVES


def test_empty_root_is_sha256_of_nothing() -> None:
    assert merkle.root([]) == merkle.EMPTY_ROOT == hashlib.sha256(b"").digest() == ROOTS[0]


@pytest.mark.parametrize("size", range(9))
def test_root_for_each_size_is_the_vectors(size: int) -> None:
    assert merkle.root(LEAVES[:size]) == ROOTS[size]


def test_interior_nodes_are_the_vectors() -> None:
    for level in range(1, 4):
        for index, expected in enumerate(NODE_HASHES[level]):
            below = NODE_HASHES[level - 1]
            assert merkle.node_hash(below[2 * index], below[2 * index + 1]) == expected


def test_root_at_sizes_gives_every_vector_root_in_one_pass() -> None:
    assert merkle.root_at_sizes(LEAVES, range(9)) == dict(enumerate(ROOTS))


def test_record_leaf_hashes_the_raw_bytes_of_the_chain_hash() -> None:
    chain_hash = "ab" * 32
    assert merkle.record_leaf(chain_hash) == merkle.leaf_hash(bytes.fromhex(chain_hash))
    assert merkle.record_leaf(chain_hash) == hashlib.sha256(b"\x00" + b"\xab" * 32).digest()


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_path_is_the_vector_and_verifies(
    index: int, size: int, path: list[bytes]
) -> None:
    assert merkle.inclusion_path(index, LEAVES[:size]) == path
    assert merkle.verify_inclusion(LEAVES[index], index, size, path, ROOTS[size])
    ranges = merkle.inclusion_ranges(index, size)
    assert [fold_nodes(nodes) for nodes in merkle.range_nodes(ranges)] == path


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proof_is_the_vector_and_verifies(
    old: int, new: int, proof: list[bytes]
) -> None:
    assert merkle.consistency_path(old, LEAVES[:new]) == proof
    assert merkle.verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)
    ranges = merkle.consistency_ranges(old, new)
    assert [fold_nodes(nodes) for nodes in merkle.range_nodes(ranges)] == proof


def fold_nodes(nodes: list[tuple[int, int]]) -> bytes:
    """The hash of a leaf range from the vectors' perfect subtrees, as the store does."""
    return merkle.fold([node(level, index) for level, index in nodes])


def test_subtree_ranges_of_the_vectors_compact_trees() -> None:
    # CompactTrees() in constants.go: the perfect subtrees of each prefix.
    assert merkle.subtree_ranges(0, 0) == []
    assert merkle.subtree_ranges(0, 3) == [(1, 0), (0, 2)]
    assert merkle.subtree_ranges(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert merkle.subtree_ranges(0, 8) == [(3, 0)]
    for size in range(9):
        nodes = merkle.subtree_ranges(0, size)
        assert fold_nodes(nodes) == ROOTS[size]


def test_subtree_ranges_of_a_range_in_the_middle() -> None:
    assert merkle.subtree_ranges(3, 13) == [(0, 3), (2, 1), (2, 2), (0, 12)]
    assert merkle.subtree_ranges(5, 5) == []
    with pytest.raises(ValueError, match=r"\[6, 5\) is not a range"):
        merkle.subtree_ranges(6, 5)


# --- what must not verify (the probes of verify_test.go) ----------------------------


SOME_HASH = hd("abacaba000000000000000000000000000000000000000000060061e00123456")


@pytest.mark.parametrize(("index", "size", "path"), [v for v in INCLUSION if v[1] > 1])
def test_a_corrupted_inclusion_proof_does_not_verify(
    index: int, size: int, path: list[bytes]
) -> None:
    leaf, good_root = LEAVES[index], ROOTS[size]
    probes = [
        (leaf, index - 1, size, path, good_root),
        (leaf, index + 1, size, path, good_root),
        (leaf, index ^ 2, size, path, good_root),
        (leaf, index, size * 2, path, good_root),
        (leaf, index, size // 2, path, good_root),
        (b"WrongLeaf", index, size, path, good_root),
        (SOME_HASH, index, size, path, good_root),
        (leaf, index, size, path, merkle.EMPTY_ROOT),
        (leaf, index, size, path, SOME_HASH),
        (leaf, index, size, [*path, b""], good_root),
        (leaf, index, size, [*path, good_root], good_root),
        (leaf, index, size, [b"", *path], good_root),
        (leaf, index, size, [good_root, *path], good_root),
        (leaf, index, size, path[:-1], good_root),
    ]
    if len(path) > 1:
        probes.append((leaf, index, size, [path[0], SOME_HASH, *path[1:]], good_root))
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((leaf, index, size, flipped, good_root))
    for probe in probes:
        assert not merkle.verify_inclusion(*probe), probe


def test_a_single_leaf_tree_needs_hashes_of_the_right_size() -> None:
    h = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(h, 0, 1, [], h)
    assert not merkle.verify_inclusion(h, 0, 1, [], b"")
    assert not merkle.verify_inclusion(b"", 0, 1, [], h)
    assert not merkle.verify_inclusion(b"", 0, 1, [], b"")
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1)]:
        assert not merkle.verify_inclusion(SOME_HASH, index, size, [], merkle.EMPTY_ROOT)


@pytest.mark.parametrize(("old", "new", "proof"), [v for v in CONSISTENCY if v[2]])
def test_a_corrupted_consistency_proof_does_not_verify(
    old: int, new: int, proof: list[bytes]
) -> None:
    r1, r2 = ROOTS[old], ROOTS[new]
    probes = [
        (old - 1, new, r1, r2, proof),
        (old + 1, new, r1, r2, proof),
        (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof),
        (old, new // 2, r1, r2, proof),
        (old, new, SOME_HASH, r2, proof),
        (old, new, r1, SOME_HASH, proof),
        (old, new, r2, r1, proof),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*proof, b""]),
        (old, new, r1, r2, [*proof, r1]),
        (old, new, r1, r2, [*proof, r2]),
        (old, new, r1, r2, [b"", *proof]),
        (old, new, r1, r2, [r1, *proof]),
        (old, new, r1, r2, [r2, *proof]),
        (old, new, r1, r2, [proof[0], *proof]),
        (old, new, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((old, new, r1, r2, flipped))
    for probe in probes:
        assert not merkle.verify_consistency(*probe), probe


def test_consistency_edge_cases() -> None:
    r = ROOTS
    assert merkle.verify_consistency(0, 0, r[0], r[0], [])
    assert merkle.verify_consistency(0, 5, r[0], r[5], [])
    assert merkle.verify_consistency(3, 3, r[3], r[3], [])
    assert not merkle.verify_consistency(3, 3, r[3], r[4], [])  # same size, other root
    assert not merkle.verify_consistency(3, 3, r[3], r[3], [r[0]])  # needless proof
    assert not merkle.verify_consistency(0, 1, r[0], r[1], [r[0]])
    assert not merkle.verify_consistency(2, 1, r[2], r[1], [])  # back in time
    assert not merkle.verify_consistency(1, 2, r[1], r[2], [])  # proof missing
    assert merkle.consistency_path(0, LEAVES) == []
    assert merkle.consistency_ranges(0, 8) == merkle.consistency_ranges(8, 8) == []


def test_out_of_range_requests_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="leaf 8 is not in a tree of 8 leaves"):
        merkle.inclusion_path(8, LEAVES)
    with pytest.raises(ValueError, match="leaf 3 is not in a tree of 3 leaves"):
        merkle.inclusion_ranges(3, 3)
    with pytest.raises(ValueError, match="old size 9 is out of range"):
        merkle.consistency_path(9, LEAVES)
    with pytest.raises(ValueError, match="old size 4 is out of range"):
        merkle.consistency_ranges(4, 3)
    with pytest.raises(ValueError, match="do not all fit a tree of 8 leaves"):
        merkle.root_at_sizes(LEAVES, [3, 9])


# --- properties ---------------------------------------------------------------------


def random_leaves(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [merkle.leaf_hash(rng.randbytes(32)) for _ in range(n)]


def recursive_root(leaves: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 writes it, to check ``root``'s level-by-level form."""
    if not leaves:
        return merkle.EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(recursive_root(leaves[:k]), recursive_root(leaves[k:]))


def test_root_is_the_rfc_recursion_for_every_size_to_70() -> None:
    leaves = random_leaves(70, seed=1)
    roots = merkle.root_at_sizes(leaves, range(71))
    for n in range(71):
        assert merkle.root(leaves[:n]) == recursive_root(leaves[:n]) == roots[n], n


def test_every_inclusion_and_consistency_proof_of_small_trees_verifies() -> None:
    leaves = random_leaves(40, seed=2)
    roots = [merkle.root(leaves[:n]) for n in range(41)]
    for n in range(1, 41):
        for i in range(n):
            path = merkle.inclusion_path(i, leaves[:n])
            assert merkle.verify_inclusion(leaves[i], i, n, path, roots[n]), (i, n)
            assert not merkle.verify_inclusion(leaves[i], i, n, path, roots[n - 1]), (i, n)
        for m in range(n + 1):
            proof = merkle.consistency_path(m, leaves[:n])
            assert merkle.verify_consistency(m, n, roots[m], roots[n], proof), (m, n)


@given(
    size=st.integers(min_value=1, max_value=300),
    data=st.data(),
)
def test_proofs_verify_and_any_change_fails(size: int, data: st.DataObject) -> None:
    leaves = random_leaves(size, seed=size)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old = data.draw(st.integers(min_value=1, max_value=size))
    tree_root, old_root = merkle.root(leaves), merkle.root(leaves[:old])
    path = merkle.inclusion_path(index, leaves)
    assert merkle.verify_inclusion(leaves[index], index, size, path, tree_root)
    changed = merkle.leaf_hash(b"changed")
    assert not merkle.verify_inclusion(changed, index, size, path, tree_root)
    assert not merkle.verify_inclusion(leaves[index], index, size, path, changed)
    proof = merkle.consistency_path(old, leaves)
    assert merkle.verify_consistency(old, size, old_root, tree_root, proof)
    if old < size:
        assert not merkle.verify_consistency(old, size, changed, tree_root, proof)
        assert not merkle.verify_consistency(old, size, old_root, changed, proof)
        # A tree whose old part was rewritten has another root at the old size.
        rewritten = [*leaves]
        rewritten[data.draw(st.integers(min_value=0, max_value=old - 1))] = changed
        assert merkle.root(rewritten[:old]) != old_root
    # The ranges the store reads give the same proofs, node for node.
    assert [merkle.root(leaves[a:b]) for a, b in merkle.inclusion_ranges(index, size)] == path
    assert [merkle.root(leaves[a:b]) for a, b in merkle.consistency_ranges(old, size)] == proof


@given(start=st.integers(min_value=0, max_value=5000), length=st.integers(0, 5000))
def test_subtree_ranges_are_aligned_perfect_and_cover_the_range(start: int, length: int) -> None:
    end = start + length
    position = start
    for level, index in merkle.subtree_ranges(start, end):
        assert index << level == position
        position += 1 << level
    assert position == end
    assert len(merkle.subtree_ranges(0, end)) == end.bit_count()


def test_compact_range_stores_every_perfect_subtree_once() -> None:
    leaves = random_leaves(37, seed=3)
    tree = merkle.CompactRange()
    made: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(leaves):
        for level, index, h in tree.push(0, i, leaf):
            assert (level, index) not in made
            made[level, index] = h
        assert tree.root() == merkle.root(leaves[: i + 1])
    expected = {
        (level, j): merkle.root(leaves[j << level : (j + 1) << level])
        for level in range(1, 6)
        for j in range(37 >> level)
    }
    assert made == expected
    # Started again from its frontier, it carries on the same.
    resumed = merkle.CompactRange(tree.nodes)
    assert (resumed.size, resumed.root()) == (37, merkle.root(leaves))


def test_compact_range_refuses_a_node_out_of_place() -> None:
    tree = merkle.CompactRange()
    tree.push(0, 0, LEAVES[0])
    with pytest.raises(ValueError, match="level 0, index 2 does not follow leaf 1"):
        tree.push(0, 2, LEAVES[2])
    with pytest.raises(ValueError, match="not the frontier of a tree of 3 leaves"):
        merkle.CompactRange([(0, 0, LEAVES[0]), (0, 1, LEAVES[1]), (0, 2, LEAVES[2])])
