"""Chatwoot: who is an agent, connected agents and their status, with Redis and without.

With Redis, an agent is connected when its heartbeat (a score in the sorted set
``<prefix>ONLINE_PRESENCE::<account>::USERS``) is at least now - presence_seconds, and its
status is its entry in the hash ``<prefix>ONLINE_STATUS::<account>``, "online" when absent.
Without Redis, account_users.availability decides: online 0 and busy 2 are connected.
Mapping: online -> available, busy -> busy, offline -> unavailable; others pass through.
"""

import logging
import socket

import pytest

from exporter.collection import Collection
from exporter.database import create_engine
from exporter.settings import ChatwootSettings, Settings
from exporter.snapshot import STATUSES
from exporter.sources import SCHEMAS
from tests.builder import Metrics, scrape
from tests.chatwoot import Chatwoot, Presence, epoch

pytest_plugins = ("tests.chatwoot",)

NOW = "2026-11-24 12:00:00"
T = epoch(NOW)  # 1795521600.0, the heartbeat scores below are relative to it


def agent(site: str, agent_id: int, name: str) -> dict[str, str]:
    return {"site": site, "agent_id": str(agent_id), "agent": name}


async def test_status_from_redis_presence(chatwoot_url: str, presence: Presence) -> None:
    s = Chatwoot()
    acme, partner = s.account("Acme"), s.account("Partner")
    web, support = s.inbox(acme, "Website"), s.inbox(acme, "Support")
    partner_web = s.inbox(partner, "Partner web")
    # The database's availability is ignored when Redis is configured: Ann chose offline in
    # the database, but heartbeats with no status entry: "online" -> available.
    ann = s.agent(acme, "Ann", [web, support], "offline", display_name="Annie")
    ben = s.agent(acme, "Ben", [web], display_name="")  # empty display name: the name
    cid = s.agent(acme, "Cid", [web])
    dee = s.agent(acme, "Dee", [web])
    eve = s.agent(acme, "Eve", [web])
    fay = s.agent(acme, "Fay", [web])
    gus = s.agent(acme, "Gus", [web], "offline")  # also an agent of Partner, below
    s.account_user(partner, gus, "offline")
    s.inbox_member(partner_web, gus)
    hal = s.agent(acme, "Hal", [web])  # heartbeats in Partner only, where he is no agent
    ivy = s.user("Ivy")  # no account_users row: not an agent, though a member with a heartbeat
    s.inbox_member(web, ivy)
    s.conversation(web, ivy, "2026-11-24 11:00:00")  # counts for the site only
    await s.write(chatwoot_url)
    await presence.heartbeat(acme, ann, T - 10)
    await presence.heartbeat(acme, ben, T - 60)  # exactly at the limit: connected
    await presence.status(acme, ben, "busy")
    await presence.heartbeat(acme, cid, T - 61)  # stale: not connected, whatever its status
    await presence.status(acme, cid, "online")
    await presence.heartbeat(acme, dee, T + 30)  # from the future: connected
    await presence.status(acme, dee, "offline")  # connected but unavailable
    await presence.status(acme, eve, "online")  # no heartbeat: not connected
    await presence.heartbeat(acme, fay, T - 5)
    await presence.status(acme, fay, "away")  # outside the contract: passed through
    await presence.heartbeat(acme, gus, T - 1)
    await presence.status(acme, gus, "busy")
    await presence.heartbeat(partner, gus, T - 1)  # Partner: no status entry -> online
    await presence.heartbeat(partner, hal, T - 1)
    await presence.heartbeat(acme, ivy, T - 1)

    m = await scrape(chatwoot_url, NOW, Settings(chatwoot=presence.settings()), schema="chatwoot")

    assert {
        status: m("chat_agents", site="Website", status=status) for status in (*STATUSES, "away")
    } == {
        "available": 1,  # Ann
        "busy": 2,  # Ben, Gus
        "unavailable": 1,  # Dee
        "away": 1,  # Fay
    }
    assert m.table("chat_agents", ("site", "status"), site="Support") == {
        ("Support", "available"): 1,  # Ann, an agent in two inboxes
        ("Support", "busy"): 0,
        ("Support", "unavailable"): 0,
    }
    assert m.table("chat_agents", ("site", "status"), site="Partner web") == {
        ("Partner web", "available"): 1,  # Gus: busy in Acme, online in Partner
        ("Partner web", "busy"): 0,
        ("Partner web", "unavailable"): 0,
    }
    assert m.table("chat_agent_status", ("agent", "status"), site="Website") == {
        ("Annie", "available"): 1, ("Annie", "busy"): 0, ("Annie", "unavailable"): 0,
        ("Ben", "available"): 0, ("Ben", "busy"): 1, ("Ben", "unavailable"): 0,
        ("Dee", "available"): 0, ("Dee", "busy"): 0, ("Dee", "unavailable"): 1,
        ("Fay", "available"): 0, ("Fay", "busy"): 0, ("Fay", "unavailable"): 0, ("Fay", "away"): 1,
        ("Gus", "available"): 0, ("Gus", "busy"): 1, ("Gus", "unavailable"): 0,
    }  # fmt: skip
    assert m("chat_agent_status", **agent("Partner web", gus, "Gus"), status="available") == 1
    assert m("chat_agent_status", **agent("Support", ann, "Annie"), status="available") == 1
    # Cid (stale), Eve (no heartbeat), Hal (not connected in Acme) and Ivy (not an agent)
    # have no conversation either: no per-agent series at all.
    for name in ("Cid", "Eve", "Hal", "Ivy"):
        assert m.series("chat_agent_slots", agent=name) == []
    # Slots: only the available ones, default 3 each: Ann on Website and Support, Gus on
    # Partner web. Ivy's conversation is in progress on Website, with no agent series.
    assert m("chat_slots", site="Website", kind="agent") == 3
    assert m("chat_slots_available", site="Website", kind="agent") == 3
    assert m("chat_slots", site="Support", kind="agent") == 3
    assert m("chat_slots", site="Partner web", kind="agent") == 3
    assert m("chat_conversations_active", site="Website", channel="chat") == 1
    assert m.series("chat_agent_conversations_active", agent_id=str(ivy)) == []


