"""HTTP: ``/metrics`` from a collection within the scrape's deadline, a landing page, and probes.

A scrape: read the deadline from Prometheus' scrape-timeout header, await the (shared)
collection outcome, turn it into gauge families, and let prometheus-client negotiate the
format (text or OpenMetrics) and the ``name[]`` filter. Only the outcome is awaited; nothing
here touches the database.
"""

import html
import math
import time
from collections.abc import Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.core import Metric

from exporter import __version__
from exporter.collection import Collection
from exporter.collector import families

SCRAPE_TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
DEFAULT_PORT = 24280


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


class _Families:
    """A collector that yields the families already built for one scrape."""

    def __init__(self, metrics: Iterable[Metric]) -> None:
        self._metrics = list(metrics)

    def collect(self) -> list[Metric]:
        return self._metrics


def create_app(
    collection: Collection,
    *,
    timeout: float,
    scrape_timeout_offset: float,
    telemetry_path: str = "/metrics",
    help_suffix: str = "",
) -> web.Application:
    """The exporter's web application around one Collection."""
    runtime = (ProcessCollector(registry=None), PlatformCollector(registry=None))

    async def metrics(request: web.Request) -> web.StreamResponse:
        budget = deadline(
            request.headers.get(SCRAPE_TIMEOUT_HEADER), timeout, scrape_timeout_offset
        )
        outcome = await collection.outcome(budget)
        registry = CollectorRegistry(support_collectors_without_names=True)
        registry.register(_Families(families(outcome, time.time(), help_suffix)))
        for collector in runtime:
            registry.register(collector)
        return await make_aiohttp_handler(registry)(request)

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
        return web.Response(text="Ready.\n")

    app = web.Application()
    app.router.add_get(telemetry_path, metrics)
    app.router.add_get("/", landing)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    return app
