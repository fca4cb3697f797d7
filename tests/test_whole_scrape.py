"""Whole scrapes, byte for byte, against the ones recorded before a change meant to keep them.

A change of speed or structure (issue: scrape cost close to the database's own) must not move
one figure, label or digit. These tests rebuild fixed databases — the benchmark's size S on
the reference schema and on Chatwoot's, and the demo's contact centre simulated across
Tokyo's midnight on each of the three databases (one recording each) — collect at fixed instants, and compare the
chat figures as a scrape sends them, in both exposition formats, with the bodies recorded in
``tests/golden/`` by the code before the change (one body for both: they differ only in the
escaping of quotes in HELP texts, and ours hold none; recording says so if that changes). The exact-value tests say the figures are
right; these say nothing moved that they do not look at.

The recorded bodies change only with a deliberate change of what is published:
``python -m tests.test_whole_scrape`` rewrites them (PostgreSQL and MariaDB from the same
environment variables as the tests), and the commit says why.
"""

import asyncio
import gzip
import os
import random
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bench.chatwoot import SIZES as CHATWOOT_SIZES
from bench.chatwoot import generate as generate_chatwoot
from bench.generate import SIZES, generate
from bench.rows import create_database, drop_database
from exporter.collection import Outcome
from exporter.database import create_engine
from exporter.demo.simulator import prepare, tick
from exporter.exposition import gunzip
from exporter.web import compressed_figures
from tests.builder import reset_schema, snapshot
from tests.conftest import SERVER_URL_ENV, server_url

GOLDEN = Path(__file__).parent / "golden"
# A weekday afternoon in UTC, for the benchmark (all its sites are in UTC).
BENCH_NOW = datetime(2026, 3, 10, 14, 30, 0)
# Tokyo's midnight is 15:00 UTC: the demo runs from 14:40 and is scraped either side of it.
DEMO_START = datetime(2026, 3, 28, 14, 55, 0)
DEMO_SCRAPES = 3
DEMO_MINUTES_BETWEEN = 4


async def _bodies(url: str, instants: list[datetime], schema: str) -> dict[bool, bytes]:
    """Both formats' bodies of a collection at each instant, one after the other."""
    bodies: dict[bool, list[bytes]] = {False: [], True: []}
    for instant in instants:
        taken = await snapshot(url, instant.isoformat(sep=" "), schema=schema)
        finished = taken.taken_at.timestamp()
        outcome = Outcome(taken, None, finished, 0.0, finished)
        for openmetrics, parts in bodies.items():
            parts.append(f"# at {instant.isoformat()}\n".encode())
            parts.append(gunzip(compressed_figures(outcome, openmetrics)))
    return {openmetrics: b"".join(parts) for openmetrics, parts in bodies.items()}


def _golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.prom.gz"


