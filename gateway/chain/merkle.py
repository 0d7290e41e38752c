"""An RFC 9162 Merkle tree over the evidence records, and its proofs.

The hash chain shows that no record was changed without re-hashing every later one;
it cannot show that nobody with write access to the database did exactly that, or cut
the tail and moved the head. A Merkle tree whose roots are signed and kept by someone
outside can: a root at size n commits to the first n records, a *consistency proof*
shows a later root extends an earlier one without rewriting it, and an *inclusion
proof* shows one record is in the tree under a given root, each in about log2(n)
hashes.

The tree is exactly Certificate Transparency's (RFC 9162 §2.1, as RFC 6962 §2.1), so
any CT library can check our proofs:

* leaf i (0-based) is evidence record seq i + 1, and its data are the 32 raw bytes of
  the record's chain hash; leaf hash = SHA-256(0x00 || data);
* interior node = SHA-256(0x01 || left || right); the split of n leaves is the largest
  power of two below n; the empty tree's root is SHA-256 of nothing.

The store keeps every *perfect* subtree (2^k leaves starting at a multiple of 2^k) as
(level k, index j); any root or proof is then a few such nodes folded together.
:func:`subtree_ranges`, :func:`inclusion_ranges` and :func:`consistency_ranges` say
which nodes; :func:`root`, :func:`inclusion_path` and :func:`consistency_path` are the
RFC's own recursive definitions over leaves in memory, the reference the stored tree
is tested against.

Why written here rather than taken from a library: these are a few dozen lines of the
RFC, checked against its test vectors (transparency-dev/merkle's, in the tests). The
maintained Python library, pymerkle, hashes the same way, but owns its storage: its
backends (in memory, its own SQLite file) keep the leaf *data* and recompute interior
hashes on demand, synchronously, and its proofs carry its own encoding (direction bits,
the leaf itself) rather than the RFC's audit path. We need the perfect-subtree nodes in
our own tables, written by several gateways at once on SQLite and PostgreSQL through
SQLAlchemy's async engine, and proofs built from a handful of stored nodes in one
query; what is left of a library once its storage is replaced is these functions.

Pure: standard library only, no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def record_leaf(chain_hash_hex: str) -> bytes:
    """The leaf hash of an evidence record, from its chain hash (64 hex digits)."""
    return _sha256(b"\x00" + bytes.fromhex(chain_hash_hex)).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2): where RFC 9162 splits."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes: the root of the tree with these leaves.

    Level by level, an odd last node carried up unchanged: the same tree as the RFC's
    split at the largest power of two, without recursion."""
    level = list(leaves)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _check_size(name: str, value: int, upper: int, what: str) -> None:
    if not 0 <= value <= upper:
        raise ValueError(f"{name} {value} is out of range: {what} is {upper}")


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf ``index``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)} leaves")

    def path(m: int, d: Sequence[bytes]) -> list[bytes]:
        if len(d) == 1:
            return []
        k = _split(len(d))
        if m < k:
            return [*path(m, d[:k]), root(d[k:])]
        return [*path(m - k, d[k:]), root(d[:k])]

    return path(index, leaves)


