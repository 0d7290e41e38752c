"""Many rows into one table in one statement.

On PostgreSQL, ``executemany`` runs the INSERT once per row (pipelined, but each row
still plans, binds and executes on its own), and SQLAlchemy prepares every row's
parameters in Python. For the evidence appender's batches (hundreds of rows, each
commit waited on by every contact in it) one statement is much cheaper at both ends:

    INSERT INTO t (a, b, ...) SELECT * FROM unnest(CAST(:a AS type[]), CAST(:b AS type[]), ...)

One array per column, each value passed through its column's own bind processing (so
a JSON column's value is serialised as the engine's ``json_serializer`` does it, and a
timestamp is checked as ``UtcDateTime`` checks it). On SQLite the driver runs one
prepared statement for all the rows: the statement SQLAlchemy's ``insert(table)``
compiles to, with each value put through its column's bind processing here, column by
column, rather than through SQLAlchemy's parameter building row by row (about 10 %
more appends a second in ``bench/evidence_appends.py``); when the rows leave out a
column with a default, or rows are to be returned, SQLAlchemy's own insert runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, CursorResult, Table, insert, text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import TextClause


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_duplicates: bool = False,
    returning: tuple[str, ...] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (all with the same keys) into ``table``; the ``returning``
    columns of the rows inserted. ``skip_duplicates``: a row whose key is already
    there is left out (``ON CONFLICT DO NOTHING``). On a synchronous connection (an
    ``AsyncConnection``'s ``run_sync`` gives one)."""
    if not rows:
        return []
    if conn.dialect.name != "postgresql":
        return _insert_plain(conn, table, rows, skip_duplicates, returning)
    names = tuple(rows[0])
    statement = _unnest_insert(table, names, skip_duplicates, returning)
    result: CursorResult[Any] = conn.execute(statement, arrays(table, rows, conn.dialect))
    return [tuple(row) for row in result.all()] if returning else []


def arrays(
    table: Table, rows: Sequence[Mapping[str, Any]], dialect: Dialect, prefix: str = ""
) -> dict[str, list[Any]]:
    """One list per column, each value put through its column's bind processing: the
    bound parameters of ``unnest_insert`` (names carry ``prefix``), and SQLite's rows
    column by column."""
    names = tuple(rows[0])
    processors = _bind_processors(table, names, dialect)
    return {
        prefix + name: [row[name] for row in rows]
        if process is None
        else [process(row[name]) for row in rows]
        for name, process in zip(names, processors, strict=True)
    }


def unnest_insert(table: Table, names: tuple[str, ...], prefix: str = "", where: str = "") -> str:
    """PostgreSQL: ``INSERT INTO table (...) SELECT * FROM unnest(...) AS rows [WHERE]``
    for rows with the keys ``names``; parameters named ``prefix + name`` (``arrays``)."""
    listed, select = _unnest_pieces(table, names, prefix)
    return f"INSERT INTO {_quoted_table(table)} ({listed}) {select}{where}"


def _insert_plain(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    skip_duplicates: bool,
    returning: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    statement = _insert_statement(table, skip_duplicates)
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
        result = conn.execute(statement, list(rows))
        return [tuple(row) for row in result.all()]
    plain = _plain_insert(table, tuple(rows[0]), skip_duplicates, conn.dialect)
    if plain is None:
        conn.execute(statement, list(rows))
        return []
    sql, order = plain
    columns = arrays(table, rows, conn.dialect)  # each value through its column's processing
    conn.exec_driver_sql(sql, list(zip(*(columns[name] for name in order), strict=True)))
    return []


@lru_cache(maxsize=64)
def _insert_statement(table: Table, skip_duplicates: bool) -> Any:
    if skip_duplicates:
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)


@lru_cache(maxsize=64)
def _plain_insert(
    table: Table, names: tuple[str, ...], skip_duplicates: bool, dialect: Dialect
) -> tuple[str, tuple[str, ...]] | None:
    """The SQL SQLAlchemy runs to insert rows with the keys ``names``, and the order of
    its parameters; None when it would add parameters of its own (a column's default)."""
    compiled = _insert_statement(table, skip_duplicates).compile(
        dialect=dialect, column_keys=list(names)
    )
    order = tuple(compiled.positiontup or ())
    if sorted(order) != sorted(names):
        return None
    return str(compiled), order


@lru_cache(maxsize=64)
def _unnest_pieces(table: Table, names: tuple[str, ...], prefix: str) -> tuple[str, str]:
    dialect = _postgresql()
    quote = dialect.identifier_preparer.quote
    columns = [table.c[name] for name in names]  # only the table's own columns
    casts = ", ".join(
        f"CAST(:{prefix}{c.key} AS {c.type.compile(dialect=dialect)}[])" for c in columns
    )
    listed = ", ".join(quote(c.name) for c in columns)
    return listed, f"SELECT * FROM unnest({casts}) AS rows"  # noqa: S608 - schema names


@lru_cache(maxsize=64)
def _unnest_insert(
    table: Table, names: tuple[str, ...], skip_duplicates: bool, returning: tuple[str, ...]
) -> TextClause:
    sql = unnest_insert(table, names)
    if skip_duplicates:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(_quote(table.c[n].name) for n in returning)
    return text(sql)


def _quoted_table(table: Table) -> str:
    return str(_postgresql().identifier_preparer.format_table(table))


def _quote(name: str) -> str:
    return str(_postgresql().identifier_preparer.quote(name))


@lru_cache(maxsize=1)
def _postgresql() -> Dialect:
    """A PostgreSQL dialect for writing SQL text (names and type names)."""
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=64)
def _bind_processors(
    table: Table, names: tuple[str, ...], dialect: Dialect
) -> tuple[Callable[[Any], Any] | None, ...]:
    return tuple(table.c[name].type.bind_processor(dialect) for name in names)
