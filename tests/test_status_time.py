"""Time in each status today, since when the current status holds, and its reason.

Time in a status is the union of the agent's sessions of that status clipped to [the site's
day start, now]; the current status is the agent's latest open session's (by start, then
id), which also gives the time it started and its reason.
"""

from exporter.snapshot import STATUSES
from tests.builder import Scenario, scrape

NOW = "2026-11-24 12:00:00"
MIDNIGHT = 1_795_478_400  # 2026-11-24 00:00:00 UTC as Unix time
HOUR = 3600


def agent(site: str, agent_id: int, name: str) -> dict[str, str]:
    return {"site": site, "agent_id": str(agent_id), "agent": name}


async def test_time_in_each_status_is_the_union_of_its_sessions_within_today(
    database_url: str,
) -> None:
    s = Scenario()
    main = s.site("main")
    ann = s.agent("Ann", [main])
    s.session(ann, "available", "2026-11-23 22:00:00", "2026-11-24 01:00:00")  # 00:00-01:00
    s.session(ann, "busy", "2026-11-23 10:00:00", "2026-11-23 11:00:00")  # yesterday: 0
    s.session(ann, "busy", "2026-11-24 01:00:00", "2026-11-24 02:00:00")  # \ one union,
    s.session(ann, "busy", "2026-11-24 01:30:00", "2026-11-24 03:00:00")  # / 01:00-03:00
    # Overlaps the busy ones: each status counts its own time.
    s.session(ann, "unavailable", "2026-11-24 02:30:00", "2026-11-24 03:30:00", reason="lunch")
    s.session(ann, "available", "2026-11-24 03:30:00", "2026-11-24 04:00:00")
    s.session(ann, "away", "2026-11-24 04:00:00", "2026-11-24 05:00:00")  # outside the contract
    s.session(ann, "available", "2026-11-24 05:00:00")  # open: up to now, no reason
    bo = s.agent("Bo", [main])  # disconnected; a session ending after now counts up to now
    s.session(bo, "busy", "2026-11-24 11:00:00", "2026-11-24 12:30:00", reason="break")
    s.conversation(main, bo, "2026-11-24 11:10:00", "2026-11-24 11:20:00")
    dee = s.agent("Dee", [main])  # no session at all, listed for her conversation
    s.conversation(main, dee, "2026-11-24 09:00:00", "2026-11-24 09:05:00")
    bot = s.agent("Bot", [main], bot=True)
    s.session(bot, "available", "2026-11-24 00:00:00", reason="maintenance")
    s.conversation(main, bot, "2026-11-24 10:00:00", "2026-11-24 10:01:00")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    assert m.table("chat_agent_status_seconds_today", ("agent", "status"), site="main") == {
        ("Ann", "available"): 1 * HOUR + HOUR // 2 + 7 * HOUR,  # 00-01, 03:30-04, 05-12: 30600
        ("Ann", "busy"): 2 * HOUR,  # 01:00-03:00
        ("Ann", "unavailable"): 1 * HOUR,  # 02:30-03:30
        ("Ann", "away"): 1 * HOUR,
        ("Bo", "available"): 0, ("Bo", "busy"): 1 * HOUR, ("Bo", "unavailable"): 0,
        ("Dee", "available"): 0, ("Dee", "busy"): 0, ("Dee", "unavailable"): 0,
    }  # fmt: skip
    # Presence is the union of all statuses: 00:00-12:00 without a gap.
    assert m("chat_agent_presence_seconds_today", **agent("main", ann, "Ann")) == 12 * HOUR
    assert m.table("chat_agent_status_since_timestamp_seconds", ("agent",)) == {
        ("Ann",): MIDNIGHT + 5 * HOUR,
    }
    assert m.series("chat_agent_status_reason") == []  # Ann's lunch is over, Bo disconnected
    for name in (
        "chat_agent_status_seconds_today",
        "chat_agent_status_since_timestamp_seconds",
        "chat_agent_status_reason",
    ):
        assert m.series(name, agent="Bot") == []  # bots are not agents


