"""The command line as an operator meets it: help, check-config, init-db."""

import asyncio
import sqlite3
from pathlib import Path

import pytest

from exporter import __version__
from exporter.cli import _presence_summary
from exporter.config import parse_config
from tests.builder import Scenario, reset_schema, scrape
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
