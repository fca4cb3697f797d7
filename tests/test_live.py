"""Conversations in progress, the waiting queue, and the two signals with their thresholds."""

from exporter.settings import Settings, SiteSignals
from tests.builder import Scenario, scrape

NOW = "2026-11-24 12:00:00"


async def test_in_progress_waiting_and_signals(database_url: str) -> None:
    s = Scenario()
    main = s.site("main", max_handling=600, max_response=60)
    ann, ben = s.agent("Ann", [main]), s.agent("Ben", [main])
    bot = s.agent("Bot", [main], bot=True)
    # Exactly at both thresholds: no signal (the definitions say "longer than").
    l1 = s.conversation(main, ann, "2026-11-24 11:50:00")
    s.message(l1, "visitor", "2026-11-24 11:50:00")
    s.message(l1, "agent", "2026-11-24 11:50:30")
    s.message(l1, "visitor", "2026-11-24 11:59:00")
    # One second beyond both; the earliest unanswered visitor message counts.
    l2 = s.conversation(main, ann, "2026-11-24 11:49:59")
    s.message(l2, "visitor", "2026-11-24 11:50:00")
    s.message(l2, "agent", "2026-11-24 11:51:00")
    s.message(l2, "visitor", "2026-11-24 11:58:59")
    s.message(l2, "visitor", "2026-11-24 11:59:30")
    # Never answered: waiting since the first visitor message, 300 s.
    l3 = s.conversation(main, ann, "2026-11-24 11:55:00", channel="call")
    s.message(l3, "visitor", "2026-11-24 11:55:00")
    # Long (1800 s) but answered by a bot last: handling signal only.
    l4 = s.conversation(main, ben, "2026-11-24 11:30:00")
    s.message(l4, "visitor", "2026-11-24 11:30:00")
    s.message(l4, "agent", "2026-11-24 11:31:00")
    s.message(l4, "visitor", "2026-11-24 11:32:00")
    s.message(l4, "bot", "2026-11-24 11:58:30")
    # Fresh, visitor waiting 40 s: nothing.
    l5 = s.conversation(main, ben, "2026-11-24 11:59:00")
    s.message(l5, "visitor", "2026-11-24 11:59:00")
    s.message(l5, "agent", "2026-11-24 11:59:10")
    s.message(l5, "visitor", "2026-11-24 11:59:20")
    # A visitor message stamped with the reply itself is not after it: answered.
    l7 = s.conversation(main, ben, "2026-11-24 11:57:00")
    s.message(l7, "visitor", "2026-11-24 11:57:00")
    s.message(l7, "agent", "2026-11-24 11:58:00")
    s.message(l7, "visitor", "2026-11-24 11:58:00")
    # A bot's conversation signals for the site, not for any agent.
    l6 = s.conversation(main, bot, "2026-11-24 11:00:00")
    s.message(l6, "visitor", "2026-11-24 11:00:00")
    # The queue: waiting visitors never signal, whatever their wait.
    w1 = s.conversation(main, None, "2026-11-24 11:57:00")
    s.message(w1, "visitor", "2026-11-24 11:57:00")
    s.conversation(main, None, "2026-11-24 11:58:30", channel="call")
    s.conversation(main, None, "2026-11-24 11:59:45")
    # Ended conversations are not in progress, even with an unanswered message.
    e1 = s.conversation(main, ann, "2026-11-24 10:00:00", "2026-11-24 10:30:00")
    s.message(e1, "visitor", "2026-11-24 10:29:00")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    assert m("chat_conversations_active", site="main", channel="chat") == 6  # l1 l2 l4-l7
    assert m("chat_conversations_active", site="main", channel="call") == 1  # l3
    assert m("chat_conversations_waiting", site="main", channel="chat") == 2
    assert m("chat_conversations_waiting", site="main", channel="call") == 1
    assert m("chat_oldest_waiting_seconds", site="main") == 180
    assert m("chat_conversations_signaled", site="main", signal="handling_duration") == 3
    assert m("chat_conversations_signaled", site="main", signal="response_time") == 3
    assert m("chat_signal_threshold_seconds", site="main", signal="handling_duration") == 600
    assert m("chat_signal_threshold_seconds", site="main", signal="response_time") == 60
    ann_labels = {"site": "main", "agent_id": str(ann), "agent": "Ann"}
    ben_labels = {"site": "main", "agent_id": str(ben), "agent": "Ben"}
    assert m("chat_agent_conversations_active", **ann_labels) == 3
    assert m("chat_agent_signals", **ann_labels, signal="handling_duration") == 1  # l2
    assert m("chat_agent_signals", **ann_labels, signal="response_time") == 2  # l2 l3
    assert m("chat_agent_conversations_active", **ben_labels) == 3
    assert m("chat_agent_signals", **ben_labels, signal="handling_duration") == 1  # l4
    assert m("chat_agent_signals", **ben_labels, signal="response_time") == 0


