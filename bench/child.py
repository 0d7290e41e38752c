"""Running one benchmark script as a child process and reading the JSON it prints.

Used by ``bench/run.py``: each section runs in its own process, so a crash, a leak or a
hung server costs only that section, and its progress (stderr) is passed on as it comes.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from services import say

HERE = Path(__file__).resolve().parent


class SectionFailed(Exception):
    """A benchmark process failed; the message says how."""


def bench_json(script: str, args: list[Any], timeout: float, *, tmpdir: Path) -> dict[str, Any]:
    """Run ``bench/<script> args``; its last JSON line. Its stderr is passed on as it comes.

    Its temporary files go under ``tmpdir`` (``TMPDIR``), which the run removes at the end.
    """
    command = [sys.executable, str(HERE / script), *map(str, args)]
    say(f"$ {' '.join(command[1:])}")
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=HERE.parent,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        start_new_session=True,  # so a timeout can stop it with everything it started
    )
    tail: collections.deque[str] = collections.deque(maxlen=12)
    chunks: list[str] = []

    def relay() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            tail.append(line.rstrip())
            print(f"    {line.rstrip()}", file=sys.stderr, flush=True)

    def collect() -> None:
        assert process.stdout is not None
        chunks.append(process.stdout.read())

    readers = [threading.Thread(target=f, daemon=True) for f in (relay, collect)]
    for reader in readers:
        reader.start()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise SectionFailed(f"{script} did not finish within {timeout:g} s") from None
    for reader in readers:
        reader.join(timeout=10)
    stdout = "".join(chunks)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        last = " | ".join(tail) or stdout[-500:]
        raise SectionFailed(f"{script} exited with {process.returncode}: {last[-1500:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result
