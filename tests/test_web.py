"""The HTTP side in-process on 127.0.0.1: deadline, negotiation, filters, landing page, probes."""

import asyncio
import gc
import logging
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from datetime import datetime

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncConnection

from exporter.collection import Collection
from exporter.database import create_engine
from exporter.settings import Settings
from exporter.snapshot import Snapshot
from exporter.sources.reference import ReferenceSource
from exporter.web import (
    ENCODINGS,
    SCRAPE_TIMEOUT_HEADER,
    create_app,
    deadline,
    gzip_accepted,
    parse_listen_address,
    send_parts,
)
from tests.builder import Scenario


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 10.0),  # no header: the configured cap
        ("4", 3.5),  # header minus offset
        ("30", 10.0),  # capped
        ("0.4", 0.4),  # offset not smaller than the timeout: ignored
        ("abc", 10.0),
        ("-1", 10.0),
        ("nan", 10.0),
    ],
)
def test_deadline(header: str | None, expected: float) -> None:
    assert deadline(header, cap=10.0, offset=0.5) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [(":24280", (None, 24280)), ("127.0.0.1:9000", ("127.0.0.1", 9000)), ("[::1]:80", ("::1", 80))],
)
def test_listen_addresses(address: str, expected: tuple[str | None, int]) -> None:
    assert parse_listen_address(address) == expected


@pytest.mark.parametrize("address", ["24280", "host:", ":0", ":70000", "host:port"])
def test_bad_listen_addresses(address: str) -> None:
    with pytest.raises(ValueError, match="invalid listen address"):
        parse_listen_address(address)


class _Slow(ReferenceSource):
    async def snapshot(self, connection: AsyncConnection, now: datetime) -> Snapshot:
        await asyncio.sleep(3)
        return await super().snapshot(connection, now)


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    s = Scenario()
    s.site("main")
    await s.write(sqlite_url)
    engine = create_engine(sqlite_url)
    collection = Collection(engine, ReferenceSource(Settings()), statement_timeout=5)
    app = create_app(collection, timeout=10, scrape_timeout_offset=0.5)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client
    await engine.dispose()


