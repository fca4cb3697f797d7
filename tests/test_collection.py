"""The collection runner in-process, on real SQLite files: single flight, cache, failures."""

import asyncio
import logging
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from exporter.collection import Collection
from exporter.database import create_engine
from exporter.settings import Settings
from exporter.snapshot import Snapshot
from exporter.sources.reference import ReferenceSource
from tests.builder import Scenario, reset_schema


class CountingFetch(ReferenceSource):
    """The reference source, counting its calls and optionally slowed down first."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(Settings())
        self.calls = 0
        self.delay = delay

    async def snapshot(self, connection: AsyncConnection, now: datetime) -> Snapshot:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return await super().snapshot(connection, now)


async def _collection(url: str, fetch: CountingFetch, min_interval: float = 0.0) -> Collection:
    return Collection(create_engine(url), fetch, statement_timeout=5, min_interval=min_interval)


async def test_concurrent_scrapes_share_one_collection(sqlite_url: str) -> None:
    s = Scenario()
    s.site("main")
    await s.write(sqlite_url)
    fetch = CountingFetch(delay=0.3)
    collection = await _collection(sqlite_url, fetch)

    outcomes = await asyncio.gather(*(collection.outcome(5) for _ in range(20)))

    assert fetch.calls == 1
    assert len({id(outcome) for outcome in outcomes}) == 1
    assert outcomes[0].snapshot is not None
    await collection.outcome(5)
    assert fetch.calls == 2  # without min_interval, the next scrape collects again


async def test_min_interval_serves_the_cached_outcome(sqlite_url: str) -> None:
    fetch = CountingFetch()
    collection = await _collection(sqlite_url, fetch, min_interval=60)

    first = await collection.outcome(5)
    second = await collection.outcome(5)

    assert fetch.calls == 1
    assert second is first


async def test_a_waiting_scrape_gives_up_at_its_own_deadline(sqlite_url: str) -> None:
    fetch = CountingFetch(delay=0.5)
    collection = await _collection(sqlite_url, fetch)

    starter = asyncio.create_task(collection.outcome(5))
    await asyncio.sleep(0.05)
    impatient = await collection.outcome(0.1)

    assert impatient.snapshot is None
    assert impatient.error == "timed out after 0.1s waiting for the collection in progress"
    assert (await starter).snapshot is not None
    assert fetch.calls == 1


async def test_the_deadline_stops_a_slow_collection(sqlite_url: str) -> None:
    collection = await _collection(sqlite_url, CountingFetch(delay=2))

    outcome = await collection.outcome(0.2)

    assert outcome.snapshot is None
    assert outcome.error == "timed out after 0.2s"
    assert outcome.duration_seconds < 1


async def test_failures_are_logged_once_and_recovery_is_announced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'later.db'}"
    collection = await _collection(url, CountingFetch())

    with caplog.at_level(logging.DEBUG, logger="exporter.collection"):
        first = await collection.outcome(5)
        second = await collection.outcome(5)
        sqlite3.connect(tmp_path / "later.db").close()  # the file, without tables
        third = await collection.outcome(5)
        await reset_schema(url)
        fourth = await collection.outcome(5)

    assert first.error is not None
    assert first.error.startswith("cannot connect: ")
    assert "unable to open database file" in first.error
    assert second.error == first.error
    assert third.error == (
        "query failed: no such table: sites (is this the reference schema? "
        "`chat-supervision-exporter init-db` creates it)"
    )
    assert fourth.snapshot is not None
    assert fourth.last_success_at == fourth.finished_at
    messages = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert messages == [
        ("ERROR", f"collection failed: {first.error}"),
        ("DEBUG", f"collection still failing: {first.error}"),
        ("ERROR", f"collection failed: {third.error}"),
        ("INFO", f"collection recovered after failing with: {third.error}"),
    ]


async def test_a_bug_in_a_source_becomes_a_failed_collection(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(ReferenceSource):
        async def snapshot(self, connection: AsyncConnection, now: datetime) -> Snapshot:
            raise KeyError("site_id")

    collection = Collection(create_engine(sqlite_url), Broken(Settings()), statement_timeout=5)

    outcome = await collection.outcome(5)

    assert outcome.error == "internal error: 'site_id'"
    assert "unexpected error while collecting" in caplog.text
