"""Shared database fixtures: every store test runs on SQLite and on PostgreSQL.

``database_url`` is a fresh database per test, already at the newest schema: a file
under ``tmp_path`` for SQLite, and a new database ``cg_test_<host>_<pid>_<hex>`` on the
PostgreSQL at ``GATEWAY_TEST_POSTGRES_URL`` (default: the local test server), dropped
afterwards. Each is a copy of one database migrated once per test process (a file
copied; a PostgreSQL ``CREATE DATABASE ... TEMPLATE`` of a database named
``cg_template_<host>_<pid>_<hex>``): migrating an empty PostgreSQL database takes most
of a second, and hundreds of tests would each pay it. On PostgreSQL the next copy is
made ahead, while a test runs (``MigratedTemplates.postgres_copy``), and the copies a
test is done with are dropped in the background (``Dropper``): each drop waits for a
checkpoint of the whole server. The names say which process on which machine made
them, so the next run drops what a killed run on this machine left behind
(`drop_left_behind`). Opening the copy runs the same ``Store.open`` (a database at the
head is left as it is). ``sqlite_database_url`` is ``database_url`` on SQLite alone.
``empty_database_url`` is a database with nothing in it, for the tests of migrating and
of a first start.
Without PostgreSQL those tests skip with the reason, except under ``CI``, where a
missing database is a failure rather than a silently thinner run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import os
import queue
import re
import secrets
import shutil
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from gateway.store import Store

POSTGRES_ENV = "GATEWAY_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 5.0


# This machine, in the names of the databases its test processes make.
HOST_TAG = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_OURS = re.compile(rf"cg_(?:test|template)_{HOST_TAG}_(\d+)_")


def database_name(kind: str) -> str:
    """``cg_<kind>_<host>_<pid>_<hex>``: unique, and saying which process made it."""
    return f"cg_{kind}_{HOST_TAG}_{os.getpid()}_{secrets.token_hex(6)}"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, but running
        return True
    return True


async def drop_left_behind(conn: AsyncConnection) -> list[str]:
    """Drop the test and template databases that test processes on this machine made and
    could not drop because they were killed (their process is no longer running); the
    ones running processes use are left alone. The names dropped."""
    names = (await conn.execute(text("SELECT datname FROM pg_database"))).scalars().all()
    dropped = []
    for name in names:
        found = _OURS.match(name)
        if found is None or _running(int(found[1])):
            continue
        try:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception:  # another process of the next run dropped it first
            continue
        dropped.append(name)
    return dropped


def postgres_base_url() -> str:
    return os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES_URL


def _unavailable(reason: str) -> None:
    where = make_url(postgres_base_url()).render_as_string(hide_password=True)
    message = f"PostgreSQL at {where} is not usable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this fails instead of skipping)")
    pytest.skip(message)


async def drop_databases(names: list[str]) -> list[str]:
    """``DROP DATABASE IF EXISTS ... WITH (FORCE)`` of each of ``names`` on the test
    server, all at once; what went wrong, by name."""
    base = make_url(postgres_base_url())
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    async def drop(name: str) -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    try:
        done = await asyncio.gather(*map(drop, names), return_exceptions=True)
    finally:
        await admin.dispose()
    return [
        f"{name}: {type(exc).__name__}: {exc}"
        for name, exc in zip(names, done, strict=True)
        if isinstance(exc, BaseException)
    ]


class Dropper:
    """Drops this test process's PostgreSQL databases in a thread of its own, while the
    tests go on.

    PostgreSQL makes every ``DROP DATABASE`` wait for a checkpoint of the whole server:
    every page the other test process has written since is flushed to disk first. That
    took most of a second a database on a busy 2-core machine, and each test waited for
    it in its teardown. Here the databases handed over since the last drop are dropped
    together, on a connection each, and their drops share a checkpoint or two (eight
    took 0.2 to 0.5 s together, against 1.3 to 7 s one after another, under writes).
    Nothing a test checks depends on the copy it used being gone, and no name is used
    twice. ``finish`` (at the end of the session) waits until every database handed
    over is dropped, and raises if any could not be; a database left by a process killed
    before then is dropped by the next run (``drop_left_behind``).
    """

    def __init__(self) -> None:
        self._names: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.failures: list[str] = []

    def drop(self, name: str) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="drop-databases", daemon=True
                )
                self._thread.start()
        self._names.put(name)

    def _run(self) -> None:
        finished = False
        while not finished:
            taken = [self._names.get()]  # wait for one, then take all there are
            with contextlib.suppress(queue.Empty):
                while True:
                    taken.append(self._names.get_nowait())
            names = [name for name in taken if name is not None]
            finished = len(names) < len(taken)
            if names:
                try:
                    self.failures += asyncio.run(drop_databases(names))
                except Exception as exc:  # the server unreachable: reported by finish()
                    self.failures.append(f"{', '.join(names)}: {type(exc).__name__}: {exc}")

    def finish(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._names.put(None)
        thread.join()
        if self.failures:
            failures, self.failures = self.failures, []
            raise RuntimeError("could not drop test databases: " + "; ".join(failures))


# The one dropper of this test process (each xdist worker is one).
DROPPER = Dropper()


async def create_database(template: str | None = None) -> str:
    """Create a database for one test (empty, or a copy of ``template``) and give its
    name; raises whatever went wrong."""
    admin = create_async_engine(
        make_url(postgres_base_url()), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    name = database_name("test")
    copied = f' TEMPLATE "{template}"' if template else ""
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S), admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    finally:
        await admin.dispose()
    return name


@asynccontextmanager
async def fresh_postgres_database(
    template: str | None = None, made: str | None = None
) -> AsyncIterator[str]:
    """A database for one test (empty, or a copy of ``template``; ``made``: one made so
    already), dropped afterwards by ``DROPPER``."""
    name = made
    if name is None:
        try:
            name = await create_database(template)
        except Exception as exc:  # any failure to reach or use the server
            _unavailable(f"{type(exc).__name__}: {exc}")
    assert name is not None
    try:
        yield make_url(postgres_base_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        DROPPER.drop(name)


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'gateway.db'}"


class MigratedTemplates:
    """One migrated database per engine for this test process, made when first asked
    for: a SQLite file to copy, and a PostgreSQL database to copy as a template."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        # The next copy of the PostgreSQL template, made ahead (see ``postgres_copy``).
        self._ahead = ThreadPoolExecutor(1, thread_name_prefix="spare-database")
        self._spare: Future[str] | None = None

    async def sqlite_copy(self, directory: Path) -> str:
        """A copy of the migrated SQLite file as ``directory / 'gateway.db'``."""
        if self._sqlite is None:
            async with open_store(sqlite_url(self._folder)):
                pass
            self._sqlite = self._folder / "gateway.db"
        await asyncio.to_thread(self._copy_sqlite, self._sqlite, directory)
        return sqlite_url(directory)

    @staticmethod
    def _copy_sqlite(template: Path, directory: Path) -> None:
        # Closing the last connection checkpointed the write-ahead log into the file.
        assert not template.with_name(template.name + "-wal").exists()
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, directory / "gateway.db")

    async def postgres_template(self) -> str:
        """The name of a migrated PostgreSQL database nobody is connected to."""
        if self._postgres is None:
            name = database_name("template")
            base = make_url(postgres_base_url())
            admin = create_async_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
            try:
                try:
                    async with asyncio.timeout(CONNECT_TIMEOUT_S), admin.connect() as conn:
                        await drop_left_behind(conn)
                        await conn.execute(text(f'CREATE DATABASE "{name}"'))
                except Exception as exc:  # any failure to reach or use the server
                    _unavailable(f"{type(exc).__name__}: {exc}")
                self._postgres = name
                async with open_store(
                    base.set(database=name).render_as_string(hide_password=False)
                ):
                    pass
            finally:
                await admin.dispose()
        return self._postgres

    async def postgres_copy(self) -> str | None:
        """The name of a copy of the PostgreSQL template made ahead, in a thread, while
        the test before ran (None when there is none, or it could not be made); the next
        one is started.

        Copying the template is most of a second of the server's work on a busy
        machine, and a test waited for it in its set-up: most of that time the test
        process had nothing else to do but wait. A copy made ahead is the same copy of
        the same template, only made sooner."""
        template = await self.postgres_template()
        spare, self._spare = self._spare, None
        self._spare = self._ahead.submit(self._make_copy, template)
        if spare is None:
            return None
        try:
            return await asyncio.wrap_future(spare)
        except Exception:  # made again by the test, where a failure skips or fails it
            return None

    @staticmethod
    def _make_copy(template: str) -> str:
        return asyncio.run(create_database(template))

    def drop(self) -> None:
        """Hand the PostgreSQL template, and the copy made ahead that no test used, to
        ``DROPPER``."""
        spare, self._spare = self._spare, None
        if spare is not None:
            with contextlib.suppress(Exception):
                DROPPER.drop(spare.result())
        self._ahead.shutdown()
        if self._postgres is not None:
            DROPPER.drop(self._postgres)


