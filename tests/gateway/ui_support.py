"""A real gateway on loopback in a background thread, and headless Chromium to drive it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gateway.api.deps import API
from gateway.app import create_app
from gateway.mail.lifecycle import MAIL
from gateway.store.accounts.users import create_user
from gateway.store.engine import write_transaction
from rules.roles import Role
from tests.gateway.api_support import api_settings, notice_not_required, set_test_password

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
USERS = {"olivia": Role.OFFICER, "dana": Role.AUTHORISER, "vic": Role.VIEWER}
# The administrator guide's screenshots. Every run takes them (a page that fails to render
# fails the test), but only GATEWAY_UPDATE_SCREENSHOTS=1 writes them into docs/screenshots/, so
# running the suite does not leave the working tree changed.
DOC_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SHOTS = (
    DOC_SHOTS
    if os.environ.get("GATEWAY_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "contact-gateway-screenshots"
)


def need_chromium() -> None:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs it")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@dataclass
class Served:
    base: str
    smtp_port: int
    app: web.Application
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)


@contextmanager
def served_gateway(tmp_path: Path, *, written_notice: bool = False) -> Iterator[Served]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    settings = api_settings(f"sqlite+aiosqlite:///{tmp_path}/g.db", tmp_path / "mail")
    app = create_app(settings)

    async def start() -> tuple[web.AppRunner, int]:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        async with app[API].admin.writing("test", "users") as tx:
            for name, role in USERS.items():
                await create_user(tx, name, role)
        async with write_transaction(app[API].admin.store.engine, "passwords") as conn:
            for name in USERS:
                await set_test_password(conn, name, PASSWORD, app[API].clock())
        if not written_notice:
            await notice_not_required(app)
        return runner, port

    runner, port = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
    try:
        yield Served(f"http://127.0.0.1:{port}", app[MAIL].listener.port, app, loop)
    finally:
        done: Future[None] = asyncio.run_coroutine_threadsafe(runner.cleanup(), loop)
        done.result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@contextmanager
def browser(tmp_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def login(page: Any, base: str, name: str) -> None:
    page.goto(base + "/admin/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/admin")


def logout(page: Any) -> None:
    """Sign out and wait for the sign-in page, so that the next navigation cannot race the
    sign-out's own redirect (which would replace a freshly loaded sign-in form)."""
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/admin/login$"))


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
