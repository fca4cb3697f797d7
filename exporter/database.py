"""Connections to the chat database: URLs, engines, and the read-only transaction of a collection.

Operators write the usual URLs (``sqlite:///chat.db``, ``postgresql://…``, ``mysql://…``,
``mariadb://…``); the async driver is picked here. The exporter's own engine can only read:
SQLite is opened read-only, PostgreSQL and MariaDB run each collection in a READ ONLY
transaction whose statements the server itself cancels after the statement timeout.
"""

import asyncio
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import cache
from threading import Thread
from typing import Any

import aiosqlite
from sqlalchemy import Executable, Row, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

log = logging.getLogger(__name__)

APPLICATION_NAME = "chat-supervision-exporter"
CONNECT_TIMEOUT_SECONDS = 10
# SQLite waits this long for a lock per attempt: the exporter's reads retry until the
# collection's deadline cancels them, writers (init-db, demo) wait once, long.
SQLITE_READ_BUSY_MS = 100
SQLITE_WRITE_BUSY_MS = 5000
# Set in each PostgreSQL transaction of a collection, on both of its connections.
POSTGRESQL_SETTINGS = (
    # The queries are short, but their cost estimates can cross the JIT threshold, whose
    # compilation then takes longer than the query itself.
    "jit = off",
    # A collection already reads on two connections. Parallel workers on top crowded the
    # database's cores, each repeating the inner side of the day statement's merge joins,
    # and took workers from the pool the chat platform's own queries share.
    "max_parallel_workers_per_gather = 0",
)

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


# user:password@ up to the last @, since a password may hold an unencoded @ (or / or ?).
_USERINFO_PASSWORD = re.compile(r"^([^:/?#]*://[^:/?#@]*:).*@", re.DOTALL)
# ?password=…, &sslpassword=… and the like: drivers take credentials as parameters too.
_SECRET_PARAMETER = re.compile(r"([?&][^=&#]*(?:pass|pwd|secret|token)[^=&#]*=)[^&#]*", re.I)


def redact(url: str) -> str:
    """The URL with every password masked, whether in its user information (even with an
    unencoded ``@``) or in a query parameter, and whether or not it parses."""
    url = _USERINFO_PASSWORD.sub(r"\1***@", url, count=1)
    return _SECRET_PARAMETER.sub(r"\1***", url)


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
    if target.get_backend_name() == "sqlite":
        connect_args = {"async_creator_fn": _sqlite_connect}
    elif target.get_backend_name() == "postgresql":
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


_closing: set[asyncio.Task[None]] = set()


async def _sqlite_connect(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
    """aiosqlite's connect, but a connect cancelled half-way (by a scrape's deadline) closes
    the connection it still opens, instead of leaving the file open until garbage collection."""
    opening = asyncio.ensure_future(_sqlite_open(*args, **kwargs))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_when_open)
        raise


