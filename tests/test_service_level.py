"""Service level, speed of answer and abandoned chats on the reference schema.

First response = a conversation's earliest message from an agent (a bot's is not one); the
wait runs from the conversation's start, and a reply dated before it counts as immediate.
Answered in target: a wait of at most the site's target. Abandoned: ended with no message
from an agent or a bot. Today's conversations only; per agent by the conversation's agent,
the site totals including the queue's (agent NULL).
"""

from datetime import timedelta

import pytest

from exporter.settings import ConfiguredObjective, Settings, SiteSignals
from tests.builder import (
    SERVICE_AGENT_FAMILIES,
    SERVICE_SITE_FAMILIES,
    Scenario,
    scrape,
    shift,
    utc,
)

NOW = "2026-11-24 12:00:00"


def after(start: str, seconds: float) -> str:
    """The timestamp ``seconds`` (fractions kept) after ``start``."""
    return (utc(start) + timedelta(seconds=seconds)).isoformat(sep=" ")


def answered(
    s: Scenario, site: int, agent: int | None, start: str, wait: float, *, end: str | None = None
) -> int:
    """A conversation whose visitor writes at its start and an agent replies ``wait`` later;
    ended at ``end``, else still open."""
    conversation = s.conversation(site, agent, start, end)
    s.message(conversation, "visitor", start)
    s.message(conversation, "agent", after(start, wait))
    return conversation


def abandoned(s: Scenario, site: int, start: str, end: str) -> int:
    """A queued conversation that ended with its visitor's message only."""
    conversation = s.conversation(site, None, start, end)
    s.message(conversation, "visitor", start)
    return conversation


