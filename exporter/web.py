"""HTTP: ``/metrics`` from a collection within the scrape's deadline, a landing page, and probes.

A scrape: read the deadline from Prometheus' scrape-timeout header, await the (shared)
collection outcome, let prometheus-client choose the format (text or OpenMetrics) from the
``Accept`` header, encode the exporter's health, the chat figures and the process metrics,
and gzip them if asked. Unfiltered scrapes served by the same outcome share one gzipped
encoding of the chat figures, the middle of three gzip members, which each body sends as
they are. Only the outcome is awaited; nothing here touches the database.
"""

import asyncio
import html
import logging
import math
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiohttp import hdrs, web, web_response
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector

from exporter import __version__, garbage
from exporter.collection import Collection, Outcome
from exporter.collector import Family, data_families, health_families
from exporter.exposition import encode, encode_gzip, gunzip, gzip_member
from exporter.web_config import WebConfigFile, install

log = logging.getLogger(__name__)

SCRAPE_TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
DEFAULT_PORT = 24280
# Names the software without its version, nor Python's and aiohttp's, for whoever probes.
# aiohttp gives every response, its own 400s for malformed requests too, the Server header
# of this module constant and offers no setting for it.
SERVER = "chat-supervision-exporter"
web_response.SERVER_SOFTWARE = SERVER  # type: ignore[attr-defined]
_SLICE = 1 << 16  # aiohttp's writer waits for the socket once it holds more than this


def deadline(header: str | None, cap: float, offset: float) -> float:
    """Seconds a scrape may spend collecting: Prometheus' scrape timeout minus ``offset``
    (ignored when the timeout is not larger), never more than ``cap``."""
    try:
        scrape_timeout = float(header) if header is not None else math.inf
    except ValueError:
        scrape_timeout = math.inf
    if not 0 < scrape_timeout < math.inf:
        return cap
    return min(cap, scrape_timeout - offset if scrape_timeout > offset else scrape_timeout)


