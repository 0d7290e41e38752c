"""The ``contact-gateway`` command: serve, db, rules, explain, exemptions, evidence, users,
simulate.

Exit codes: 0 success; 1 the command ran and found a problem (a refused file, a broken
evidence chain); 2 the command was used wrongly or the settings are invalid.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.cli.failed import CommandFailed
from gateway.cli.parser import build_parser
from gateway.config.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from aiohttp import web

# Each command imports what it needs when it runs (see gateway.cli.parser).


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
    except Exception as exc:
        problem = store_problem(exc)
        if problem is None:
            raise
        print(f"contact-gateway: {problem}", file=sys.stderr)
        return 1


def store_problem(exc: BaseException) -> str | None:
    """One line for a store error that reached the command line (a damaged evidence log,
    a database that refused), or None for anything else, which stays a traceback."""
    if "gateway.store.errors" not in sys.modules:
        return None  # (the store was never opened: loading it now would only cost time)
    from gateway.store.errors import ChainBroken, StoreError

    if isinstance(exc, ChainBroken):
        return f"the evidence log is damaged: {exc}; `contact-gateway evidence verify` says more"
    if isinstance(exc, StoreError):
        return f"the database refused: {exc}"
    return None


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "evidence" and args.evidence_command == "verify":
        from gateway.cli.evidence_verify import evidence_verify

        return await evidence_verify(settings, checkpoints=args.checkpoint, key=args.key)
    if args.command == "evidence" and args.evidence_command == "key":
        from gateway.cli import evidence_key

        return evidence_key.run(args, settings)
    if args.command == "users":
        from gateway.cli import users_commands

        return await users_commands.run(args, settings)
    if args.command == "report":
        from gateway.cli import ui_commands

        return await ui_commands.report(args, settings)
    if args.command == "simulate":
        from gateway.cli import simulate

        return await simulate.run(args, settings)
    if args.command in ("exemptions", "explain"):
        return await _decide(args, settings)
    from gateway.cli import commands

    if args.command == "db":
        return await commands.db_upgrade(settings)
    if args.command == "rules":
        if args.rules_command == "import":
            return await commands.rules_import(
                settings, args.file, actor=args.actor, dry_run=args.dry_run
            )
        return await commands.rules_export(settings, args.output)
    if args.evidence_command == "checkpoint":
        return await commands.evidence_checkpoint(settings)
    if args.format == "pdf":
        return await commands.evidence_pack(settings, args.customer, args.output, actor=args.actor)
    return await commands.evidence_export(settings, args.customer, args.format, args.output)


async def _decide(args: argparse.Namespace, settings: Settings) -> int:
    """``exemptions check`` and ``explain``: the only commands that need the decision
    settings the application builds (so the only ones that load the application).
    A bad ``--at`` is refused first, without loading it (about a second) for nothing."""
    at = _parse_at(args.at) if args.command == "explain" and args.at else None
    from gateway.app import decision_settings
    from gateway.cli import explain_commands

    if args.command == "exemptions":
        return await explain_commands.exemptions_check(
            settings, decision_settings(settings), args.text, as_json=args.json
        )
    return await explain_commands.explain(
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
    """Run the gateway until interrupted.

    What stops it starting (a database that cannot be opened, a port already taken, a
    spool it cannot write) ends it with one line naming the problem, as every command
    does, not a traceback; "HTTP on" is printed only once it is listening.
    """

    from gateway.config.database_url import announce_database, sqlite_file_is_new
    from gateway.letters.templates import TemplateProblem
    from gateway.ops.logs import configure_logging
    from gateway.spool.maildir import SpoolUnusable
    from gateway.store import StoreError

    configure_logging(settings.log_format)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        app = server_app(settings)
    except TemplateProblem as exc:
        raise CommandFailed(f"cannot start: {exc}") from None
    new = sqlite_file_is_new(settings.database.url)

    def listening() -> None:
        announce_database(settings, new=new)
        print(f"contact-gateway: HTTP on http://{settings.http.host}:{settings.http.port}")
        sys.stdout.flush()

    try:
        asyncio.run(_serve(app, settings.http.host, settings.http.port, listening))
    except StoreError as exc:
        from gateway.cli.commands import cannot_open

        raise cannot_open(settings, exc) from None
    except (OSError, SpoolUnusable) as exc:
        raise CommandFailed(f"cannot start: {exc}") from None
    return 0


async def _serve(app: web.Application, host: str, port: int, listening: Callable[[], None]) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then stop it cleanly; a second signal acts
    as if the gateway had not caught the first (SIGTERM ends it at once).

    aiohttp's ``run_app`` starts the app outside its ``try``: when a part fails to start
    (the SMTP port is taken), the parts already started (the store) are never stopped,
    and Python closes them at exit with an error in the log. Here whatever started is
    stopped, whatever failed.
    """
    from aiohttp import web

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        stop.set()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping)
    runner = web.AppRunner(app, handle_signals=False)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        listening()
        await stop.wait()
    finally:
        await runner.cleanup()


def server_app(settings: Settings) -> web.Application:
    """The application as ``serve`` runs it: ``create_app``, plus a settled heap."""
    from gateway.app import create_app

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
