"""A private ``redis-server`` for fault tests: start it, stop it for real, start it again.

The machine's shared Redis on 6379 serves every test worker at once, so a test that
stops Redis runs its own, on a free loopback port, with no persistence (as the shared
one): stopping and starting it again gives an *empty* Redis, like a restart of a
Redis without persistence. ``pause``/``resume`` (SIGSTOP/SIGCONT) make it hang, like a
Redis that accepts connections but does not answer.

    with RedisServer() as server:      # skips (or fails under CI) without redis-server
        client = Redis.from_url(server.url)
        server.stop()                  # SIGTERM: Redis shuts down, saving nothing
        server.start()                 # same port, same command, empty

Each start waits until the server answers PING (bounded); ``stop`` waits until it exits.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def redis_server_binary() -> str:
    """The path of ``redis-server``; skips the test without it (fails under CI)."""
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server is not on PATH, so a private Redis cannot be started"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this fails instead of skipping)")
        pytest.skip(message)
    return found


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class _PortTaken(Exception):
    """redis-server exited at start: most likely another process took the port."""


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1, started and stopped by the test."""

    def __init__(self, port: int | None = None) -> None:
        self.binary = redis_server_binary()
        self._pick_port = port is None  # free at construction; another if taken at start
        self.port = port or free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="cg-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        return [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._dir),
        ]

    def start(self) -> None:
        """Start the server (again, on the same port) and wait until it answers."""
        if self.running:
            return
        for _ in range(3):
            try:
                self._start()
                self._pick_port = False  # a restart must come back where clients look
                return
            except _PortTaken:
                if not self._pick_port:
                    break
                self.port = free_port()
        raise RuntimeError(f"redis-server could not listen on port {self.port}")

    def _start(self) -> None:
        self._process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(self.port):
            if self._process.poll() is not None:
                self._process = None
                raise _PortTaken
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server on port {self.port} did not answer")
            time.sleep(0.02)

    def terminate(self) -> None:
        """Send SIGTERM and return at once (``stop`` then waits for the exit)."""
        process = self._process
        if process is not None and process.poll() is None:
            self.resume()  # a paused process cannot act on SIGTERM
            process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM: Redis closes its clients and exits, saving nothing (``--save ''``)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            self.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
        self._process = None

    def kill(self) -> None:
        """SIGKILL: the server vanishes at once."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
        self._process = None

    def pause(self) -> None:
        """SIGSTOP: the server keeps its connections but answers nothing (a hung Redis)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGCONT)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
