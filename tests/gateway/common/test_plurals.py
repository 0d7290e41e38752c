"""Counts a person reads agree with their nouns: "1 customer", never "1 customers".

The command line's are checked where its commands are (test_cli_newcomer); here the
helper itself and the dashboard's cards, over HTTP as a browser asks for them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gateway.common.plurals import counted, noun
from tests.gateway.api_support import proposal, seed_people
from tests.gateway.ui.test_ui_security import _login, _ui


@pytest.mark.parametrize(
    ("count", "singular", "plural", "words"),
    [
        (0, "customer", None, "0 customers"),
        (1, "customer", None, "1 customer"),
        (2, "held contact", None, "2 held contacts"),
        (1, "reply", "replies", "1 reply"),
        (3, "reply", "replies", "3 replies"),
    ],
)
def test_counted(count: int, singular: str, plural: str | None, words: str) -> None:
    assert counted(count, singular, plural) == words
    assert noun(count, singular, plural) == words.split(" ", 1)[1]


async def test_the_dashboard_says_1_active_restriction(aiohttp_client: Any, tmp_path: Path) -> None:
    api = await _ui(aiohttp_client, tmp_path)
    await seed_people(api)
    await api.ok("POST", "/restrictions", "officer", json=proposal())
    await api.ok("POST", "/restrictions/R-1/authorise", "auth", json={})
    assert (await _login(api.client, "viewer")).status == 303
    page = await (await api.client.get("/admin")).text()
    cards = re.findall(r'<span class="n">(\d+)</span> ([^<]+)</a>', page)
    assert cards == [
        ("1", "active restriction"),
        ("0", "reviews overdue"),
        ("0", "reviews due in 14 days"),
        ("0", "appeals open"),
        ("0", "held contacts to read"),
        ("0", "held contacts not read in time"),
        ("0", "customers to consider action for"),
        ("0", "possible matches to check"),
        ("0", "excess contacts this week"),
    ]
