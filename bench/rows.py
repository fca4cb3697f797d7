"""What both generators share: deterministic choices in SQL, the SQL spellings that differ
between databases, the calendar of the generated days, and creating the database.

Every choice is derived from a row number with integer arithmetic instead of random(), so the
same generation time gives the same rows.
"""

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from exporter.database import create_engine

HISTORY_DAYS = 7
MESSAGES_PER_CONVERSATION = 10
DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class Flavour:
    """The two SQL spellings that differ between the databases: a counter and a timestamp."""

    name: str

    def series(self, count: int, alias: str) -> str:
        """A derived table ``alias(n)`` of the integers 1 to ``count``."""
        if self.name == "postgresql":
            return f"generate_series(1, {count}) AS {alias}(n)"
        return f"(SELECT n FROM bench_counter WHERE n <= {count}) AS {alias}"

    def timestamp(self, epoch: str) -> str:
        """The naive UTC timestamp of Unix time ``epoch``, stored as SQLAlchemy stores one."""
        if self.name == "postgresql":
            return f"(to_timestamp({epoch}) AT TIME ZONE 'UTC')"
        return f"(strftime('%Y-%m-%d %H:%M:%S', {epoch}, 'unixepoch') || '.000000')"


def pick(value: str, purpose: str, choices: int | str) -> str:
    """SQL for a pseudo-random integer in [0, choices) derived from the integer ``value``.

    ``value`` times an odd 32-bit multiplier of its own per purpose (so that choices made from
    the same row number are independent), then a xor-shift and a second multiplication, so
    that consecutive values do not drift together; the choice is taken from the top 20 bits.
    SQLite has no xor: ``a ^ b`` is ``(a | b) - (a & b)``. Products are BIGINT, below 2^63.
    """
    multiplier = int.from_bytes(hashlib.sha256(purpose.encode()).digest()[:4], "big") | 1
    spread = f"(CAST({value} AS BIGINT) * {multiplier} % 4294967296)"
    shifted = f"({spread} / 65536)"
    mixed = f"((({spread} | {shifted}) - ({spread} & {shifted})) * 1540483477 % 4294967296)"
    return f"({mixed} / 4096 * ({choices}) / 1048576)"


async def create_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it is missing, from the ``postgres`` one."""
    await _administer(url, create=True)


async def drop_database(url: str) -> None:
    """Drop the PostgreSQL database of ``url`` if it exists, from the ``postgres`` one."""
    await _administer(url, create=False)


async def _administer(url: str, *, create: bool) -> None:
    target = make_url(url)
    admin = create_engine(
        target.set(database="postgres").render_as_string(hide_password=False),
        read_only=False,
        pool_size=1,
    )
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            name = target.database or ""
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            quoted = admin.dialect.identifier_preparer.quote(name)
            if create and not exists:
                await connection.execute(text(f"CREATE DATABASE {quoted}"))
            elif exists and not create:
                await connection.execute(text(f"DROP DATABASE {quoted}"))
    finally:
        await admin.dispose()


async def timed(connection: AsyncConnection, sql: Sequence[str]) -> float:
    """Run ``sql`` statement by statement; how long they took, in seconds."""
    started = time.perf_counter()
    for statement in sql:
        await connection.exec_driver_sql(statement)
    return time.perf_counter() - started
