"""Chatwoot: service level, speed of answer and abandoned chats, from today's conversations.

Answered = ``first_reply_created_at`` set (Chatwoot's first human reply); first response =
``first_reply_created_at - created_at`` (0 when stamped earlier); in target when that is at
most the site's service-level target; abandoned = resolved with no first reply and no public outgoing message
of a user, an agent bot or a Captain assistant. Per agent by the conversation's assignee.
"""

from exporter.settings import Settings, SiteSignals
from tests.builder import SERVICE_AGENT_FAMILIES, SERVICE_SITE_FAMILIES, scrape, shift
from tests.chatwoot import Chatwoot

pytest_plugins = ("tests.chatwoot",)

NOW = "2026-11-24 12:00:00"
# The history of agents' statuses, which Chatwoot does not keep.
STATUS_HISTORY = {
    "chat_agent_status_seconds_today",
    "chat_agent_status_since_timestamp_seconds",
    "chat_agent_status_reason",
}


async def test_first_responses_per_site_and_per_assignee(chatwoot_url: str) -> None:
    s = Chatwoot()
    acme = s.account()
    web = s.inbox(acme, "Website")
    # Online in the database: connected, so any per-agent family would be published for them.
    ann, ben = s.agent(acme, "Ann", [web]), s.agent(acme, "Ben", [web])
    cid = s.agent(acme, "Cid", [web])  # connected, nothing today: zeros

    def answered(assignee: int, created: str, wait: int, status: str = "open") -> None:
        s.conversation(
            web,
            assignee,
            created,
            status,
            updated=shift(created, 600),
            first_reply=shift(created, wait),
        )

    answered(ann, "2026-11-24 09:00:00", 30, "resolved")  # in target
    answered(ann, "2026-11-24 09:10:00", 60)  # exactly the target: in target
    answered(ann, "2026-11-24 09:20:00", 61, "resolved")  # one second over
    answered(ben, "2026-11-24 10:00:00", 120)
    # 0.5 s: Rails keeps microseconds.
    s.conversation(web, ben, "2026-11-24 11:30:00", first_reply="2026-11-24 11:30:00.500000")
    s.conversation(web, ben, "2026-11-24 10:30:00")  # open, not answered: neither
    # A reply stamped 5 s before the conversation (imported data): an immediate answer, 0 s.
    s.conversation(web, ben, "2026-11-24 10:40:00", first_reply="2026-11-24 10:39:55")
    # Nobody's, resolved without any message: abandoned, the site's only.
    s.conversation(web, None, "2026-11-24 11:00:00", "resolved", updated="2026-11-24 11:04:00")
    # Yesterday's, answered in target just after midnight, and resolved without a reply today:
    # not today's.
    s.conversation(web, ann, "2026-11-23 23:59:59", first_reply="2026-11-24 00:00:10")
    s.conversation(web, None, "2026-11-23 23:59:59", "resolved", updated="2026-11-24 00:01:00")
    await s.write(chatwoot_url)

    m = await scrape(chatwoot_url, NOW, Settings(), schema="chatwoot")

    assert m("chat_conversations_today", site="Website") == 8
    assert m("chat_service_level_target_seconds", site="Website") == 60  # the default
    assert {name: m(name, site="Website") for name in SERVICE_SITE_FAMILIES} == {
        "chat_conversations_answered_today": 6,
        "chat_first_response_seconds_today": 30 + 60 + 61 + 120 + 0 + 0.5,  # 271.5
        "chat_conversations_answered_in_target_today": 4,  # 30, 60, 0, 0.5
        "chat_conversations_abandoned_today": 1,
    }
    per_agent = {name: m.table(name, ("agent",), site="Website") for name in SERVICE_AGENT_FAMILIES}
    assert per_agent == {
        "chat_agent_conversations_answered_today": {("Ann",): 3, ("Ben",): 3, ("Cid",): 0},
        "chat_agent_first_response_seconds_today": {
            ("Ann",): 30 + 60 + 61,  # 151
            ("Ben",): 120 + 0 + 0.5,
            ("Cid",): 0,
        },
        "chat_agent_conversations_answered_in_target_today": {
            ("Ann",): 2,  # 30, 60
            ("Ben",): 2,  # 0, 0.5
            ("Cid",): 0,
        },
        "chat_agent_conversations_abandoned_today": {("Ann",): 0, ("Ben",): 0, ("Cid",): 0},
    }
    assert m("chat_agent_conversations_today", site="Website", agent_id=str(cid), agent="Cid") == 0
    assert m.series("chat_agent_status", agent="Ann", status="available") != []
    # Chatwoot keeps no history of statuses: not published, not even for connected agents.
    assert not STATUS_HISTORY & m.names()