async def test_text_format_by_default(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get("/metrics")
    body = await response.text()
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    names = {family.name for family in text_string_to_metric_families(body)}
    assert {"chat_up", "chat_conversations_today", "process_cpu_seconds", "python_info"} <= names
    assert "\nchat_up 1\n" in body


async def test_openmetrics_when_asked(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    body = await response.text()
    assert response.headers["Content-Type"].startswith(
        "application/openmetrics-text; version=1.0.0"
    )
    assert body.endswith("# EOF\n")
    assert 'chat_agents{site="main",status="available"} 0\n' in body


async def test_name_filter_and_compression(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get(
        "/metrics", params=[("name[]", "chat_up"), ("name[]", "chat_slots")],
        headers={"Accept-Encoding": "gzip"},
    )  # fmt: skip
    body = await response.text()
    assert response.headers["Content-Encoding"] == "gzip"
    assert {family.name for family in text_string_to_metric_families(body)} == {
        "chat_up",
        "chat_slots",
    }


def _members(body: bytes) -> list[bytes]:
    """The decompressed text of each gzip member of ``body``, in order."""
    members = []
    while body:
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        members.append(member.decompress(body))
        assert member.eof, "a truncated gzip member"
        body = member.unused_data
    return members


def _steady(text: bytes) -> list[bytes]:
    """The lines that do not change from one scrape of an outcome to the next."""
    moving = (b"chat_snapshot_age_seconds", b"process_", b"python_gc_")
    return [line for line in text.splitlines() if not any(word in line for word in moving)]


@pytest.mark.parametrize("accept", ["text/plain", "application/openmetrics-text; version=1.0.0"])
async def test_a_gzip_scrape_is_the_plain_one_in_three_members(
    sqlite_url: str, accept: str
) -> None:
    """Health, the shared chat figures, process metrics: gzip members joined into one stream
    (RFC 1952 2.2), which decompresses to what a client without gzip receives."""
    s = Scenario()
    site = s.site("main")
    s.session(s.agent("Ann", [site]), "available", "2000-01-01 00:00:00")
    await s.write(sqlite_url)
    engine = create_engine(sqlite_url)
    collection = Collection(
        engine, ReferenceSource(Settings()), statement_timeout=5, min_interval=60
    )
    app = create_app(collection, timeout=10, scrape_timeout_offset=0.5)
    async with (
        TestClient(TestServer(app, host="127.0.0.1")) as test_client,
        aiohttp.ClientSession(auto_decompress=False) as session,
    ):
        url = test_client.make_url("/metrics")
        headers = {"Accept": accept}
        async with session.get(url, headers={**headers, "Accept-Encoding": "gzip"}) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            gzipped = await response.read()
        async with session.get(url, headers={**headers, "Accept-Encoding": "identity"}) as response:
            assert "Content-Encoding" not in response.headers
            plain = await response.read()
    await engine.dispose()
    health, figures, process = _members(gzipped)
    assert health.startswith(b"# HELP chat_up ")
    assert figures.startswith(b"# HELP chat_agents ")
    assert b'agent="Ann"' in figures
    assert process.startswith(b"# HELP process_") or process.startswith(b"# HELP python_")
    assert _steady(health + figures + process) == _steady(plain)


def _parts_app(parts: tuple[bytes, ...]) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await send_parts(request, parts, {"Content-Type": "application/octet-stream"})

    app = web.Application()
    app.router.add_get("/", handler)
    return app


async def test_a_body_sent_in_parts_and_slices_arrives_whole() -> None:
    parts = (b"a" * 100_000, b"", bytes(range(256)) * 1_000, b"z")
    async with TestClient(TestServer(_parts_app(parts), host="127.0.0.1")) as test_client:
        response = await test_client.get("/")
        body = await response.read()
    assert response.headers["Content-Length"] == str(len(body))
    assert "Transfer-Encoding" not in response.headers
    assert body == b"".join(parts)


async def test_a_head_request_gets_the_length_without_the_body() -> None:
    parts = (b"a" * 100_000, b"z")
    async with TestClient(TestServer(_parts_app(parts), host="127.0.0.1")) as test_client:
        assert test_client.port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", test_client.port)
        writer.write(
            b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert b"\r\nContent-Length: 100001\r\n" in head
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")  # the next answer, no body between
    assert rest.endswith(b"\r\n\r\n" + b"".join(parts))


async def test_a_scraper_leaving_mid_body_is_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """More than the sockets can hold, the client reads a little and leaves: the end of that
    response, not an error with a traceback, and the server goes on."""
    parts = (bytes(64 << 20),)
    async with TestClient(TestServer(_parts_app(parts), host="127.0.0.1")) as test_client:
        assert test_client.port is not None
        with caplog.at_level(logging.DEBUG):
            reader, writer = await asyncio.open_connection("127.0.0.1", test_client.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await reader.readexactly(1024)).startswith(b"HTTP/1.1 200 OK\r\n")
            writer.transport.abort()
            await asyncio.sleep(0.5)
            response = await test_client.get("/")
            assert len(await response.read()) == len(parts[0])
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


async def test_landing_page_and_probes(client: TestClient[web.Request, web.Application]) -> None:
    landing = await client.get("/")
    assert landing.headers["Content-Type"].startswith("text/html")
    assert "href='/metrics'" in await landing.text()
    assert (await client.get("/-/healthy")).status == 200
    assert (await client.get("/nowhere")).status == 404


async def test_the_scrape_timeout_header_bounds_the_collection(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    collection = Collection(engine, _Slow(Settings()), statement_timeout=5)
    app = create_app(collection, timeout=10, scrape_timeout_offset=0.5)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        started = time.monotonic()
        response = await test_client.get("/metrics", headers={SCRAPE_TIMEOUT_HEADER: "1"})
        elapsed = time.monotonic() - started
        body = await response.text()
    await engine.dispose()
    assert response.status == 200
    assert "\nchat_up 0\n" in body
    assert 0.5 <= elapsed < 1.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("GZIP;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*;q=0", False),
        ("gzip;q=0, *", False),  # an explicit gzip wins over *
        ("identity", False),
        ("gzip;q=abc", False),
        ("", False),
    ],
)
def test_gzip_accepted(header: str, expected: bool) -> None:
    assert gzip_accepted(header) is expected


async def test_gzip_refused_with_q_0(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get("/metrics", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in response.headers
    assert "\nchat_up 1\n" in await response.text()


async def test_openmetrics_2_is_answered_as_1_0_0(
    client: TestClient[web.Request, web.Application],
) -> None:
    # The body is OpenMetrics 1.0.0; its content type must say so whatever was asked.
    response = await client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=2.0.0"}
    )
    assert response.headers["Content-Type"] == (
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    )
    assert (await response.text()).endswith("# EOF\n")


async def test_no_version_in_the_server_header(
    client: TestClient[web.Request, web.Application],
) -> None:
    for path in ("/", "/metrics", "/nowhere"):
        assert (await client.get(path)).headers["Server"] == "chat-supervision-exporter"


async def test_a_malformed_request_line_is_one_debug_line(
    client: TestClient[web.Request, web.Application], caplog: pytest.LogCaptureFixture
) -> None:
    assert client.port is not None
    with caplog.at_level(logging.DEBUG):
        reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
        writer.write(b"GET /metrics HTTP/1.1 trailing\r\nHost: x\r\n\r\n")
        await writer.drain()
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.0 400 Bad Request\r\n")
    assert b"\r\nServer: chat-supervision-exporter\r\n" in answer  # aiohttp's own answer
    server = [record for record in caplog.records if record.name == "aiohttp.server"]
    assert [(record.levelname, record.exc_info) for record in server] == [("DEBUG", None)]
    assert "Error handling request from 127.0.0.1: 400 " in server[0].getMessage()


class _Held(ReferenceSource):
    """A database that answers, once released, that it is down."""

    def __init__(self) -> None:
        super().__init__(Settings())
        self.release = asyncio.Event()

    async def snapshot(self, connection: AsyncConnection, now: datetime) -> Snapshot:
        await self.release.wait()
        raise OSError("the database is down")


async def test_ready_after_the_first_collection_until_shutdown(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    source = _Held()
    app = create_app(
        Collection(engine, source, statement_timeout=5), timeout=10, scrape_timeout_offset=0.5
    )
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        starting = await test_client.get("/-/ready")
        source.release.set()
        for _ in range(100):
            up = await test_client.get("/-/ready")
            if up.status == 200:
                break
            await asyncio.sleep(0.02)
        assert "\nchat_up 0\n" in await (await test_client.get("/metrics")).text()
        assert test_client.server.runner is not None
        await test_client.server.runner.shutdown()  # what a SIGTERM starts
        stopping = await test_client.get("/-/ready")
        assert (starting.status, await starting.text()) == (503, "Not ready.\n")
    await engine.dispose()
    assert up.status == 200  # a database outage is chat_up 0, not an unready exporter
    assert stopping.status == 503


async def test_the_snapshot_age_ignores_wall_clock_steps(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cache lasts min_interval on the monotonic clock; the exported timestamps stay Unix
    # times, and the age of the cached snapshot is not an hour because NTP stepped the clock.
    engine = create_engine(sqlite_url)
    collection = Collection(
        engine, ReferenceSource(Settings()), statement_timeout=5, min_interval=60
    )
    app = create_app(collection, timeout=10, scrape_timeout_offset=0.5)
    health = [
        ("name[]", "chat_snapshot_age_seconds"),
        ("name[]", "chat_last_success_timestamp_seconds"),
    ]
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        first = _samples(await (await test_client.get("/metrics", params=health)).text())
        real_time = time.time
        monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # NTP steps forward
        second = _samples(await (await test_client.get("/metrics", params=health)).text())
    await engine.dispose()
    assert abs(first["chat_last_success_timestamp_seconds"] - real_time()) < 60
    assert (
        second["chat_last_success_timestamp_seconds"]
        == first["chat_last_success_timestamp_seconds"]
    )
    assert 0 <= second["chat_snapshot_age_seconds"] < 60


def _samples(body: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


async def test_filtered_scrapes_do_not_grow_memory(
    sqlite_url: str, client: TestClient[web.Request, web.Application]
) -> None:
    # With min_interval > 0 one outcome serves many scrapes; a client inventing name[]
    # filters must not make the exporter keep a body per filter.
    s = Scenario()
    sites = [s.site(f"site {n}") for n in range(5)]
    for n in range(40):
        agent = s.agent(f"agent {n}", sites)
        s.session(agent, "available", "2026-01-01 00:00:00")
    await s.write(sqlite_url)
    engine = create_engine(sqlite_url)
    collection = Collection(
        engine, ReferenceSource(Settings()), statement_timeout=5, min_interval=60
    )
    app = create_app(collection, timeout=10, scrape_timeout_offset=0.5)
    families = ["chat_agent_status", "chat_agent_slots", "chat_agent_conversations_today"]
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:

        async def scrape(n: int) -> int:
            params = [("name[]", name) for name in [*families, f"nothing_{n}"]]
            return len(await (await test_client.get("/metrics", params=params)).read())

        body = await scrape(0)
        tracemalloc.start()
        before = _held_by_the_exporter()
        for n in range(1, 51):
            await scrape(n)
        grown = _held_by_the_exporter() - before
        tracemalloc.stop()
        cached = app[ENCODINGS].by_format
    await engine.dispose()
    assert body > 20_000
    assert grown < 5 * body, (grown, body)  # a body per filter would be 50 bodies
    assert len(cached) <= 2


def _held_by_the_exporter() -> int:
    """Bytes still allocated by the exporter's code (not the test client's)."""
    gc.collect()
    traces = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*/exporter/*")])
    return sum(stat.size for stat in traces.statistics("filename"))
