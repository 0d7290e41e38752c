"""The running gateway keeps the evidence tree up with the records by itself."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import STORE, create_app
from gateway.common.background import running
from gateway.config.settings import Settings
from gateway.evidence import tree_upkeep
from tests.gateway.store_factory import make_entry


async def test_the_app_extends_the_tree_as_records_arrive(
    aiohttp_client,  # type: ignore[no-untyped-def]
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tree_upkeep, "EXTEND_EVERY_S", 0.05)
    app = create_app(Settings(database={"url": database_url}))
    client: TestClient = await aiohttp_client(app)
    store = client.app[STORE]
    for n in range(1, 8):
        await store.record_contact(make_entry(n))
    for _ in range(200):  # ten seconds at most
        if await store.tree_size() == 7:
            break
        await asyncio.sleep(0.05)
    assert await store.tree_size() == 7


async def test_a_failing_pass_is_logged_and_the_next_one_tried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(tree_upkeep, "EXTEND_EVERY_S", 0.01)
    passes = 0
    third = asyncio.Event()

    class Flaky:
        async def extend_tree(self) -> int:
            nonlocal passes
            passes += 1
            if passes == 1:
                raise tree_upkeep.StoreError("the database is away")
            if passes == 2:
                raise RuntimeError("something unexpected")
            third.set()
            return 3

    async with running(tree_upkeep.extending(Flaky()), "evidence-tree"):  # type: ignore[arg-type]
        async with asyncio.timeout(5):
            await third.wait()
    assert "could not extend the evidence tree: the database is away" in caplog.text
    assert "extending the evidence tree failed" in caplog.text