async def test_first_responses_per_site_and_per_agent(database_url: str) -> None:
    s = Scenario()
    main = s.site("main")
    ann, ben, cid = s.agent("Ann", [main]), s.agent("Ben", [main]), s.agent("Cid", [main])
    bot = s.agent("Bot", [main], bot=True)
    s.session(cid, "available", "2026-11-24 08:00:00")  # connected, nothing today: zeros
    # Ann: answered after 45 s (in target), 60 s (exactly the target: in), 61 s (not).
    answered(s, main, ann, "2026-11-24 09:00:00", 45, end="2026-11-24 09:10:00")
    answered(s, main, ann, "2026-11-24 09:20:00", 60)  # still open: answered all the same
    # Ended before its reply came: answered all the same (not abandoned), late.
    answered(s, main, ann, "2026-11-24 09:30:00", 61, end="2026-11-24 09:31:00")
    # Several replies, an earlier one written last, after a bot's: the earliest agent's counts.
    several = s.conversation(main, ann, "2026-11-24 10:00:00", "2026-11-24 10:20:00")
    s.message(several, "bot", "2026-11-24 10:00:05")
    s.message(several, "agent", "2026-11-24 10:00:50")
    s.message(several, "agent", "2026-11-24 10:00:20")  # wait 20
    s.message(several, "agent", "2026-11-24 10:05:00")
    # A greeting dated before the conversation started: an immediate answer, wait 0.
    early = s.conversation(main, ann, "2026-11-24 10:30:00", "2026-11-24 10:40:00")
    s.message(early, "agent", "2026-11-24 10:29:50")
    # Ben: answered by a bot only, then ended: neither answered nor abandoned.
    by_bot = s.conversation(main, ben, "2026-11-24 11:00:00", "2026-11-24 11:05:00")
    s.message(by_bot, "visitor", "2026-11-24 11:00:00")
    s.message(by_bot, "bot", "2026-11-24 11:00:02")
    answered(s, main, ben, "2026-11-24 11:10:00", 12.5)  # fractions of a second are kept
    # Ended with the visitor's messages only: abandoned, Ben's.
    ignored = s.conversation(main, ben, "2026-11-24 11:20:00", "2026-11-24 11:25:00")
    s.message(ignored, "visitor", "2026-11-24 11:20:00")
    s.message(ignored, "visitor", "2026-11-24 11:21:00")
    # The bot's own conversation, replied by it: the site's, neither answered nor abandoned.
    bots = s.conversation(main, bot, "2026-11-24 07:00:00", "2026-11-24 07:01:00")
    s.message(bots, "visitor", "2026-11-24 07:00:00")
    s.message(bots, "bot", "2026-11-24 07:00:01")
    # The queue (agent NULL): ended without any message, and with the visitor's only, both
    # abandoned; waiting without a reply, neither; answered after 30 s by an agent who gave
    # it back to the queue.
    s.conversation(main, None, "2026-11-24 06:00:00", "2026-11-24 06:05:00")
    abandoned(s, main, "2026-11-24 06:10:00", "2026-11-24 06:12:00")
    waiting = s.conversation(main, None, "2026-11-24 11:58:00")
    s.message(waiting, "visitor", "2026-11-24 11:58:00")
    answered(s, main, None, "2026-11-24 08:00:00", 30, end="2026-11-24 08:30:00")
    # Started yesterday: answered today, or abandoned today, they are not today's.
    answered(s, main, ann, "2026-11-23 23:59:59", 31)
    s.conversation(main, None, "2026-11-23 23:50:00", "2026-11-24 00:10:00")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    assert m("chat_conversations_today", site="main") == 13
    assert m("chat_conversations_ended_today", site="main") == 10
    assert m("chat_service_level_target_seconds", site="main") == 60  # the default
    assert {name: m(name, site="main") for name in SERVICE_SITE_FAMILIES} == {
        "chat_conversations_answered_today": 7,  # Ann 5, Ben 1, the queue 1
        "chat_first_response_seconds_today": 45 + 60 + 61 + 20 + 0 + 12.5 + 30,  # 228.5
        "chat_conversations_answered_in_target_today": 6,  # all but the 61 s
        "chat_conversations_abandoned_today": 3,  # Ben's, the queue's two
    }
    assert {name: m.table(name, ("agent",), site="main") for name in SERVICE_AGENT_FAMILIES} == {
        "chat_agent_conversations_answered_today": {("Ann",): 5, ("Ben",): 1, ("Cid",): 0},
        "chat_agent_first_response_seconds_today": {
            ("Ann",): 45 + 60 + 61 + 20 + 0,  # 186
            ("Ben",): 12.5,
            ("Cid",): 0,
        },
        "chat_agent_conversations_answered_in_target_today": {
            ("Ann",): 4,  # 45, 60, 20, 0
            ("Ben",): 1,
            ("Cid",): 0,
        },
        "chat_agent_conversations_abandoned_today": {("Ann",): 0, ("Ben",): 1, ("Cid",): 0},
    }


async def test_the_target_is_the_sites_own_else_the_default(database_url: str) -> None:
    s = Scenario()
    paris, lyon = s.site("paris"), s.site("lyon")
    ann = s.agent("Ann", [paris, lyon])
    for site in (paris, lyon):
        for minute, wait in enumerate((29, 30, 30.5, 31, 45, 60, 61)):
            answered(s, site, ann, f"2026-11-24 10:0{minute}:00", wait)
    await s.write(database_url)

    default = await scrape(database_url, NOW)
    configured = await scrape(
        database_url,
        NOW,
        Settings(
            service_level_seconds=45, site_signals={"paris": SiteSignals(service_level_seconds=30)}
        ),
    )

    assert default.table("chat_service_level_target_seconds", ("site",)) == {
        ("paris",): 60,
        ("lyon",): 60,
    }
    assert default.table("chat_conversations_answered_in_target_today", ("site",)) == {
        ("paris",): 6,  # 29 30 30.5 31 45 60 <= 60
        ("lyon",): 6,
    }
    assert configured.table("chat_service_level_target_seconds", ("site",)) == {
        ("paris",): 30,  # its own
        ("lyon",): 45,  # the configured default
    }
    assert configured.table("chat_conversations_answered_in_target_today", ("site",)) == {
        ("paris",): 2,  # 29 30 <= 30; 30.5 is over
        ("lyon",): 5,  # 29 30 30.5 31 45 <= 45
    }
    assert configured.table("chat_agent_conversations_answered_in_target_today", ("site",)) == {
        ("paris",): 2,
        ("lyon",): 5,
    }
    # The target decides only what is in target.
    for m in (default, configured):
        assert m.table("chat_first_response_seconds_today", ("site",)) == {
            ("paris",): 29 + 30 + 30.5 + 31 + 45 + 60 + 61,  # 286.5
            ("lyon",): 286.5,
        }


