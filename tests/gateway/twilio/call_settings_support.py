"""A Twilio gateway with an administrator, for the call tests that change the
organisation's settings through the admin API (as an administrator would)."""

from __future__ import annotations

from typing import Any

from gateway.api.deps import API
from gateway.store.accounts.users import create_user
from rules.roles import Role
from tests.channels.twilio_kit import Gateway


async def add_admin(gateway: Gateway) -> str:
    """Create the user 'admin' and return their API token."""
    return await add_user(gateway, "admin", Role.ADMIN)


async def add_user(gateway: Gateway, name: str, role: Role) -> str:
    """Create the user ``name`` with ``role`` and return their API token."""
    async with gateway.app[API].admin.writing("test", f"creating the user {name}") as tx:
        _, token = await create_user(tx, name, role)
    return token


async def change_settings(gateway: Gateway, token: str, **values: Any) -> dict[str, Any]:
    """PATCH /api/v1/settings; the settings as they are afterwards."""
    response = await gateway.client.patch(
        "/api/v1/settings", json=values, headers={"Authorization": f"Bearer {token}"}
    )
    body: dict[str, Any] = await response.json()
    assert response.status == 200, body
    return body
