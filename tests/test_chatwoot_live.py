"""Chatwoot: conversation states, the queue, the two signals, ended conversations, and slots.

Status codes (app/models/conversation.rb): open 0, resolved 1, pending 2, snoozed 3. In
progress = open with an assignee (the agent's) or pending (a bot's: the site's only);
waiting = open without assignee; ended = resolved. Values below are computed by hand.
"""

from exporter.settings import ChatwootSettings, Settings
from tests.builder import scrape
from tests.chatwoot import VOICE, Chatwoot

pytest_plugins = ("tests.chatwoot",)

NOW = "2026-11-24 12:00:00"  # a Tuesday; the inboxes are in UTC, so today began at 00:00


def agent(site: str, agent_id: int, name: str) -> dict[str, str]:
    return {"site": site, "agent_id": str(agent_id), "agent": name}


async def test_states_queue_and_signals(chatwoot_url: str) -> None:
    s = Chatwoot()
    acme = s.account()
    web = s.inbox(acme, "Website")
    phone = s.inbox(acme, "Phone", channel_type=VOICE)
    ann = s.agent(acme, "Ann", [web, phone], "online")
    ben = s.agent(acme, "Ben", [web], "busy")
    s.agent(acme, "Cid", [web], "offline")  # not connected, no conversation: no series
    # Website, in progress (default thresholds: handling 1200 s, response 60 s):
    # c1: exactly at both thresholds (1200 s old, waiting 60 s): no signal ("longer than").
    s.conversation(web, ann, "2026-11-24 11:40:00", waiting_since="2026-11-24 11:59:00")
    # c2: one second past both (1201 s, 61 s): both signals.
    s.conversation(web, ann, "2026-11-24 11:39:59", waiting_since="2026-11-24 11:58:59")
    # c3: answered (waiting_since cleared to NULL): no response signal; 600 s old.
    s.conversation(web, ann, "2026-11-24 11:50:00")
    # c4: pending with an assignee, since yesterday 22:00 (50400 s): in progress for the site,
    # handling signal for the site only; never per agent; no response signal (not open).
    s.conversation(web, ben, "2026-11-23 22:00:00", "pending", waiting_since="2026-11-23 22:00:00")
    # c5: pending without assignee, 300 s old: in progress, no signal.
    s.conversation(web, None, "2026-11-24 11:55:00", "pending")
    # c12: reopened: open again after a resolve (its old conversation_resolved event does not
    # make it ended); 14400 s old: handling signal; waiting 30 s: no response signal.
    c12 = s.conversation(
        web, ann, "2026-11-24 08:00:00", updated="2026-11-24 11:59:30",
        waiting_since="2026-11-24 11:59:30",
    )  # fmt: skip
    s.resolved_event(c12, 600, "2026-11-24 08:10:00")
    # c14: open since yesterday 23:50 (43800 s), never waited: handling signal only.
    s.conversation(web, ben, "2026-11-23 23:50:00")
    # Website, waiting: c6 waits since its waiting_since (180 s) although created earlier,
    # c7 has no waiting_since, so it waits since created_at (240 s): the oldest.
    s.conversation(web, None, "2026-11-24 11:30:00", waiting_since="2026-11-24 11:57:00")
    s.conversation(web, None, "2026-11-24 11:56:00")
    # c8: snoozed: neither in progress nor waiting nor ended, but one of today's conversations.
    s.conversation(web, ann, "2026-11-24 11:00:00", "snoozed", waiting_since="2026-11-24 11:00:00")
    # Website, ended (resolved) today:
    # c9: no reporting event: updated_at - created_at = 10:30 - 10:00 = 1800 s.
    s.conversation(web, ann, "2026-11-24 10:00:00", "resolved", updated="2026-11-24 10:30:00")
    # c10: two conversation_resolved events: the latest by created_at (1000 s) wins over the
    # earlier (500 s) and over updated_at - created_at (7200 s); another event name is ignored.
    c10 = s.conversation(web, ben, "2026-11-24 09:00:00", "resolved", updated="2026-11-24 11:00:00")
    s.resolved_event(c10, 1000, "2026-11-24 10:00:00")
    s.resolved_event(c10, 500, "2026-11-24 09:10:00")
    s.reporting_event(c10, "first_response", 50, "2026-11-24 10:30:00")
    # c11: two events recorded at the same instant: the later row (higher id, 400 s) wins.
    c11 = s.conversation(web, ben, "2026-11-24 10:00:00", "resolved", updated="2026-11-24 10:20:00")
    s.resolved_event(c11, 300, "2026-11-24 10:20:00")
    s.resolved_event(c11, 400, "2026-11-24 10:20:00")
    # c13: resolved yesterday: not today's.
    s.conversation(web, ben, "2026-11-23 23:00:00", "resolved", updated="2026-11-23 23:30:00")
    # Phone (Channel::Voice: channel "call"):
    # p1: Ann's, 900 s old (no handling signal), waiting 120 s: response signal.
    s.conversation(phone, ann, "2026-11-24 11:45:00", waiting_since="2026-11-24 11:58:00")
    # p2: waiting 60 s; p3: resolved in 300 s.
    s.conversation(phone, None, "2026-11-24 11:59:00", waiting_since="2026-11-24 11:59:00")
    s.conversation(phone, ann, "2026-11-24 11:00:00", "resolved", updated="2026-11-24 11:05:00")
    await s.write(chatwoot_url)

    m = await scrape(chatwoot_url, NOW, Settings(), schema="chatwoot")

    # Website: in progress c1 c2 c3 c4 c5 c12 c14; waiting c6 c7 (oldest c7, 240 s).
    assert m("chat_conversations_active", site="Website", channel="chat") == 7
    assert m("chat_conversations_active", site="Website", channel="call") == 0
    assert m("chat_conversations_waiting", site="Website", channel="chat") == 2
    assert m("chat_conversations_waiting", site="Website", channel="call") == 0
    assert m("chat_oldest_waiting_seconds", site="Website") == 240
    assert (
        m("chat_conversations_signaled", site="Website", signal="handling_duration") == 4
    )  # c2 c4 c12 c14
    assert m("chat_conversations_signaled", site="Website", signal="response_time") == 1  # c2
    assert m("chat_signal_threshold_seconds", site="Website", signal="handling_duration") == 1200
    assert m("chat_signal_threshold_seconds", site="Website", signal="response_time") == 60
    # Today (since 2026-11-24 00:00Z): c1 c2 c3 c5 c6 c7 c8 c9 c10 c11 c12 (not c4 c13 c14).
    assert m("chat_conversations_today", site="Website") == 11
    assert m("chat_conversations_ended_today", site="Website") == 3  # c9 c10 c11
    assert m("chat_handling_time_seconds_today", site="Website") == 1800 + 1000 + 400
    # Ann on Website: open c1 c2 c3 c12; today c1 c2 c3 c8 c9 c12; ended c9.
    ann_web = agent("Website", ann, "Ann")
    assert m("chat_agent_conversations_active", **ann_web) == 4
    assert m("chat_agent_conversations_active_all_sites", **ann_web) == 5  # and p1
    assert m("chat_agent_signals", **ann_web, signal="handling_duration") == 2  # c2 c12
    assert m("chat_agent_signals", **ann_web, signal="response_time") == 1  # c2
    assert m("chat_agent_conversations_today", **ann_web) == 6
    assert m("chat_agent_conversations_ended_today", **ann_web) == 1
    assert m("chat_agent_handling_time_seconds_today", **ann_web) == 1800
    # Ben on Website: open c14 only (c4 is pending: not his); today c10 c11.
    ben_web = agent("Website", ben, "Ben")
    assert m("chat_agent_conversations_active", **ben_web) == 1
    assert m("chat_agent_conversations_active_all_sites", **ben_web) == 1
    assert m("chat_agent_signals", **ben_web, signal="handling_duration") == 1  # c14
    assert m("chat_agent_signals", **ben_web, signal="response_time") == 0
    assert m("chat_agent_conversations_today", **ben_web) == 2
    assert m("chat_agent_conversations_ended_today", **ben_web) == 2
    assert m("chat_agent_handling_time_seconds_today", **ben_web) == 1000 + 400
    # Phone: p1 in progress, p2 waiting 60 s, p3 ended in 300 s; p1 waits 120 s > 60 s.
    assert m("chat_conversations_active", site="Phone", channel="call") == 1
    assert m("chat_conversations_active", site="Phone", channel="chat") == 0
    assert m("chat_conversations_waiting", site="Phone", channel="call") == 1
    assert m("chat_conversations_waiting", site="Phone", channel="chat") == 0
    assert m("chat_oldest_waiting_seconds", site="Phone") == 60
    assert m("chat_conversations_signaled", site="Phone", signal="handling_duration") == 0
    assert m("chat_conversations_signaled", site="Phone", signal="response_time") == 1
    assert m("chat_conversations_today", site="Phone") == 3
    assert m("chat_conversations_ended_today", site="Phone") == 1
    assert m("chat_handling_time_seconds_today", site="Phone") == 300
    ann_phone = agent("Phone", ann, "Ann")
    assert m("chat_agent_conversations_active", **ann_phone) == 1
    assert m("chat_agent_signals", **ann_phone, signal="response_time") == 1
    assert m("chat_agent_conversations_today", **ann_phone) == 2  # p1 p3
    assert m("chat_agent_handling_time_seconds_today", **ann_phone) == 300
    # Without Redis: Ann online -> available, Ben busy, Cid offline -> not connected.
    assert m.table("chat_agents", ("site", "status")) == {
        ("Website", "available"): 1, ("Website", "busy"): 1, ("Website", "unavailable"): 0,
        ("Phone", "available"): 1, ("Phone", "busy"): 0, ("Phone", "unavailable"): 0,
    }  # fmt: skip
    assert sorted((labels["site"], labels["agent"]) for labels in m.series("chat_agent_slots")) == [
        ("Phone", "Ann"), ("Website", "Ann"), ("Website", "Ben"),
    ]  # fmt: skip
    # Slots (default 3 each): only available agents count; Ann holds 4 open on Website, so
    # she adds 3 slots but 0 free (never -1); on Phone she holds 1: 2 free. Bots: none.
    assert m("chat_slots", site="Website", kind="agent") == 3
    assert m("chat_slots_available", site="Website", kind="agent") == 0
    assert m("chat_slots", site="Phone", kind="agent") == 3
    assert m("chat_slots_available", site="Phone", kind="agent") == 2
    for site in ("Website", "Phone"):
        assert m("chat_slots", site=site, kind="bot") == 0
        assert m("chat_slots_available", site=site, kind="bot") == 0
    assert m("chat_agent_slots", **ann_web) == 3
    assert m("chat_agent_slots", **ben_web) == 3  # busy, but listed: its limit all the same


