"""URLs, drivers, and the guarantee that the exporter's connections cannot write."""

import asyncio
import contextlib
import gc
import os
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from exporter.database import BadURL, async_url, create_engine, read_all, read_only, redact
from exporter.schema import sites
from tests.builder import Scenario, reset_schema, scrape
from tests.conftest import server_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///chat.db", "sqlite+aiosqlite:///chat.db"),
        ("sqlite:////var/lib/chat.db", "sqlite+aiosqlite:////var/lib/chat.db"),
        ("postgresql://u:p@db:5432/chat", "postgresql+asyncpg://u:p@db:5432/chat"),
        ("postgres://u@db/chat", "postgresql+asyncpg://u@db/chat"),
        ("postgresql+psycopg2://u@db/chat", "postgresql+asyncpg://u@db/chat"),
        ("mysql://root@db:3306/chat", "mysql+aiomysql://root@db:3306/chat?charset=utf8mb4"),
        ("mariadb://root@db/chat?charset=latin1", "mysql+aiomysql://root@db/chat?charset=latin1"),
        ("mysql+pymysql://root@db/chat", "mysql+aiomysql://root@db/chat?charset=utf8mb4"),
    ],
)
def test_the_async_driver_is_chosen_from_the_scheme(url: str, expected: str) -> None:
    assert async_url(url).render_as_string(hide_password=False) == expected


def test_sqlite_is_opened_read_only_by_the_exporter() -> None:
    url = async_url("sqlite:///chat.db", read_only=True)
    assert url.database == "file:chat.db"
    assert dict(url.query) == {"mode": "ro", "uri": "true"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("chat.db", "cannot parse database URL 'chat.db'"),
        (
            "postgresql://u:secret@db:port/chat",
            "cannot parse database URL 'postgresql://u:***@db:port/chat'",
        ),
        (
            "oracle://scott:tiger@db/x",
            "unsupported database URL scheme 'oracle' in 'oracle://scott:***@db/x'",
        ),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(BadURL) as error:
        async_url(url)
    assert str(error.value).startswith(message)


def test_passwords_are_masked_even_in_unparseable_urls() -> None:
    assert redact("postgresql://u:secret@db/chat") == "postgresql://u:***@db/chat"
    assert redact("postgresql://u:sec ret@db:bad/chat") == "postgresql://u:***@db:bad/chat"


async def test_the_exporter_cannot_write(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with read_only(engine, statement_timeout=5) as connection:
            with pytest.raises(DBAPIError, match=r"(?i)read.?only|readonly"):
                await connection.execute(insert(sites).values(name="intruder", timezone="UTC"))
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p@ss@db/chat", "postgresql://u:***@db/chat"),
        ("postgresql://u:p@s/s@db:5432/chat", "postgresql://u:***@db:5432/chat"),
        (
            "postgresql://u@db/chat?password=secret&sslmode=require",
            "postgresql://u@db/chat?password=***&sslmode=require",
        ),
        (
            "mysql://root@db/chat?charset=utf8mb4&PASSWORD=x",
            "mysql://root@db/chat?charset=utf8mb4&PASSWORD=***",
        ),
        ("redis://:secret@redis:6379/0", "redis://:***@redis:6379/0"),
        (
            "rediss://exporter:s3cret@redis/0?ssl_keyfile_password=k",
            "rediss://exporter:***@redis/0?ssl_keyfile_password=***",
        ),
        ("sqlite:////var/lib/chat.db", "sqlite:////var/lib/chat.db"),
        ("postgresql://db:5432/chat", "postgresql://db:5432/chat"),
    ],
)
def test_every_password_is_masked(url: str, shown: str) -> None:
    assert redact(url) == shown


