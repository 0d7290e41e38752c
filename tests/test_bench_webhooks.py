"""``bench/run.py``'s webhooks section runs on a machine without wrk (a newcomer's).

The bench is run as the README says, as a process, with PATH stripped of wrk (every
other program still found), in its quick mode and for that section only: its own
PostgreSQL database and Redis prefix, three servers, a few seconds of load each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def _path_without(program: str, shadows: Path) -> str:
    """PATH with ``program`` gone: each folder holding it is replaced by a folder of
    links to everything else in it."""
    folders = []
    for number, folder in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        if not folder or not (Path(folder) / program).exists():
            folders.append(folder)
            continue
        shadow = shadows / str(number)
        shadow.mkdir(parents=True)
        for entry in Path(folder).iterdir():
            if entry.name != program:
                (shadow / entry.name).symlink_to(entry)
        folders.append(str(shadow))
    return os.pathsep.join(folders)


@pytest.fixture
def no_wrk(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "PATH": _path_without("wrk", tmp_path / "bin")}
    found = subprocess.run(["sh", "-c", "command -v wrk"], env=env, capture_output=True)
    assert found.returncode != 0, found.stdout  # really gone
    return env


def test_asking_for_wrk_without_it_says_how_to_get_it(no_wrk: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "webhooks.py"), "--load-generator", "wrk"],
        env=no_wrk,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "wrk is not on PATH: apt-get install -y wrk" in done.stderr
    assert "--load-generator aiohttp" in done.stderr


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_the_webhooks_section_runs_without_wrk(no_wrk: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--only", "webhooks"],
        env=no_wrk,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    section = report["webhooks"]
    assert "error" not in section, section
    assert section["load_generator"] == "aiohttp (wrk is not on PATH (apt-get install -y wrk))"
    detail = section["detail"]
    assert detail["load"].startswith("signed POST /twilio/voice; aiohttp closed loop")
    # The baseline and the gateway were loaded alike, every round, without failures.
    for server in ("fixed_twiml", "minimal_endpoint", "gateway"):
        figures = detail[server]
        assert len(figures["requests_per_s_by_round"]) == 2, figures
        assert min(figures["requests_per_s_by_round"]) > 0 and figures["errors"] == 0, figures
        assert figures["non_200_at_fixed_rate"] == 0, figures
    assert len(detail["ratio_to_minimal_endpoint_by_round"]) == 2
    assert detail["load_generator"]["cpu_share_median"] > 0
    # Judged only when the generator was not what set the pace.
    if detail["load_generator"]["minimal_endpoint_to_fixed_twiml"] >= 0.8:
        assert section["meets_target"] is None and "set the pace" in section["not_judged"]
    else:
        assert section["meets_target"] in (True, False)
    assert report["summary"]["errors"] == []