async def test_sites_without_thresholds_use_the_configured_defaults(database_url: str) -> None:
    s = Scenario()
    site = s.site("defaults")
    cy = s.agent("Cy", [site])
    d1 = s.conversation(site, cy, "2026-11-24 11:40:00")  # exactly 1200 s, waiting 120 s
    s.message(d1, "visitor", "2026-11-24 11:40:00")
    s.message(d1, "agent", "2026-11-24 11:40:10")
    s.message(d1, "visitor", "2026-11-24 11:58:00")
    d2 = s.conversation(site, cy, "2026-11-24 11:39:59")  # 1201 s, never answered
    s.message(d2, "visitor", "2026-11-24 11:39:59")
    s.message(d2, "visitor", "2026-11-24 11:57:59")
    await s.write(database_url)

    m = await scrape(database_url, NOW, Settings(handling_seconds=1200, response_seconds=120))

    assert m("chat_signal_threshold_seconds", site="defaults", signal="handling_duration") == 1200
    assert m("chat_signal_threshold_seconds", site="defaults", signal="response_time") == 120
    assert m("chat_conversations_signaled", site="defaults", signal="handling_duration") == 1
    assert m("chat_conversations_signaled", site="defaults", signal="response_time") == 1
    assert m("chat_conversations_waiting", site="defaults", channel="chat") == 0
    assert m("chat_oldest_waiting_seconds", site="defaults") == 0


async def test_per_site_thresholds_from_the_configuration(database_url: str) -> None:
    """A site's own column wins over signals.sites, which wins over the defaults."""
    s = Scenario()
    own = s.site("own", max_handling=600)  # response_time from signals.sites: 30 s
    configured = s.site("configured")  # both from signals.sites: 300 s and 30 s
    default = s.site("default")  # not in signals.sites: 1200 s and 60 s
    ann = s.agent("Ann", [own, configured, default])
    for site in (own, configured, default):
        # Started 400 s ago; the visitor has waited 45 s for a reply.
        c = s.conversation(site, ann, "2026-11-24 11:53:20")
        s.message(c, "visitor", "2026-11-24 11:53:20")
        s.message(c, "agent", "2026-11-24 11:53:30")
        s.message(c, "visitor", "2026-11-24 11:59:15")
    await s.write(database_url)
    settings = Settings(
        site_signals={
            "own": SiteSignals(handling_seconds=100, response_seconds=30),
            "configured": SiteSignals(handling_seconds=300, response_seconds=30),
        }
    )

    m = await scrape(database_url, NOW, settings)

    thresholds = m.table("chat_signal_threshold_seconds", ("site", "signal"))
    assert thresholds == {
        ("own", "handling_duration"): 600,
        ("own", "response_time"): 30,
        ("configured", "handling_duration"): 300,
        ("configured", "response_time"): 30,
        ("default", "handling_duration"): 1200,
        ("default", "response_time"): 60,
    }
    # 400 s > 300 s on "configured" only; 45 s > 30 s on "own" and "configured".
    assert m.table("chat_conversations_signaled", ("site", "signal")) == {
        ("own", "handling_duration"): 0,
        ("own", "response_time"): 1,
        ("configured", "handling_duration"): 1,
        ("configured", "response_time"): 1,
        ("default", "handling_duration"): 0,
        ("default", "response_time"): 0,
    }
