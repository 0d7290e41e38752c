"""SMTP throughput and latency: direct to a sink, through a bare relay, through the gateway.

Three targets in one run, each sent the same N messages of about 20 KB from C concurrent
clients (each client keeps one connection open, as a sending mail server does):

* ``direct``: straight to the upstream sink (an aiosmtpd server that stores nothing);
* ``bare_relay``: through an aiosmtpd server that relays each message to the sink with
  aiosmtplib before answering 250 — the least any proxy that never loses mail does;
* ``gateway``: through ``contact-gateway serve`` (SQLite, relaying to the sink), with a
  realistic mix of senders: most unrestricted, 10 % from 50 customers redirected to a
  named officer, 5 % from 20 customers under read-and-file (held, and each told once a
  day by auto-reply).

The sink, the bare relay and the gateway each run in their own process; the clients run
here. The messages go in interleaved rounds (direct, bare relay, gateway, and again), so
that other work on the machine weighs on all three alike. The bare relay opens a
connection to the sink per message, as the baseline is defined; the gateway keeps its
upstream connections open and reuses them, as mail servers do.

Prints one line of JSON: messages/s and p50/p99 latency for each target, and the
gateway's rate as a fraction of each baseline (``ratio_to_direct``,
``ratio_to_bare_relay``).

Run: ``python bench/smtp.py [--messages 3000] [--clients 20] [--rounds 5]``. With
``--database-url`` (e.g. an empty PostgreSQL database) and ``--redis-url`` the gateway
runs on those instead of its own SQLite file, as several gateways would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP

from gateway.store import Store
from rules.models import Policy

STAFF = ["housing@example.org", "repairs@example.org", "rents@example.org"]
CUSTOMERS = 2000
REDIRECTED = range(0, 50)  # customers whose mail goes to a named officer
HELD = range(50, 70)  # customers under read-and-file (each told once a day)
HERE = os.path.abspath(__file__)
BODY_LINE = "The quick brown fox jumps over the lazy dog, again and again and again.\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------- servers


class Sink:
    """Accepts everything and keeps nothing: the organisation's server at its fastest."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 2.0.0 Ok"


class BareRelay:
    """Relays each message with aiosmtplib before answering: no policy, no storage."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        try:
            await aiosmtplib.send(
                envelope.original_content,
                sender=envelope.mail_from,
                recipients=envelope.rcpt_tos,
                hostname="127.0.0.1",
                port=self.upstream,
                local_hostname="bare-relay.test",
                start_tls=False,
            )
        except aiosmtplib.SMTPException:
            return "451 4.3.0 Try again later"
        return "250 2.0.0 Ok"


async def serve(handler: Any, port: int) -> None:
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(handler, hostname="bench.test", loop=loop, data_size_limit=None)

    server = await loop.create_server(protocol, "127.0.0.1", port)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()


# --------------------------------------------------------------------- clients


def make_messages(
    count: int, size: int, *, redirected: float = 0.10, held: float = 0.05, seed: int = 7
) -> list[tuple[str, list[str], bytes]]:
    """The same mix for every run: by default 85 % strangers, 10 % redirected, 5 % held."""
    rng = random.Random(seed)
    body = BODY_LINE * (size // len(BODY_LINE))
    out = []
    for i in range(count):
        roll = rng.random()
        if roll < redirected:
            sender = f"c{rng.choice(REDIRECTED)}@customers.example"
        elif roll < redirected + held:
            sender = f"c{rng.choice(HELD)}@customers.example"
        else:
            sender = f"person{rng.randrange(100_000)}@elsewhere.example"
        to = [rng.choice(STAFF)]
        mail = EmailMessage(policy=SMTP_POLICY)
        mail["From"] = sender
        mail["To"] = ", ".join(to)
        mail["Subject"] = f"Message {i} about my tenancy"
        mail["Message-ID"] = f"<bench-{i}-{seed}@customers.example>"
        mail.set_content(body)
        out.append((sender, to, mail.as_bytes()))
    return out


@dataclass
class Tally:
    """What one target's rounds added up to."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    failures: int = 0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "messages_per_s": round(len(ordered) / self.seconds, 1),
            "p50_ms": round(1000 * ordered[len(ordered) // 2], 2),
            "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
            "failures": self.failures,
        }


async def blast(
    port: int, messages: Sequence[tuple[str, list[str], bytes]], clients: int, tally: Tally
) -> None:
    """Send everything from ``clients`` connections, adding times to ``tally``."""
    queue: asyncio.Queue[tuple[str, list[str], bytes]] = asyncio.Queue()
    for item in messages:
        queue.put_nowait(item)

    async def client() -> None:
        smtp = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=port, start_tls=False, local_hostname="client.test"
        )
        await smtp.connect()
        try:
            while not queue.empty():
                sender, to, data = queue.get_nowait()
                started = time.perf_counter()
                try:
                    await smtp.sendmail(sender, to, data)
                    tally.latencies.append(time.perf_counter() - started)
                except aiosmtplib.SMTPException:
                    tally.failures += 1
        finally:
            await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    tally.seconds += time.perf_counter() - started


# ------------------------------------------------------------------- processes


async def start(argv: list[str], env: dict[str, str], ready_port: int, log: Path) -> Any:
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(*argv, env=env, stdout=output, stderr=output)
    for _ in range(600):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", ready_port)
            writer.close()
            await writer.wait_closed()
            return process
        except OSError:
            await asyncio.sleep(0.05)
    raise SystemExit(f"{argv[0]} did not start; see {log}")