def consistency_path(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1: that the first ``old_size`` leaves' tree is
    a prefix of this one. Empty when ``old_size`` is 0 or the whole tree."""
    _check_size("old size", old_size, len(leaves), "the tree's size")

    def subproof(m: int, d: Sequence[bytes], whole: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if whole else [root(d)]
        k = _split(n)
        if m <= k:
            return [*subproof(m, d[:k], whole), root(d[k:])]
        return [*subproof(m - k, d[k:], False), root(d[:k])]

    if old_size == 0:
        return []
    return subproof(old_size, leaves, True)


def _all_hashes(*hashes: bytes) -> bool:
    return all(len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` in the
    tree of ``size`` leaves with this root? Any hash not of 32 bytes fails."""
    if not 0 <= index < size or not _all_hashes(leaf, root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree of ``old_size`` leaves with
    ``old_root`` is the first part of the tree of ``new_size`` with ``new_root``?

    Equal sizes need equal roots and an empty proof; the empty tree is a prefix of any
    tree (empty proof). Any hash not of 32 bytes fails."""
    if not 0 <= old_size <= new_size or not _all_hashes(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node here
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


def subtree_ranges(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) as perfect subtrees, left to right, each as (level, index): the
    subtree at (k, j) holds leaves [j * 2^k, (j + 1) * 2^k).

    Each is the largest aligned block that fits, so [0, n) gives one node per bit of n,
    largest first; the hash of any RFC 9162 subtree range is then these nodes folded
    from the right (:func:`fold`)."""
    if not 0 <= start <= end:
        raise ValueError(f"[{start}, {end}) is not a range of leaves")
    out: list[tuple[int, int]] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        out.append((level, start >> level))
        start += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash over consecutive perfect subtrees that make up one RFC 9162 subtree
    (as :func:`subtree_ranges` gives them): folded from the right."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges [a, b) whose hashes make up leaf ``index``'s audit path in the
    tree of ``size`` leaves, in the path's order (as :func:`inclusion_path`)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    out: list[tuple[int, int]] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            out.append((start + k, start + n))
            n = k
        else:
            out.append((start, start + k))
            start, n, m = start + k, n - k, m - k
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges [a, b) whose hashes make up the consistency proof from
    ``old_size`` to ``new_size``, in the proof's order (as :func:`consistency_path`)."""
    _check_size("old size", old_size, new_size, "the new size")
    if old_size in (0, new_size):
        return []
    out: list[tuple[int, int]] = []
    start, m, n, whole = 0, old_size, new_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            out.append((start + k, start + n))
            n = k
        else:
            out.append((start, start + k))
            start, m, n, whole = start + k, m - k, n - k, False
    if not whole:
        out.append((start, start + n))
    out.reverse()
    return out


def range_nodes(ranges: Iterable[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Each leaf range as its perfect subtrees (:func:`subtree_ranges`): the stored
    nodes to read for a proof, and how to fold them back."""
    return [subtree_ranges(a, b) for a, b in ranges]


class CompactRange:
    """The perfect subtrees over leaves [0, size), kept as they are appended: at most
    one per bit of ``size`` (RFC 9162's tree is built by merging these).

    ``push`` takes the next perfect subtree (a leaf, or a whole aligned block) and
    returns every new perfect subtree the merge completed, so the caller can store
    them; ``root()`` folds what is held."""

    __slots__ = ("nodes", "size")

    def __init__(self, nodes: Sequence[tuple[int, int, bytes]] = ()) -> None:
        """``nodes`` are (level, index, hash) of [0, size) as :func:`subtree_ranges`
        decomposes it (the stored frontier of a tree)."""
        self.nodes: list[tuple[int, int, bytes]] = []
        self.size = 0
        for level, index, h in nodes:
            if index << level != self.size:
                raise ValueError(
                    f"node at level {level}, index {index} does not follow leaf {self.size}"
                )
            self.nodes.append((level, index, h))
            self.size += 1 << level
        if [(lv, ix) for lv, ix, _ in self.nodes] != subtree_ranges(0, self.size):
            raise ValueError(f"nodes are not the frontier of a tree of {self.size} leaves")

    def push(self, level: int, index: int, h: bytes) -> list[tuple[int, int, bytes]]:
        """Append the perfect subtree (level, index); returns the nodes merged into
        being, lowest first."""
        if index << level != self.size:
            raise ValueError(
                f"node at level {level}, index {index} does not follow leaf {self.size}"
            )
        nodes, made = self.nodes, []
        self.size += 1 << level
        while nodes and nodes[-1][0] == level and index & 1:
            h = node_hash(nodes.pop()[2], h)
            level, index = level + 1, index >> 1
            made.append((level, index, h))
        nodes.append((level, index, h))
        return made

    def root(self) -> bytes:
        """The root of the tree of ``size`` leaves."""
        return fold([h for _, _, h in self.nodes])


def root_at_sizes(leaves: Sequence[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """The root of the tree of the first n leaves, for each n in ``sizes``, in one pass
    over the leaf hashes (the roots a series of checkpoints should have)."""
    wanted = sorted(set(sizes))
    if wanted and not 0 <= wanted[0] <= wanted[-1] <= len(leaves):
        raise ValueError(f"sizes {wanted} do not all fit a tree of {len(leaves)} leaves")
    out: dict[int, bytes] = {}
    tree = CompactRange()
    for n in wanted:
        for i in range(tree.size, n):
            tree.push(0, i, leaves[i])
        out[n] = tree.root()
    return out
