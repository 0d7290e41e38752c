"""Real ``contact-gateway serve`` processes for the scale-out and fault tests.

Each ``Instance`` is one gateway process with its own free SMTP and HTTP ports, its own
log and spool, and whatever shared database and Redis the test gives it, exactly as
an operator would start it (GATEWAY_* variables). Helpers speak to it as its peers do:
SMTP through aiosmtplib, Twilio webhooks signed with twilio's own ``RequestValidator``
over the public URL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import SMTP
from pathlib import Path

import aiohttp
import pytest

from gateway.store import Store
from tests.channels.twilio_kit import PUBLIC_URL, ROUTES, TOKEN, call_params, sign
from tests.gateway.mail_support import Reply, Upstream, free_port, message, transact
from tests.rules.factories import EMERGENCY

GATEWAY = Path(sys.executable).parent / "contact-gateway"
START_TIMEOUT_S = 60.0


def message_id(content: bytes) -> str:
    return str(BytesParser(policy=SMTP).parsebytes(content, headersonly=True)["Message-ID"])


@dataclass
class Instance:
    """One ``contact-gateway serve`` process."""

    name: str
    folder: Path
    database_url: str
    upstream_port: int
    redis_url: str = ""
    extra_env: Mapping[str, str] = field(default_factory=dict)
    smtp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def env(self) -> dict[str, str]:
        values = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        values.update(
            {
                "GATEWAY_DATABASE_URL": self.database_url,
                "GATEWAY_REDIS_URL": self.redis_url,
                "GATEWAY_UPSTREAM": f"smtp://127.0.0.1:{self.upstream_port}",
                "GATEWAY_SMTP_PORT": str(self.smtp_port),
                "GATEWAY_HTTP_PORT": str(self.http_port),
                "GATEWAY_SMTP_HOSTNAME": f"{self.name}.gateway.test",
                "GATEWAY_ORG_DOMAINS": "example.org",
                "GATEWAY_TWILIO_AUTH_TOKEN": TOKEN,
                "GATEWAY_PUBLIC_URL": PUBLIC_URL,
                "GATEWAY_TWILIO_ROUTES": ROUTES,
                "GATEWAY_EMERGENCY_NUMBER": EMERGENCY,
                "GATEWAY_SPOOL_DIR": str(self.folder / f"{self.name}-spool"),
            }
        )
        values.update(self.extra_env)
        return values

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                str(GATEWAY),
                "serve",
                env=self.env(),
                cwd=self.folder,
                stdout=output,
                stderr=output,
            )
        await self._wait_until_serving()

    async def _wait_until_serving(self) -> None:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        while asyncio.get_running_loop().time() < deadline:
            if self.process is None or self.process.returncode is not None:
                pytest.fail(f"gateway {self.name} exited early:\n{self.tail()}")
            if await self._smtp_banner() and await self._http_up():
                return
            await asyncio.sleep(0.1)
        pytest.fail(f"gateway {self.name} never started serving:\n{self.tail()}")

    async def _smtp_banner(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.smtp_port)
        except OSError:
            return False
        try:
            return (await reader.readline()).startswith(b"220")
        finally:
            writer.close()
            await writer.wait_closed()

    async def _http_up(self) -> bool:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{self.http_port}/healthz") as response,
            ):
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async def stop(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()

    async def kill(self) -> None:
        """SIGKILL: the process vanishes mid-work, as a crashed machine's would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    async def send_mail(self, sender: str, to: str, message_id: str, body: str = "") -> Reply:
        data = message(sender, to=[to], message_id=message_id, body=body or message_id)
        return await transact(self.smtp_port, sender, [to], data)

    async def webhook(
        self, session: aiohttp.ClientSession, path: str, params: dict[str, str]
    ) -> tuple[int, str]:
        headers = {"X-Twilio-Signature": sign(path, params)}
        url = f"http://127.0.0.1:{self.http_port}{path}"
        async with session.post(url, data=params, headers=headers) as response:
            return response.status, await response.text()

    async def call(
        self, session: aiohttp.ClientSession, sid: str, sender: str, to: str
    ) -> tuple[int, ET.Element | None]:
        status, body = await self.webhook(session, "/twilio/voice", call_params(sid, sender, to))
        return status, ET.fromstring(body) if status == 200 else None

    async def text(
        self, session: aiohttp.ClientSession, sid: str, sender: str, to: str, body: str
    ) -> int:
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
        }
        status, _ = await self.webhook(session, "/twilio/sms", params)
        return status


async def stop_all(*instances: Instance) -> None:
    await asyncio.gather(*(instance.stop() for instance in instances))


def delivered_ids(upstream: Upstream) -> Counter[str]:
    """How many times the upstream received each message (auto-replies left out)."""
    return Counter(
        message_id(received.content) for received in upstream.messages if received.mail_from != "<>"
    )


async def held_ids(store: Store) -> Counter[str]:
    """How many times each email was held (by its Message-ID)."""
    found: Counter[str] = Counter()
    for item in await store.list_held(limit=10_000):
        record = await store.get_evidence(item.evidence_seq)
        assert record is not None
        if record.channel == "email":
            found[f"<{record.details['message_id']}>"] += 1
    return found


async def wait_for(
    condition: Callable[[], Awaitable[bool]], what: str, seconds: float = 30.0
) -> None:
    """Poll an async predicate until it holds, for at most ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out after {seconds:g}s waiting for {what}")
