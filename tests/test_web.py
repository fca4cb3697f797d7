"""The HTTP side in-process on 127.0.0.1: deadline, negotiation, filters, landing page, probes."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime

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
from exporter.web import SCRAPE_TIMEOUT_HEADER, create_app, deadline, parse_listen_address
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


async def test_landing_page_and_probes(client: TestClient[web.Request, web.Application]) -> None:
    landing = await client.get("/")
    assert landing.headers["Content-Type"].startswith("text/html")
    assert "href='/metrics'" in await landing.text()
    assert (await client.get("/-/healthy")).status == 200
    assert (await client.get("/-/ready")).status == 200
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
