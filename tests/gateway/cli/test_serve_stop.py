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
import signal
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.store import Store
from rules.models import Policy
from tests.gateway.mail_support import STAFF, message, transact, upstream_server
from tests.gateway.serve_support import Instance, delivered_ids
from tests.rules.factories import CUSTOMER_EMAIL, OFFICERS, customer, restriction

pytestmark = pytest.mark.slow

CLIENTS = 16
STOP_AFTER = 300  # messages answered 250 before SIGTERM
STOP_BOUND_S = 15.0
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


async def send_until_refused(port: int, answered: dict[str, int], stopping: asyncio.Event) -> None:
    """``CLIENTS`` clients send one message per connection until the gateway stops
    taking connections (after SIGTERM); each reply is recorded by Message-ID."""
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


@dataclass
class Stopped:
    """What a stop under load left: the log's errors, the exit, how long it took, the
    messages answered 250, and how often each message reached the upstream."""

    errors: list[str]
    returncode: int | None
    took: float
    acknowledged: set[str]
    delivered: Counter[str]


async def stop_while_receiving(database_url: str, tmp_path: Path) -> Stopped:
    async with await Store.open(database_url) as store:
        await store.upsert_policy(restricted_policy(), actor="test")
    async with upstream_server() as upstream:
        gateway = Instance("stop", tmp_path, database_url, upstream.port)
        try:
            await gateway.start()
            process = gateway.process
            assert process is not None
            answered: dict[str, int] = {}
            stopping = asyncio.Event()
            clients = asyncio.create_task(send_until_refused(gateway.smtp_port, answered, stopping))
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
            if gateway.process is not None and gateway.process.returncode is None:
                await gateway.kill()
        delivered = delivered_ids(upstream)
    return Stopped(
        logged_errors(gateway.log),
        process.returncode,
        took,
        {mid for mid, code in answered.items() if code == 250},
        delivered,
    )


async def test_sigterm_while_receiving_stops_cleanly(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    stopped = await stop_while_receiving(sqlite_database_url, tmp_path)
    assert not stopped.errors, "errors were logged while stopping:\n" + "\n".join(
        stopped.errors[:5]
    )
    assert stopped.returncode == 0
    assert stopped.took < STOP_BOUND_S, f"serve took {stopped.took:.1f} s to stop"
    assert len(stopped.acknowledged) >= STOP_AFTER
    twice = {mid: n for mid, n in stopped.delivered.items() if n != 1}
    assert not twice, f"delivered more than once: {twice}"
    missing = stopped.acknowledged - set(stopped.delivered)
    assert not missing, f"answered 250 and never delivered: {sorted(missing)[:5]}"