async def test_the_target_is_the_sites_own_else_the_default(chatwoot_url: str) -> None:
    s = Chatwoot()
    acme = s.account()
    web, support = s.inbox(acme, "Website"), s.inbox(acme, "Support")
    ann = s.agent(acme, "Ann", [web, support])
    for inbox in (web, support):
        for minute, wait in enumerate((30, 31, 45, 60, 61)):
            created = f"2026-11-24 10:0{minute}:00"
            s.conversation(inbox, ann, created, first_reply=shift(created, wait))
    await s.write(chatwoot_url)
    targets = {"Support": SiteSignals(service_level_seconds=30)}

    m = await scrape(chatwoot_url, NOW, Settings(site_signals=targets), schema="chatwoot")

    assert m.table("chat_service_level_target_seconds", ("site",)) == {
        ("Website",): 60,  # the default
        ("Support",): 30,
    }
    assert m.table("chat_conversations_answered_in_target_today", ("site",)) == {
        ("Website",): 4,  # 30 31 45 60 <= 60
        ("Support",): 1,  # 30 <= 30
    }
    assert m.table("chat_agent_conversations_answered_in_target_today", ("site",)) == {
        ("Website",): 4,
        ("Support",): 1,
    }
    # The same waits whatever the target: 30 + 31 + 45 + 60 + 61 = 227 s over 5 answers.
    assert m.table("chat_first_response_seconds_today", ("site",)) == {
        ("Website",): 227,
        ("Support",): 227,
    }
    assert m.table("chat_conversations_answered_today", ("site",)) == {
        ("Website",): 5,
        ("Support",): 5,
    }

    # Another default: Website follows it, Support keeps its own.
    settings = Settings(service_level_seconds=45, site_signals=targets)
    m = await scrape(chatwoot_url, NOW, settings, schema="chatwoot")

    assert m.table("chat_service_level_target_seconds", ("site",)) == {
        ("Website",): 45,
        ("Support",): 30,
    }
    assert m.table("chat_conversations_answered_in_target_today", ("site",)) == {
        ("Website",): 3,  # 30 31 45 <= 45
        ("Support",): 1,
    }