def _open_handles(path: Path) -> int:
    """File descriptors of this process open on ``path``."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd) == str(path)
    return count


async def test_cancelled_sqlite_connects_do_not_leave_the_file_open(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    sqlite3.connect(path).close()
    engine = create_engine(f"sqlite:///{path}", pool_size=1)
    gc.disable()  # the leak was only ever closed by the garbage collector
    try:
        for _ in range(20):
            connecting = asyncio.ensure_future(engine.connect())
            await asyncio.sleep(0)
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
        await asyncio.sleep(0.5)
        assert _open_handles(path) == 0
    finally:
        gc.enable()
        await engine.dispose()


async def test_a_site_name_that_is_not_utf8_spoils_no_other_site(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    await reset_schema(url)
    s = Scenario()
    for name in ("Paris", "broken", "Tokyo"):
        s.agent(f"agent of {name}", [s.site(name)])
    await s.write(url)
    with sqlite3.connect(tmp_path / "chat.db") as connection:
        connection.execute(
            "UPDATE sites SET name = CAST(X'436166e9' AS TEXT) WHERE name = 'broken'"
        )
    m = await scrape(url, "2026-11-24 12:00:00")
    assert {labels["site"] for labels in m.series("chat_conversations_today")} == {
        "Paris",
        "Caf\\xe9",
        "Tokyo",
    }


_LANE = (
    "SELECT pg_backend_pid() AS pid, pg_sleep(0.3) IS NULL AS slept, "
    "current_setting('transaction_read_only') AS read_only, "
    "current_setting('statement_timeout') AS timeout, current_setting('jit') AS jit, "
    "current_setting('max_parallel_workers_per_gather') AS workers, "
    "(SELECT count(*) FROM sites) AS sites, "
    "statement_timestamp() AS statement_started, now() AS transaction_started"
)


async def test_two_postgresql_connections_read_one_snapshot() -> None:
    """Two statements run at once on two connections, both read-only with the collection's
    limits, and neither sees what was committed after the collection's snapshot. The first
    connection's statement starts before the second connection's transaction does, and a
    statement can be given as what builds it."""
    url = server_url("postgresql")
    await reset_schema(url)
    engine, writer = create_engine(url), create_engine(url, read_only=False)
    try:
        async with read_only(engine, statement_timeout=5) as connection:
            before = await connection.scalar(text("SELECT count(*) FROM sites"))
            async with writer.begin() as writing:
                await writing.execute(insert(sites).values(name="later", timezone="UTC"))
            started = time.monotonic()
            rows = await read_all(connection, {"one": text(_LANE), "other": lambda: text(_LANE)})
            elapsed = time.monotonic() - started
        one, other = rows["one"][0], rows["other"][0]
        assert one.pid != other.pid
        assert elapsed < 0.55  # the two sleeps overlapped
        assert one.statement_started < other.transaction_started
        for row in (one, other):
            settings = (row.read_only, row.timeout, row.jit, row.workers, row.sites)
            assert settings == ("on", "5s", "off", "0", before)
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
        await writer.dispose()


async def test_without_a_free_connection_one_reads_them_all() -> None:
    engine = create_engine(server_url("postgresql"), pool_size=1)
    try:
        async with read_only(engine, statement_timeout=5) as connection:
            rows = await read_all(connection, {"one": text(_LANE), "other": text(_LANE)})
        assert rows["one"][0].pid == rows["other"][0].pid
    finally:
        await engine.dispose()


async def test_a_failing_statement_stops_the_other_lane_and_frees_both_connections() -> None:
    engine = create_engine(server_url("postgresql"))
    try:
        async with read_only(engine, statement_timeout=5) as connection:
            started = time.monotonic()
            with pytest.raises(DBAPIError, match="division by zero"):
                await read_all(
                    connection,
                    {"slow": text("SELECT pg_sleep(3)"), "failing": text("SELECT 1 / 0")},
                )
            assert time.monotonic() - started < 2
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_elsewhere_the_statements_are_read_in_turn(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with read_only(engine, statement_timeout=5) as connection:
            rows = await read_all(
                connection,
                {"b": text("SELECT 2 AS value"), "a": text("SELECT 1 AS value")},
            )
        assert {name: [row.value for row in found] for name, found in rows.items()} == {
            "b": [2],
            "a": [1],
        }
        assert list(rows) == ["b", "a"]
    finally:
        await engine.dispose()


async def test_a_server_that_cannot_export_its_snapshot_is_read_on_one_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refused here by privileges, as a PostgreSQL look-alike without the function would:
    the collection's transaction survives, and the reason is logged once."""
    url = server_url("postgresql")
    await reset_schema(url)
    admin = create_engine(url, read_only=False)
    role = "chat_exporter_no_export"
    grants = (
        f"CREATE ROLE {role} LOGIN",
        f"GRANT SELECT ON sites TO {role}",
        "REVOKE EXECUTE ON FUNCTION pg_export_snapshot() FROM PUBLIC",
    )
    restore = (
        "GRANT EXECUTE ON FUNCTION pg_export_snapshot() TO PUBLIC",
        f"DROP OWNED BY {role}",
        f"DROP ROLE {role}",
    )
    engine = create_engine(make_url(url).set(username=role).render_as_string(False))
    try:
        async with admin.begin() as connection:
            for statement in grants:
                await connection.execute(text(statement))
        for _ in range(2):
            async with read_only(engine, statement_timeout=5) as connection:
                rows = await read_all(connection, {"one": text(_LANE), "other": text(_LANE)})
                assert await connection.scalar(text("SELECT 1")) == 1
            assert rows["one"][0].pid == rows["other"][0].pid
        [warning] = [record.getMessage() for record in caplog.records]
        assert warning.startswith("reading on one connection: pg_export_snapshot() is missing")
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            for statement in restore:
                await connection.execute(text(statement))
        await admin.dispose()