async def _sqlite_open(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
    connection = aiosqlite.connect(*args, **kwargs)
    # As SQLAlchemy does: a connection left open must not keep the process alive.
    thread = connection if isinstance(connection, Thread) else connection._thread
    thread.daemon = True
    return await connection


def _close_when_open(opening: asyncio.Task[aiosqlite.Connection]) -> None:
    if opening.cancelled() or opening.exception() is not None:
        return
    closing = asyncio.ensure_future(opening.result().close())
    _closing.add(closing)
    closing.add_done_callback(_closing.discard)


def _decode(data: bytes) -> str:
    """Text that is not UTF-8 (SQLite stores whatever bytes it is given) is shown with
    ``\\xNN`` escapes, instead of failing the query and so every site's figures."""
    return data.decode("utf-8", "backslashreplace")


def _sqlite_transactions(engine: AsyncEngine, *, query_only: bool) -> None:
    """Make SQLite transactions explicit, so all queries of a collection read one snapshot,
    and never serve a file that was deleted or replaced since the connection opened it."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        record.driver_connection.text_factory = _decode
        cursor = dbapi_connection.cursor()
        busy_ms = SQLITE_READ_BUSY_MS if query_only else SQLITE_WRITE_BUSY_MS
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        # Writers switch the file to WAL once, so that readers never block them.
        cursor.execute("PRAGMA query_only = ON" if query_only else "PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA database_list")
        path = next((row[2] for row in cursor.fetchall() if row[1] == "main"), "")
        cursor.close()
        if path:  # not an in-memory database
            record.info["sqlite_file"] = (path, _identity(path))

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if "sqlite_file" in record.info:
            path, identity = record.info["sqlite_file"]
            if _identity(path) != identity:
                # The pool closes this connection and opens the path again (or fails to).
                raise DisconnectionError(f"{path} was deleted or replaced")

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def _identity(path: str) -> tuple[int, int] | None:
    """The file's device and inode: another file at the same path is another database."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


async def _sqlite_read_lock(connection: AsyncConnection, statement_timeout: float) -> None:
    """Start the transaction's read, retrying while a writer holds the lock.

    A busy timeout long enough to cover any deadline would hold the connection's thread
    past it (closing the connection waits for that thread): short attempts, repeated until
    the collection's deadline cancels them, keep a locked database within the scrape's
    budget; ``statement_timeout`` bounds them where nothing else does (check-config). Once
    the read has started, the transaction's later queries need no lock.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + statement_timeout
    while True:
        try:
            await connection.execute(text("SELECT count(*) FROM sqlite_master"))
        except OperationalError as error:
            code = getattr(error.orig, "sqlite_errorcode", None)
            if code is None or code & 0xFF != sqlite3.SQLITE_BUSY or loop.time() >= give_up:
                raise
        else:
            return


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
        connection.info[_STATEMENT_TIMEOUT] = statement_timeout
        dialect = connection.dialect
        milliseconds = _milliseconds(statement_timeout)
        if dialect.name == "postgresql":
            await _postgresql_read_only(connection, statement_timeout)
        elif dialect.name == "mysql":
            await connection.execution_options(isolation_level="REPEATABLE READ")
            if getattr(dialect, "is_mariadb", False):
                await connection.execute(
                    text(f"SET SESSION max_statement_time = {milliseconds / 1000:.3f}")
                )
            else:
                await connection.execute(text(f"SET SESSION max_execution_time = {milliseconds}"))
            await connection.execute(text("START TRANSACTION READ ONLY"))
        elif dialect.name == "sqlite":
            await _sqlite_read_lock(connection, statement_timeout)
        yield connection
    finally:
        await connection.close()


_STATEMENT_TIMEOUT = "chat_statement_timeout"  # in connection.info, for a sibling
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")
_CAN_EXPORT = "SELECT has_function_privilege(to_regprocedure('pg_export_snapshot()'), 'EXECUTE')"


def _milliseconds(seconds: float) -> int:
    return max(1, int(seconds * 1000))


async def _postgresql_read_only(
    connection: AsyncConnection, statement_timeout: float, *, snapshot: str | None = None
) -> None:
    """Start a read-only, repeatable-read transaction; with ``snapshot``, in that exported
    snapshot (its first statement must say so)."""
    await connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    if snapshot is not None:
        # SET takes no bind parameter; the identifier is the server's own (hex and dashes).
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise ValueError(f"unexpected snapshot identifier {snapshot!r}")
        await connection.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
    milliseconds = _milliseconds(statement_timeout)
    await connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
    for setting in POSTGRESQL_SETTINGS:
        await connection.execute(text(f"SET LOCAL {setting}"))


async def _shareable_snapshot(connection: AsyncConnection) -> str | None:
    """The snapshot of ``connection`` (from ``read_only``), exported for a second connection
    to read, on PostgreSQL when the pool has one free; None otherwise."""
    pool = connection.engine.pool
    if (
        connection.dialect.name != "postgresql"
        or not isinstance(pool, QueuePool)
        or pool.checkedout() >= pool.size()
    ):
        return None
    # Asked first: an error would abort the collection's transaction, and a savepoint cannot
    # export (PostgreSQL checks the privilege even in a CASE branch not taken).
    if not await connection.scalar(text(_CAN_EXPORT)):
        _cannot_share()
        return None
    snapshot: str = await connection.scalar(text("SELECT pg_export_snapshot()"))
    return snapshot


@asynccontextmanager
async def _sibling(connection: AsyncConnection, snapshot: str) -> AsyncIterator[AsyncConnection]:
    """A second connection reading ``snapshot``, exported by ``connection``."""
    sibling = await connection.engine.connect()
    try:
        await _postgresql_read_only(sibling, connection.info[_STATEMENT_TIMEOUT], snapshot=snapshot)
        yield sibling
    finally:
        await sibling.close()


@cache
def _cannot_share() -> None:
    """Said once: the exporter works without a second connection, more slowly."""
    log.warning(
        "reading on one connection: pg_export_snapshot() is missing or not granted, "
        "so a second connection cannot share the collection's snapshot"
    )


Statement = Executable | Callable[[], Executable]
"""A statement, or what builds it when a lane takes it (building then overlaps the other
lane's reading)."""


async def read_all(
    connection: AsyncConnection,
    statements: Mapping[str, Statement],
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Sequence[Row[Any]]]:
    """The rows of each statement, by name, read in the transaction of ``connection``.

    On PostgreSQL a second connection joins that transaction's snapshot, and the two take the
    statements in turn, in the order given (longest first packs best): the server runs one
    while Python decodes another's rows or builds the next statement. The first connection
    starts reading while the second connects. SQLite and MariaDB, which cannot share a
    snapshot between connections, read them one after the other.
    """
    pending = iter(statements.items())
    rows: dict[str, Sequence[Row[Any]]] = {}

    async def lane(reader: AsyncConnection) -> None:
        for name, statement in pending:
            built = statement() if callable(statement) else statement
            rows[name] = (await reader.execute(built, parameters)).all()

    async def second_lane(snapshot: str) -> None:
        async with _sibling(connection, snapshot) as sibling:
            await lane(sibling)

    snapshot = await _shareable_snapshot(connection)
    if snapshot is None:
        await lane(connection)
    else:
        lanes = [
            asyncio.ensure_future(lane(connection)),
            asyncio.ensure_future(second_lane(snapshot)),
        ]
        try:
            await asyncio.gather(*lanes)
        finally:  # one lane failed or the collection was cancelled: stop the other
            for running in lanes:
                running.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
    return {name: rows[name] for name in statements}
