"""Sites with nothing happening, an empty database, and the site allow-list."""

from exporter.settings import Settings
from exporter.snapshot import CHANNELS, CRITERIA, RATINGS, SIGNALS, SLOT_KINDS, STATUSES
from tests.builder import HEALTH_NAMES, Scenario, scrape

NOW = "2026-11-24 12:00:00"

# Every site-level gauge, with the label values it always carries.
ALWAYS: dict[str, list[dict[str, str]]] = {
    "chat_agents": [{"status": v} for v in STATUSES],
    "chat_conversations_active": [{"channel": v} for v in CHANNELS],
    "chat_conversations_waiting": [{"channel": v} for v in CHANNELS],
    "chat_conversations_signaled": [{"signal": v} for v in SIGNALS],
    "chat_signal_threshold_seconds": [{"signal": v} for v in SIGNALS],
    "chat_slots": [{"kind": v} for v in SLOT_KINDS],
    "chat_slots_available": [{"kind": v} for v in SLOT_KINDS],
    "chat_conversations_today": [{}],
    "chat_conversations_ended_today": [{}],
    "chat_handling_time_seconds_today": [{}],
    "chat_transactions_today": [{}],
    "chat_conversations_converted_today": [{}],
    "chat_satisfaction_score_today": [{"criterion": v} for v in CRITERIA],
    "chat_satisfaction_ratings_today": [
        {"criterion": c, "rating": r} for c in CRITERIA for r in RATINGS
    ],
    "chat_oldest_waiting_seconds": [{}],
}


async def test_a_quiet_site_has_every_gauge_at_zero(database_url: str) -> None:
    s = Scenario()
    s.site("quiet", "Europe/Paris")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    for name, label_sets in ALWAYS.items():
        expected = [{"site": "quiet", **labels} for labels in label_sets]
        assert m.series(name) == expected, name
        for labels in expected:
            value = m(name, **labels)
            assert value > 0 if name == "chat_signal_threshold_seconds" else value == 0, name
    assert m.series("chat_turnover_today") == []
    assert [n for n in m.names() if n.startswith(("chat_agent_", "chat_objective_"))] == []


async def test_an_empty_database_exposes_only_health(database_url: str) -> None:
    await Scenario().write(database_url)

    m = await scrape(database_url, NOW)

    assert m("chat_up") == 1
    assert m.names() == HEALTH_NAMES


async def test_the_site_allow_list_limits_sites_not_agent_loads(database_url: str) -> None:
    s = Scenario()
    main, other = s.site("main"), s.site("other")
    ann = s.agent("Ann", [main, other])
    s.session(ann, "available", "2026-11-24 08:00:00")
    s.conversation(main, ann, "2026-11-24 11:00:00")
    s.conversation(other, ann, "2026-11-24 11:30:00")
    await s.write(database_url)

    m = await scrape(database_url, NOW, Settings(sites=("main",)))

    assert {labels["site"] for labels in m.series("chat_conversations_today")} == {"main"}
    assert {labels["site"] for labels in m.series("chat_agent_slots")} == {"main"}
    labels = {"site": "main", "agent_id": str(ann), "agent": "Ann"}
    assert m("chat_agent_conversations_active", **labels) == 1
    assert m("chat_agent_conversations_active_all_sites", **labels) == 2
    assert m("chat_slots_available", site="main", kind="agent") == 1
