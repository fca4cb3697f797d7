"""Measure the exporter on a database filled by ``bench.generate``, and print a Markdown table.

What a scrape costs end to end (sequential, then concurrent scrapers sharing collections), how
much of it is the source of the database's schema and how much the bare SQL, the exporter's
peak memory and the size of what Prometheus receives. The exporter runs as its own process, as
in production; the source and the SQL are timed in this process after it has stopped, so that
they do not compete for the CPU. Scrapes send Prometheus' headers (OpenMetrics, gzip) and
count only if the collection succeeded (``chat_up 1``).
"""

import argparse
import asyncio
import gzip
import re
import shlex
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from bench.capture import Statement, capture
from exporter.config import DatabaseConfig, load_config
from exporter.database import POSTGRESQL_SETTINGS, create_engine, read_only, redact
from exporter.settings import Settings
from exporter.sources import SCHEMAS

WARMUP = 3
# RSS is read after this many sequential scrapes and after the last: growth between them
# would be memory kept from scrape to scrape.
RSS_AFTER = 10
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
PROMETHEUS_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0;q=0.5,"
    "text/plain;version=0.0.4;q=0.4,*/*;q=0.1",
    "Accept-Encoding": "gzip",
}
_COLLECT_DURATION = re.compile(rb"^chat_collect_duration_seconds (\S+)$", re.MULTILINE)
_UP = re.compile(rb"^chat_up (\S+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and 95th percentile of durations, in milliseconds."""

    median: float
    p95: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Spread":
        milliseconds = [value * 1000 for value in seconds]
        if len(milliseconds) == 1:
            return cls(milliseconds[0], milliseconds[0])
        return cls(
            statistics.median(milliseconds),
            statistics.quantiles(milliseconds, n=100, method="inclusive")[94],
        )

    def __str__(self) -> str:
        return f"{self.median:.1f} / {self.p95:.1f} ms"


@dataclass(frozen=True, slots=True)
class Scrape:
    """One scrape: how long it took, its body as sent (gzip) and as Prometheus reads it."""

    seconds: float
    wire_bytes: int
    body: bytes

    @property
    def collect_seconds(self) -> float:
        """The collection's own duration, as the exporter reports it in this scrape."""
        match = _COLLECT_DURATION.search(self.body)
        return float(match.group(1)) if match else float("nan")

    @property
    def samples(self) -> int:
        """Sample lines of the exposition (every line but comments)."""
        return sum(
            1 for line in self.body.splitlines() if line.strip() and not line.startswith(b"#")
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def exporter(
    url: str, schema: str, config_file: Path | None, log: IO[bytes]
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The exporter serving ``url`` on a free local port, always stopped on the way out."""
    port = _free_port()
    command = [sys.executable, "-m", "exporter", "--database.url", url]
    command += ["--database.schema", schema]
    command += ["--config.file", str(config_file)] if config_file else []
    command += ["--web.listen-address", f"127.0.0.1:{port}"]
    process = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _wait_ready(
    session: aiohttp.ClientSession, base: str, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the exporter exited with status {process.returncode}")
        try:
            async with session.get(f"{base}/-/ready") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the exporter was not ready after {READY_TIMEOUT_SECONDS:g}s")


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[float, int, bool, bytes]:
    """One scrape as received: seconds, HTTP status, whether gzipped, the body as sent."""
    started = time.perf_counter()
    async with session.get(url, headers=PROMETHEUS_HEADERS) as response:
        wire = await response.read()
        seconds = time.perf_counter() - started
        return seconds, response.status, response.headers.get("Content-Encoding") == "gzip", wire


def _checked(seconds: float, status: int, gzipped: bool, wire: bytes) -> Scrape:
    """A scrape received, decompressed and checked: done after the timing, so that in a
    burst one scrape's decompression does not delay the reading of the others."""
    body = gzip.decompress(wire) if gzipped else wire
    up = _UP.search(body)
    if status != 200 or up is None or float(up.group(1)) != 1:
        raise RuntimeError(f"scrape failed (HTTP {status}): the collection did not succeed")
    return Scrape(seconds, len(wire), body)


async def _scrape(session: aiohttp.ClientSession, url: str) -> Scrape:
    return _checked(*await _get(session, url))


async def _scrapes(session: aiohttp.ClientSession, url: str, count: int) -> list[Scrape]:
    return [await _scrape(session, url) for _ in range(count)]


@dataclass(frozen=True, slots=True)
class HTTPFigures:
    """What the scrapes of one exporter process measured, with the raw SQL replayed between
    them."""

    sequential: list[Scrape]
    concurrent: list[Scrape]
    concurrency: int
    concurrent_seconds: float
    raw_sql: list[float]
    peak_rss_kib: int
    rss_kib: tuple[int, int]  # after the first RSS_AFTER sequential scrapes, after them all


async def measure_http(
    url: str,
    schema: str,
    scrapes: int,
    concurrency: int,
    log: IO[bytes],
    *,
    replay: Callable[[], Awaitable[object]],
    config_file: Path | None,
) -> HTTPFigures:
    """Scrapes of a fresh exporter process, its peak RSS, and ``replay`` (the raw SQL) timed
    between them.

    Each sequential scrape is followed by one replay, and every ``concurrency`` of them by a
    burst of ``concurrency`` scrapes sent at once: the figures compared as ratios are taken
    turn by turn, so that a machine that slows down for a minute slows both sides of each
    ratio alike. The exporter is idle during the replay.
    """
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=connector, auto_decompress=False
    ) as session:
        with exporter(url, schema, config_file, log) as (process, base):
            await _wait_ready(session, base, process)
            metrics = f"{base}/metrics"
            await _scrapes(session, metrics, WARMUP)
            await _timed(0, replay)
            sequential: list[Scrape] = []
            raw_sql: list[float] = []
            concurrent: list[Scrape] = []
            concurrent_seconds = 0.0
            early = 0
            for turn in range(1, scrapes + 1):
                sequential.append(await _scrape(session, metrics))
                raw_sql += await _timed(1, replay, warmup=0)
                if turn == min(scrapes, RSS_AFTER):
                    early = _rss_kib(process.pid, "VmRSS")
                if turn % concurrency == 0:
                    started = time.perf_counter()
                    burst = await asyncio.gather(
                        *(_get(session, metrics) for _ in range(concurrency))
                    )
                    concurrent_seconds += time.perf_counter() - started
                    concurrent += [_checked(*received) for received in burst]
            late = _rss_kib(process.pid, "VmRSS")
            peak = _rss_kib(process.pid, "VmHWM")
    return HTTPFigures(
        sequential, concurrent, concurrency, concurrent_seconds, raw_sql, peak, (early, late)
    )


def _rss_kib(pid: int, field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of the process, in KiB."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    match = re.search(rf"^{field}:\s+(\d+) kB$", status, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {field} in /proc/{pid}/status")
    return int(match.group(1))


async def _timed(
    runs: int, once: Callable[[], Awaitable[object]], *, warmup: int = WARMUP
) -> list[float]:
    """Durations of ``runs`` calls of ``once``, after ``warmup`` calls."""
    durations = []
    for run in range(warmup + runs):
        started = time.perf_counter()
        await once()
        if run >= warmup:
            durations.append(time.perf_counter() - started)
    return durations


async def measure_source(url: str, schema: str, settings: Settings, runs: int) -> list[float]:
    """The schema's source as a collection runs it."""
    engine = create_engine(url)
    timeout = DatabaseConfig().statement_timeout
    source = SCHEMAS[schema](settings)

    async def collect() -> None:
        async with read_only(engine, timeout) as connection:
            await source.snapshot(connection, datetime.now(UTC))

    try:
        return await _timed(runs, collect)
    finally:
        await engine.dispose()


def postgresql_dsn(url: str) -> str:
    """``url`` as the bare driver (asyncpg) takes it, whatever driver it names."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def begin_as_exporter(
    server: asyncpg.Connection, settings: Sequence[str] = POSTGRESQL_SETTINGS
) -> Any:
    """A read-only REPEATABLE READ transaction, started, with the settings of the exporter's
    own (or ``settings``), for a replay; the caller rolls it back."""
    transaction = server.transaction(isolation="repeatable_read", readonly=True)
    await transaction.start()
    for setting in settings:
        await server.execute(f"SET LOCAL {setting}")
    return transaction


@asynccontextmanager
async def raw_sql(
    url: str, statements: Sequence[Statement]
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """A replay of the captured statements alone, through the bare driver, in one read-only
    transaction, on a connection kept open while in use."""
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        connection = sqlite3.connect(
            f"file:{target.database}?mode=ro", uri=True, isolation_level=None
        )

        async def replay_sqlite() -> None:
            connection.execute("BEGIN")
            for statement, parameters in statements:
                connection.execute(statement, parameters).fetchall()
            connection.execute("ROLLBACK")

        try:
            yield replay_sqlite
        finally:
            connection.close()
        return
    server = await asyncpg.connect(postgresql_dsn(url))

    async def replay_postgresql() -> None:
        transaction = await begin_as_exporter(server)
        for statement, parameters in statements:
            await server.fetch(statement, *parameters)
        await transaction.rollback()

    try:
        yield replay_postgresql
    finally:
        await server.close()


def report(url: str, args: Sequence[str], http: HTTPFigures, source: list[float]) -> str:
    """The figures as a Markdown table, preceded by the command line that produced them."""
    sequential = Spread.of([scrape.seconds for scrape in http.sequential])
    concurrent = Spread.of([scrape.seconds for scrape in http.concurrent])
    collect = Spread.of([scrape.collect_seconds for scrape in http.sequential])
    raw_sql = Spread.of(http.raw_sql)
    last = http.sequential[-1]
    bursts = len(http.concurrent) // http.concurrency
    rows = [
        ("sequential scrape, median / p95", str(sequential)),
        ("collection within the scrape (chat_collect_duration_seconds)", str(collect)),
        (
            f"concurrent scrape ({http.concurrency} at once, {bursts} times), median / p95",
            str(concurrent),
        ),
        (
            "concurrent throughput",
            f"{len(http.concurrent) / http.concurrent_seconds:.1f} scrapes/s",
        ),
        ("source in-process (snapshot in read_only), median / p95", str(Spread.of(source))),
        ("raw SQL through the bare driver, between the scrapes, median / p95", str(raw_sql)),
        ("scrape median / raw SQL median", f"{sequential.median / raw_sql.median:.2f}"),
        (
            "concurrent scrape median / sequential scrape median",
            f"{concurrent.median / sequential.median:.2f}",
        ),
        ("exporter peak RSS (VmHWM)", f"{http.peak_rss_kib / 1024:.0f} MiB"),
        (
            f"exporter RSS after {min(RSS_AFTER, len(http.sequential))} / "
            f"{len(http.sequential)} sequential scrapes",
            " / ".join(f"{kib / 1024:.0f} MiB" for kib in http.rss_kib),
        ),
        (
            "scrape size",
            f"{len(last.body):,} bytes ({last.wire_bytes:,} gzip), {last.samples:,} samples",
        ),
    ]
    lines = [
        f"$ python -m bench.run {shlex.join(args)}",
        f"database {redact(url)}",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
    ]
    return "\n".join(lines)


async def benchmark(
    url: str, schema: str, config_file: Path | None, scrapes: int, concurrency: int
) -> tuple[HTTPFigures, list[float]]:
    """The HTTP figures with the bare SQL's between the scrapes, then the source's durations,
    with the settings of ``config_file`` (the defaults without one); the exporter's own output
    is shown only if it failed."""
    settings = load_config(config_file).settings()
    statements = await capture(url, schema, settings)
    with tempfile.TemporaryFile() as log:
        try:
            async with raw_sql(url, statements) as replay:
                http = await measure_http(
                    url, schema, scrapes, concurrency, log, replay=replay, config_file=config_file
                )
        except Exception:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
    source = await measure_source(url, schema, settings, scrapes)
    return http, source


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="Benchmark the exporter on a generated database."
    )
    parser.add_argument("--database.url", dest="database_url", required=True, metavar="URL")
    parser.add_argument(
        "--database.schema",
        dest="schema",
        choices=sorted(SCHEMAS),
        default="reference",
        help="the schema bench.generate filled (default: reference)",
    )
    parser.add_argument(
        "--config.file",
        dest="config_file",
        type=Path,
        metavar="FILE",
        help="the exporter's configuration (privacy switches, thresholds); default: none",
    )
    parser.add_argument("--scrapes", type=int, default=50, help="scrapes per measure (default 50)")
    parser.add_argument(
        "--concurrency", type=int, default=10, help="concurrent scrapers (default 10)"
    )
    args = parser.parse_args()
    if not 1 <= args.concurrency <= args.scrapes:
        parser.error("--concurrency must be between 1 and --scrapes")
    http, source = asyncio.run(
        benchmark(args.database_url, args.schema, args.config_file, args.scrapes, args.concurrency)
    )
    print(report(args.database_url, sys.argv[1:], http, source))


if __name__ == "__main__":
    main()
