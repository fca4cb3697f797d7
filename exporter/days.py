"""Where a site's day starts, and the instants from which its conversations signal.

Every source turns its sites' rows into ``SiteDay`` values here, so that "today" and the
thresholds mean the same on every schema.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exporter.settings import Settings, SiteSignals

log = logging.getLogger(__name__)


@cache
def zone(name: str | None) -> ZoneInfo:
    """The IANA zone of that name, or UTC with one warning per unknown name (cached)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r of a site; using UTC for it", name)
        return ZoneInfo("UTC")


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The first instant of ``now``'s local date, as a naive UTC datetime.

    Built from the local date rather than by subtracting hours, so a 23- or 25-hour DST day
    starts at the right instant; a midnight skipped by DST resolves to the transition itself.
    """
    local_midnight = datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz)
    return local_midnight.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class SiteDay:
    """A site's label, day start, signal cutoffs (naive UTC) and service-level target: a
    conversation signals when it started, or its visitor began waiting, before the cutoff; it
    is answered in target when its first response came at most ``service_level_seconds``
    after it started. ``scope`` says which agent
    rows of the source describe this site's agents (see ``exporter.readings``)."""

    site_id: int
    name: str
    scope: int
    day_start: datetime
    handling_seconds: float
    response_seconds: float
    service_level_seconds: float
    handling_cutoff: datetime
    response_cutoff: datetime


def site_day(
    site_id: int,
    name: str,
    timezone: str | None,
    now: datetime,
    settings: Settings,
    *,
    scope: int = 0,
    own_handling: float | None = None,
    own_response: float | None = None,
) -> SiteDay:
    """The day and thresholds of one site at ``now`` (aware UTC).

    A signal threshold is the site's own (a column of the reference schema), else the site's
    entry in ``signals.sites``, else the configured default; the service-level target is the
    site's entry, else the default.
    """
    configured = settings.site_signals.get(name, SiteSignals())
    handling = _first(own_handling, configured.handling_seconds, settings.handling_seconds)
    response = _first(own_response, configured.response_seconds, settings.response_seconds)
    service_level = _first(configured.service_level_seconds, settings.service_level_seconds)
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    return SiteDay(
        site_id=site_id,
        name=name,
        scope=scope,
        day_start=day_start(now, zone(timezone)),
        handling_seconds=handling,
        response_seconds=response,
        service_level_seconds=service_level,
        handling_cutoff=naive_now - timedelta(seconds=handling),
        response_cutoff=naive_now - timedelta(seconds=response),
    )


def _first(*values: float | None) -> float:
    return float(next(value for value in values if value is not None))