async def test_sites_east_and_west_of_utc_count_their_own_day(database_url: str) -> None:
    # At 2026-11-24 03:00Z today began at 2026-11-23 15:00Z in Tokyo (UTC+9), at
    # 2026-11-23 05:00Z in New York (UTC-5) and at 2026-11-24 00:00Z in UTC.
    s = Scenario()
    tokyo = s.site("tokyo", "Asia/Tokyo")
    new_york = s.site("new-york", "America/New_York")
    utc_site = s.site("utc", "UTC")
    ann = s.agent("Ann", [tokyo, new_york, utc_site])
    starts = (
        "2026-11-23 04:59:59",  # yesterday everywhere, answered after New York's midnight
        "2026-11-23 05:00:00",  # New York's midnight: today there
        "2026-11-23 14:59:59",  # New York only
        "2026-11-23 15:00:00",  # Tokyo's midnight: today in Tokyo and New York
        "2026-11-24 02:59:00",  # today everywhere
    )
    for site in (tokyo, new_york, utc_site):
        for start in starts:
            answered(s, site, ann, start, 10, end=shift(start, 60))
            abandoned(s, site, start, shift(start, 30))
    await s.write(database_url)

    m = await scrape(database_url, "2026-11-24 03:00:00")

    # Today's starts: 2 in Tokyo, 4 in New York, 1 in UTC; each answered in 10 s and abandoned once.
    today = {"tokyo": 2, "new-york": 4, "utc": 1}
    for name in ("chat_conversations_answered_today", "chat_conversations_abandoned_today"):
        assert m.table(name, ("site",)) == {(site,): count for site, count in today.items()}
    assert m.table("chat_first_response_seconds_today", ("site",)) == {
        (site,): 10 * count for site, count in today.items()
    }
    assert m.table("chat_agent_conversations_answered_in_target_today", ("site",)) == {
        (site,): count for site, count in today.items()
    }


# (zone, now, the day's first instant in UTC), as in tests/test_today.py
DST_DAYS = [
    ("Europe/Paris", "2026-03-29 12:00:00", "2026-03-28 23:00:00"),  # spring forward, CET
    ("Europe/Paris", "2026-10-25 22:00:00", "2026-10-24 22:00:00"),  # fall back, CEST
    ("America/New_York", "2026-11-01 12:00:00", "2026-11-01 04:00:00"),  # fall back, EDT
    ("America/New_York", "2026-03-08 12:00:00", "2026-03-08 05:00:00"),  # spring forward, EST
]


@pytest.mark.parametrize(("zone", "now", "first_instant"), DST_DAYS)
async def test_dst_days_start_at_local_midnight(
    database_url: str, zone: str, now: str, first_instant: str
) -> None:
    s = Scenario()
    site = s.site("site", zone)
    ann = s.agent("Ann", [site])
    for start in (shift(first_instant, -1), first_instant):  # the last second of yesterday
        answered(s, site, ann, start, 5, end=shift(start, 60))
        abandoned(s, site, start, shift(start, 30))
    await s.write(database_url)

    m = await scrape(database_url, now)

    assert {name: m(name, site="site") for name in SERVICE_SITE_FAMILIES} == {
        "chat_conversations_answered_today": 1,
        "chat_first_response_seconds_today": 5,
        "chat_conversations_answered_in_target_today": 1,
        "chat_conversations_abandoned_today": 1,  # the queue's, not Ann's
    }
    labels = {"site": "site", "agent_id": str(ann), "agent": "Ann"}
    assert {name: m(name, **labels) for name in SERVICE_AGENT_FAMILIES} == {
        "chat_agent_conversations_answered_today": 1,
        "chat_agent_first_response_seconds_today": 5,
        "chat_agent_conversations_answered_in_target_today": 1,
        "chat_agent_conversations_abandoned_today": 0,
    }


