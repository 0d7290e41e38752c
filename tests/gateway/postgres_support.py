"""A private PostgreSQL server for fault tests: stop it for real, start it again.

The machine's PostgreSQL on 5432 serves every test worker at once, so a test that
stops the database runs its own server: ``initdb`` into a temporary folder, ``pg_ctl``
to start and stop it on a free loopback port (its socket in the same folder), trust
authentication for the local user ``postgres``. Stopping it with ``pg_ctl stop -m
immediate`` is what a crashed or unplugged database server looks like to a client;
starting it again recovers from its WAL, with every committed transaction intact.

    with PostgresServer() as server:   # skips (or fails under CI) without PostgreSQL
        url = server.url                # postgresql+asyncpg://postgres@127.0.0.1:PORT/gateway
        server.stop()
        server.start()

PostgreSQL refuses to run as root, so as root the commands run as the system user
``postgres`` (which the Debian package creates) via ``runuser``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from tests.gateway.redis_support import free_port

START_TIMEOUT_S = 30.0
_NEEDED = ("initdb", "pg_ctl", "pg_isready", "createdb")


def _bin_dir() -> Path:
    """The folder with initdb and pg_ctl; skips the test without one (fails under CI)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found))
    for pg_ctl in candidates:
        if all((pg_ctl.parent / name).exists() for name in _NEEDED):
            return pg_ctl.parent
    message = "PostgreSQL's initdb and pg_ctl are not installed, so no private server"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this fails instead of skipping)")
    pytest.skip(message)


class PostgresServer:
    """One PostgreSQL server in a temporary folder, on 127.0.0.1 at a free port."""

    def __init__(self) -> None:
        self._bin = _bin_dir()
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="cg-pg-"))
        self._data = self._dir / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self._dir, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/gateway"

    def _run(self, *argv: str, timeout: float = START_TIMEOUT_S) -> None:
        command = list(argv)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{Path(argv[0]).name} failed ({done.returncode}): "
                f"{done.stderr.decode(errors='replace')[-2000:]}"
            )

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self._bin / "pg_ctl"), "-D", str(self._data), *args)

    def create(self) -> None:
        """initdb, start, and create the database ``gateway``."""
        self._run(
            str(self._bin / "initdb"),
            "-D",
            str(self._data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self.start()
        self._run(
            str(self._bin / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "gateway",
        )

    def start(self) -> None:
        """Start the server (again, on the same port) and wait until it accepts clients."""
        options = f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._pg_ctl("-o", options, "-l", str(self._dir / "server.log"), "-w", "start")
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL on port {self.port} did not come up")
            time.sleep(0.05)

    def ready(self) -> bool:
        done = subprocess.run(
            [str(self._bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
            check=False,
        )
        return done.returncode == 0

    def stop(self) -> None:
        """Stop at once, as a crash would (every committed transaction survives)."""
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def __enter__(self) -> Self:
        self.create()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.ready():
            with contextlib.suppress(RuntimeError):
                self._pg_ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self._dir, ignore_errors=True)