async def test_presence_seconds_is_configurable(chatwoot_url: str, presence: Presence) -> None:
    s = Chatwoot()
    acme = s.account()
    web = s.inbox(acme, "Website")
    ann, ben = s.agent(acme, "Ann", [web]), s.agent(acme, "Ben", [web])
    await s.write(chatwoot_url)
    await presence.heartbeat(acme, ann, T - 20)  # exactly at a 20 s limit: connected
    await presence.heartbeat(acme, ben, T - 21)  # one second past it: not connected

    settings = Settings(chatwoot=presence.settings(presence_seconds=20.0))
    m = await scrape(chatwoot_url, NOW, settings, schema="chatwoot")

    assert m("chat_agents", site="Website", status="available") == 1
    assert m.series("chat_agent_status", agent="Ann") != []
    assert m.series("chat_agent_status", agent="Ben") == []
    assert presence.presence_key(acme) in await presence.keys()


async def test_status_from_the_database_without_redis(
    chatwoot_url: str, presence: Presence
) -> None:
    s = Chatwoot()
    acme, partner = s.account("Acme"), s.account("Partner")
    web, partner_web = s.inbox(acme, "Website"), s.inbox(partner, "Partner web")
    ann = s.agent(acme, "Ann", [web], "online", display_name="Annie")
    ben = s.agent(acme, "Ben", [web], "busy")
    s.agent(acme, "Cid", [web], "offline")  # offline: not connected
    gus = s.agent(acme, "Gus", [web], "busy")  # busy in Acme, online in Partner
    s.account_user(partner, gus, "online")
    s.inbox_member(partner_web, gus)
    await s.write(chatwoot_url)
    # Presence keys exist, but no redis_url is configured: they are not read.
    await presence.heartbeat(acme, ann, T)
    await presence.status(acme, ann, "busy")
    await presence.heartbeat(acme, ben, T - 3600)

    settings = Settings(chatwoot=ChatwootSettings(redis_key_prefix=presence.prefix))
    m = await scrape(chatwoot_url, NOW, settings, schema="chatwoot")

    assert m.table("chat_agents", ("site", "status")) == {
        ("Website", "available"): 1, ("Website", "busy"): 2, ("Website", "unavailable"): 0,
        ("Partner web", "available"): 1, ("Partner web", "busy"): 0,
        ("Partner web", "unavailable"): 0,
    }  # fmt: skip
    assert m.table("chat_agent_status", ("site", "agent", "status")) == {
        ("Website", "Annie", "available"): 1, ("Website", "Annie", "busy"): 0,
        ("Website", "Annie", "unavailable"): 0,
        ("Website", "Ben", "available"): 0, ("Website", "Ben", "busy"): 1,
        ("Website", "Ben", "unavailable"): 0,
        ("Website", "Gus", "available"): 0, ("Website", "Gus", "busy"): 1,
        ("Website", "Gus", "unavailable"): 0,
        ("Partner web", "Gus", "available"): 1, ("Partner web", "Gus", "busy"): 0,
        ("Partner web", "Gus", "unavailable"): 0,
    }  # fmt: skip
    assert m("chat_agent_slots", **agent("Website", ann, "Annie")) == 3
    assert m("chat_agent_slots", **agent("Website", ben, "Ben")) == 3


