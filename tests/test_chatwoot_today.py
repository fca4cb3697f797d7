"""Chatwoot: today starts at each inbox's local midnight (inboxes.timezone), and CSAT answers.

Today's set = conversations with created_at >= the inbox's local midnight; ended = resolved;
handling time of an ended conversation without a reporting event = updated_at - created_at.
"""

import logging

import pytest

from exporter.days import zone
from exporter.settings import Settings
from tests.builder import scrape, shift
from tests.chatwoot import VOICE, Chatwoot

pytest_plugins = ("tests.chatwoot",)


async def test_inboxes_east_and_west_of_utc_count_their_own_day(
    chatwoot_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # At 2026-11-24 03:00Z it is 12:00 on the 24th in Tokyo (UTC+9): today began at
    # 2026-11-23 15:00Z; and 22:00 on the 23rd in New York (UTC-5): today began at
    # 2026-11-23 05:00Z. A NULL or unknown zone is UTC: today began at 2026-11-24 00:00Z.
    s = Chatwoot()
    east, west = s.account("East"), s.account("West")
    tokyo = s.inbox(east, "tokyo", "Asia/Tokyo")
    new_york = s.inbox(west, "new-york", "America/New_York", channel_type=VOICE)
    no_zone = s.inbox(east, "no-zone", None)
    unknown = s.inbox(west, "unknown", "Mars/Olympus")
    ann = s.agent(east, "Ann", [tokyo])
    bob = s.agent(west, "Bob", [new_york])
    starts = (
        "2026-11-23 04:59:59",  # yesterday everywhere
        "2026-11-23 05:00:00",  # New York's midnight: today there
        "2026-11-23 14:59:59",  # New York only
        "2026-11-23 15:00:00",  # Tokyo's midnight: today in Tokyo and New York
        "2026-11-24 02:59:59",  # today everywhere
    )
    for inbox, assignee in ((tokyo, ann), (new_york, bob), (no_zone, None), (unknown, None)):
        for start in starts:  # each resolved 60 s after it was created, no reporting event
            s.conversation(inbox, assignee, start, "resolved", updated=shift(start, 60))
    await s.write(chatwoot_url)

    zone.cache_clear()  # the warning is given once per unknown name and process
    with caplog.at_level(logging.WARNING, logger="exporter"):
        m = await scrape(chatwoot_url, "2026-11-24 03:00:00", Settings(), schema="chatwoot")

    # One warning for the unknown name (NULL is Chatwoot's "not set": UTC, nothing to say).
    assert [r.getMessage() for r in caplog.records if "Mars/Olympus" in r.getMessage()] == [
        "unknown time zone 'Mars/Olympus' of a site; using UTC for it"
    ]
    assert m.table("chat_conversations_today", ("site",)) == {
        ("tokyo",): 2,
        ("new-york",): 4,
        ("no-zone",): 1,
        ("unknown",): 1,
    }
    assert m.table("chat_conversations_ended_today", ("site",)) == {
        ("tokyo",): 2,
        ("new-york",): 4,
        ("no-zone",): 1,
        ("unknown",): 1,
    }
    assert m.table("chat_handling_time_seconds_today", ("site",)) == {
        ("tokyo",): 2 * 60,
        ("new-york",): 4 * 60,
        ("no-zone",): 60,
        ("unknown",): 60,
    }
    tokyo_ann = {"site": "tokyo", "agent_id": str(ann), "agent": "Ann"}
    new_york_bob = {"site": "new-york", "agent_id": str(bob), "agent": "Bob"}
    assert m("chat_agent_conversations_today", **tokyo_ann) == 2
    assert m("chat_agent_handling_time_seconds_today", **tokyo_ann) == 120
    assert m("chat_agent_conversations_today", **new_york_bob) == 4
    assert m("chat_agent_conversations_ended_today", **new_york_bob) == 4


# (zone, now, the day's first instant in UTC)
DST_DAYS = [
    # Fall back in Paris: a 25-hour day starting at midnight CEST (UTC+2), not CET (UTC+1).
    ("Europe/Paris", "2026-10-25 22:00:00", "2026-10-24 22:00:00"),
    # Spring forward in Paris: a 23-hour day starting at midnight CET (UTC+1).
    ("Europe/Paris", "2026-03-29 12:00:00", "2026-03-28 23:00:00"),
    # Fall back in New York: midnight EDT (UTC-4), although now is EST (UTC-5).
    ("America/New_York", "2026-11-01 12:00:00", "2026-11-01 04:00:00"),
]


@pytest.mark.parametrize(("zone", "now", "first_instant"), DST_DAYS)
async def test_dst_days_start_at_local_midnight(
    chatwoot_url: str, zone: str, now: str, first_instant: str
) -> None:
    s = Chatwoot()
    acme = s.account()
    site = s.inbox(acme, "site", zone)
    ann = s.agent(acme, "Ann", [site])
    # Ended one second before the day's first instant: yesterday's (an offset taken from now
    # would put midnight one hour off and count it, or miss the next one).
    s.conversation(site, ann, shift(first_instant, -1), "resolved", updated=first_instant)
    s.conversation(site, ann, first_instant, "resolved", updated=shift(first_instant, 90))
    await s.write(chatwoot_url)

    m = await scrape(chatwoot_url, now, Settings(), schema="chatwoot")
    labels = {"site": "site", "agent_id": str(ann), "agent": "Ann"}

    assert m("chat_conversations_today", site="site") == 1
    assert m("chat_handling_time_seconds_today", site="site") == 90
    assert m("chat_agent_conversations_today", **labels) == 1
    assert m("chat_agent_handling_time_seconds_today", **labels) == 90
    # Chatwoot keeps no presence history: the family is not published, not even as 0.
    assert m.get("chat_agent_presence_seconds_today", **labels) is None


async def test_satisfaction_of_todays_conversations(chatwoot_url: str) -> None:
    s = Chatwoot()
    acme = s.account()
    web = s.inbox(acme, "Website")
    ann, ben = s.agent(acme, "Ann", [web]), s.agent(acme, "Ben", [web])
    cid = s.agent(acme, "Cid", [web])

    def rated(assignee: int | None, created: str, rating: int, **csat: int) -> None:
        c = s.conversation(web, assignee, created, "resolved", updated=shift(created, 600))
        s.csat(c, rating, shift(created, 700), **csat)

    rated(ann, "2026-11-24 08:00:00", 5)
    rated(ann, "2026-11-24 09:00:00", 4)
    rated(ann, "2026-11-24 10:00:00", 3)
    # Per agent by the conversation's assignee (Ben), not by the CSAT row's assigned agent.
    rated(ben, "2026-11-24 08:30:00", 2, assigned_agent=cid)
    rated(ben, "2026-11-24 09:30:00", 1)
    # A conversation of yesterday answered today: not today's.
    rated(ben, "2026-11-23 22:00:00", 5)
    # Today's, without assignee: the site's only.
    rated(None, "2026-11-24 11:00:00", 4)
    await s.write(chatwoot_url)

    m = await scrape(chatwoot_url, "2026-11-24 12:00:00", Settings(), schema="chatwoot")

    # Today's ratings: 5 4 3 2 1 and 4; good >= 4, poor <= 2.
    # Chatwoot rates one criterion: "overall" is the only one published.
    assert m.series("chat_satisfaction_score_today", site="Website") == [
        {"site": "Website", "criterion": "overall"}
    ]
    assert m("chat_satisfaction_score_today", site="Website", criterion="overall") == 19
    assert m.table("chat_satisfaction_ratings_today", ("rating",), site="Website", criterion="overall") == {
        ("good",): 3, ("average",): 1, ("poor",): 2,
    }  # fmt: skip
    ann_labels = {"site": "Website", "agent_id": str(ann), "agent": "Ann"}
    ben_labels = {"site": "Website", "agent_id": str(ben), "agent": "Ben"}
    cid_labels = {"site": "Website", "agent_id": str(cid), "agent": "Cid"}
    assert m("chat_agent_satisfaction_score_today", **ann_labels, criterion="overall") == 12
    assert m("chat_agent_satisfaction_ratings_today", **ann_labels, criterion="overall") == 3
    assert m("chat_agent_satisfaction_score_today", **ben_labels, criterion="overall") == 3
    assert m("chat_agent_satisfaction_ratings_today", **ben_labels, criterion="overall") == 2
    assert m("chat_agent_satisfaction_score_today", **cid_labels, criterion="overall") == 0
    assert m("chat_agent_satisfaction_ratings_today", **cid_labels, criterion="overall") == 0

    # Other bounds from the configuration: good >= 5, poor <= 3.
    m = await scrape(
        chatwoot_url, "2026-11-24 12:00:00", Settings(good_min=5, poor_max=3), schema="chatwoot"
    )

    assert m.table("chat_satisfaction_ratings_today", ("rating",), site="Website", criterion="overall") == {
        ("good",): 1, ("average",): 2, ("poor",): 3,  # 5 | 4 4 | 3 2 1
    }  # fmt: skip
