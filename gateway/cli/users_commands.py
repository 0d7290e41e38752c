"""``contact-gateway users ...``: create API users, list them, disable them, rotate tokens.

There is no default account: the first admin is made here, on the server, by someone
who can already run the gateway's command. A token is printed once and never again
(only its hash is kept), so it goes straight into the integration's secret store.
"""

from __future__ import annotations

import argparse

from gateway.cli.commands import opened_store
from gateway.cli.failed import CommandFailed
from gateway.common.clock import system_clock
from gateway.config.settings import Settings
from gateway.store import NotFound
from gateway.store.accounts.users import change_user, create_user, list_users, rotate_token
from gateway.store.casework.admin import AdminStore, Conflict
from rules.roles import Role

CLI_ACTOR = "cli"


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.cli.ui_commands import ask_password, password

    if args.users_command == "password":
        return await password(args.name, settings)
    # Asked before the user exists, so a mistyped second entry creates nothing.
    chosen = ask_password(args.name) if getattr(args, "password", False) else None
    async with opened_store(settings) as store:
        admin = AdminStore(store, system_clock)
        try:
            result = await _run(admin, args)
        except (Conflict, NotFound, ValueError) as exc:
            raise CommandFailed(str(exc)) from None
    if chosen is not None:
        await password(args.name, settings, chosen, announce=False)
    return result


async def _run(admin: AdminStore, args: argparse.Namespace) -> int:
    command = args.users_command
    if command == "list":
        async with admin.reading("listing users") as conn:
            found = await list_users(conn, limit=100_000, offset=0)
        for user in found:
            state = "disabled" if user.disabled else "enabled"
            print(f"{user.name}\t{user.role.value}\t{state}\tcreated {user.created_at:%Y-%m-%d}")
        if not found:
            print("no users yet: contact-gateway users add NAME --role admin")
        return 0
    if command == "add":
        async with admin.writing(CLI_ACTOR, "creating a user") as tx:
            user, token = await create_user(tx, args.name, Role(args.role))
        _print_token(f"created {user.role.value} '{user.name}'", token)
        return 0
    if command == "rotate":
        async with admin.writing(CLI_ACTOR, "rotating a token") as tx:
            user, token = await rotate_token(tx, args.name)
        _print_token(f"new token for '{user.name}' (the old one no longer works)", token)
        return 0
    disabled = command == "disable"
    async with admin.writing(CLI_ACTOR, "changing a user") as tx:
        user = await change_user(tx, args.name, disabled=disabled)
    print(f"'{user.name}' is {'disabled' if user.disabled else 'enabled'}")
    return 0


def _print_token(headline: str, token: str) -> None:
    print(headline)
    print(f"token: {token}")
    print("This token is shown only now; keep it in a secret store. Use it as")
    print("  Authorization: Bearer <token>")