async def test_each_site_counts_the_time_of_its_own_day(database_url: str) -> None:
    # At 2026-11-24 03:00Z today began at 2026-11-24 00:00Z in UTC, 2026-11-23 15:00Z in
    # Tokyo (UTC+9) and 2026-11-23 05:00Z in New York (UTC-5).
    s = Scenario()
    main, tokyo = s.site("main"), s.site("tokyo", "Asia/Tokyo")
    new_york = s.site("new-york", "America/New_York")
    cy = s.agent("Cy", [main, tokyo, new_york])
    s.session(cy, "busy", "2026-11-23 04:00:00", "2026-11-23 06:00:00")
    s.session(cy, "busy", "2026-11-23 14:00:00", "2026-11-23 16:00:00")
    s.session(cy, "available", "2026-11-23 16:00:00", "2026-11-24 01:00:00")
    s.session(cy, "unavailable", "2026-11-24 01:00:00", reason="training")  # 2 h up to now
    await s.write(database_url)

    m = await scrape(database_url, "2026-11-24 03:00:00")

    assert m.table("chat_agent_status_seconds_today", ("site", "status")) == {
        ("main", "busy"): 0,
        ("main", "available"): 1 * HOUR,  # 00:00-01:00
        ("main", "unavailable"): 2 * HOUR,
        ("tokyo", "busy"): 1 * HOUR,  # 15:00-16:00
        ("tokyo", "available"): 9 * HOUR,  # 16:00-01:00
        ("tokyo", "unavailable"): 2 * HOUR,
        ("new-york", "busy"): 1 * HOUR + 2 * HOUR,  # 05:00-06:00, 14:00-16:00
        ("new-york", "available"): 9 * HOUR,
        ("new-york", "unavailable"): 2 * HOUR,
    }
    assert m.table("chat_agent_status_since_timestamp_seconds", ("site",)) == {
        ("main",): MIDNIGHT + 1 * HOUR,
        ("tokyo",): MIDNIGHT + 1 * HOUR,
        ("new-york",): MIDNIGHT + 1 * HOUR,
    }
    assert m.table("chat_agent_status_reason", ("site", "reason")) == {
        ("main", "training"): 1,
        ("tokyo", "training"): 1,
        ("new-york", "training"): 1,
    }


async def test_the_current_status_is_the_latest_open_sessions(database_url: str) -> None:
    s = Scenario()
    main = s.site("main")
    eve = s.agent("Eve", [main])  # two open sessions: the later started wins
    s.session(eve, "available", "2026-11-24 08:00:00", reason="catching up")
    s.session(eve, "busy", "2026-11-24 09:00:00", reason="meeting")
    fay = s.agent("Fay", [main])  # two open sessions started together: the later row wins
    s.session(fay, "busy", "2026-11-24 09:00:00", reason="break")
    s.session(fay, "available", "2026-11-24 09:00:00")
    gus = s.agent("Gus", [main])  # the same, the other way round
    s.session(gus, "available", "2026-11-24 09:00:00")
    s.session(gus, "unavailable", "2026-11-24 09:00:00", reason="lunch")
    hal = s.agent("Hal", [main])  # a closed session, even a later one, gives no status
    s.session(hal, "available", "2026-11-24 08:00:00.250000")
    s.session(hal, "busy", "2026-11-24 10:00:00", "2026-11-24 11:00:00", reason="meeting")
    ivy = s.agent("Ivy", [main])  # disconnected: neither since nor reason
    s.session(ivy, "unavailable", "2026-11-24 09:00:00", "2026-11-24 10:00:00", reason="break")
    s.conversation(main, ivy, "2026-11-24 09:30:00", "2026-11-24 09:40:00")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    assert {
        labels["agent"]: labels["status"]
        for labels in m.series("chat_agent_status")
        if m("chat_agent_status", **labels) == 1
    } == {"Eve": "busy", "Fay": "available", "Gus": "unavailable", "Hal": "available"}
    assert m.table("chat_agent_status_since_timestamp_seconds", ("agent",)) == {
        ("Eve",): MIDNIGHT + 9 * HOUR,
        ("Fay",): MIDNIGHT + 9 * HOUR,
        ("Gus",): MIDNIGHT + 9 * HOUR,
        ("Hal",): MIDNIGHT + 8 * HOUR + 0.25,
    }
    assert m.table("chat_agent_status_reason", ("agent", "reason")) == {
        ("Eve", "meeting"): 1,
        ("Gus", "lunch"): 1,
    }
    # Both of Fay's open sessions count for their status: 09:00-12:00 each.
    assert m.table("chat_agent_status_seconds_today", ("status",), agent="Fay") == {
        ("available",): 3 * HOUR,
        ("busy",): 3 * HOUR,
        ("unavailable",): 0,
    }
    assert m.table("chat_agent_status_seconds_today", ("status",), agent="Ivy") == {
        (status,): HOUR if status == "unavailable" else 0 for status in STATUSES
    }