@pytest.fixture(scope="session", autouse=True)
def _databases_dropped_at_the_end() -> Iterator[None]:
    """Wait at the end of the session until ``DROPPER`` has dropped every database (set
    up before, so torn down after, every other session fixture)."""
    yield
    DROPPER.finish()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("migrated"))
    yield templates
    templates.drop()


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@asynccontextmanager
async def migrated_database(
    engine: str, directory: Path, templates: MigratedTemplates
) -> AsyncIterator[str]:
    """A copy of the migrated database on ``engine``, dropped on leaving."""
    if engine == "sqlite":
        yield await templates.sqlite_copy(directory)
        return
    made = await templates.postgres_copy()
    async with fresh_postgres_database(await templates.postgres_template(), made) as url:
        yield url


@pytest.fixture(params=ENGINES)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> AsyncIterator[str]:
    """A database URL at the newest schema, with nothing stored, on each engine the
    store supports."""
    async with migrated_database(request.param, tmp_path, migrated_templates) as url:
        yield url


@pytest.fixture
async def sqlite_database_url(tmp_path: Path, migrated_templates: MigratedTemplates) -> str:
    """``database_url`` on SQLite alone (``tmp_path / 'gateway.db'``), for the tests about
    something the store engine makes no difference to: a copy of the migrated file, as
    every other database is, rather than an empty one the gateway migrates as it starts."""
    return await migrated_templates.sqlite_copy(tmp_path)


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=ENGINES)
async def module_database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    migrated_templates: MigratedTemplates,
) -> AsyncIterator[str]:
    """``database_url``, but one for a whole test module (per engine): for a gateway that
    the module's tests share, which only tests that change nothing may use. Its tests
    run in the module's event loop (``pytest.mark.asyncio(loop_scope="module")``)."""
    folder = tmp_path_factory.mktemp("module-db")
    async with migrated_database(request.param, folder, migrated_templates) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL (no tables at all) on each engine the store supports."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database, for tests about PostgreSQL behaviour only."""
    async with fresh_postgres_database() as url:
        yield url


