"""Kill the gateway with SIGKILL in the middle of a batch: nothing answered 250 is lost.

``contact-gateway serve`` runs as a real process (GATEWAY_* variables, free ports, a
temporary directory) in front of an aiosmtpd upstream. 200 messages go in from ten
concurrent clients — most from strangers (relayed), some from a customer redirected to
the named officer, some from a customer whose mail is held — and the process is
killed without warning once about a third have been answered. After a restart, every
message that was answered 250 must have been delivered to the upstream or held,
exactly once; the others at most once; and the evidence chain must still verify.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.parser import BytesParser
from email.policy import SMTP
from pathlib import Path

import pytest

from gateway.store import Store
from rules.models import Policy
from tests.gateway.mail_support import (
    OFFICER,
    STAFF,
    Upstream,
    free_port,
    message,
    transact,
    upstream_server,
)
from tests.rules.factories import OFFICERS, customer, restriction

MESSAGES = 200
CLIENTS = 10
KILL_AFTER = 70
REDIRECTED = "alex@example.net"
HELD = "held@example.net"
GATEWAY = Path(sys.executable).parent / "contact-gateway"


def kill_policy() -> Policy:
    return Policy.model_validate(
        {
            "officers": OFFICERS,
            "customers": [
                customer(),
                customer(id="C-2", emails=[HELD], phones=[], representatives=[]),
            ],
            "restrictions": [
                restriction(starts="2020-01-01T00:00:00Z", notify_customer=False),
                restriction(
                    id="R-2",
                    customer="C-2",
                    starts="2020-01-01T00:00:00Z",
                    handling="read_and_file",
                ),
            ],
        }
    )


def sender_of(seq: int) -> str:
    return {0: REDIRECTED, 1: HELD}.get(seq % 10, f"person{seq}@example.com")


@asynccontextmanager
async def serving(
    env: dict[str, str], cwd: Path, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            str(GATEWAY), "serve", env=env, cwd=cwd, stdout=output, stderr=output
        )
    try:
        await _wait_for_banner(int(env["GATEWAY_SMTP_PORT"]), process, log)
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_for_banner(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    for _ in range(300):  # bounded: 30 s
        if process.returncode is not None:
            pytest.fail(f"the gateway exited early:\n{_tail(log)}")
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
    pytest.fail(f"the gateway never answered on port {port}:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


async def send_batch(port: int, killed: asyncio.Event, answered: dict[int, int]) -> None:
    """Ten clients share 200 messages; a message counts as acknowledged only on 250."""
    numbers = iter(range(MESSAGES))

    async def client() -> None:
        for seq in numbers:
            sender = sender_of(seq)
            data = message(sender, message_id=f"<kill-{seq}@test>", body=f"Message {seq}.")
            try:
                reply = await transact(port, sender, [STAFF], data)
            except Exception:  # the gateway was killed under us
                continue
            answered[seq] = reply.code

    async def killer(process_kill: asyncio.Event) -> None:
        for _ in range(3000):  # bounded: 30 s
            if sum(1 for code in answered.values() if code == 250) >= KILL_AFTER:
                break
            await asyncio.sleep(0.01)
        process_kill.set()

    kill_now = asyncio.Event()
    watcher = asyncio.create_task(killer(kill_now))
    clients = [asyncio.create_task(client()) for _ in range(CLIENTS)]
    await kill_now.wait()
    killed.set()
    await watcher
    await asyncio.gather(*clients)


def message_id(content: bytes) -> str:
    return str(BytesParser(policy=SMTP).parsebytes(content, headersonly=True)["Message-ID"])


@pytest.mark.slow
async def test_sigkill_mid_batch_loses_nothing(database_url: str, tmp_path: Path) -> None:
    async with await Store.open(database_url) as store:
        await store.upsert_policy(kill_policy(), actor="test")
    async with upstream_server() as upstream:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
            "GATEWAY_DATABASE_URL": database_url,
            "GATEWAY_UPSTREAM": f"smtp://127.0.0.1:{upstream.port}",
            "GATEWAY_SMTP_PORT": str(free_port()),
            "GATEWAY_HTTP_PORT": str(free_port()),
            "GATEWAY_SMTP_HOSTNAME": "gateway.test",
            "GATEWAY_ORG_DOMAINS": "example.org",
        }
        log = tmp_path / "gateway.log"
        answered: dict[int, int] = {}
        async with serving(env, tmp_path, log) as first:
            killed = asyncio.Event()
            batch = asyncio.create_task(send_batch(int(env["GATEWAY_SMTP_PORT"]), killed, answered))
            await killed.wait()
            first.send_signal(signal.SIGKILL)
            await first.wait()
            async with asyncio.timeout(60):
                await batch
        assert first.returncode == -signal.SIGKILL
        acknowledged = {seq for seq, code in answered.items() if code == 250}
        assert KILL_AFTER <= len(acknowledged) < MESSAGES, "the kill came mid-batch"
        async with serving(env, tmp_path, log):
            await _until_queue_empty(database_url)
        outcome = await _count(database_url, upstream)
    print(f"acknowledged {len(acknowledged)}, handled {sum(outcome.values())}")
    for seq in range(MESSAGES):
        times = outcome[f"<kill-{seq}@test>"]
        if seq in acknowledged:
            assert times == 1, f"message {seq} was answered 250 and handled {times} times"
        else:
            assert times <= 1, f"message {seq} was handled {times} times"
    redirected = [m for m in upstream.messages if m.rcpt_tos == [OFFICER]]
    assert redirected and all(message_id(m.content).startswith("<kill-") for m in redirected)


async def _until_queue_empty(database_url: str) -> None:
    async with await Store.open(database_url) as store:
        from gateway.store import MailQueue

        queue = MailQueue(store.engine)
        for _ in range(300):  # bounded: 30 s
            if not await queue.pending():
                return
            await asyncio.sleep(0.1)
    pytest.fail("the restarted gateway never emptied its queue")


async def _count(database_url: str, upstream: Upstream) -> Counter[str]:
    """How many times each message was delivered upstream or held, and a chain check."""
    outcome: Counter[str] = Counter()
    for received in upstream.messages:
        if received.mail_from != "<>":  # auto-replies to the held customer are not counted
            outcome[message_id(received.content)] += 1
    async with await Store.open(database_url) as store:
        held = await store.list_held(limit=1000)
        for item in held:
            record = await store.get_evidence(item.evidence_seq)
            assert record is not None
            outcome[f"<{record.details['message_id']}>"] += 1
        keys = Counter(r.contact_key for r in await store.list_evidence(limit=1000))
        assert max(keys.values(), default=1) == 1
        assert (await store.verify_evidence()).ok
    return outcome
