"""The evidence's Merkle tree at N records (SQLite): building it, its proofs, and
``evidence verify`` with a stored tree to compare, each next to a baseline from the
same run.

Starts from the chain ``bench/evidence_verify.py`` makes (``chain-N-no-content.db`` in
``--cache-dir``, generated here the same way if it is not there), copied to
``tree-N.db`` beside it, and then:

* ``extend``: the store's own ``extend_tree`` brings the stored tree from nothing to
  the N records (what a gateway upgraded with a long chain does once, in the
  background); records/s. Cached with the copy (``tree-N.complete``), so a second run
  skips it and says so;
* ``inclusion_proof`` / ``consistency_proof``: p50/p99 of ``Store.inclusion_proof``
  for a random record in the whole tree and of ``Store.consistency_proof`` from a
  random size to the whole, each checked with the pure verifier once; baseline: p50/p99
  of ``Store.get_evidence`` for a random record (one primary-key read through the same
  store), in the same process. Target: inclusion proof p99 < 5 ms at a million;
* ``verify``: ``contact-gateway evidence verify`` on the copy (chain, tree recomputed,
  every stored node compared), wall clock, best of ``--repeats``; baseline: the same
  scan of the chain alone (``scan.confirm(..., tree=False)`` in a new process, what
  the command did before the tree). Target: a million records in under 5 s.

Prints one line of JSON. Run:
``python bench/evidence_tree.py [--records 1000000] [--cache-dir DIR] [--proofs 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evidence_verify import EXE, MILLION, generate, sqlite_url

from gateway.chain import merkle
from gateway.store import Store

TARGET_PROOF_P99_MS = 5.0
TARGET_VERIFY_S_PER_MILLION = 5.0
CHAIN_ONLY = """
import asyncio, os, sys
from gateway.chain import scan
found = asyncio.run(scan.confirm(sys.argv[1], processes=os.cpu_count() or 1, tree=False))
sys.exit(0 if found is not None else 1)
"""


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 3),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
    }


def prepare(folder: Path, records: int) -> tuple[Path, float | None]:
    """The chain with its stored tree (made once); seconds the tree took, None if cached."""
    chain = folder / f"chain-{records}-no-content.db"
    if not (chain.exists() and (folder / f"chain-{records}-no-content.complete").exists()):
        print(f"generating a chain of {records:,} records in {chain}", file=sys.stderr)
        generate(chain, records, with_content=False)
        (folder / f"chain-{records}-no-content.complete").touch()
    copy, marker = folder / f"tree-{records}.db", folder / f"tree-{records}.complete"
    if copy.exists() and marker.exists():
        return copy, None
    marker.unlink(missing_ok=True)
    shutil.copyfile(chain, copy)
    print(f"extending the tree over {records:,} records in {copy}", file=sys.stderr)
    seconds = asyncio.run(extend(copy))
    marker.touch()
    return copy, seconds


async def extend(path: Path) -> float:
    store = await Store.open(sqlite_url(path))
    try:
        started = time.perf_counter()
        await store.extend_tree()
        return time.perf_counter() - started
    finally:
        await store.close()


async def proofs(path: Path, count: int) -> dict[str, Any]:
    store = await Store.open(sqlite_url(path))
    rng = random.Random(17)
    try:
        size = await store.tree_size()
        root = await store.tree_root(size)
        seqs = [rng.randint(1, size) for _ in range(count)]
        olds = [rng.randint(1, size) for _ in range(count)]
        for seq in seqs[:50]:  # warm: the statement cache and the file's pages
            await store.get_evidence(seq)
            await store.inclusion_proof(seq, size)
        baseline, inclusion, consistency = [], [], []
        for seq, old in zip(seqs, olds, strict=True):
            started = time.perf_counter()
            await store.get_evidence(seq)
            baseline.append(time.perf_counter() - started)
            started = time.perf_counter()
            await store.inclusion_proof(seq, size)
            inclusion.append(time.perf_counter() - started)
            started = time.perf_counter()
            await store.consistency_proof(old, size)
            consistency.append(time.perf_counter() - started)
        record = await store.get_evidence(seqs[0])
        assert record is not None
        leaf = merkle.record_leaf(record.hash)
        proof = await store.inclusion_proof(seqs[0], size)
        ok = merkle.verify_inclusion(leaf, seqs[0] - 1, size, proof, root)
        old_root = await store.tree_root(olds[0])
        cproof = await store.consistency_proof(olds[0], size)
        ok = ok and merkle.verify_consistency(olds[0], size, old_root, root, cproof)
    finally:
        await store.close()
    return {
        "tree_size": size,
        "root": root.hex(),
        "proofs_verified": ok,
        "count": count,
        "inclusion_proof": {**percentiles(inclusion), "hashes": len(proof)},
        "consistency_proof": percentiles(consistency),
        "baseline_get_evidence": percentiles(baseline),
    }


def timed(command: list[str], path: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_DATABASE_URL"] = sqlite_url(path)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, done.stdout.strip()


def verify_times(path: Path, repeats: int) -> dict[str, Any]:
    with_tree, chain_only, output = [], [], ""
    for _ in range(repeats):
        seconds, output = timed([EXE, "evidence", "verify"], path)
        with_tree.append(round(seconds, 2))
        seconds, _ = timed([sys.executable, "-c", CHAIN_ONLY, sqlite_url(path)], path)
        chain_only.append(round(seconds, 2))
    return {
        "seconds": min(with_tree),
        "seconds_by_repeat": with_tree,
        "baseline_chain_only_seconds": min(chain_only),
        "baseline_chain_only_by_repeat": chain_only,
        "output": output,
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    if args.cache_dir:
        folder = Path(args.cache_dir)
        folder.mkdir(parents=True, exist_ok=True)
        return measure(args, folder)
    with tempfile.TemporaryDirectory(prefix="bench-tree-", dir="/var/tmp") as tmp:
        return measure(args, Path(tmp))


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    path, extend_s = prepare(folder, args.records)
    found = asyncio.run(proofs(path, args.proofs))
    verify = verify_times(path, args.repeats)
    scale = MILLION / args.records
    return {
        "bench": "evidence_tree",
        "database": "sqlite",
        "records": args.records,
        "extend": {
            "seconds": None if extend_s is None else round(extend_s, 1),
            "records_per_s": None if extend_s is None else round(args.records / extend_s),
            "cached": extend_s is None,
        },
        **found,
        "verify": {**verify, "seconds_per_million_scaled": round(verify["seconds"] * scale, 2)},
        "target_inclusion_p99_ms": TARGET_PROOF_P99_MS,
        "target_verify_s_per_million": TARGET_VERIFY_S_PER_MILLION,
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=MILLION)
    parser.add_argument("--proofs", type=int, default=2000, help="proofs of each kind timed")
    parser.add_argument("--repeats", type=int, default=2, help="timings of evidence verify")
    parser.add_argument("--cache-dir", help="where chain-N-*.db and tree-N.db are kept")
    print(json.dumps(main(parser.parse_args())), flush=True)


if __name__ == "__main__":
    sys.exit(cli())