def _assert_same(name: str, bodies: dict[bool, bytes]) -> None:
    for openmetrics, body in bodies.items():
        recorded = gzip.decompress(_golden_path(name).read_bytes())
        if body != recorded:
            got, want = body.decode().splitlines(), recorded.decode().splitlines()
            first = next(
                (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
                min(len(got), len(want)),
            )
            pytest.fail(
                f"{name} ({'OpenMetrics' if openmetrics else 'text'}) differs from the "
                f"recorded scrape at line {first + 1} of {len(want)}:\n"
                f"  recorded: {want[first] if first < len(want) else '<end>'}\n"
                f"  now:      {got[first] if first < len(got) else '<end>'}"
            )


def _record(name: str, bodies: dict[bool, bytes]) -> None:
    if bodies[True] != bodies[False]:
        raise SystemExit(f"{name}: the formats differ; record each apart")
    GOLDEN.mkdir(exist_ok=True)
    # mtime 0: the same body gives the same file.
    _golden_path(name).write_bytes(gzip.compress(bodies[False], mtime=0))


def _unix(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


async def _own_database(url: str, name: str) -> str:
    """A database of its own on the server of ``url``, created if missing."""
    own = make_url(url).set(database=name).render_as_string(hide_password=False)
    await create_database(own)
    return own


async def bench_s(url: str) -> dict[bool, bytes]:
    """The benchmark's size S, reference schema, generated for and collected at BENCH_NOW."""
    await generate(url, SIZES["S"], now=_unix(BENCH_NOW))
    return await _bodies(url, [BENCH_NOW], "reference")


async def bench_s_chatwoot(url: str) -> dict[bool, bytes]:
    """The benchmark's size S on Chatwoot's tables, generated for and collected at BENCH_NOW."""
    await generate_chatwoot(url, CHATWOOT_SIZES["S"], now=_unix(BENCH_NOW))
    return await _bodies(url, [BENCH_NOW], "chatwoot")


async def demo(url: str) -> dict[bool, bytes]:
    """The demo's three sites (Paris, New York, Tokyo) simulated from 14:40 UTC, ten seconds a
    tick, and scraped every few minutes from DEMO_START: before and after Tokyo's midnight.
    Each scrape comes right after the simulation reaches its instant, as in the demo."""
    await reset_schema(url)  # new tables: ids from 1 (MariaDB keeps its counters on DELETE)
    engine = create_engine(url, read_only=False, pool_size=1)
    rng = random.Random(2026)
    moment = DEMO_START
    scrapes = []
    try:
        await prepare(engine, rng, moment, backfill=timedelta(minutes=15))
        scrapes.append(await _bodies(url, [moment], "reference"))
        for _ in range(DEMO_SCRAPES - 1):
            for _ in range(DEMO_MINUTES_BETWEEN * 6):
                moment += timedelta(seconds=10)
                await tick(engine, moment, 10.0, rng)
            scrapes.append(await _bodies(url, [moment], "reference"))
    finally:
        await engine.dispose()
    return {
        openmetrics: b"".join(bodies[openmetrics] for bodies in scrapes)
        for openmetrics in (False, True)
    }


async def _on_own_postgresql(
    make: Callable[[str], Awaitable[dict[bool, bytes]]], name: str
) -> dict[bool, bytes]:
    url = await _own_database(server_url("postgresql"), name)
    try:
        return await make(url)
    finally:
        await drop_database(url)


async def test_bench_s_on_sqlite(tmp_path: Path) -> None:
    _assert_same("bench-s", await bench_s(f"sqlite:///{tmp_path / 'bench-s.db'}"))


async def test_bench_s_on_postgresql() -> None:
    _assert_same("bench-s", await _on_own_postgresql(bench_s, "chat_whole_scrape"))


async def test_bench_s_on_chatwoot() -> None:
    bodies = await _on_own_postgresql(bench_s_chatwoot, "chat_whole_scrape_chatwoot")
    _assert_same("bench-s-chatwoot", bodies)


async def test_demo(database_url: str) -> None:
    _assert_same(f"demo-{_backend(database_url)}", await demo(database_url))


def _backend(url: str) -> str:
    """The database of ``url`` by the name the fixtures use: times and float sums differ by a
    last digit between them (SQLite keeps milliseconds), so each has its recorded demo."""
    name = make_url(url).get_backend_name()
    return {"postgres": "postgresql", "mysql": "mariadb"}.get(name, name)


async def _record_all(sqlite: str) -> None:
    _record("bench-s", await bench_s(sqlite))
    _record("demo-sqlite", await demo(sqlite))
    chatwoot = await _on_own_postgresql(bench_s_chatwoot, "chat_whole_scrape_chatwoot")
    _record("bench-s-chatwoot", chatwoot)
    for backend in ("postgresql", "mariadb"):
        _record(f"demo-{backend}", await demo(os.environ[SERVER_URL_ENV[backend]]))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(_record_all(f"sqlite:///{Path(directory) / 'whole-scrape.db'}"))