async def test_slots_from_policy_inbox_limit_and_default(chatwoot_url: str) -> None:
    s = Chatwoot()
    acme = s.account()
    policy_inbox = s.inbox(acme, "Policy", auto_assignment_config={"max_assignment_limit": 5})
    limit_inbox = s.inbox(acme, "Limit", auto_assignment_config={"max_assignment_limit": 2})
    plain = s.inbox(acme, "Plain")  # auto_assignment_config {}
    # Not a positive integer: ignored, the configured default (4) applies.
    ignored = [
        s.inbox(acme, name, auto_assignment_config={"max_assignment_limit": value})
        for name, value in (("Zero", 0), ("Negative", -3), ("Fraction", 2.5), ("Word", "many"))
    ]
    capacity = s.capacity_policy(acme)
    s.capacity_limit(capacity, policy_inbox, 1)  # no row for Limit: the inbox's limit there
    # Ann (policy): on Policy limit 1 (the policy wins over the inbox's 5) holding 2: 0 free;
    # on Limit, limit 2 (inbox) holding 1: 1 free.
    ann = s.agent(acme, "Ann", [policy_inbox, limit_inbox], policy=capacity)
    s.conversation(policy_inbox, ann, "2026-11-24 11:00:00")
    s.conversation(policy_inbox, ann, "2026-11-24 11:10:00")
    s.conversation(limit_inbox, ann, "2026-11-24 11:20:00")
    # Ben (no policy): Policy limit 5 holding 1 open (a resolved and a snoozed one do not
    # count): 4 free; Plain: default 4, 4 free.
    ben = s.agent(acme, "Ben", [policy_inbox, plain])
    s.conversation(policy_inbox, ben, "2026-11-24 11:30:00")
    s.conversation(
        policy_inbox, ben, "2026-11-24 09:00:00", "resolved", updated="2026-11-24 09:10:00"
    )
    s.conversation(policy_inbox, ben, "2026-11-24 10:00:00", "snoozed")
    # Cy: member of the four inboxes with an ignored limit: default 4 each; a pending
    # conversation assigned to Cy is not an open one: still 4 free on Zero.
    cy = s.agent(acme, "Cy", ignored)
    s.conversation(ignored[0], cy, "2026-11-24 11:40:00", "pending")
    # Dee: busy: no slots counted, but listed on Policy with the policy's limit 1.
    dee = s.agent(acme, "Dee", [policy_inbox], "busy", policy=capacity)
    # Eve: offline member of Plain, holding an open conversation there: listed, limit 4.
    eve = s.agent(acme, "Eve", [plain], "offline")
    s.conversation(plain, eve, "2026-11-24 11:50:00")
    # Fay: online, policy, not a member of Policy but holding an open conversation there:
    # listed with limit 1 (same rule, member or not), not in the site's slots.
    fay = s.agent(acme, "Fay", [], policy=capacity)
    s.conversation(policy_inbox, fay, "2026-11-24 11:55:00")
    await s.write(chatwoot_url)

    settings = Settings(chatwoot=ChatwootSettings(default_max_slots=4))
    m = await scrape(chatwoot_url, NOW, settings, schema="chatwoot")

    assert m.table("chat_slots", ("site",), kind="agent") == {
        ("Policy",): 1 + 5,  # Ann, Ben (Dee busy, Fay not a member)
        ("Limit",): 2,  # Ann
        ("Plain",): 4,  # Ben (Eve offline)
        ("Zero",): 4, ("Negative",): 4, ("Fraction",): 4, ("Word",): 4,  # Cy
    }  # fmt: skip
    assert m.table("chat_slots_available", ("site",), kind="agent") == {
        ("Policy",): 0 + 4,
        ("Limit",): 1,
        ("Plain",): 4,
        ("Zero",): 4, ("Negative",): 4, ("Fraction",): 4, ("Word",): 4,
    }  # fmt: skip
    assert set(m.table("chat_slots", ("site",), kind="bot").values()) == {0}
    assert set(m.table("chat_slots_available", ("site",), kind="bot").values()) == {0}
    assert m.table("chat_agent_slots", ("site", "agent")) == {
        ("Policy", "Ann"): 1, ("Limit", "Ann"): 2,
        ("Policy", "Ben"): 5, ("Plain", "Ben"): 4,
        ("Zero", "Cy"): 4, ("Negative", "Cy"): 4, ("Fraction", "Cy"): 4, ("Word", "Cy"): 4,
        ("Policy", "Dee"): 1,
        ("Plain", "Eve"): 4,
        ("Policy", "Fay"): 1,
    }  # fmt: skip
    assert m("chat_agent_conversations_active", **agent("Policy", ann, "Ann")) == 2
    assert m("chat_agent_conversations_active_all_sites", **agent("Policy", ann, "Ann")) == 3
    assert m("chat_agent_conversations_active", **agent("Zero", cy, "Cy")) == 0  # pending
    # ... but created today with Cy as its current assignee: one of Cy's today.
    assert m("chat_agent_conversations_today", **agent("Zero", cy, "Cy")) == 1
    assert m("chat_agent_conversations_active", **agent("Plain", eve, "Eve")) == 1
    assert m.series("chat_agent_status", agent="Eve") == []
    assert m("chat_agent_conversations_active", **agent("Policy", fay, "Fay")) == 1
    assert m("chat_agent_status", **agent("Policy", fay, "Fay"), status="available") == 1
    assert m("chat_agent_status", **agent("Policy", dee, "Dee"), status="busy") == 1
    # Fay serves Policy without being a member: not in its chat_agents.
    assert m("chat_agents", site="Policy", status="available") == 2  # Ann, Ben
    assert m("chat_agents", site="Policy", status="busy") == 1  # Dee
    assert m("chat_conversations_active", site="Policy", channel="chat") == 2 + 1 + 1  # Ann Ben Fay
    assert m("chat_conversations_active", site="Zero", channel="chat") == 1  # Cy's pending one


