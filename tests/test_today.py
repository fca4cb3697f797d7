"""'Today' starts at each site's local midnight, east and west of UTC and across DST changes."""

import pytest

from tests.builder import Scenario, scrape, shift


async def test_sites_east_and_west_of_utc_count_their_own_day(database_url: str) -> None:
    # At 2026-11-24 03:00Z it is 12:00 on the 24th in Tokyo (UTC+9): today began at
    # 2026-11-23 15:00Z; and 22:00 on the 23rd in New York (UTC-5): today began at
    # 2026-11-23 05:00Z; in UTC today began at 2026-11-24 00:00Z.
    s = Scenario()
    tokyo = s.site("tokyo", "Asia/Tokyo")
    new_york = s.site("new-york", "America/New_York")
    utc = s.site("utc", "UTC")
    starts = (
        "2026-11-23 04:59:59",  # yesterday everywhere
        "2026-11-23 05:00:00",  # New York's midnight: today there
        "2026-11-23 14:59:59",  # New York only
        "2026-11-23 15:00:00",  # Tokyo's midnight: today in Tokyo and New York
        "2026-11-24 02:59:59",  # today everywhere
    )
    for site in (tokyo, new_york, utc):
        for start in starts:
            s.conversation(site, None, start, shift(start, 60))
    await s.write(database_url)

    m = await scrape(database_url, "2026-11-24 03:00:00")

    assert m("chat_conversations_today", site="tokyo") == 2
    assert m("chat_conversations_today", site="new-york") == 4
    assert m("chat_conversations_today", site="utc") == 1
    assert m("chat_conversations_ended_today", site="new-york") == 4
    assert m("chat_handling_time_seconds_today", site="tokyo") == 2 * 60
    assert m("chat_handling_time_seconds_today", site="new-york") == 4 * 60
    assert m("chat_handling_time_seconds_today", site="utc") == 60


# (zone, now, the day's first instant in UTC, hours elapsed since then)
DST_DAYS = [
    # Spring forward in Paris: 23-hour day; at 14:00 CEST only 13 hours have passed.
    ("Europe/Paris", "2026-03-29 12:00:00", "2026-03-28 23:00:00", 13),
    # Fall back in Paris: 25-hour day; at 23:00 CET 24 hours have passed.
    ("Europe/Paris", "2026-10-25 22:00:00", "2026-10-24 22:00:00", 24),
    # Fall back in New York: at 07:00 EST, 8 hours since midnight EDT.
    ("America/New_York", "2026-11-01 12:00:00", "2026-11-01 04:00:00", 8),
    # Spring forward in New York: at 08:00 EDT, 7 hours since midnight EST.
    ("America/New_York", "2026-03-08 12:00:00", "2026-03-08 05:00:00", 7),
    # Santiago skips midnight itself (00:00 -> 01:00): the day starts at the transition.
    ("America/Santiago", "2026-09-06 12:00:00", "2026-09-06 04:00:00", 8),
]


@pytest.mark.parametrize(("zone", "now", "first_instant", "hours"), DST_DAYS)
async def test_dst_days_start_at_local_midnight(
    database_url: str, zone: str, now: str, first_instant: str, hours: int
) -> None:
    s = Scenario()
    site = s.site("site", zone)
    agent = s.agent("Ann", [site])
    s.session(agent, "available", "2026-01-01 00:00:00")  # connected since long before
    s.conversation(site, agent, shift(first_instant, -1), first_instant)
    s.conversation(site, agent, first_instant, now)
    await s.write(database_url)

    m = await scrape(database_url, now)
    labels = {"site": "site", "agent_id": "1", "agent": "Ann"}

    assert m("chat_conversations_today", site="site") == 1
    assert m("chat_agent_conversations_today", **labels) == 1
    assert m("chat_agent_presence_seconds_today", **labels) == hours * 3600
