"""Faults against the real exporter process: bad input, a stopped or hanging database, crowds.

The exporter must say what is wrong in one line, keep answering with ``chat_up 0`` within
the scrape's deadline, and recover by itself once the cause is gone.
"""

import asyncio
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from exporter.database import async_url
from tests.builder import Scenario, reset_schema
from tests.conftest import server_url
from tests.servers import exporter, run_cli, throwaway_postgres

pytestmark = pytest.mark.slow


def _one_site() -> Scenario:
    s = Scenario()
    site = s.site("main")
    agent = s.agent("Ann", [site])
    s.session(agent, "available", "2026-01-01 00:00:00")
    return s


def _error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "level=error" in line]


def test_malformed_config_stops_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("database:\n  url: sqlite:///x.db\ncollection:\n  timeout: soon\n")

    result = run_cli("--config.file", str(config))

    assert result.returncode == 1
    assert result.stderr == (
        f"chat-supervision-exporter: {config}: collection.timeout: "
        "expected a duration like 10s, got 'soon'\n"
    )


def test_unsupported_url_stops_with_one_line_without_the_password() -> None:
    result = run_cli("--database.url", "oracle://scott:tiger@db/orcl")

    assert result.returncode == 1
    assert result.stderr == (
        "chat-supervision-exporter: unsupported database URL scheme 'oracle' in "
        "'oracle://scott:***@db/orcl' (use sqlite:///, postgresql://, mysql:// or mariadb://)\n"
    )


def test_unreachable_database_is_chat_up_0_and_named(tmp_path: Path) -> None:
    url = "postgresql://exporter:s3cret@127.0.0.1:1/chat"
    with exporter(["--database.url", url], tmp_path) as running:
        assert running.sample("chat_up") == 0
        assert running.sample("chat_last_success_timestamp_seconds") == 0
        log = running.stderr()
    assert "s3cret" not in log
    assert "postgresql://exporter:***@127.0.0.1:1/chat" in log
    [line] = _error_lines(log)
    assert re.search(
        r'msg="collection failed: cannot connect: .*(refused|127\.0\.0\.1).*"$', line
    ), line


def test_missing_tables_then_init_db_recovers_alone(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    with exporter(["--database.url", url], tmp_path) as running:
        assert running.sample("chat_up") == 0
        [line] = _error_lines(running.stderr())
        assert "query failed: no such table: sites (is this the reference schema?" in line

        result = run_cli("init-db", "--database.url", url)
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"reference schema ready in {url}\n"

        assert running.sample("chat_up") == 1
        assert "collection recovered" in running.stderr()


def test_the_exporter_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    with exporter(["--database.url", f"sqlite:///{path}"], tmp_path) as running:
        assert running.sample("chat_up") == 0
        assert "unable to open database file" in running.stderr()
    assert not path.exists()


def test_database_stopped_mid_run_then_back(tmp_path: Path) -> None:
    with throwaway_postgres() as server:
        asyncio.run(reset_schema(server.url))
        asyncio.run(_one_site().write(server.url))
        with exporter(["--database.url", server.url], tmp_path) as running:
            assert running.sample("chat_up") == 1
            assert running.sample('chat_agents{site="main",status="available"}') == 1

            server.stop()
            started = time.monotonic()
            assert running.sample("chat_up", scrape_timeout=5) == 0
            assert time.monotonic() - started < 5
            assert "chat_agents{" not in running.get()  # no stale figures while down
            [line] = _error_lines(running.stderr())
            assert "collection failed: " in line

            server.start()
            assert running.sample("chat_up") == 1
            assert "collection recovered" in running.stderr()


class TableLock:
    """Hold an exclusive lock on ``sites`` from another session, on a thread of its own."""

    def __init__(self, url: str, statement: str) -> None:
        self.url, self.statement = url, statement
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._hold()))

    async def _hold(self) -> None:
        engine = create_async_engine(async_url(self.url))
        async with engine.connect() as connection:
            await connection.execute(text(self.statement))
            self.locked.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
            await connection.rollback()
            if engine.dialect.name == "mysql":
                await connection.execute(text("UNLOCK TABLES"))
        await engine.dispose()

    def __enter__(self) -> "TableLock":
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.thread.join(10)


ACTIVITY = {
    # The exporter's sessions that are running a statement, as the server sees them.
    "postgresql": "SELECT state, wait_event_type FROM pg_stat_activity "
    "WHERE application_name = 'chat-supervision-exporter' AND state = 'active' "
    "AND datname = current_database()",
    "mysql": "SELECT command, state FROM information_schema.processlist "
    "WHERE info LIKE '%FROM sites%' AND id <> connection_id() AND db = database()",
}


