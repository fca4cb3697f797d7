"""Connected agents, their status, presence, slots, and which agents have per-agent series."""

from exporter.snapshot import STATUSES
from tests.builder import Scenario, scrape

NOW = "2026-11-24 12:00:00"


def agent(site: str, agent_id: int, name: str) -> dict[str, str]:
    return {"site": site, "agent_id": str(agent_id), "agent": name}


async def test_status_counts_and_state_sets(database_url: str) -> None:
    s = Scenario()
    main, other = s.site("main"), s.site("other")
    ann = s.agent("Ann", [main])
    s.session(ann, "busy", "2026-11-24 07:00:00", "2026-11-24 08:00:00")
    s.session(ann, "available", "2026-11-24 08:00:00")
    ben = s.agent("Ben", [main])  # two open sessions: the latest started wins
    s.session(ben, "unavailable", "2026-11-24 07:00:00")
    s.session(ben, "busy", "2026-11-24 09:00:00")
    cid = s.agent("Cid", [main])  # only closed sessions: disconnected
    s.session(cid, "available", "2026-11-24 06:00:00", "2026-11-24 07:00:00")
    dee = s.agent("Dee", [main])  # a status outside the contract is passed through
    s.session(dee, "away", "2026-11-24 10:00:00")
    eve = s.agent("Eve", [other])
    s.session(eve, "available", "2026-11-24 09:00:00")
    fay = s.agent("Fay", [main, other])  # same start: the later row wins
    s.session(fay, "busy", "2026-11-24 09:00:00")
    s.session(fay, "available", "2026-11-24 09:00:00")
    bot = s.agent("Bot", [main], bot=True)  # bots only count in slots
    s.session(bot, "available", "2026-11-24 00:00:00")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    assert {
        status: m("chat_agents", site="main", status=status) for status in (*STATUSES, "away")
    } == {
        "available": 2,  # Ann, Fay
        "busy": 1,  # Ben
        "unavailable": 0,
        "away": 1,  # Dee
    }
    assert {status: m("chat_agents", site="other", status=status) for status in STATUSES} == {
        "available": 2,  # Eve, Fay
        "busy": 0,
        "unavailable": 0,
    }
    assert m.series("chat_agents", site="other") == [
        {"site": "other", "status": status} for status in STATUSES
    ]
    assert m.table("chat_agent_status", ("agent", "status"), site="main") == {
        ("Ann", "available"): 1, ("Ann", "busy"): 0, ("Ann", "unavailable"): 0,
        ("Ben", "available"): 0, ("Ben", "busy"): 1, ("Ben", "unavailable"): 0,
        ("Dee", "available"): 0, ("Dee", "busy"): 0, ("Dee", "unavailable"): 0, ("Dee", "away"): 1,
        ("Fay", "available"): 1, ("Fay", "busy"): 0, ("Fay", "unavailable"): 0,
    }  # fmt: skip


async def test_presence_is_the_union_of_sessions_within_today(database_url: str) -> None:
    s = Scenario()
    main = s.site("main")
    tokyo = s.site("tokyo", "Asia/Tokyo")  # today began at 2026-11-23 15:00Z
    ann = s.agent("Ann", [main])
    s.session(ann, "available", "2026-11-23 10:00:00", "2026-11-23 11:00:00")  # yesterday: 0
    s.session(ann, "busy", "2026-11-23 22:00:00", "2026-11-24 00:30:00")  # 00:00-00:30: 1800
    s.session(ann, "available", "2026-11-24 08:00:00", "2026-11-24 09:00:00")  # \
    s.session(ann, "busy", "2026-11-24 08:30:00", "2026-11-24 10:00:00")  #      08:00-10:00: 7200
    s.session(ann, "unavailable", "2026-11-24 09:15:00", "2026-11-24 09:45:00")  # /
    s.session(ann, "available", "2026-11-24 10:30:00", "2026-11-24 11:00:00")  # \ 10:30-12:00
    s.session(ann, "busy", "2026-11-24 10:45:00")  #                               / 5400
    bo = s.agent("Bo", [main])  # closed session ending after now: counted up to now
    s.session(bo, "available", "2026-11-24 11:00:00", "2026-11-24 12:30:00")
    s.conversation(main, bo, "2026-11-24 11:10:00", "2026-11-24 11:20:00")
    cy = s.agent("Cy", [main, tokyo])  # one session, two sites with different days
    s.session(cy, "available", "2026-11-23 14:00:00")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    assert m("chat_agent_presence_seconds_today", **agent("main", ann, "Ann")) == 1800 + 7200 + 5400
    assert m("chat_agent_presence_seconds_today", **agent("main", bo, "Bo")) == 3600
    assert m("chat_agent_presence_seconds_today", **agent("main", cy, "Cy")) == 12 * 3600
    assert m("chat_agent_presence_seconds_today", **agent("tokyo", cy, "Cy")) == 21 * 3600
    assert m.series("chat_agent_status", agent="Bo") == []  # Bo is not connected


