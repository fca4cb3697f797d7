"""One collection at a time, whatever the number of scrapes: single flight, deadline, cache.

A scrape asks for an outcome within its deadline. If a collection is already running, the
scrape waits for that one instead of starting another (HA Prometheus pairs, impatient
dashboards); with ``min_interval`` > 0 a recent enough outcome is served without a query.
A collection never raises: a failure becomes an outcome without a snapshot and one log line.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from exporter.database import Unreachable, read_only
from exporter.snapshot import Snapshot
from exporter.sources import Source, Unavailable

log = logging.getLogger(__name__)

_MISSING_SCHEMA = (
    "no such table",
    "does not exist",
    "doesn't exist",
    "no such column",
    "unknown column",
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one collection: a snapshot, or the reason there is none."""

    snapshot: Snapshot | None
    error: str | None
    finished_at: float
    duration_seconds: float
    last_success_at: float | None


class Collection:
    """Runs collections against one database for any number of concurrent scrapes."""

    def __init__(
        self,
        engine: AsyncEngine,
        source: Source,
        *,
        statement_timeout: float,
        min_interval: float = 0.0,
    ) -> None:
        self._engine = engine
        self._source = source
        self._statement_timeout = statement_timeout
        self._min_interval = min_interval
        self._running: asyncio.Task[Outcome] | None = None
        self._last: Outcome | None = None

    async def outcome(self, budget: float) -> Outcome:
        """The outcome of the running collection, a fresh one, or the cached one, within
        ``budget`` seconds."""
        last = self._last
        if last is not None and time.time() - last.finished_at < self._min_interval:
            return last
        if self._running is not None:
            waiting_since = time.monotonic()
            try:
                return await asyncio.wait_for(asyncio.shield(self._running), budget)
            except TimeoutError:
                return self._failure(
                    f"timed out after {budget:.3g}s waiting for the collection in progress",
                    waiting_since,
                )
        self._running = asyncio.create_task(self._collect(budget))
        return await asyncio.shield(self._running)

    async def _collect(self, budget: float) -> Outcome:
        started = time.monotonic()
        now = datetime.now(UTC)
        try:
            async with asyncio.timeout(budget):
                statement_timeout = min(self._statement_timeout, budget)
                async with read_only(self._engine, statement_timeout) as connection:
                    snapshot = await self._source.snapshot(connection, now)
        except TimeoutError:
            outcome = self._failure(f"timed out after {budget:.3g}s", started)
        except Unreachable as error:
            outcome = self._failure(f"cannot connect: {_first_line(error)}", started)
        except Unavailable as error:
            outcome = self._failure(_first_line(error), started)
        except (SQLAlchemyError, OSError) as error:
            outcome = self._failure(f"query failed: {self._describe(error)}", started)
        except Exception as error:
            log.exception("unexpected error while collecting")
            outcome = self._failure(f"internal error: {_first_line(error)}", started)
        else:
            finished = time.time()
            outcome = Outcome(snapshot, None, finished, time.monotonic() - started, finished)
            if self._last is not None and self._last.error is not None:
                log.info("collection recovered after failing with: %s", self._last.error)
        finally:
            self._running = None
        self._last = outcome
        return outcome

    def _describe(self, error: BaseException) -> str:
        """The database's own message, without SQLAlchemy's statement dump, and the source's
        hint when a table or column is missing."""
        cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
        message = _first_line(cause)
        if any(marker in message.lower() for marker in _MISSING_SCHEMA):
            message += f" ({self._source.hint})"
        return message

    def _failure(self, error: str, started: float) -> Outcome:
        """An outcome without snapshot; ``started`` is on the monotonic clock."""
        previous = self._last
        if previous is None or previous.error != error:
            log.error("collection failed: %s", error)
        else:
            log.debug("collection still failing: %s", error)
        last_success = previous.last_success_at if previous is not None else None
        return Outcome(None, error, time.time(), time.monotonic() - started, last_success)


def _first_line(error: BaseException) -> str:
    message = str(error).strip() or type(error).__name__
    return message.splitlines()[0]
