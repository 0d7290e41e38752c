"""``bench/evidence_appends.py`` still runs against the gateway's own parts.

The bench drives the store and the evidence tree's upkeep task directly, so a change to
those parts can break it without any other test noticing (it once did: the upkeep task's
function was renamed). Here it runs as a process, on SQLite, with small numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_evidence_appends_bench_runs_with_the_tree_upkeep(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "evidence_appends.py"),
            "--url",
            f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}",
            "--count",
            "300",
            "--callers",
            "20",
            "--sequential",
            "20",
            "--warmup",
            "20",
            "--tree-every",
            "0.2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["chain_ok"] is True
    assert report["with_tree"]["tree_covers_every_record"] is True
    assert report["concurrent"]["created"] == 300
