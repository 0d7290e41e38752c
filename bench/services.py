"""The loopback services ``bench/run.py`` needs: Redis and PostgreSQL on this machine.

Both normally run already (STYLE.md: Redis on 127.0.0.1:6379, PostgreSQL on
127.0.0.1:5432, user postgres, trust auth). When one is down it is started with the
commands STYLE.md gives, and stopped again at the end; one that was already running is
left alone. Each run works in its own PostgreSQL databases (``bench_<run>_<section>``,
dropped at the end) and under its own Redis key prefixes (deleted at the end), so a run
never touches anyone else's data on the shared servers. Gateways started by the bench
get their section's prefix (GATEWAY_REDIS_PREFIX) and, as a second fence, a Redis
database of their own (15); anything left under the default ``cg:`` there is deleted too.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
DEFAULT_PREFIX = "cg"  # RedisCounter's default key prefix
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
    "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no",
    "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def say(message: str) -> None:
    """Progress goes to stderr; stdout is kept for the one JSON report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def redis_up() -> bool:
    probe = ["redis-cli", "-h", REDIS_HOST, "-p", str(REDIS_PORT), "ping"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.stdout.strip() == "PONG"


def postgres_up() -> bool:
    probe = ["pg_isready", "-h", PG_HOST, "-p", str(PG_PORT), "-q"]
    try:
        return subprocess.run(probe, timeout=5, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _pg_cluster() -> list[str]:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    return [version, "main"]


def _wait(check: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not come up within {limit:g} s")


@dataclass
class Services:
    """What this run started (to stop it again) and what it created (to remove it)."""

    run_id: str
    started: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)
    gateway_db: int = 15

    def start(self) -> None:
        if redis_up():
            self.status["redis"] = f"{REDIS_HOST}:{REDIS_PORT}, already running"
        elif shutil.which("redis-server"):
            say("Redis is down: starting it")
            subprocess.run(REDIS_START, check=True)
            _wait(redis_up, "Redis")
            self.started.append("redis")
            self.status["redis"] = f"{REDIS_HOST}:{REDIS_PORT}, started by this run"
        else:
            self.status["redis"] = "unavailable (no redis-server)"
        if postgres_up():
            self.status["postgresql"] = f"{PG_HOST}:{PG_PORT}, already running"
        elif shutil.which("pg_ctlcluster"):
            say("PostgreSQL is down: starting it")
            start = ["pg_ctlcluster", "--skip-systemctl-redirect", *_pg_cluster(), "start"]
            subprocess.run(start, check=True)
            _wait(postgres_up, "PostgreSQL")
            self.started.append("postgresql")
            self.status["postgresql"] = f"{PG_HOST}:{PG_PORT}, started by this run"
        else:
            self.status["postgresql"] = "unavailable (no pg_ctlcluster)"

    def stop(self) -> None:
        """Stop only what this run started."""
        if "redis" in self.started:
            say("stopping the Redis this run started")
            shutdown = ["redis-cli", "-h", REDIS_HOST, "-p", str(REDIS_PORT), "shutdown", "nosave"]
            subprocess.run(shutdown, capture_output=True, check=False)
        if "postgresql" in self.started:
            say("stopping the PostgreSQL this run started")
            stop = ["pg_ctlcluster", "--skip-systemctl-redirect", *_pg_cluster(), "stop"]
            subprocess.run(stop, check=False)

    # ------------------------------------------------------------ PostgreSQL

    def postgres_database(self, section: str) -> str:
        """A new, empty database for ``section``; its SQLAlchemy URL."""
        name = f"bench_{self.run_id}_{section}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        self.databases.append(name)
        return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"

    def drop_databases(self) -> list[str]:
        dropped = []
        for name in self.databases:
            try:
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                dropped.append(name)
            except Exception as exc:
                say(f"could not drop database {name}: {exc}")
        self.databases.clear()
        return dropped

    # ----------------------------------------------------------------- Redis

    @property
    def redis_url(self) -> str:
        return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"

    def gateway_redis_url(self) -> str:
        """For the gateways: their own Redis database number, as well as the prefix.

        The gateways also get the section's key prefix (GATEWAY_REDIS_PREFIX); this
        database, which the bench keeps to itself, is a second fence.
        """
        return f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.gateway_db}"

    def redis_prefix(self, section: str) -> str:
        """A key prefix unique to this run and section; its keys are deleted at the end."""
        prefix = f"bench:{self.run_id}:{section}"
        self.prefixes.append(prefix)
        return prefix

    def gateway_keys(self, prefix: str) -> dict[str, int]:
        """Keys a gateway section left, under its prefix and under serve's default ``cg``;
        all are deleted (the latter only in the bench's own Redis database)."""
        url = self.gateway_redis_url()
        return {
            f"{prefix}:*": asyncio.run(_scan(url, prefix, delete=True)),
            f"{DEFAULT_PREFIX}:* (db {self.gateway_db})": asyncio.run(
                _scan(url, DEFAULT_PREFIX, delete=True)
            ),
        }

    def delete_keys(self) -> int:
        deleted = 0
        for prefix in self.prefixes:
            for url in (self.redis_url, self.gateway_redis_url()):
                try:
                    deleted += asyncio.run(_scan(url, prefix, delete=True))
                except Exception as exc:
                    say(f"could not delete Redis keys under {prefix}: {exc}")
        self.prefixes.clear()
        return deleted


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _scan(url: str, prefix: str, *, delete: bool) -> int:
    client = Redis.from_url(url)
    found = 0
    try:
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            found += 1
            if delete:
                await client.unlink(key)
    finally:
        await client.aclose()
    return found