async def test_a_release_without_the_optional_columns(chatwoot_old_url: str) -> None:
    # No conversations.waiting_since (waits start at created_at, no response signal), no
    # account_users.agent_capacity_policy_id and no capacity tables (no policy step).
    s = Chatwoot()
    acme = s.account()
    limited = s.inbox(acme, "Limited", auto_assignment_config={"max_assignment_limit": 2})
    plain = s.inbox(acme, "Plain")
    ann = s.agent(acme, "Ann", [limited, plain])
    # Waiting since created_at: 600 s and 60 s; the oldest is 600.
    s.conversation(limited, None, "2026-11-24 11:50:00")
    s.conversation(limited, None, "2026-11-24 11:59:00")
    # Ann's: 3600 s old (handling signal), and 1 s old; no response signal without the column.
    s.conversation(limited, ann, "2026-11-24 11:00:00")
    s.conversation(plain, ann, "2026-11-24 11:59:59")
    await s.write(chatwoot_old_url)

    m = await scrape(chatwoot_old_url, NOW, Settings(), schema="chatwoot")

    assert m("chat_conversations_waiting", site="Limited", channel="chat") == 2
    assert m("chat_oldest_waiting_seconds", site="Limited") == 600
    assert m("chat_conversations_active", site="Limited", channel="chat") == 1
    assert m("chat_conversations_signaled", site="Limited", signal="handling_duration") == 1
    assert m("chat_conversations_signaled", site="Limited", signal="response_time") == 0
    assert m("chat_conversations_signaled", site="Plain", signal="response_time") == 0
    # Slots: inbox limit 2 holding 1 -> 1 free; Plain: default 3 holding 1 -> 2 free.
    assert m("chat_slots", site="Limited", kind="agent") == 2
    assert m("chat_slots_available", site="Limited", kind="agent") == 1
    assert m("chat_slots", site="Plain", kind="agent") == 3
    assert m("chat_slots_available", site="Plain", kind="agent") == 2
    assert m("chat_agent_slots", **agent("Limited", ann, "Ann")) == 2
    assert m("chat_agent_conversations_active_all_sites", **agent("Plain", ann, "Ann")) == 2


async def test_an_odd_inbox_limit_is_ignored_not_fatal(chatwoot_url: str) -> None:
    # "²" passes str.isdigit() but is no whole number: ignored like any other non-integer,
    # so the default (3) applies, instead of failing the whole collection.
    s = Chatwoot()
    acme = s.account()
    odd = s.inbox(acme, "Odd", auto_assignment_config={"max_assignment_limit": "\u00b2"})
    ann = s.agent(acme, "Ann", [odd])
    await s.write(chatwoot_url)

    m = await scrape(chatwoot_url, NOW, Settings(), schema="chatwoot")

    assert m("chat_slots", site="Odd", kind="agent") == 3
    assert m("chat_agent_slots", **agent("Odd", ann, "Ann")) == 3
