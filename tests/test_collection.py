"""The collection runner in-process, on real SQLite files: single flight, cache, failures."""

import asyncio
import logging
import sqlite3
import time
import weakref
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


async def test_a_tiny_budget_cannot_fail_the_scrapes_sharing_its_collection(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Any client can send X-Prometheus-Scrape-Timeout-Seconds: 0.000001. It gives up alone;
    # the collection it started runs for the scrapes that asked for longer.
    fetch = CountingFetch(delay=0.3)
    collection = await _collection(sqlite_url, fetch)

    with caplog.at_level(logging.DEBUG, logger="exporter.collection"):
        hostile = asyncio.create_task(collection.outcome(0.000001))
        await asyncio.sleep(0)
        crowd = [asyncio.create_task(collection.outcome(0.000001)) for _ in range(50)]
        normal = await collection.outcome(5)
        impatient = await asyncio.gather(hostile, *crowd)

    assert normal.snapshot is not None
    assert fetch.calls == 1
    assert all(outcome.snapshot is None for outcome in impatient)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


async def test_a_collection_runs_until_the_latest_deadline_asked(sqlite_url: str) -> None:
    fetch = CountingFetch(delay=0.5)
    collection = await _collection(sqlite_url, fetch)

    first = asyncio.create_task(collection.outcome(0.2))
    await asyncio.sleep(0.05)
    second = await collection.outcome(1)

    assert (await first).error == "timed out after 0.2s waiting for the collection in progress"
    assert second.snapshot is not None
    assert fetch.calls == 1


async def test_alternating_failures_and_successes_are_logged_once_per_cause(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A client with a tiny budget alone, then Prometheus, over and over: one error line and
    # one recovery line, not two lines per scrape.
    collection = await _collection(sqlite_url, CountingFetch(delay=0.01))

    with caplog.at_level(logging.INFO, logger="exporter.collection"):
        for _ in range(30):
            assert (await collection.outcome(0.000001)).snapshot is None
            assert (await collection.outcome(5)).snapshot is not None

    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        ("ERROR", "collection failed: timed out after 1e-06s"),
        ("INFO", "collection recovered after failing with: timed out after 1e-06s"),
    ]


async def test_failures_are_never_cached(tmp_path: Path) -> None:
    # min_interval caches successes only: recovery shows at the next scrape.
    url = f"sqlite:///{tmp_path / 'later.db'}"
    collection = await _collection(url, CountingFetch(), min_interval=60)

    failed = await collection.outcome(5)
    await reset_schema(url)
    recovered = await collection.outcome(5)

    assert failed.snapshot is None
    assert recovered.snapshot is not None
    assert await collection.outcome(5) is recovered


async def test_the_cache_lasts_min_interval_whatever_the_wall_clock_does(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetch = CountingFetch()
    collection = await _collection(sqlite_url, fetch, min_interval=0.2)
    first = await collection.outcome(5)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 3600)  # NTP steps back an hour

    await asyncio.sleep(0.3)
    second = await collection.outcome(5)

    assert fetch.calls == 2
    assert second is not first
    assert 0 <= first.wall_time() - first.finished_at < 1  # the age ignores the step


async def test_a_new_collection_lets_the_last_snapshot_go(sqlite_url: str) -> None:
    """Two snapshots are never held at once for nothing: at the largest sizes a snapshot is
    most of the exporter's memory."""
    fetch = CountingFetch(delay=0.3)
    collection = await _collection(sqlite_url, fetch)
    first = weakref.ref(await collection.outcome(5))

    second = asyncio.create_task(collection.outcome(5))
    await asyncio.sleep(0.1)  # the second collection is under way

    assert first() is None
    assert (await second).snapshot is not None
    assert fetch.calls == 2