async def _exporter_statements(url: str) -> list[tuple[str, str | None]]:
    engine = create_async_engine(async_url(url))
    async with engine.connect() as connection:
        rows = await connection.execute(text(ACTIVITY[engine.dialect.name]))
        statements = [(row[0], row[1]) for row in rows]
    await engine.dispose()
    return statements


LOCKS = {
    "postgresql": "LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE",
    "mariadb": "LOCK TABLES {table} WRITE",
}


@pytest.mark.parametrize(
    ("backend", "table"),
    [
        ("postgresql", "sites"),
        # Read by one of PostgreSQL's two connections while the other reads the rest.
        ("postgresql", "objectives"),
        ("mariadb", "sites"),
    ],
)
def test_a_statement_hanging_past_the_deadline(backend: str, table: str, tmp_path: Path) -> None:
    url = server_url(backend)
    asyncio.run(reset_schema(url))
    asyncio.run(_one_site().write(url))
    with exporter(["--database.url", url], tmp_path) as running:
        assert running.sample("chat_up") == 1
        with TableLock(url, LOCKS[backend].format(table=table)):
            started = time.monotonic()
            assert running.sample("chat_up", scrape_timeout=2) == 0
            elapsed = time.monotonic() - started
            assert 1.4 < elapsed < 2.0, elapsed  # 2 s scrape timeout minus the 0.5 s offset
            [line] = _error_lines(running.stderr())
            assert re.search(r"timed out after 1\.5s|statement timeout|max_statement_time", line), (
                line
            )
            time.sleep(0.5)
            assert asyncio.run(_exporter_statements(url)) == []  # the statement was stopped
        assert running.sample("chat_up") == 1


def test_twenty_concurrent_scrapes_share_one_collection(tmp_path: Path) -> None:
    url = server_url("postgresql")
    asyncio.run(reset_schema(url))
    asyncio.run(_one_site().write(url))
    with exporter(["--database.url", url], tmp_path) as running:
        assert running.sample("chat_up") == 1
        with (
            ThreadPoolExecutor(20) as pool,
            TableLock(url, LOCKS["postgresql"].format(table="sites")),
        ):
            scrapes = [pool.submit(running.get, "/metrics", 10) for _ in range(20)]
            time.sleep(1.5)  # all twenty are now waiting
            backends = asyncio.run(_exporter_statements(url))
        bodies = [scrape.result() for scrape in scrapes]
    assert backends == [("active", "Lock")]  # one collection, blocked on the lock
    durations = {
        line for body in bodies for line in body.splitlines()
        if line.startswith("chat_collect_duration_seconds ")
    }  # fmt: skip
    assert all("\nchat_up 1\n" in body for body in bodies)
    assert len(durations) == 1  # every scrape got the same collection
    assert float(durations.pop().split()[1]) > 1.0


def _sqlite_site(path: Path, name: str = "main") -> str:
    url = f"sqlite:///{path}"
    asyncio.run(reset_schema(url))
    s = Scenario()
    agent = s.agent("Ann", [s.site(name)])
    s.session(agent, "available", "2026-01-01 00:00:00")
    asyncio.run(s.write(url))
    return url


def test_a_locked_sqlite_database_is_chat_up_0_within_the_deadline(tmp_path: Path) -> None:
    url = _sqlite_site(tmp_path / "chat.db")
    with sqlite3.connect(tmp_path / "chat.db") as connection:
        connection.execute("PRAGMA journal_mode = DELETE")  # in WAL, writers never block readers
    with exporter(["--database.url", url], tmp_path) as running:
        assert running.sample("chat_up") == 1
        writer = sqlite3.connect(tmp_path / "chat.db", isolation_level=None)
        writer.execute("BEGIN EXCLUSIVE")  # a rollback-journal writer: readers must wait
        try:
            started = time.monotonic()
            assert running.sample("chat_up", scrape_timeout=2) == 0
            elapsed = time.monotonic() - started
            assert elapsed < 2.0, elapsed  # not SQLite's 5 s busy timeout
            [line] = _error_lines(running.stderr())
            assert "timed out after 1.5s" in line, line
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert running.sample("chat_up") == 1


def test_a_replaced_or_deleted_sqlite_file_is_not_served_from_the_pool(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    url = _sqlite_site(path, "old")
    with exporter(["--database.url", url], tmp_path) as running:
        assert running.sample('chat_agents{site="old",status="available"}') == 1
        replacement = tmp_path / "new.db"
        _sqlite_site(replacement, "new")
        replacement.replace(path)  # as a restore from backup does
        body = running.get()
        assert 'site="new"' in body
        assert 'site="old"' not in body

        path.unlink()
        assert running.sample("chat_up") == 0
        assert "unable to open database file" in running.stderr()