async def test_objectives_of_service_level_speed_of_answer_and_abandon_rate(
    database_url: str,
) -> None:
    s = Scenario()
    main = s.site("main")
    s.site("quiet")  # no conversation today
    ann, ben, cid = s.agent("Ann", [main]), s.agent("Ben", [main]), s.agent("Cid", [main])
    # Ann: 30 s and 15 s (in target, ended), 90 s (late, open).
    answered(s, main, ann, "2026-11-24 09:00:00", 30, end="2026-11-24 09:10:00")
    answered(s, main, ann, "2026-11-24 09:20:00", 90)
    answered(s, main, ann, "2026-11-24 09:40:00", 15, end="2026-11-24 09:50:00")
    answered(s, main, ben, "2026-11-24 10:00:00", 100)  # Ben: late, open
    unanswered = s.conversation(main, cid, "2026-11-24 10:10:00")  # Cid: open, no reply
    s.message(unanswered, "visitor", "2026-11-24 10:10:00")
    # The queue: ended without a message and with the visitor's only (abandoned), and ended
    # after a bot's reply (not abandoned).
    s.conversation(main, None, "2026-11-24 10:30:00", "2026-11-24 10:32:00")
    abandoned(s, main, "2026-11-24 10:40:00", "2026-11-24 10:45:00")
    by_bot = s.conversation(main, None, "2026-11-24 11:00:00", "2026-11-24 11:03:00")
    s.message(by_bot, "bot", "2026-11-24 11:00:01")
    for metric, target in (
        ("service_level", 0.8),
        ("first_response_time", 60),
        ("abandon_rate", 0.1),
    ):
        s.objective(f"site {metric}", metric, target)  # every site, as a whole
        for agent in (ann, ben, cid):
            s.objective(f"agent {metric}", metric, target, agent=agent)
    await s.write(database_url)
    configured = (
        ConfiguredObjective("configured", "service_level", 0.9, site="main"),
        ConfiguredObjective("Ben's speed", "first_response_time", 45, agent_id=ben),
    )

    m = await scrape(database_url, NOW, Settings(objectives=configured))

    values = {
        (labels["site"], labels["objective"], labels["agent"]): m("chat_objective_value", **labels)
        for labels in m.series("chat_objective_value")
    }
    # main: answered 4 (Ann 3, Ben 1), 2 in target, first responses 30 + 90 + 15 + 100 = 235,
    # abandoned 2, ended 5 (Ann 2, the queue 3).
    assert values == {
        ("main", "site service_level", ""): 2 / (4 + 2),
        ("main", "site first_response_time", ""): 235 / 4,  # 58.75
        ("main", "site abandon_rate", ""): 2 / 5,
        ("main", "configured", ""): 2 / (4 + 2),
        ("main", "agent service_level", "Ann"): 2 / (3 + 0),
        ("main", "agent first_response_time", "Ann"): (30 + 90 + 15) / 3,  # 45
        ("main", "agent abandon_rate", "Ann"): 0 / 2,
        ("main", "agent service_level", "Ben"): 0 / (1 + 0),  # defined, and 0
        ("main", "agent first_response_time", "Ben"): 100,
        ("main", "Ben's speed", "Ben"): 100,
        # Ben ended nothing: no abandon rate; Cid answered and ended nothing: none of the three.
    }
    # quiet has no conversation: each objective keeps its target, and has no value.
    assert m.table("chat_objective_target", ("objective",), site="quiet") == {
        ("site service_level",): 0.8,
        ("site first_response_time",): 60,
        ("site abandon_rate",): 0.1,
    }
    assert m.series("chat_objective_value", site="quiet") == []
    assert len(m.series("chat_objective_target", site="main", agent="Cid")) == 3
