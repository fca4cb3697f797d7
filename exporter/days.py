"""Where "today" starts for a site: the last local midnight in the site's time zone, in UTC."""

import logging
from datetime import UTC, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name, or UTC with one warning per unknown name (cached)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r in sites.timezone; using UTC for it", name)
        return ZoneInfo("UTC")


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The first instant of ``now``'s local date, as a naive UTC datetime.

    Built from the local date rather than by subtracting hours, so a 23- or 25-hour DST day
    starts at the right instant; a midnight skipped by DST resolves to the transition itself.
    """
    local_midnight = datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz)
    return local_midnight.astimezone(UTC).replace(tzinfo=None)
