"""The statements of one collection, as a source sends them to the driver.

``bench.run`` and ``bench.explain`` replay them; saved to a file, ``bench.alternate``
compares sets of them. It needs nothing of the exporter but what every version has had (its
engine, read-only transaction, settings and sources), so that run as a script with an older
checkout first on ``PYTHONPATH`` it captures that checkout's statements:

    python bench/capture.py --database.url URL --output FILE [--database.schema chatwoot]
"""

import argparse
import asyncio
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from exporter.config import DatabaseConfig
from exporter.database import create_engine, read_only
from exporter.settings import Settings
from exporter.sources import SCHEMAS

Statement = tuple[str, Any]  # SQL as sent to the driver, and its driver-level parameters


async def capture(url: str, schema: str, settings: Settings) -> list[Statement]:
    """The statements of one snapshot, as the source sends them to the driver, one after the
    other on one connection (no second PostgreSQL connection: its statements would
    interleave)."""
    engine = create_engine(url, pool_size=1)
    source = SCHEMAS[schema](settings)
    statements: list[Statement] = []

    def record(*args: Any) -> None:
        _connection, _cursor, statement, parameters, _context, _many = args
        statements.append((statement, parameters))

    try:
        async with read_only(engine, DatabaseConfig().statement_timeout) as connection:
            if not connection.in_transaction():
                # SQLite's BEGIN is sent on the first query: keep it out of the capture.
                await connection.begin()
            event.listen(engine.sync_engine, "before_cursor_execute", record)
            try:
                await source.snapshot(connection, datetime.now(UTC))
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", record)
    finally:
        await engine.dispose()
    return statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database.url", dest="url", required=True)
    parser.add_argument("--database.schema", dest="schema", default="reference")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    statements = asyncio.run(capture(args.url, args.schema, Settings()))
    args.output.write_bytes(pickle.dumps(statements))
    print(f"{len(statements)} statements in {args.output}")


if __name__ == "__main__":
    main()
