"""The command line as an operator meets it: help, check-config, init-db."""

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from exporter import __version__
from exporter.cli import _presence_summary
from exporter.config import parse_config
from exporter.database import create_engine
from exporter.schema import STATISTICS, agent_sessions, create_schema
from tests.builder import Metrics, Scenario, reset_schema, scrape, utc
from tests.conftest import BACKENDS, server_url
from tests.servers import exporter, run_cli


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("serve", "check-config", "init-db", "demo"):
        assert command in result.stdout


def test_serve_help_shows_prometheus_style_flags() -> None:
    result = run_cli("serve", "--help")
    for flag in ("--config.file", "--database.url", "--web.listen-address", "--log.level"):
        assert flag in result.stdout
    assert "default: :24280" in result.stdout


def test_version() -> None:
    assert run_cli("--version").stdout == f"chat-supervision-exporter {__version__}\n"


def test_check_config_accepts_a_valid_file_and_database(tmp_path: Path) -> None:
    url = server_url("postgresql")
    config = tmp_path / "config.yml"
    config.write_text(f"database:\n  url: {url}\nsites: [paris]\n")
    asyncio.run(reset_schema(url))
    result = run_cli("check-config", "--config.file", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"configuration is valid: database {url}, schema reference, sites paris\n"
    )


def test_check_config_takes_the_url_from_the_environment(sqlite_url: str) -> None:
    result = run_cli("check-config", env={"CHAT_EXPORTER_DATABASE_URL": sqlite_url})
    assert result.returncode == 0, result.stderr
    assert f"database {sqlite_url}, schema reference, all sites" in result.stdout


def test_check_config_names_what_the_database_lacks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with sqlite3.connect(tmp_path / "other.db") as connection:
        connection.execute("CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT)")
    result = run_cli("check-config", "--database.url", url)
    assert result.returncode == 1
    assert result.stderr == (
        f"chat-supervision-exporter: {url} is not usable as a reference database: missing "
        "column sites.timezone; column sites.max_handling_seconds; "
        "column sites.max_response_seconds; table agents; table agent_sites; "
        "table agent_sessions; table conversations; table messages; "
        "table satisfaction_ratings; table transactions; table objectives "
        "(is this the reference schema? `chat-supervision-exporter init-db` creates it)\n"
    )


def test_check_config_names_an_unreachable_database() -> None:
    result = run_cli("check-config", "--database.url", "postgresql://u:pw@127.0.0.1:1/chat")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "chat-supervision-exporter: cannot connect to postgresql://u:***@127.0.0.1:1/chat: "
    )
    assert result.stderr.count("\n") == 1


