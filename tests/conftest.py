"""Shared fixtures: the three real databases, and the rule that CI may skip nothing.

PostgreSQL and MariaDB tests read their server URLs from CHAT_TEST_POSTGRESQL_URL and
CHAT_TEST_MARIADB_URL and skip when those are unset. With CHAT_TEST_REQUIRE_SERVICES=1 (as
.ci/run sets it) every skip becomes a failure, so a missing service cannot pass unnoticed.
"""

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builder import reset_schema

REQUIRE_ENV = "CHAT_TEST_REQUIRE_SERVICES"
SERVER_URL_ENV = {
    "postgresql": "CHAT_TEST_POSTGRESQL_URL",
    "mariadb": "CHAT_TEST_MARIADB_URL",
    "redis": "CHAT_TEST_REDIS_URL",
}
BACKENDS = ("sqlite", "postgresql", "mariadb")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get(REQUIRE_ENV) and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped while {REQUIRE_ENV} is set: {reason}"


def server_url(backend: str) -> str:
    """The URL of a real database server for ``backend``, or a skip."""
    url = os.environ.get(SERVER_URL_ENV[backend])
    if not url:
        pytest.skip(f"{SERVER_URL_ENV[backend]} is not set")
    return url


@pytest.fixture(scope="session")
def _fresh_schemas() -> set[str]:
    """URLs whose schema this session has already recreated from the current code."""
    return set()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _fresh_schemas: set[str],
) -> str:
    """A database with the reference schema, on each of the three backends."""
    backend: str = request.param
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.getbasetemp() / 'scenarios.db'}"
    else:
        url = server_url(backend)
    if url not in _fresh_schemas:
        asyncio.run(reset_schema(url))
        _fresh_schemas.add(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database with the reference schema."""
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    asyncio.run(reset_schema(url))
    return url