async def test_abandoned_means_resolved_without_a_reply_of_an_agent_or_a_bot(
    chatwoot_url: str,
) -> None:
    s = Chatwoot()
    acme = s.account()
    web = s.inbox(acme, "Website")
    ann = s.agent(acme, "Ann", [web])
    bot = 7  # an agent_bots id: the exporter reads only the sender's type

    def resolved(assignee: int | None, minute: int, first_reply: str | None = None) -> int:
        created = f"2026-11-24 10:{minute:02}:00"
        updated = shift(created, 300)
        return s.conversation(
            web, assignee, created, "resolved", updated=updated, first_reply=first_reply
        )

    # Abandoned (6).
    resolved(None, 0)  # no message at all
    c = resolved(ann, 1)  # only the visitor wrote: the assignee's abandoned conversation
    s.message(c, "incoming", "2026-11-24 10:01:00", "Contact", 1)
    c = resolved(None, 2)  # only a private note of an agent
    s.message(c, "outgoing", "2026-11-24 10:02:30", "User", ann, private=True)
    c = resolved(None, 3)  # only a template (the CSAT survey)
    s.csat(c, 1, "2026-11-24 10:08:00")
    c = resolved(None, 4)  # only activity messages ("Conversation was resolved by Ann")
    s.message(c, "activity", "2026-11-24 10:09:00")
    c = resolved(None, 5)  # an automation rule's reply: no sender, not an agent nor a bot
    s.message(c, "outgoing", "2026-11-24 10:05:10")
    # Not abandoned.
    c = resolved(None, 10)  # the bot answered, then resolved
    s.message(c, "incoming", "2026-11-24 10:10:00", "Contact", 1)
    s.message(c, "outgoing", "2026-11-24 10:10:02", "AgentBot", bot)
    c = resolved(None, 11)  # Captain's assistant answered
    s.message(c, "outgoing", "2026-11-24 10:11:03", "Captain::Assistant", 1)
    c = resolved(ann, 12)  # a user's public reply Chatwoot did not count as the first one
    s.message(c, "outgoing", "2026-11-24 10:12:20", "User", ann)
    c = resolved(ann, 13, first_reply="2026-11-24 10:13:40")  # answered: 40 s
    s.message(c, "outgoing", "2026-11-24 10:13:40", "User", ann)
    s.conversation(web, ann, "2026-11-24 10:20:00")  # open, not answered: waiting for Ann
    s.conversation(web, None, "2026-11-24 10:21:00", "pending")  # the bot's, not ended
    s.conversation(web, ann, "2026-11-24 10:22:00", "snoozed")
    # Yesterday's, resolved today without a reply: not today's.
    s.conversation(web, None, "2026-11-23 23:58:00", "resolved", updated="2026-11-24 00:03:00")
    await s.write(chatwoot_url)

    m = await scrape(chatwoot_url, NOW, Settings(), schema="chatwoot")

    ann_labels = {"site": "Website", "agent_id": str(ann), "agent": "Ann"}
    assert m("chat_conversations_today", site="Website") == 13
    assert m("chat_conversations_ended_today", site="Website") == 10  # minutes 0-5, 10-13
    assert m("chat_conversations_abandoned_today", site="Website") == 6  # minutes 0-5
    assert m("chat_conversations_answered_today", site="Website") == 1  # minute 13
    assert m("chat_first_response_seconds_today", site="Website") == 40
    assert m("chat_conversations_answered_in_target_today", site="Website") == 1
    assert m("chat_agent_conversations_abandoned_today", **ann_labels) == 1  # minute 1
    assert m("chat_agent_conversations_answered_today", **ann_labels) == 1  # minute 13
    assert m("chat_agent_conversations_ended_today", **ann_labels) == 3  # minutes 1, 12, 13


async def test_each_inbox_counts_from_its_own_midnight(chatwoot_url: str) -> None:
    # At 2026-11-24 03:00Z, Tokyo's day (UTC+9) began at 2026-11-23 15:00Z and New York's
    # (UTC-5) at 2026-11-23 05:00Z.
    s = Chatwoot()
    acme = s.account()
    tokyo = s.inbox(acme, "tokyo", "Asia/Tokyo")
    new_york = s.inbox(acme, "new-york", "America/New_York")
    ann = s.agent(acme, "Ann", [tokyo, new_york])
    for inbox, midnight in ((tokyo, "2026-11-23 15:00:00"), (new_york, "2026-11-23 05:00:00")):
        for start in (shift(midnight, -1), midnight):  # the last second of yesterday, then today
            s.conversation(
                inbox,
                ann,
                start,
                "resolved",
                updated=shift(start, 100),
                first_reply=shift(start, 10),
            )
            s.conversation(inbox, None, start, "resolved", updated=shift(start, 5))
    await s.write(chatwoot_url)

    m = await scrape(chatwoot_url, "2026-11-24 03:00:00", Settings(), schema="chatwoot")

    # Each inbox: today's two, one answered after 10 s, one abandoned.
    for name in ("tokyo", "new-york"):
        assert m("chat_conversations_today", site=name) == 2
        assert {family: m(family, site=name) for family in SERVICE_SITE_FAMILIES} == {
            "chat_conversations_answered_today": 1,
            "chat_first_response_seconds_today": 10,
            "chat_conversations_answered_in_target_today": 1,
            "chat_conversations_abandoned_today": 1,
        }
        labels = {"site": name, "agent_id": str(ann), "agent": "Ann"}
        assert m("chat_agent_conversations_answered_today", **labels) == 1
        assert m("chat_agent_first_response_seconds_today", **labels) == 10
        assert m("chat_agent_conversations_abandoned_today", **labels) == 0
