"""Connections to the chat database: URLs, engines, and the read-only transaction of a collection.

Operators write the usual URLs (``sqlite:///chat.db``, ``postgresql://…``, ``mysql://…``,
``mariadb://…``); the async driver is picked here. The exporter's own engine can only read:
SQLite is opened read-only, PostgreSQL and MariaDB run each collection in a READ ONLY
transaction whose statements the server itself cancels after the statement timeout.
"""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

APPLICATION_NAME = "chat-supervision-exporter"
CONNECT_TIMEOUT_SECONDS = 10

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
}


class BadURL(ValueError):
    """A database URL that cannot be used, worded for the operator."""


class Unreachable(Exception):
    """The database did not accept a connection."""


def redact(url: str) -> str:
    """The URL with its password masked, also when it cannot be parsed."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def async_url(url: str, *, read_only: bool = False) -> URL:
    """The SQLAlchemy URL with the async driver for ``url``'s scheme, whatever driver it named."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise BadURL(f"cannot parse database URL {redact(url)!r}") from error
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise BadURL(
            f"unsupported database URL scheme {backend!r} in {redact(url)!r} "
            "(use sqlite:///, postgresql://, mysql:// or mariadb://)"
        )
    parsed = parsed.set(drivername=_DRIVERS[backend])
    if backend == "sqlite" and read_only and parsed.database not in (None, "", ":memory:"):
        # URI mode=ro: a missing file is an error instead of a new empty database.
        path = parsed.database or ""
        database = path if path.startswith("file:") else f"file:{path}"
        parsed = parsed.set(database=database, query={**parsed.query, "mode": "ro", "uri": "true"})
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def create_engine(url: str, *, pool_size: int = 2, read_only: bool = True) -> AsyncEngine:
    """An engine for ``url``; with ``read_only`` it is the exporter's, which never writes."""
    target = async_url(url, read_only=read_only)
    connect_args: dict[str, Any] = {}
    if target.get_backend_name() == "postgresql":
        connect_args = {
            "server_settings": {"application_name": APPLICATION_NAME},
            "timeout": CONNECT_TIMEOUT_SECONDS,
        }
    elif target.get_backend_name() == "mysql":
        connect_args = {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "program_name": APPLICATION_NAME,
        }
    engine = create_async_engine(
        target,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_recycle=3600,
        connect_args=connect_args,
    )
    if target.get_backend_name() == "sqlite":
        _sqlite_transactions(engine, query_only=read_only)
    return engine


def _sqlite_transactions(engine: AsyncEngine, *, query_only: bool) -> None:
    """Make SQLite transactions explicit, so all queries of a collection read one snapshot."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 5000")
        # Writers switch the file to WAL once, so that readers never block them.
        cursor.execute("PRAGMA query_only = ON" if query_only else "PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


@asynccontextmanager
async def read_only(
    engine: AsyncEngine, statement_timeout: float
) -> AsyncIterator[AsyncConnection]:
    """A connection in a read-only, repeatable-read transaction, rolled back at the end.

    Repeatable read gives every query of one collection the same view of the data; the
    server-side timeout stops a statement even if the exporter's own deadline cannot.
    """
    try:
        connection = await engine.connect()
    except Exception as error:
        raise Unreachable(str(error)) from error
    try:
        dialect = connection.dialect
        milliseconds = max(1, int(statement_timeout * 1000))
        if dialect.name == "postgresql":
            await connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            await connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
            # The queries are short, but their cost estimates can cross the JIT threshold,
            # whose compilation then takes longer than the query itself.
            await connection.execute(text("SET LOCAL jit = off"))
        elif dialect.name == "mysql":
            await connection.execution_options(isolation_level="REPEATABLE READ")
            if getattr(dialect, "is_mariadb", False):
                await connection.execute(
                    text(f"SET SESSION max_statement_time = {milliseconds / 1000:.3f}")
                )
            else:
                await connection.execute(text(f"SET SESSION max_execution_time = {milliseconds}"))
            await connection.execute(text("START TRANSACTION READ ONLY"))
        yield connection
    finally:
        await connection.close()