async def stop(process: Any) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


def bench_policy() -> Policy:
    officers = [
        {"id": f"o{i}", "name": f"Officer {i}", "email": f"officer{i}@example.org"}
        for i in range(10)
    ]
    customers = [
        {"id": f"C-{i}", "name": f"Customer {i}", "emails": [f"c{i}@customers.example"]}
        for i in range(CUSTOMERS)
    ]
    base = {
        "reason": "Excessive contact",
        "proposed_by": "officer.a",
        "authorised_by": "director.b",
        "status": "active",
        "starts": "2020-01-01T00:00:00Z",
        "channels": ["email"],
    }
    restrictions = [
        {**base, "id": f"R-{i}", "customer": f"C-{i}", "named_officer": f"o{i % 10}"}
        for i in REDIRECTED
    ] + [{**base, "id": f"R-{i}", "customer": f"C-{i}", "handling": "read_and_file"} for i in HELD]
    return Policy.model_validate(
        {"officers": officers, "customers": customers, "restrictions": restrictions}
    )


async def main(args: argparse.Namespace) -> dict[str, Any]:
    mix = {"redirected": args.redirected, "held": args.held}
    messages = make_messages(args.messages, args.size, **mix)
    warmup = make_messages(100, args.size, **mix, seed=99)
    here = HERE
    work = Path(tempfile.mkdtemp(prefix="bench-smtp-"))
    log = work / "processes.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    sink_port, relay_port, gateway_port = free_port(), free_port(), free_port()
    python = sys.executable
    sink = await start([python, here, "sink", str(sink_port)], env, sink_port, log)
    results: dict[str, Any] = {
        "messages": args.messages,
        "clients": args.clients,
        "size_bytes": len(messages[0][2]),
        "mix": mix,
    }
    relay_argv = [python, here, "bare-relay", str(relay_port), str(sink_port)]
    url = args.database_url or f"sqlite+aiosqlite:///{work / 'gateway.db'}"
    async with await Store.open(url) as store:
        await store.upsert_policy(bench_policy(), actor="bench")
    gateway_env = {
        **env,
        "GATEWAY_DATABASE_URL": url,
        "GATEWAY_UPSTREAM": f"smtp://127.0.0.1:{sink_port}",
        "GATEWAY_SMTP_PORT": str(gateway_port),
        "GATEWAY_HTTP_PORT": str(free_port()),
        "GATEWAY_SMTP_HOSTNAME": "gateway.test",
        "GATEWAY_ORG_DOMAINS": "example.org",
    }
    if args.database_url or args.redis_url:
        results["database"] = url.split(":", 1)[0]
        results["redis_url"] = args.redis_url or None
    if args.redis_url:
        gateway_env["GATEWAY_REDIS_URL"] = args.redis_url
        if args.redis_prefix:
            gateway_env["GATEWAY_REDIS_PREFIX"] = args.redis_prefix
    gateway_argv = [str(Path(python).parent / "contact-gateway"), "serve"]
    relay = await start(relay_argv, env, relay_port, log)
    gateway = await start(gateway_argv, gateway_env, gateway_port, log)
    targets = {"direct": sink_port, "bare_relay": relay_port, "gateway": gateway_port}
    tallies = {name: Tally() for name in targets}
    try:
        for port in targets.values():
            await blast(port, warmup, args.clients, Tally())
        # Interleaved rounds, so a busy moment on the machine falls on all three alike.
        size = -(-len(messages) // args.rounds)
        for start_at in range(0, len(messages), size):
            chunk = messages[start_at : start_at + size]
            for name, port in targets.items():
                await blast(port, chunk, args.clients, tallies[name])
    finally:
        await stop(gateway)
        await stop(relay)
        await stop(sink)
    for name, tally in tallies.items():
        results[name] = tally.summary()
    async with await Store.open(url) as store:
        results["gateway"]["held"] = await store.count_held()
        results["gateway"]["evidence_records"] = (await store.evidence_head()).seq
        if args.redis_url:
            results["gateway"]["degraded_records"] = await count_degraded(store)
    rate = results["gateway"]["messages_per_s"]
    results["ratio_to_direct"] = round(rate / results["direct"]["messages_per_s"], 3)
    results["ratio_to_bare_relay"] = round(rate / results["bare_relay"]["messages_per_s"], 3)
    return results


async def count_degraded(store: Store) -> int:
    """Records decided on local counters because the shared ones (Redis) failed."""
    degraded, offset = 0, 0
    while page := await store.list_evidence(limit=1000, offset=offset):
        degraded += sum(record.degraded for record in page)
        offset += len(page)
    return degraded


def cli() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "sink":
        asyncio.run(serve(Sink(), int(sys.argv[2])))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "bare-relay":
        asyncio.run(serve(BareRelay(int(sys.argv[3])), int(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--size", type=int, default=20 * 1024)
    parser.add_argument("--redirected", type=float, default=0.10, help="share redirected")
    parser.add_argument("--held", type=float, default=0.05, help="share held (read-and-file)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--database-url", help="the gateway's database, e.g. an empty PostgreSQL database "
        "(postgresql+asyncpg://...); default: a new SQLite file"
    )  # fmt: skip
    parser.add_argument("--redis-url", help="GATEWAY_REDIS_URL for the gateway (default: none)")
    parser.add_argument("--redis-prefix", help="GATEWAY_REDIS_PREFIX, with --redis-url")
    print(json.dumps(asyncio.run(main(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    cli()
