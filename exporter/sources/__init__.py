"""Sources read one schema flavour into a Snapshot; a new platform is a new module here.

A source is an async function ``fetch(connection, now, settings) -> Snapshot`` that only reads,
through the connection it is given (already inside a read-only transaction).
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from exporter.settings import Settings
from exporter.snapshot import Snapshot
from exporter.sources import reference

Fetch = Callable[[AsyncConnection, datetime, Settings], Awaitable[Snapshot]]

SCHEMAS: dict[str, Fetch] = {"reference": reference.fetch}
