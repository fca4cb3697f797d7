"""What every source is: a reader of one schema flavour's rows, which assembly makes a Snapshot."""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncConnection

from exporter.assembly import assemble
from exporter.readings import Readings
from exporter.settings import Settings
from exporter.snapshot import CRITERIA, Snapshot


class Unavailable(Exception):
    """A store other than the database that a source reads cannot answer; one line for the log."""


class Source(ABC):
    """Reads one schema flavour. ``read`` only reads, through the connection it is given
    (already inside a read-only transaction) and ``exporter.database.read_all``, which may add
    a second in the same snapshot; ``capabilities`` name the optional figures the schema holds
    (``exporter.snapshot``), and families needing others are not published."""

    capabilities: ClassVar[frozenset[str]]
    criteria: ClassVar[tuple[str, ...]] = CRITERIA
    required: ClassVar[Mapping[str, tuple[str, ...]]]
    """The tables the source reads, and in each the columns it cannot do without."""
    hint: ClassVar[str]
    """Appended to "missing table" errors: how to get this schema right."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    async def read(self, connection: AsyncConnection, now: datetime) -> Readings:
        """The rows of one collection at ``now`` (aware UTC)."""

    async def missing(self, connection: AsyncConnection) -> list[str]:
        """What the database (or another store the source reads) lacks; empty when usable."""

        def absent(sync_connection: Connection) -> list[str]:
            schema = inspect(sync_connection)
            lacking = []
            for table, columns in self.required.items():
                if not schema.has_table(table):
                    lacking.append(f"table {table}")
                    continue
                present = {column["name"] for column in schema.get_columns(table)}
                lacking += [f"column {table}.{name}" for name in columns if name not in present]
            return lacking

        return await connection.run_sync(absent)

    async def snapshot(self, connection: AsyncConnection, now: datetime) -> Snapshot:
        """The figures at ``now`` (aware UTC)."""
        return assemble(
            await self.read(connection, now), self.settings, self.capabilities, self.criteria
        )
