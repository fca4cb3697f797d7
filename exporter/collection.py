"""One collection at a time, whatever the number of scrapes: single flight, deadline, cache.

A scrape asks for an outcome within its budget. If a collection is already running, the
scrape waits for that one instead of starting another (impatient dashboards, scrapes that
coincide), and its budget can only lengthen the collection, never shorten it: a client
sending a tiny scrape timeout gives up alone and cannot fail the scrapes sharing the
collection. A collection runs until the latest deadline of the scrapes that asked for it.
With ``min_interval`` > 0 a success is served without a query until ``min_interval`` after
its collection *began*: collections then start at most once per ``min_interval`` however
long each takes. That is what gives an HA pair of Prometheus servers, which scrape at
different offsets, one collection per scrape interval whatever the offsets: ``min_interval``
between half the scrape interval and the whole (README, "Scaling out"); counted from a
collection's end, a slow collection would make the cache outlive the interval. A failure
is never served again, so recovery shows at the next scrape. A collection never raises: a
failure becomes an outcome without a snapshot, and the log says once per cause what is
wrong.
"""

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from exporter import garbage
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
# A cause already logged is logged again at most this often: a client alternating failing
# and succeeding collections cannot fill the log.
_REPEAT_SECONDS = 600.0


@dataclass(frozen=True, slots=True, weakref_slot=True)
class Outcome:
    """The result of one collection: a snapshot, or the reason there is none.

    ``finished_at`` and ``last_success_at`` are Unix times, for the exported timestamps;
    ``finished_monotonic`` measures ages, which a step of the wall clock must not change.
    """

    snapshot: Snapshot | None
    error: str | None
    finished_at: float
    duration_seconds: float
    last_success_at: float | None
    finished_monotonic: float = field(default_factory=time.monotonic)

    def wall_time(self) -> float:
        """Now on the wall clock as seen from this outcome: its age is monotonic."""
        return self.finished_at + time.monotonic() - self.finished_monotonic

    def started_monotonic(self) -> float:
        """When its collection began (monotonic clock): the moment its figures describe."""
        return self.finished_monotonic - self.duration_seconds


class _Run:
    """A collection in progress and the latest deadline (loop time) asked of it."""

    def __init__(self, started: float, deadline: float) -> None:
        self.started = started
        self.deadline = deadline
        self.timeout: asyncio.Timeout | None = None
        self.task: asyncio.Task[Outcome] | None = None

    def extend(self, deadline: float) -> bool:
        """Push the deadline back to ``deadline``; False once the collection is being
        stopped, too late to join."""
        if self.timeout is not None and self.timeout.expired():
            return False
        self.deadline = max(self.deadline, deadline)
        if self.timeout is not None:
            self.timeout.reschedule(self.deadline)
        return True


class _Announcer:
    """The log's account of failures and recoveries: one line per new cause."""

    def __init__(self) -> None:
        self.failing: str | None = None  # the cause of the current failures
        self.announced = False  # whether their start was logged
        self.said: dict[str, float] = {}  # cause -> when last logged (monotonic)

    def failed(self, cause: str, error: str) -> None:
        if cause == self.failing:
            log.debug("collection still failing: %s", error)
            return
        now = time.monotonic()
        self.said = {c: t for c, t in self.said.items() if now - t < _REPEAT_SECONDS}
        self.failing, self.announced = cause, cause not in self.said
        if self.announced:
            self.said[cause] = now
            log.error("collection failed: %s", error)
        else:
            log.debug("collection failed again: %s", error)

    def succeeded(self, last_error: str | None) -> None:
        if self.failing is not None and self.announced:
            log.info("collection recovered after failing with: %s", last_error)
        self.failing, self.announced = None, False


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
        self._running: _Run | None = None
        self._last: Outcome | None = None
        self._announcer = _Announcer()

    async def outcome(self, budget: float) -> Outcome:
        """The outcome of the running collection, a fresh one, or the cached success, within
        ``budget`` seconds."""
        loop = asyncio.get_running_loop()
        asked = loop.time()
        deadline = asked + budget
        while True:
            cached = self._servable()
            if cached is not None:
                return cached
            run = self._running
            if run is None:
                run = self._running = _Run(asked, deadline)
                run.task = asyncio.create_task(self._collect(run))
            joined = run.extend(deadline)
            assert run.task is not None
            await asyncio.wait({run.task}, timeout=max(0.0, deadline - loop.time()))
            if not run.task.done():
                if run.deadline > deadline:
                    return self._gave_up(budget)
                # It is being stopped at this very deadline: its outcome says why.
                await asyncio.wait({run.task})
            if joined:
                return run.task.result()
            # That collection was already being stopped at a shorter deadline: start another.

    def _servable(self) -> Outcome | None:
        """The last success while ``min_interval`` after its collection began, else None."""
        last = self._last
        if (
            last is not None
            and last.snapshot is not None
            and time.monotonic() - last.started_monotonic() < self._min_interval
        ):
            return last
        return None

    async def close(self) -> None:
        """Stop the collection in progress, if any (at shutdown)."""
        run = self._running
        if run is not None and run.task is not None:
            run.task.cancel()
            await asyncio.gather(run.task, return_exceptions=True)

    async def _collect(self, run: _Run) -> Outcome:
        started = time.monotonic()
        now = datetime.now(UTC)
        if self._last is not None and self._last.snapshot is not None:
            # A collection starts only once the last success is too old to serve: let its
            # snapshot go before this one is built, rather than hold two (the memory of a
            # scrape at the largest sizes is mostly its snapshot).
            self._last = replace(self._last, snapshot=None)
        try:
            async with asyncio.timeout_at(run.deadline) as run.timeout:
                # Not the budget: a joining scrape may still lengthen the collection.
                async with read_only(self._engine, self._statement_timeout) as connection:
                    with garbage.paused():
                        snapshot = await self._source.snapshot(connection, now)
        except TimeoutError:
            outcome = self._failure(f"timed out after {run.deadline - run.started:.3g}s", started)
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
            self._announcer.succeeded(self._last.error if self._last is not None else None)
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
        """A failed collection; ``started`` is on the monotonic clock."""
        # However long the budget, a timeout is one cause.
        self._announcer.failed("timed out" if error.startswith("timed out") else error, error)
        return self._without_snapshot(error, time.monotonic() - started)

    def _gave_up(self, budget: float) -> Outcome:
        """A scrape that stopped waiting: its own deadline, not a failure of the collection,
        which says what went wrong, if anything, when it ends."""
        error = f"timed out after {budget:.3g}s waiting for the collection in progress"
        log.debug("scrape %s", error)
        return self._without_snapshot(error, budget)

    def _without_snapshot(self, error: str, duration: float) -> Outcome:
        previous = self._last
        last_success = previous.last_success_at if previous is not None else None
        return Outcome(None, error, time.time(), duration, last_success)


def _first_line(error: BaseException) -> str:
    message = str(error).strip() or type(error).__name__
    return message.splitlines()[0]