def test_check_config_refuses_a_missing_url() -> None:
    result = run_cli("check-config", env={"CHAT_EXPORTER_DATABASE_URL": ""})
    assert result.returncode == 1
    assert result.stderr == (
        "chat-supervision-exporter: no database URL: pass --database.url, set "
        "CHAT_EXPORTER_DATABASE_URL, or set database.url in the config file\n"
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_init_db_is_idempotent_and_creates_a_usable_schema(backend: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}" if backend == "sqlite" else server_url(backend)
    for _ in range(2):
        result = run_cli("init-db", "--database.url", url)
        assert result.returncode == 0, result.stderr
    s = Scenario()
    s.site("main")
    asyncio.run(s.write(url))
    m = asyncio.run(scrape(url, "2026-11-24 12:00:00"))
    assert m("chat_conversations_today", site="main") == 0


async def _execute(url: str, *statements: str, transaction: bool = True) -> None:
    """Run ``statements`` in one transaction, or without any (CREATE DATABASE must)."""
    engine = create_engine(url, read_only=False, pool_size=1)
    options = {} if transaction else {"isolation_level": "AUTOCOMMIT"}
    try:
        async with engine.execution_options(**options).begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _first_release_schema(url: str) -> None:
    """The reference schema as init-db created it before agent_sessions.reason,
    ix_messages_sender_conversation and the (site, agent) statistics were added."""
    engine = create_engine(url, read_only=False, pool_size=1)
    try:
        await create_schema(engine)
    finally:
        await engine.dispose()
    backend = make_url(url).get_backend_name()
    on_table = " ON messages" if backend in ("mysql", "mariadb") else ""
    statistics = [f"DROP STATISTICS {STATISTICS}"] if backend == "postgresql" else []
    await _execute(
        url,
        "ALTER TABLE agent_sessions DROP COLUMN reason",
        f"DROP INDEX ix_messages_sender_conversation{on_table}",
        *statistics,
    )


@pytest.fixture(params=BACKENDS)
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own with the first release's schema: on a server, a new
    database, so that no other test or session ever meets the missing column."""
    backend: str = request.param
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        asyncio.run(_first_release_schema(url))
        yield url
        return
    server = server_url(backend)
    database = f"chat_old_schema_{uuid.uuid4().hex[:12]}"
    force = " WITH (FORCE)" if backend == "postgresql" else ""
    asyncio.run(_execute(server, f"CREATE DATABASE {database}", transaction=False))
    try:
        url = make_url(server).set(database=database).render_as_string(hide_password=False)
        asyncio.run(_first_release_schema(url))
        yield url
    finally:
        asyncio.run(
            _execute(server, f"DROP DATABASE IF EXISTS {database}{force}", transaction=False)
        )


def _first_release_scenario(session_start: str) -> Scenario:
    """Ann busy since ``session_start``, with one conversation answered after 40 s at 10:00,
    written as a database without the reason column takes it."""
    s = Scenario()
    main = s.site("main")
    ann = s.agent("Ann", [main])
    s.session(ann, "busy", session_start)
    conversation = s.conversation(main, ann, "2026-11-24 10:00:00", "2026-11-24 10:10:00")
    s.message(conversation, "visitor", "2026-11-24 10:00:00")
    s.message(conversation, "agent", "2026-11-24 10:00:40")
    for row in s.rows[agent_sessions]:
        del row["reason"]
    return s


async def _layout(url: str) -> tuple[set[str], set[str | None], list[dict[str, Any]]]:
    """The columns of agent_sessions, the indexes of messages and, on PostgreSQL, the
    statistics objects, and the sessions' rows."""
    engine = create_engine(url, read_only=False, pool_size=1)
    try:
        async with engine.connect() as connection:
            columns, indexes = await connection.run_sync(
                lambda sync: (
                    {column["name"] for column in inspect(sync).get_columns("agent_sessions")},
                    {index["name"] for index in inspect(sync).get_indexes("messages")},
                )
            )
            if connection.dialect.name == "postgresql":
                statistics = await connection.scalars(text("SELECT stxname FROM pg_statistic_ext"))
                indexes |= set(statistics)
            query = select(*(column for column in agent_sessions.c if column.name in columns))
            rows = [dict(row._mapping) for row in await connection.execute(query)]
    finally:
        await engine.dispose()
    return columns, indexes, rows


def test_init_db_completes_an_older_schema_without_touching_its_rows(old_url: str) -> None:
    asyncio.run(_first_release_scenario("2026-11-24 09:00:00").write(old_url))
    columns, indexes, rows = asyncio.run(_layout(old_url))
    assert "reason" not in columns
    assert "ix_messages_sender_conversation" not in indexes
    assert STATISTICS not in indexes
    session = {
        "id": 1,
        "agent_id": 1,
        "status": "busy",
        "started_at": utc("2026-11-24 09:00:00"),
        "ended_at": None,
    }
    assert rows == [session]

    # The optional column is not required: the database is valid as it is, and read.
    checked = run_cli("check-config", "--database.url", old_url)
    assert checked.returncode == 0, checked.stderr
    before = asyncio.run(scrape(old_url, "2026-11-24 12:00:00"))

    for _ in range(2):
        result = run_cli("init-db", "--database.url", old_url)
        assert result.returncode == 0, result.stderr
    columns, indexes, rows = asyncio.run(_layout(old_url))
    assert "reason" in columns
    assert "ix_messages_sender_conversation" in indexes
    assert (STATISTICS in indexes) == old_url.startswith("postgresql")
    assert rows == [{**session, "reason": None}]
    after = asyncio.run(scrape(old_url, "2026-11-24 12:00:00"))

    ann = {"site": "main", "agent_id": "1", "agent": "Ann"}
    for m in (before, after):
        assert m.table("chat_agent_status_seconds_today", ("status",), **ann) == {
            ("available",): 0,
            ("busy",): 3 * 3600,  # 09:00-12:00
            ("unavailable",): 0,
        }
        assert m("chat_agent_status_since_timestamp_seconds", **ann) == 1_795_510_800  # 09:00Z
        assert m("chat_conversations_answered_today", site="main") == 1
        assert m("chat_first_response_seconds_today", site="main") == 40
        assert m.series("chat_agent_status_reason") == []
    asyncio.run(_execute(old_url, "UPDATE agent_sessions SET reason = 'back office'"))
    m = asyncio.run(scrape(old_url, "2026-11-24 12:00:00"))
    assert m.table("chat_agent_status_reason", ("reason",), **ann) == {("back office",): 1}


def test_a_database_without_the_reason_column_is_served(old_url: str, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    since = now - timedelta(minutes=10)
    asyncio.run(_first_release_scenario(since.isoformat(sep=" ")).write(old_url))

    with exporter(["--database.url", old_url], tmp_path) as running:
        m = Metrics(running.get())

    ann = {"site": "main", "agent_id": "1", "agent": "Ann"}
    assert m("chat_up") == 1
    assert m("chat_agent_status", **ann, status="busy") == 1
    assert m("chat_agent_status_since_timestamp_seconds", **ann) == (
        since.replace(tzinfo=UTC).timestamp()
    )
    seconds = m.table("chat_agent_status_seconds_today", ("status",), **ann)
    assert seconds.keys() == {("available",), ("busy",), ("unavailable",)}
    assert seconds[("available",)] == seconds[("unavailable",)] == 0
    assert seconds[("busy",)] > 0
    assert "chat_agent_status_reason" not in m.names()


def test_init_db_names_an_unreachable_database() -> None:
    result = run_cli("init-db", "--database.url", "postgresql://u:pw@127.0.0.1:1/chat")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "chat-supervision-exporter: init-db failed on postgresql://u:***@127.0.0.1:1/chat: "
    )
    assert result.stderr.count("\n") == 1


def test_flags_may_come_before_the_command(sqlite_url: str) -> None:
    result = run_cli("--log.level", "debug", "--database.url", sqlite_url, "check-config")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"configuration is valid: database {sqlite_url}, ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log.level", "loud"], "argument --log.level: invalid choice: 'loud'"),
        (["check-config", "--web.listen-address", ":1"], "unrecognized arguments: --web.listen-address :1"),
        (["--database.url"], "argument --database.url: expected one argument"),
    ],
)  # fmt: skip
def test_usage_errors_exit_1_in_one_line(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 1
    assert result.stderr.startswith(f"chat-supervision-exporter: {message}")
    assert result.stderr.endswith(" (see --help)\n")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p@ss@127.0.0.1:1/chat", "postgresql://u:***@127.0.0.1:1/chat"),
        ("postgresql://u@127.0.0.1:1/chat?password=s3cret", "postgresql://u@127.0.0.1:1/chat?password=***"),
    ],
)  # fmt: skip
def test_check_config_never_prints_a_password(url: str, shown: str) -> None:
    result = run_cli("check-config", "--database.url", url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"chat-supervision-exporter: cannot connect to {shown}: ")
    assert "ss@" not in result.stderr
    assert "s3cret" not in result.stderr


