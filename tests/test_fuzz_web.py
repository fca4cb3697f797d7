"""The HTTP handler under random requests, in bounded time: every answer is a valid HTTP
response, the log holds no traceback, and the memory kept between scrapes stays bounded.

Requests are written on raw sockets to 127.0.0.1, so that paths, query strings and header
values reach the server as sent (a client library would quote or refuse them).
"""

import asyncio
import gzip
import logging
import re
import urllib.parse
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from exporter.collection import Collection
from exporter.database import create_engine
from exporter.settings import Settings
from exporter.sources.reference import ReferenceSource
from exporter.web import ENCODINGS, SCRAPE_TIMEOUT_HEADER, create_app
from tests.builder import Scenario

# A header value as a client may send it: visible ASCII and spaces, no line break.
_VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
_NUMBER = st.floats(allow_nan=True, allow_infinity=True).map(repr)
_Q = st.sampled_from(["", ";q=0", ";q=0.5", ";q=1", ";q=abc", ";q=-1", ";q=2", ";Q=0"])

_PATH = st.one_of(
    st.sampled_from(["/metrics", "/", "/-/ready", "/-/healthy", "/metrics/", "//metrics"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40).map(
        lambda path: "/" + path
    ),
)
_NAME = st.one_of(
    st.sampled_from(["chat_up", "chat_agents", "chat_slots", "process_cpu_seconds", ""]),
    st.text(max_size=20),
)
_QUERY = st.one_of(
    st.lists(_NAME, max_size=300).map(
        lambda names: urllib.parse.urlencode([("name[]", name) for name in names])
    ),
    _VALUE.map(lambda query: query.replace(" ", "+")),
)
_ACCEPT = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "application/openmetrics-text",
                "application/openmetrics-text;version=1.0.0",
                "application/openmetrics-text; version=2.0.0",
                "application/openmetrics-text;version=0.0.1",
                "application/openmetrics-text;version=abc",
                "text/plain;version=0.0.4",
                "text/plain;version=1.0.0;escaping=allow-utf-8",
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily",
                "*/*",
            ]
        ),
        _Q,
    ).map("".join),
    max_size=4,
).map(",".join)
_ENCODING = st.lists(
    st.tuples(
        st.sampled_from(["gzip", "GZIP", "x-gzip", "*", "identity", "br", "deflate"]), _Q
    ).map("".join),
    max_size=4,
).map(",".join)
_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        SCRAPE_TIMEOUT_HEADER: st.one_of(
            _NUMBER, st.sampled_from(["0.000001", "0", "-1", "1e-300", "10"]), _VALUE
        ),
        "Accept": st.one_of(_ACCEPT, _VALUE),
        "Accept-Encoding": st.one_of(_ENCODING, _VALUE),
        "X-Anything": _VALUE,
    },
)
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) [^\r\n]*\r\n")


async def _exchange(port: int, path: str, query: str, headers: dict[str, str]) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    target = f"{path}?{query}" if query else path
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 15)
    writer.close()
    await writer.wait_closed()
    return answer


def _check(answer: bytes, path: str) -> None:
    """A complete HTTP response; a scrape's body in the format its content type names."""
    status_line = _STATUS_LINE.match(answer)
    assert status_line is not None, answer[:200]
    status = int(status_line[1])
    head, separator, body = answer.partition(b"\r\n\r\n")
    assert separator, answer[:200]
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.decode().partition(":") for line in head.split(b"\r\n")[1:])
    }
    assert "aiohttp" not in headers.get("server", "").lower()
    if "content-length" in headers:
        assert len(body) == int(headers["content-length"])
    assert status < 500, answer[:500]
    if status != 200 or urllib.parse.unquote(path) != "/metrics":
        return
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    text = body.decode()
    if headers["content-type"].startswith("application/openmetrics-text"):
        assert "version=1.0.0" in headers["content-type"]
        list(openmetrics_families(text))  # type: ignore[no-untyped-call]
    else:
        assert headers["content-type"].startswith("text/plain")
        list(text_string_to_metric_families(text))


def test_random_requests_get_valid_answers(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.new_event_loop()
    s = Scenario()
    agent = s.agent("Ann", [s.site("main")])
    s.session(agent, "available", "2026-01-01 00:00:00")
    loop.run_until_complete(s.write(sqlite_url))
    engine = create_engine(sqlite_url)
    # A short cache: scrapes both share outcomes and start collections.
    collection = Collection(
        engine, ReferenceSource(Settings()), statement_timeout=5, min_interval=0.05
    )
    app = create_app(collection, timeout=5, scrape_timeout_offset=0.5)
    server = TestServer(app, host="127.0.0.1")
    loop.run_until_complete(server.start_server())
    assert server.port is not None
    port = server.port
    encodings = app[ENCODINGS]

    @settings(
        max_examples=150,
        deadline=timedelta(seconds=10),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(path=_PATH, query=_QUERY, headers=_HEADERS)
    def one_request(path: str, query: str, headers: dict[str, str]) -> None:
        _check(loop.run_until_complete(_exchange(port, path, query, headers)), path)
        assert len(encodings.by_format) <= 2

    try:
        with caplog.at_level(logging.DEBUG):
            one_request()
    finally:
        loop.run_until_complete(server.close())
        loop.run_until_complete(engine.dispose())
        loop.close()
    assert not [record for record in caplog.records if record.exc_info]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    # At most the timeout of a collection started by a tiny scrape timeout, said once.
    assert len(errors) <= 1, errors