async def test_which_users_have_series(chatwoot_url: str) -> None:
    s = Chatwoot()
    acme, partner = s.account("Acme"), s.account("Partner")
    web, support = s.inbox(acme, "Website"), s.inbox(acme, "Support")
    s.agent(acme, "Ann", [web])  # connected and assigned
    ben = s.agent(acme, "Ben", [web], "offline")  # disconnected, a conversation today
    s.conversation(web, ben, "2026-11-24 08:10:00", "resolved", updated="2026-11-24 08:20:00")
    cid = s.agent(acme, "Cid", [web], "offline")  # disconnected, a conversation yesterday only
    s.conversation(web, cid, "2026-11-23 08:10:00", "resolved", updated="2026-11-23 08:20:00")
    dee = s.agent(acme, "Dee", [support], "busy")  # on Support; open on Website since yesterday
    s.conversation(web, dee, "2026-11-23 23:00:00")
    s.agent(acme, "Eve")  # connected, a member of no inbox, no conversation
    # Ivy: no account_users at all; Pat: an agent of Partner only. Both hold conversations of
    # Website (today and open): they count for the site, but neither is an agent of Acme.
    ivy = s.user("Ivy")
    s.inbox_member(web, ivy)
    s.conversation(web, ivy, "2026-11-24 09:00:00")
    pat = s.agent(partner, "Pat")
    s.inbox_member(web, pat)
    s.conversation(web, pat, "2026-11-24 09:30:00", "resolved", updated="2026-11-24 09:40:00")
    await s.write(chatwoot_url)

    m = await scrape(chatwoot_url, NOW, Settings(), schema="chatwoot")

    listed = sorted((labels["site"], labels["agent"]) for labels in m.series("chat_agent_slots"))
    assert listed == [
        ("Support", "Dee"),
        ("Website", "Ann"),
        ("Website", "Ben"),
        ("Website", "Dee"),
    ]
    with_status = sorted(
        (labels["site"], labels["agent"], labels["status"])
        for labels in m.series("chat_agent_status")
        if m("chat_agent_status", **labels) == 1
    )
    assert with_status == [
        ("Support", "Dee", "busy"), ("Website", "Ann", "available"), ("Website", "Dee", "busy"),
    ]  # fmt: skip
    assert m("chat_agent_conversations_today", **agent("Website", ben, "Ben")) == 1
    assert m("chat_agent_conversations_active", **agent("Website", dee, "Dee")) == 1
    assert m("chat_agent_conversations_active", **agent("Support", dee, "Dee")) == 0
    assert m("chat_agent_conversations_today", **agent("Website", dee, "Dee")) == 0
    # Dee serves Website without being a member: not in its chat_agents.
    assert m("chat_agents", site="Website", status="busy") == 0
    assert m("chat_agents", site="Support", status="busy") == 1
    assert m("chat_agents", site="Website", status="available") == 1  # Ann; Pat is no agent here
    # Today on Website: Ben's, Ivy's and Pat's; in progress: Dee's and Ivy's.
    assert m("chat_conversations_today", site="Website") == 3
    assert m("chat_conversations_active", site="Website", channel="chat") == 2
    assert m.series("chat_agent_conversations_today", agent_id=str(ivy)) == []
    assert m.series("chat_agent_conversations_today", agent_id=str(pat)) == []


async def test_redis_down_fails_the_collection(
    chatwoot_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Decision (docs): Redis configured but unreachable means chat_up 0, not database-only
    # statuses, which would silently change what chat_agents means.
    s = Chatwoot()
    acme = s.account()
    web = s.inbox(acme, "Website")
    s.agent(acme, "Ann", [web])
    await s.write(chatwoot_url)
    settings = Settings(chatwoot=ChatwootSettings(redis_url="redis://127.0.0.1:1/0"))
    engine = create_engine(chatwoot_url, pool_size=1)
    try:
        collection = Collection(engine, SCHEMAS["chatwoot"](settings), statement_timeout=5)
        with caplog.at_level(logging.ERROR, logger="exporter.collection"):
            outcome = await collection.outcome(budget=5)
    finally:
        await engine.dispose()

    assert outcome.snapshot is None
    assert outcome.error is not None
    assert outcome.error.startswith("cannot read presence from Redis: "), outcome.error
    [line] = [r.getMessage() for r in caplog.records if r.name == "exporter.collection"]
    assert line == f"collection failed: {outcome.error}"
    m = Metrics.of(outcome, outcome.finished_at)
    assert m("chat_up") == 0
    assert "chat_agents" not in m.names()


async def test_a_redis_that_never_answers_is_named(
    chatwoot_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A port that accepts connections (the kernel completes them into the backlog) but never
    # answers: a hung Redis. The failure must still name Redis, not only a timeout, before
    # the scrape's deadline (here 2 s).
    s = Chatwoot()
    acme = s.account()
    s.agent(acme, "Ann", [s.inbox(acme, "Website")])
    await s.write(chatwoot_url)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        settings = Settings(chatwoot=ChatwootSettings(redis_url=f"redis://127.0.0.1:{port}/0"))
        engine = create_engine(chatwoot_url, pool_size=1)
        try:
            collection = Collection(engine, SCHEMAS["chatwoot"](settings), statement_timeout=5)
            with caplog.at_level(logging.ERROR, logger="exporter.collection"):
                outcome = await collection.outcome(budget=2)
        finally:
            await engine.dispose()

    assert outcome.snapshot is None
    assert outcome.duration_seconds < 2.5
    assert outcome.error is not None
    assert outcome.error.startswith("cannot read presence from Redis: "), outcome.error
