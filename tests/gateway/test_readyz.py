"""``GET /readyz``: one entry per dependency; 503 only when the database is down.

Every dependency is real: the database (SQLite, or a PostgreSQL database dropped under
the gateway), Redis on 127.0.0.1:6379 (and a closed port for "down"), an aiosmtpd
server as the upstream (and a closed port), a Maildir root under ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from gateway.app import create_app
from gateway.config.settings import Settings
from gateway.counters.redis_client import REDIS
from gateway.health import UPSTREAM_CHECK, UpstreamCheck, maildir_status
from tests.conftest import sqlite_url
from tests.gateway.mail_support import Upstream, free_port
from tests.gateway.ops.test_metrics import drop_database

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def settings(database_url: str, upstream: str, **values: Any) -> Settings:
    return Settings(database={"url": database_url}, upstream=upstream, **values)


async def ready(client: TestClient) -> tuple[int, dict[str, str]]:
    response = await client.get("/readyz")
    return response.status, await response.json()


@dataclass
class CountingUpstream(Upstream):
    """The upstream, counting the EHLOs it is sent (one per readiness check)."""

    ehlos: list[str] = field(default_factory=list)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.ehlos.append(hostname)
        return responses


async def test_all_up_is_ok(aiohttp_client: Any, database_url: str, tmp_path: Path) -> None:
    app = create_app(settings(database_url, f"maildir:{tmp_path / 'not' / 'yet' / 'made'}"))
    client = await aiohttp_client(app)
    status, body = await ready(client)
    assert status == 200 and REDIS not in app
    assert body == {"status": "ok", "database": "ok", "redis": "not configured", "upstream": "ok"}


async def test_dropped_database_is_503_and_the_rest_still_reported(
    aiohttp_client: Any, postgres_url: str, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(settings(postgres_url, f"maildir:{tmp_path}")))
    assert (await ready(client))[0] == 200
    await drop_database(postgres_url)
    status, body = await ready(client)
    assert status == 503
    assert body["status"] == "unavailable" and body["database"].startswith("unreachable")
    assert (body["redis"], body["upstream"]) == ("not configured", "ok")
    assert (await client.get("/healthz")).status == 200


async def test_redis_down_is_degraded_but_ready(aiohttp_client: Any, tmp_path: Path) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(settings(sqlite_url(tmp_path), f"maildir:{tmp_path}", redis={"url": closed}))
    client = await aiohttp_client(app)
    status, body = await ready(client)
    assert status == 200, "decisions go on with local counters: stay in rotation"
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["redis"].startswith("unreachable: ConnectionError")


async def test_redis_up_is_ok(aiohttp_client: Any, tmp_path: Path) -> None:
    probe = Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        await probe.ping()
    except Exception as exc:
        message = f"Redis at {REDIS_URL} is not usable: {type(exc).__name__}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this fails instead of skipping)")
        pytest.skip(message)
    finally:
        await probe.aclose()
    app = create_app(
        settings(sqlite_url(tmp_path), f"maildir:{tmp_path}", redis={"url": REDIS_URL})
    )
    client = await aiohttp_client(app)
    status, body = await ready(client)
    assert (status, body["status"], body["redis"]) == (200, "ok", "ok")
    assert await app[REDIS].ping() is True, "the app's one client, shared with the counters"


async def test_smtp_upstream_is_checked_at_most_once_per_interval(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    upstream = CountingUpstream()
    await upstream.start()
    now = [1000.0]
    target = f"smtp://127.0.0.1:{upstream.port}"
    try:
        app = create_app(settings(sqlite_url(tmp_path), target, smtp={"hostname": "gw.test"}))
        # The same check, with a clock the test moves.
        app[UPSTREAM_CHECK] = UpstreamCheck(target, local_hostname="gw.test", timer=lambda: now[0])
        client = await aiohttp_client(app)
        answers = await asyncio.gather(*(ready(client) for _ in range(5)))
        answers.append(await ready(client))
        assert {(s, b["upstream"]) for s, b in answers} == {(200, "ok")}
        assert upstream.ehlos == ["gw.test"], "one probe storm, one connection"
        await upstream.stop()
        now[0] += 4.9
        assert (await ready(client))[1]["upstream"] == "ok", "remembered for a few seconds"
        now[0] += 0.2
        status, body = await ready(client)
        assert (status, body["status"]) == (200, "degraded")
        assert body["upstream"].startswith(f"unreachable: 127.0.0.1:{upstream.port}")
        assert upstream.ehlos == ["gw.test"]
    finally:
        await upstream.stop()


async def test_smtp_upstream_down_is_degraded_but_ready(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    target = f"smtp://127.0.0.1:{free_port()}"
    client = await aiohttp_client(create_app(settings(sqlite_url(tmp_path), target)))
    status, body = await ready(client)
    assert status == 200, "mail is still taken and queued durably: stay in rotation"
    assert body["status"] == "degraded" and body["upstream"].startswith("unreachable")


async def test_unwritable_maildir_is_degraded(aiohttp_client: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    upstream = f"maildir:{blocker / 'mail'}"
    client = await aiohttp_client(create_app(settings(sqlite_url(tmp_path / "db"), upstream)))
    status, body = await ready(client)
    assert (status, body["status"]) == (200, "degraded")
    assert body["upstream"] == f"unwritable: {blocker} is not a directory"


def test_maildir_root_that_does_not_exist_yet_is_fine_when_it_can_be_made(tmp_path: Path) -> None:
    assert maildir_status(tmp_path / "var" / "mail") == "ok"
    assert not (tmp_path / "var").exists(), "a check, not a side effect"