def parse_listen_address(address: str) -> tuple[str | None, int]:
    """``host:port``, ``:port`` (all interfaces) or ``[v6]:port`` into aiohttp's host and port."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"invalid listen address {address!r}: expected host:port or :port")
    return (host.strip("[]") or None), int(port)


def gzip_accepted(header: str) -> bool:
    """Whether ``Accept-Encoding`` allows gzip: ``gzip`` or else ``*``, with a q-value above 0
    (RFC 9110 12.5.3; prometheus-client's own check ignores ``gzip;q=0``)."""
    quality: dict[str, float] = {}
    for item in header.split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        q = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality.setdefault(coding.lower(), q)
    q = quality.get("gzip", quality.get("*", 0.0))
    return 0 < q <= 1


def _encoder(accept: str) -> tuple[Callable[[Collector], bytes], str]:
    """prometheus-client's choice of format, but OpenMetrics always in version 1.0.0, the only
    one ``exposition.encode`` writes, whatever version the client asked for."""
    encoder, content_type = choose_encoder(accept)
    if content_type.startswith("application/openmetrics-text"):
        encoder = partial(openmetrics.generate_latest, version="1.0.0")
        return encoder, openmetrics.CONTENT_TYPE_LATEST
    return encoder, content_type


@dataclass
class _Encodings:
    """The chat figures of the latest outcome, encoded and gzipped once per format for the
    unfiltered scrapes, which share the encoding in progress.

    Only the compressed text is kept, a tenth of the text at a few thousand agents: a scrape
    sends it as the middle member of its gzip body, and one that does not accept gzip gets
    it decompressed. Filtered scrapes (``name[]``) are encoded each time: any client can
    invent filters, and a cache per filter grew by a full body each (gigabytes at 190 000
    samples); at most two encodings are held here.
    """

    outcome: weakref.ref[Outcome] | None = None  # weak: the snapshot goes when it is served
    by_format: dict[bool, asyncio.Future[bytes]] = field(default_factory=dict)

    async def compressed(self, outcome: Outcome, openmetrics: bool, help_suffix: str) -> bytes:
        if self.outcome is None or self.outcome() is not outcome:
            self.outcome, self.by_format = weakref.ref(outcome), {}
        if openmetrics not in self.by_format:
            self.by_format[openmetrics] = asyncio.ensure_future(
                asyncio.to_thread(compressed_figures, outcome, openmetrics, help_suffix)
            )
        # A scrape that gives up must not cancel the encoding the others wait for.
        return await asyncio.shield(self.by_format[openmetrics])


def _figures(outcome: Outcome, help_suffix: str) -> Iterable[Family]:
    return data_families(outcome.snapshot, help_suffix) if outcome.snapshot else ()


def compressed_figures(outcome: Outcome, openmetrics: bool, help_suffix: str = "") -> bytes:
    """The chat figures of ``outcome`` as the middle gzip member of an unfiltered scrape."""
    with garbage.paused():
        return encode_gzip(_figures(outcome, help_suffix), openmetrics)


async def send_parts(
    request: web.Request, parts: Sequence[bytes], headers: Mapping[str, str]
) -> web.StreamResponse:
    """A body sent as its parts, a slice at a time, never joined.

    The shared compressed figures are megabytes at the largest sizes: each of ten concurrent
    scrapes joining them into its own body, and its transport then keeping what the socket
    had not taken yet, held copies of them (docs/performance.md, "Scrapes that share a
    body"). Slice by slice, a scrape holds at most about one slice of its own.
    """
    response = web.StreamResponse(headers=headers)
    response.content_length = sum(len(part) for part in parts)
    await response.prepare(request)
    if request.method == hdrs.METH_HEAD:  # its length, not its body (RFC 9110 9.3.2)
        parts = ()
    try:
        for part in parts:
            view = memoryview(part)
            for start in range(0, len(view), _SLICE):
                await response.write(view[start : start + _SLICE])
        await response.write_eof()
    except ConnectionError:  # a write racing the loss (aiohttp cancels a handler waiting)
        log.debug("scraper gone before the end of its body")
    return response


def _named(families: Iterable[Family], names: frozenset[str]) -> list[Family]:
    return [family for family in families if not names or family.name in names]


class _ServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log, where a client's malformed request is one debug line, not an
    error with a traceback: anyone can send one, and it says nothing about the exporter."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError):
            reason = " ".join(error.message.split())[:200]
            kwargs["exc_info"] = None
            level, msg, args = logging.DEBUG, f"{msg}: %s %s", (*args, error.code, reason)
        super().log(level, msg, *args, **kwargs)


ENCODINGS = web.AppKey("encodings", _Encodings)


def create_app(
    collection: Collection,
    *,
    timeout: float,
    scrape_timeout_offset: float,
    telemetry_path: str = "/metrics",
    help_suffix: str = "",
    web_config: WebConfigFile | None = None,
) -> web.Application:
    """The exporter's web application around one Collection, with the web configuration's
    authentication and headers if given.

    Ready (``/-/ready`` 200) once the first collection, started with the application, has
    finished, whether it succeeded or not (a database outage is ``chat_up 0``, not an
    exporter to take out of service), and until shutdown begins.
    """
    runtime = CollectorRegistry()
    ProcessCollector(registry=runtime)
    PlatformCollector(registry=runtime)
    encodings = _Encodings()
    state: dict[str, bool] = {"ready": False}

    async def metrics(request: web.Request) -> web.StreamResponse:
        header = request.headers.get(SCRAPE_TIMEOUT_HEADER)
        outcome = await collection.outcome(deadline(header, timeout, scrape_timeout_offset))
        encoder, content_type = _encoder(",".join(request.headers.getall(hdrs.ACCEPT, [])))
        openmetrics = content_type.startswith("application/openmetrics-text")
        names = frozenset(request.query.getall("name[]", []))
        gzipped = gzip_accepted(",".join(request.headers.getall(hdrs.ACCEPT_ENCODING, [])))
        health = encode(_named(health_families(outcome, outcome.wall_time()), names), openmetrics)
        parts: tuple[bytes, ...]
        if names:
            figures = encode(_named(_figures(outcome, help_suffix), names), openmetrics)
            process = encoder(runtime.restricted_registry(names))
            parts = (health, figures, process)
            if gzipped:
                parts = (await asyncio.to_thread(gzip_member, b"".join(parts)),)
        else:
            shared = await encodings.compressed(outcome, openmetrics, help_suffix)
            process = encoder(runtime)
            if gzipped:
                parts = (gzip_member(health), shared, gzip_member(process))
            else:
                parts = (health, await asyncio.to_thread(gunzip, shared), process)
        headers: dict[str, str] = {hdrs.CONTENT_TYPE: content_type, hdrs.VARY: hdrs.ACCEPT_ENCODING}
        if gzipped:
            headers[hdrs.CONTENT_ENCODING] = "gzip"
        return await send_parts(request, parts, headers)

    async def landing(_request: web.Request) -> web.Response:
        path = html.escape(telemetry_path)
        body = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            "<title>chat-supervision-exporter</title></head><body>"
            f"<h1>chat-supervision-exporter {html.escape(__version__)}</h1>"
            "<p>Real-time contact-centre supervision figures for Prometheus.</p><ul>"
            f"<li><a href='{path}'>Metrics</a></li>"
            "<li><a href='-/healthy'>Health</a></li>"
            "<li><a href='-/ready'>Readiness</a></li>"
            "</ul></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def healthy(_request: web.Request) -> web.Response:
        return web.Response(text="Healthy.\n")

    async def ready(_request: web.Request) -> web.Response:
        if state["ready"]:
            return web.Response(text="Ready.\n")
        return web.Response(status=503, text="Not ready.\n")

    async def first_collection(_app: web.Application) -> AsyncIterator[None]:
        async def collect() -> None:
            await collection.outcome(timeout)
            state["ready"] = True

        task = asyncio.create_task(collect())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await collection.close()

    async def stopping(_app: web.Application) -> None:
        state["ready"] = False

    app = web.Application(handler_args={"logger": _ServerLog(logging.getLogger("aiohttp.server"))})
    if web_config is not None:
        install(app, web_config)
    app[ENCODINGS] = encodings
    app.router.add_get(telemetry_path, metrics)
    app.router.add_get("/", landing)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.cleanup_ctx.append(first_collection)
    app.on_shutdown.append(stopping)
    return app
