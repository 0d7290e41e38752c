"""Seconds for ``contact-gateway rules import`` of a 10,000-customer file, end to end.

The command runs as a new process on a fresh SQLite database (and on PostgreSQL when
``--postgres URL`` is given), exactly as an administrator runs it. Baseline, in the same
run: the time just to parse the same YAML with PyYAML's C loader, the floor under any
importer. Prints one line of JSON; the issue's target is under 10 s.

Run: ``python bench/import_rules.py [--customers 10000] [--restrictions 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from make_policy import make_policy

from gateway.policy.file import dump_policy

EXE = str(Path(sys.executable).parent / "contact-gateway")


def timed_import(path: Path, database_url: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_DATABASE_URL"] = database_url
    start = time.perf_counter()
    result = subprocess.run(
        [EXE, "rules", "import", str(path)], capture_output=True, text=True, env=env, check=False
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"import failed: {result.stderr}")
    return elapsed, result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--restrictions", type=int, default=1_000)
    parser.add_argument("--postgres", help="also import into this (empty) PostgreSQL URL")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_text(dump_policy(make_policy(args.customers, args.restrictions)))
        start = time.perf_counter()
        yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        parse_s = time.perf_counter() - start
        sqlite_s, _ = timed_import(path, f"sqlite+aiosqlite:///{tmp}/gateway.db")
        again_s, _ = timed_import(path, f"sqlite+aiosqlite:///{tmp}/gateway.db")
        report = {
            "benchmark": "rules_import",
            "customers": args.customers,
            "restrictions": args.restrictions,
            "file_bytes": path.stat().st_size,
            "baseline_yaml_parse_s": round(parse_s, 3),
            "import_sqlite_s": round(sqlite_s, 3),
            "reimport_unchanged_sqlite_s": round(again_s, 3),
            "ratio_to_yaml_parse": round(sqlite_s / parse_s, 2),
            "target_s": 10,
        }
        if args.postgres:
            report["import_postgres_s"] = round(timed_import(path, args.postgres)[0], 3)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
