"""The ``contact-gateway`` command: serve, db, rules, explain, evidence, users, simulate.

Exit codes: 0 success; 1 the command ran and found a problem (a refused file, a broken
evidence chain); 2 the command was used wrongly or the settings are invalid.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from aiohttp import web

from gateway import commands, twilio_simulate, ui_commands, users_commands
from gateway.app import create_app, decision_settings
from gateway.commands import CommandFailed
from gateway.logs import configure_logging
from gateway.settings import Settings, SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contact-gateway",
        description="Enforce contact restrictions on inbound email, SMS and calls.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("serve", help="run the gateway (HTTP and SMTP listeners)")

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply database migrations")

    rules = sub.add_parser("rules", help="import or export the policy (YAML)")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    imp = rules_sub.add_parser("import", help="validate a policy file and upsert it by id")
    imp.add_argument("file", type=Path)
    imp.add_argument("--actor", default="cli", help="who is importing, for the audit log")
    imp.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    exp = rules_sub.add_parser("export", help="write the whole policy as YAML")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")

    explain = sub.add_parser("explain", help="show the decision for a hypothetical contact")
    explain.add_argument("--channel", required=True, choices=["email", "sms", "voice"])
    explain.add_argument("--from", dest="sender", required=True, help="address or number")
    explain.add_argument("--to", dest="recipient", required=True, help="staff address or number")
    explain.add_argument("--at", help="ISO 8601 instant, e.g. 2026-11-24T10:30:00Z (default: now)")
    explain.add_argument("--text", default="", help="message text, for exemptions")
    explain.add_argument(
        "--emergency", action="store_true", help="caller pressed the emergency option"
    )
    explain.add_argument("--json", action="store_true", help="print JSON")

    evidence = sub.add_parser("evidence", help="the evidence log")
    ev_sub = evidence.add_subparsers(dest="evidence_command", required=True)
    ev_sub.add_parser("verify", help="check the whole hash chain")
    ev_exp = ev_sub.add_parser("export", help="one customer's records with the chain proof")
    ev_exp.add_argument("--customer", required=True)
    ev_exp.add_argument("--format", choices=["csv", "json", "pdf"], default="json")
    ev_exp.add_argument("--actor", default="cli", help="who is exporting, for the audit log")
    ev_exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    users_commands.add_parser(sub)
    ui_commands.add_report_parser(sub)
    twilio_simulate.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"contact-gateway: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return serve(settings)
        return asyncio.run(_run(args, settings))
    except CommandFailed as exc:
        print(f"contact-gateway: {exc}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "db":
        return await commands.db_upgrade(settings)
    if args.command == "users":
        return await users_commands.run(args, settings)
    if args.command == "report":
        return await ui_commands.report(args, settings)
    if args.command == "simulate":
        return await twilio_simulate.run(args, settings)
    if args.command == "rules":
        if args.rules_command == "import":
            return await commands.rules_import(
                settings, args.file, actor=args.actor, dry_run=args.dry_run
            )
        return await commands.rules_export(settings, args.output)
    if args.command == "explain":
        at = _parse_at(args.at) if args.at else None
        return await commands.explain(
            settings,
            decision_settings(settings),
            channel=args.channel,
            sender=args.sender,
            recipient=args.recipient,
            at=at,
            text=args.text,
            emergency=args.emergency,
            as_json=args.json,
        )
    if args.evidence_command == "verify":
        return await commands.evidence_verify(settings)
    if args.format == "pdf":
        return await commands.evidence_pack(settings, args.customer, args.output, actor=args.actor)
    return await commands.evidence_export(settings, args.customer, args.format, args.output)


def _parse_at(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandFailed(
            f"--at '{text}' is not an ISO 8601 instant like 2026-11-24T10:30:00Z"
        ) from None
    if value.tzinfo is None:
        raise CommandFailed(
            f"--at '{text}' has no time zone; add Z for UTC or an offset like +01:00"
        )
    return value


# The database drivers run in threads (aiosqlite's own, asyncpg's none, SQLAlchemy's
# greenlets not at all): each statement hands the GIL to that thread and back. With the
# event loop busy, Python's default 5 ms switch interval makes every hand-over wait up
# to 5 ms, so a transaction of ten statements could take 50 ms. 1 ms keeps it short.
SWITCH_INTERVAL_S = 0.001


def serve(settings: Settings) -> int:
    """Run the gateway until interrupted."""
    configure_logging(settings.log_format)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    app = server_app(settings)
    print(
        f"contact-gateway: HTTP on http://{settings.http.host}:{settings.http.port} "
        f"(database {settings.database.url})",
        flush=True,
    )
    web.run_app(app, host=settings.http.host, port=settings.http.port, print=None)
    return 0


def server_app(settings: Settings) -> web.Application:
    """The application as ``serve`` runs it: ``create_app``, plus a settled heap."""
    app = create_app(settings)
    app.on_startup.append(_freeze_heap)
    return app


async def _freeze_heap(app: web.Application) -> None:
    """Move what start-up built (modules, the policy, the store) out of the collector's
    way: otherwise every full collection walks it all, and stalls every contact being
    handled for tens of milliseconds. Runs once, after the clean-up contexts started."""
    gc.collect()
    gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
