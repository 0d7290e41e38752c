"""SIGTERM while mail is arriving: ``contact-gateway serve`` stops promptly and cleanly.

A real ``contact-gateway serve`` on SQLite (free ports, a temporary directory) relays to
an aiosmtpd upstream. Clients send mail from strangers and from a restricted customer
(whose mail is recorded as evidence and redirected to the named officer); the
possible-match task writes to the store for each. Once some messages have been
answered, the process gets SIGTERM while others are still being received. It must exit
within ``STOP_BOUND_S``, log no error, and every message answered ``250`` must have
reached the upstream exactly once (the others at most once).

Stopping a background task in the middle of a SQLite transaction left that connection,
and the write lock, held until garbage collection: a message still being received then
waited 30 s for the lock and got ``451``. That race is narrow here (the possible-match
task's transactions are short); ``tests/gateway/common/test_background.py`` and
``tests/gateway/mail/test_mail_queue_stop.py`` reproduce each cause for certain.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from gateway.store import Store
from rules.models import Policy
from tests.gateway.mail_support import (
    STAFF,
    Upstream,
    free_port,
    message,
    transact,
    upstream_server,
)
from tests.gateway.serve_support import delivered_ids
from tests.rules.factories import CUSTOMER_EMAIL, OFFICERS, customer, restriction

pytestmark = pytest.mark.slow

GATEWAY = Path(sys.executable).parent / "contact-gateway"
CLIENTS = 16
STOP_AFTER = 300  # messages answered 250 before SIGTERM
STOP_BOUND_S = 15.0
START_TIMEOUT_S = 60.0
# Long enough for the possible-match task to fingerprint it (and so to write).
BODY = "Could somebody please ring me back about the repair to the back door this week? {n}"


def restricted_policy() -> Policy:
    return Policy.model_validate(
        {
            "officers": OFFICERS,
            "customers": [customer()],
            "restrictions": [restriction(starts="2020-01-01T00:00:00Z", notify_customer=False)],
        }
    )


def gateway_env(database_url: str, upstream: Upstream) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        {
            "GATEWAY_DATABASE_URL": database_url,
            "GATEWAY_UPSTREAM": f"smtp://127.0.0.1:{upstream.port}",
            "GATEWAY_SMTP_PORT": str(free_port()),
            "GATEWAY_HTTP_PORT": str(free_port()),
            "GATEWAY_SMTP_HOSTNAME": "gateway.test",
            "GATEWAY_ORG_DOMAINS": "example.org",
            "GATEWAY_LOG_FORMAT": "json",
        }
    )
    return env


async def until_serving(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    while asyncio.get_running_loop().time() < deadline:
        if process.returncode is not None:
            pytest.fail("the gateway exited early (see its log)")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        banner = await reader.readline()
        writer.close()
        await writer.wait_closed()
        if banner.startswith(b"220"):
            return
    pytest.fail(f"the gateway never answered on port {port}")


async def send_until_refused(port: int, answered: dict[str, int], stopping: asyncio.Event) -> None:
    """``CLIENTS`` clients send one message per connection until the gateway stops
    taking connections (after SIGTERM); each 250 is recorded by Message-ID."""
    numbers = iter(range(100_000))

    async def client() -> None:
        for n in numbers:
            message_id = f"<stop-{n}@test>"
            sender = CUSTOMER_EMAIL if n % 3 == 0 else f"person{n}@example.com"
            data = message(sender, message_id=message_id, body=BODY.format(n=n))
            try:
                reply = await transact(port, sender, [STAFF], data)
            except Exception:  # refused, or closed under us with 421: not answered 250
                if stopping.is_set():
                    return
                continue
            answered[message_id] = reply.code

    await asyncio.gather(*(client() for _ in range(CLIENTS)))


def logged_errors(log: Path) -> list[str]:
    errors = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if "Traceback" in line:
                errors.append(line)
            continue
        if isinstance(entry, dict) and entry.get("level") in ("ERROR", "CRITICAL"):
            errors.append(line)
    return errors


async def stop_while_receiving(database_url: str, tmp_path: Path) -> None:
    async with await Store.open(database_url) as store:
        await store.upsert_policy(restricted_policy(), actor="test")
    async with upstream_server() as upstream:
        env = gateway_env(database_url, upstream)
        port = int(env["GATEWAY_SMTP_PORT"])
        log = tmp_path / "gateway.log"
        with log.open("ab") as output:
            process = await asyncio.create_subprocess_exec(
                str(GATEWAY), "serve", env=env, cwd=tmp_path, stdout=output, stderr=output
            )
        try:
            await until_serving(port, process, log)
            answered: dict[str, int] = {}
            stopping = asyncio.Event()
            clients = asyncio.create_task(send_until_refused(port, answered, stopping))
            async with asyncio.timeout(120):
                while sum(code == 250 for code in answered.values()) < STOP_AFTER:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            process.send_signal(signal.SIGTERM)
            stopping.set()
            began = asyncio.get_running_loop().time()
            try:
                async with asyncio.timeout(STOP_BOUND_S * 4):
                    await process.wait()
            except TimeoutError:
                pytest.fail(f"serve did not exit {STOP_BOUND_S * 4:g} s after SIGTERM")
            took = asyncio.get_running_loop().time() - began
            async with asyncio.timeout(60):
                await clients
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        delivered = delivered_ids(upstream)

    errors = logged_errors(log)
    assert not errors, "errors were logged while stopping:\n" + "\n".join(errors[:5])
    assert process.returncode == 0, log.read_text(errors="replace")[-4000:]
    assert took < STOP_BOUND_S, f"serve took {took:.1f} s to stop"
    acknowledged = {mid for mid, code in answered.items() if code == 250}
    assert len(acknowledged) >= STOP_AFTER
    for mid in acknowledged:
        assert delivered[mid] == 1, f"{mid} was answered 250 and delivered {delivered[mid]} times"
    assert max(delivered.values()) == 1


async def test_sigterm_while_receiving_stops_cleanly(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    await stop_while_receiving(sqlite_database_url, tmp_path)