@asynccontextmanager
async def open_store(url: str) -> AsyncIterator[Store]:
    """A migrated, open store on ``url``, closed on leaving."""
    opened = await Store.open(url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated, open store on ``database_url``; closed after the test."""
    async with open_store(database_url) as opened:
        yield opened


@pytest.fixture
async def pg_store(postgres_url: str) -> AsyncIterator[Store]:
    """An open store on an empty PostgreSQL database (tests of PostgreSQL's own path)."""
    async with open_store(postgres_url) as opened:
        yield opened


@pytest.fixture(autouse=True)
def _no_fixed_listener_ports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every app a test builds listens for SMTP on a free port and delivers and spools
    under ``tmp_path``, unless the test says otherwise: the defaults (2525, ./var/mail,
    ./var/spool) would collide between test runs sharing a machine and litter the
    checkout."""
    monkeypatch.setenv("GATEWAY_SMTP_PORT", "0")
    monkeypatch.setenv("GATEWAY_UPSTREAM", f"maildir:{tmp_path / 'mail'}")
    monkeypatch.setenv("GATEWAY_SPOOL_DIR", str(tmp_path / "spool"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` run first, the rest in the order collected.

    The workers (``-n auto``: two on a 2-core machine) take tests as they free up, so a
    slow test collected last (the webhooks benchmark and the type check of the gateway,
    in tests/ after tests/rules) ran alone at the end while the other worker sat idle.
    Started first, they run beside the many short tests instead.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# The collector's first-generation threshold in the test processes (Python's default is
# 700). Each test builds an application, a store and a client: hundreds of thousands of
# allocations, most of them alive until the test ends, so at 700 the collector ran every
# few milliseconds only to find them still alive: 8,244 times in one worker's half of the
# mail, held, letters and evidence tests, against about 1,600 at 7000, and about half
# the time spent collecting.
GC_THRESHOLD = 7000


def pytest_configure(config: pytest.Config) -> None:
    """Fewer, larger collections in this process (each xdist worker is one)."""
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Once the test modules are imported (the gateway, SQLAlchemy, aiohttp, the
    exemption model) and the tests collected, move all of it out of the collector's way,
    as ``serve`` does after start-up: otherwise every full collection walks it again."""
    gc.collect()
    gc.freeze()
