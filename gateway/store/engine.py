"""Engines and transactions that behave alike on SQLite and PostgreSQL.

SQLite needs help to be a safe server database: Python's sqlite3 driver starts
transactions late (not for SELECT or DDL), which breaks read-then-write and
transactional migrations. Here SQLAlchemy emits BEGIN itself — ``BEGIN IMMEDIATE`` for
writes, so two processes sharing one file queue for the write lock instead of failing
half-way — and the file runs in WAL mode so readers never block the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from gateway.chain.links import stored_json
from gateway.config.database_url import sqlite_file
from gateway.store.errors import StoreError, StoreUnavailable

SQLITE_BUSY_TIMEOUT_S = 30.0
_BEGIN_OPTION = "gateway_sqlite_begin"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` with the SQLite transaction fixes installed."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": stored_json}
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(url)
        if database is not None:
            folder = Path(database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot create {folder} for the SQLite database: {exc}"
                ) from exc
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        # Every transaction here ends in an explicit COMMIT or ROLLBACK (and closing a
        # connection rolls back anything left open), so the pool's own rollback on
        # return would only be one more trip to the driver's thread per transaction.
        kwargs["pool_reset_on_return"] = None
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _install_sqlite_hooks(engine)
    else:
        _install_postgres_hooks(engine)
    return engine


async def open_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """:func:`create_engine`, then make sure a SQLite file is in WAL mode."""
    engine = create_engine(url, echo=echo)
    database = sqlite_file(url)
    if database is not None:
        try:
            await asyncio.to_thread(_enable_wal, database)
        except BaseException:
            await engine.dispose()
            raise
    return engine


def _enable_wal(path: str) -> None:
    """Switch the file to WAL once (the mode is stored in the file).

    Done on a plain sqlite3 connection in a worker thread, before the engine connects:
    changing the journal mode needs the file to itself and SQLite reports "locked" at
    once rather than waiting, so processes starting together retry here briefly.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            with closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)) as conn:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise StoreUnavailable(f"cannot open the SQLite database {path}: {exc}") from exc
            time.sleep(0.05)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take BEGIN away from the driver; SQLAlchemy emits it below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            # FULL: a contact acknowledged as stored survives a power cut.
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _install_postgres_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Plan each statement for its own parameters. Left to itself, the server soon
        # settles on one generic plan per prepared statement, and one made while a table
        # was small (a sequential scan) was kept as the table grew: the appender's lookup
        # of contact keys took 30 ms instead of 1, and the chain waited on it each time.
        # Set once per connection rather than per transaction: a round trip fewer for
        # every batch of evidence. The gateway's statements are small; planning is cheap.
        # On the driver's own connection, outside any transaction, so that no rollback
        # can undo it.
        dbapi_connection.run_async(
            lambda driver: driver.execute("SET plan_cache_mode = force_custom_plan")
        )


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


# SQLSTATEs (PostgreSQL) meaning the server will not serve us now, though it may later:
# 08 connection exceptions, 53 out of resources (too many connections), 57P shutting
# down or starting up. Refused at connect (no statement yet) also: 55000 "database is
# not currently accepting connections", 3D000 "database does not exist" (a restore).
_UNAVAILABLE_CLASSES = ("08", "53", "57P")
_REFUSED_AT_CONNECT = ("55000", "3D000")


def _unavailable(exc: DBAPIError) -> bool:
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if not isinstance(state, str):
        return False
    return state.startswith(_UNAVAILABLE_CLASSES) or (
        exc.statement is None and state in _REFUSED_AT_CONNECT
    )


@asynccontextmanager
async def translate_errors(what: str) -> AsyncIterator[None]:
    """Turn driver errors into store errors, so callers handle one family.

    Connection failures (refused, dropped, timed out, a locked SQLite file) become
    :class:`StoreUnavailable`, which edges answer with "try again later".
    """
    try:
        yield
    except StoreError:
        raise
    except IntegrityError as exc:
        raise StoreError(f"{what} was refused by the database: {exc.orig}") from exc
    except DBAPIError as exc:
        if _unavailable(exc):
            raise StoreUnavailable(f"{what}: the database is unavailable ({exc.orig})") from exc
        raise StoreError(f"{what} failed: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"{what} failed: {exc}") from exc
    except (OSError, TimeoutError) as exc:
        raise StoreUnavailable(f"{what}: the database is unavailable ({exc})") from exc


@asynccontextmanager
async def write_transaction(engine: AsyncEngine, what: str) -> AsyncIterator[AsyncConnection]:
    """A transaction that will write: takes SQLite's write lock at BEGIN.

    On SQLite, writers in this process first queue on an ``asyncio.Lock``: SQLite
    allows one writer at a time, and a writer that finds the file locked waits in
    SQLite's busy handler, which sleeps in steps of up to 100 ms - long after the lock
    was freed. Queueing here wakes the next writer the moment the last one commits.
    (Other processes sharing the file still meet the busy handler, as before.)
    """
    if not is_sqlite(engine):
        async with translate_errors(what), engine.connect() as conn, conn.begin():
            yield conn
        return
    async with _sqlite_writer(engine, what), translate_errors(what), engine.connect() as conn:
        conn = await conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        async with conn.begin():
            yield conn


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def _sqlite_writer(engine: AsyncEngine, what: str) -> AsyncIterator[None]:
    """This process's turn to write to a SQLite file, waited for as long as SQLite would."""
    lock = _WRITE_LOCKS.setdefault(engine.sync_engine, asyncio.Lock())
    try:
        async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_S):
            await lock.acquire()
    except TimeoutError:
        raise StoreUnavailable(
            f"{what}: waited {SQLITE_BUSY_TIMEOUT_S:g}s for the SQLite write lock"
        ) from None
    try:
        yield
    finally:
        lock.release()


@asynccontextmanager
async def read_transaction(
    engine: AsyncEngine, what: str, *, snapshot: bool = False
) -> AsyncIterator[AsyncConnection]:
    """A read-only transaction; ``snapshot`` keeps one consistent view across statements."""
    async with translate_errors(what), engine.connect() as conn:
        if snapshot and not is_sqlite(engine):
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            yield conn