async def test_which_agents_have_series(database_url: str) -> None:
    s = Scenario()
    main, other = s.site("main"), s.site("other")
    ann = s.agent("Ann", [main])  # connected and assigned
    s.session(ann, "available", "2026-11-24 08:00:00")
    ben = s.agent("Ben", [main])  # disconnected, but had a conversation today
    s.session(ben, "available", "2026-11-24 08:00:00", "2026-11-24 09:00:00")
    s.conversation(main, ben, "2026-11-24 08:10:00", "2026-11-24 08:20:00")
    cid = s.agent("Cid", [main])  # disconnected, conversation yesterday only
    s.conversation(main, cid, "2026-11-23 08:10:00", "2026-11-23 08:20:00")
    dee = s.agent("Dee", [other])  # connected on other, in progress on main since yesterday
    s.session(dee, "busy", "2026-11-24 07:00:00")
    s.conversation(main, dee, "2026-11-23 23:00:00")
    eve = s.agent("Eve")  # connected, assigned nowhere, no conversation
    s.session(eve, "available", "2026-11-24 07:00:00")
    bot = s.agent("Bot", [main], bot=True)
    s.session(bot, "available", "2026-11-24 07:00:00")
    s.conversation(main, bot, "2026-11-24 10:00:00", "2026-11-24 10:01:00")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    listed = sorted((labels["site"], labels["agent"]) for labels in m.series("chat_agent_slots"))
    assert listed == [("main", "Ann"), ("main", "Ben"), ("main", "Dee"), ("other", "Dee")]
    with_status = sorted(
        (labels["site"], labels["agent"])
        for labels in m.series("chat_agent_status", status="available")
    )
    assert with_status == [("main", "Ann"), ("main", "Dee"), ("other", "Dee")]
    assert m("chat_agent_conversations_active", **agent("main", dee, "Dee")) == 1
    assert m("chat_agent_conversations_active", **agent("other", dee, "Dee")) == 0
    assert m("chat_agent_conversations_today", **agent("main", dee, "Dee")) == 0
    # Dee is assigned to other only, so main's counts do not include her.
    assert m("chat_agents", site="main", status="busy") == 0
    assert m("chat_agents", site="other", status="busy") == 1
    # The bot's conversation counts for the site.
    assert m("chat_conversations_today", site="main") == 2  # Ben's and the bot's


async def test_slots_of_available_agents_and_bots(database_url: str) -> None:
    s = Scenario()
    main, other = s.site("main"), s.site("other")
    ann = s.agent("Ann", [main], slots=3)  # available; 1 in progress here, 1 on other
    s.session(ann, "available", "2026-11-24 08:00:00")
    s.conversation(main, ann, "2026-11-24 11:00:00")
    s.conversation(other, ann, "2026-11-24 11:10:00")
    ben = s.agent("Ben", [main], slots=2)  # available but holding 3: no free slot, not -1
    s.session(ben, "available", "2026-11-24 08:00:00")
    for minute in (1, 2, 3):
        s.conversation(main, ben, f"2026-11-24 11:0{minute}:00")
    cid = s.agent("Cid", [main], slots=4)  # busy: not counted
    s.session(cid, "busy", "2026-11-24 08:00:00")
    dee = s.agent("Dee", [main], slots=2)  # available and idle
    s.session(dee, "available", "2026-11-24 08:00:00")
    bot = s.agent("Bot", [main], slots=10, bot=True)  # available with 4 in progress
    s.session(bot, "available", "2026-11-24 00:00:00")
    for minute in (1, 2, 3, 4):
        s.conversation(main, bot, f"2026-11-24 11:1{minute}:00")
    sleepy = s.agent("Sleepy bot", [main], slots=5, bot=True)  # unavailable: not counted
    s.session(sleepy, "unavailable", "2026-11-24 00:00:00")
    eve = s.agent("Eve", [other], slots=3)
    s.session(eve, "available", "2026-11-24 08:00:00")
    s.agent("Fay", [main], slots=3)  # disconnected: not counted
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    assert m("chat_slots", site="main", kind="agent") == 3 + 2 + 2  # Ann, Ben, Dee
    assert m("chat_slots_available", site="main", kind="agent") == 1 + 0 + 2
    assert m("chat_slots", site="main", kind="bot") == 10
    assert m("chat_slots_available", site="main", kind="bot") == 6
    assert m("chat_slots", site="other", kind="agent") == 3  # Eve; Ann is not assigned there
    assert m("chat_slots_available", site="other", kind="agent") == 3
    assert m("chat_slots", site="other", kind="bot") == 0
    assert m("chat_agent_slots", **agent("main", ann, "Ann")) == 3
    assert m("chat_agent_conversations_active", **agent("main", ann, "Ann")) == 1
    assert m("chat_agent_conversations_active_all_sites", **agent("main", ann, "Ann")) == 2
    assert m("chat_agent_conversations_active", **agent("other", ann, "Ann")) == 1
    assert m("chat_agent_conversations_active", **agent("main", ben, "Ben")) == 3
    assert m("chat_conversations_active", site="main", channel="chat") == 1 + 3 + 4
    assert m("chat_conversations_active", site="other", channel="chat") == 1
