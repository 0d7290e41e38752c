"""``contact-gateway users password NAME`` and ``contact-gateway report``: the web UI's
command-line companions (a sign-in password; the committee report as text or CSV)."""

from __future__ import annotations

import argparse
import getpass

from gateway.casework.reports import Quarter, build_report
from gateway.cli.commands import opened_store
from gateway.cli.failed import CommandFailed
from gateway.common.clock import system_clock
from gateway.config.org_settings import org_settings_from
from gateway.config.settings import Settings
from gateway.store.accounts.ui_sessions import set_password
from gateway.store.casework.admin import AdminStore
from gateway.store.casework.casework import read_settings
from gateway.store.engine import write_transaction


async def report(args: argparse.Namespace, settings: Settings) -> int:
    try:
        quarter = (
            Quarter.parse(args.quarter)
            if args.quarter
            else Quarter.of(system_clock().astimezone(settings.zone).date())
        )
    except ValueError as exc:
        raise CommandFailed(str(exc)) from None
    async with (
        opened_store(settings) as store,
        AdminStore(store, system_clock).reading("building a report") as conn,
    ):
        nation = org_settings_from(await read_settings(conn)).bank_holidays
        built = await build_report(conn, quarter, settings.zone, nation=nation)
    if args.format == "csv":
        print(built.csv(), end="")
        return 0
    print(f"Report for {quarter}")
    for measure, count, detail in built.rows():
        print(f"  {measure}: {count}" + (f" ({detail})" if detail else ""))
    return 0


def ask_password(name: str) -> str:
    """Ask for a password twice, never on the command line (it would sit in shell history)."""
    first = getpass.getpass(f"New web UI password for {name}: ")
    if getpass.getpass("Again: ") != first:
        raise CommandFailed("the two passwords differ; nothing was changed")
    return first


async def password(
    name: str, settings: Settings, chosen: str | None = None, *, announce: bool = True
) -> int:
    """Set a user's web UI password (asked for unless already ``chosen``; ``announce``
    false when the command has already said which database it uses)."""
    first = ask_password(name) if chosen is None else chosen
    async with opened_store(settings, announce=announce) as store:
        try:
            async with write_transaction(store.engine, "setting a password") as conn:
                found = await set_password(conn, name, first, system_clock())
        except ValueError as exc:
            raise CommandFailed(str(exc)) from None
    if not found:
        raise CommandFailed(f"there is no user '{name}'")
    print(f"password set for '{name}'; their existing web sessions were ended")
    return 0