def test_the_redis_url_is_shown_without_its_password() -> None:
    config = parse_config(
        "database: {schema: chatwoot}\n"
        "chatwoot: {redis_url: 'redis://exporter:p@ss@redis:6379/0?password=s3cret'}\n"
    )
    assert _presence_summary(config) == (
        ", presence from Redis redis://exporter:***@redis:6379/0?password=***"
    )


def test_the_database_url_may_come_from_a_file(sqlite_url: str, tmp_path: Path) -> None:
    secret = tmp_path / "database-url"
    secret.write_text(sqlite_url + "\n")
    config = tmp_path / "config.yml"
    config.write_text("database: {url_file: database-url}\n")
    for args in (["--database.url-file", str(secret)], ["--config.file", str(config)]):
        result = run_cli("check-config", *args, env={"CHAT_EXPORTER_DATABASE_URL": ""})
        assert result.returncode == 0, result.stderr
        assert f"database {sqlite_url}, " in result.stdout
    both = run_cli("check-config", "--database.url", sqlite_url, "--database.url-file", str(secret))
    assert both.returncode == 1
    assert both.stderr == (
        "chat-supervision-exporter: --database.url and --database.url-file: give one or the other\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--web.telemetry-path", "metrics"], "--web.telemetry-path must start with /, got 'metrics'"),
        (["--config.file", "/dev/zero"], "/dev/zero: larger than 1024 KiB, not a configuration file"),
    ],
)  # fmt: skip
def test_bad_input_stops_with_one_line(args: list[str], message: str, sqlite_url: str) -> None:
    result = run_cli(*args, "--database.url", sqlite_url)
    assert result.returncode == 1
    assert result.stderr == f"chat-supervision-exporter: {message}\n"


def test_the_start_up_line_shows_no_password(tmp_path: Path) -> None:
    url = "postgresql://u:p@ss@127.0.0.1:1/chat?password=s3cret"
    with exporter(["--database.url", url], tmp_path) as running:
        log = running.stderr()
    assert "database postgresql://u:***@127.0.0.1:1/chat?password=***" in log
    assert "ss@" not in log
    assert "s3cret" not in log
