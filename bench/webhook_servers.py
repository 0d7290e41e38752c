"""The three servers ``bench/webhooks.py`` measures, each run as its own process.

``python bench/webhook_servers.py KIND PORT WORKDIR [DATABASE_URL [REDIS_URL [PREFIX]]]``
serves ``fixed_twiml``, ``minimal_endpoint`` or ``gateway`` on 127.0.0.1:PORT, pinned to
one CPU, until killed. The gateway uses a new SQLite file in WORKDIR unless given a
database URL (e.g. PostgreSQL), and Redis counters when given a Redis URL (and prefix).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC_URL = "https://gateway.example.org"
PATH = "/twilio/voice"
EMERGENCY = "+441632960999"
RESTRICTED = 200
SERVER_CPU = 0
FIXED = '<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+441632960000</Dial></Response>'


def serve(kind: str, port: int, workdir: Path, shared: list[str] | None = None) -> None:
    """Run one of the three servers until killed (in its own process)."""
    from aiohttp import web

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {SERVER_CPU})
    if kind == "fixed_twiml":
        app = web.Application()

        async def fixed(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(text=FIXED, content_type="text/xml")

        app.router.add_post(PATH, fixed)
    elif kind == "minimal_endpoint":
        app = minimal_app()
    else:
        app = gateway_app(workdir, *(shared or []))
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def minimal_app() -> Any:
    from aiohttp import web
    from twilio.request_validator import RequestValidator
    from twilio.twiml.voice_response import VoiceResponse

    validator = RequestValidator(TOKEN)

    async def voice(request: web.Request) -> web.Response:
        form = await request.post()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(PUBLIC_URL + request.raw_path, form, signature):
            return web.Response(status=403)
        response = VoiceResponse()
        response.dial(str(form.get("To", "")))
        return web.Response(text=str(response), content_type="text/xml")

    app = web.Application()
    app.router.add_post(PATH, voice)
    return app


def gateway_app(
    workdir: Path, database_url: str = "", redis_url: str = "", redis_prefix: str = ""
) -> Any:
    from gateway.cli.main import server_app
    from gateway.config.settings import Settings
    from gateway.store import Store

    shared: dict[str, Any] = {}
    if redis_url:  # else whatever GATEWAY_REDIS_URL says, as before
        shared["redis"] = {"url": redis_url, **({"prefix": redis_prefix} if redis_prefix else {})}
    settings = Settings(
        **shared,
        database={"url": database_url or f"sqlite+aiosqlite:///{workdir}/gateway.db"},
        smtp={"port": 0, "hostname": "bench.test"},
        upstream=f"maildir:{workdir}/mail",
        # The staff number bench/webhooks.py calls rings a line, as in a deployment: without
        # a route the gateway would not dial a call back to the number that was called.
        twilio={"auth_token": TOKEN, "routes": "+441632960000=+441632960100"},
        public_url=PUBLIC_URL,
        emergency_number=EMERGENCY,
    )

    async def load() -> None:
        store = await Store.open(settings.database.url)
        try:
            await store.upsert_policy(bench_policy(), actor="bench")
        finally:
            await store.close()

    asyncio.run(load())
    return server_app(settings)  # exactly what ``contact-gateway serve`` runs


async def evidence_counts(url: str) -> tuple[int, int]:
    """Records in the shared database, and how many were decided on local counters
    because the shared ones (Redis) failed."""
    from gateway.store import Store

    async with await Store.open(url) as store:
        total = (await store.evidence_head()).seq
        degraded, offset = 0, 0
        while page := await store.list_evidence(limit=1000, offset=offset):
            degraded += sum(record.degraded for record in page)
            offset += len(page)
    return total, degraded


def customer_phone(i: int) -> str:
    return f"+4477009{i:05d}"


def bench_policy() -> Any:
    from rules.models import Policy

    now = datetime.now(UTC)
    other_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(now.weekday() + 3) % 7]
    kinds: list[dict[str, Any]] = [
        {
            "channels": ["voice", "email"],
            "named_officer": "jsmith",
            "limits": [{"channel": "voice", "max": 1, "per": "P1D"}],
            "call_time_limit": 600,
            "record_calls": True,
        },
        {"channels": ["email"], "named_officer": "jsmith"},
        {"channels": ["voice"], "handling": "read_and_file"},
        {
            "channels": ["voice"],
            "call_windows": [{"days": [other_day], "start": "10:00", "end": "12:00"}],
        },
    ]
    restrictions = [
        {
            "id": f"R-{i}",
            "customer": f"C-{i}",
            "reason": "Benchmark",
            "proposed_by": "officer.a",
            "authorised_by": "director.b",
            "status": "active",
            "starts": (now - timedelta(days=30)).isoformat(),
            **kinds[i % len(kinds)],
        }
        for i in range(RESTRICTED)
    ]
    return Policy.model_validate(
        {
            "officers": [
                {
                    "id": "jsmith",
                    "name": "Jane Smith",
                    "email": "jane.smith@example.org",
                    "phone": "+441632960001",
                }
            ],
            "customers": [
                {"id": f"C-{i}", "name": f"Customer {i}", "phones": [customer_phone(i)]}
                for i in range(RESTRICTED)
            ],
            "restrictions": restrictions,
        }
    )


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:])
