"""Metric families from an outcome, without a database: health, zero-filling, extra labels."""

from datetime import UTC, datetime

from exporter import __version__
from exporter.collection import Outcome
from exporter.collector import data_families, health_families
from exporter.snapshot import Agent, Day, Ratings, Site, Snapshot
from tests.builder import HEALTH_NAMES, Metrics

TAKEN = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _site(**changes: object) -> Site:
    values: dict[str, object] = {
        "name": "main",
        "thresholds": {"handling_duration": 1200.0, "response_time": 60.0},
        "service_level_seconds": 60.0,
        "agents": {},
        "active": {},
        "waiting": {},
        "oldest_waiting_seconds": 0.0,
        "signaled": {},
        "slots": {},
        "slots_available": {},
        "day": Day(),
        "agent_figures": (),
        "objectives": (),
    }
    return Site(**{**values, **changes})  # type: ignore[arg-type]


def test_a_failed_collection_exposes_health_only() -> None:
    m = Metrics.of(Outcome(None, "cannot connect: refused", 100.0, 0.25, 40.0), now=103.0)

    assert m.names() == HEALTH_NAMES
    assert m("chat_up") == 0
    assert m("chat_collect_duration_seconds") == 0.25
    assert m("chat_last_success_timestamp_seconds") == 40
    assert m("chat_snapshot_age_seconds") == 3
    assert m("chat_exporter_build_info", version=__version__) == 1


def test_never_succeeded_reports_zero_as_last_success() -> None:
    m = Metrics.of(Outcome(None, "timed out", 100.0, 9.5, None), now=100.0)
    assert m("chat_last_success_timestamp_seconds") == 0


def test_label_values_beyond_the_documented_ones_are_kept() -> None:
    day = Day(
        turnover={"USD": 3.5, "EUR": 1.25},
        satisfaction={"speed": Ratings(score=9, good=1, average=1, poor=0)},
    )
    agent = Agent(
        agent_id=1,
        name="Ann",
        status="away",
        presence_seconds=60.0,
        status_seconds={"away": 45.0, "busy": 15.0},
        status_since=1_764_000_000.0,
        reason="coaching",
        day=day,
        active=0,
        active_all_sites=0,
        signals={},
        slots=3,
    )
    snapshot = Snapshot(
        TAKEN, (_site(agents={"away": 1}, active={"email": 2}, day=day, agent_figures=(agent,)),)
    )

    m = Metrics.of(Outcome(snapshot, None, 1.0, 0.1, 1.0), now=1.0)

    assert [labels["status"] for labels in m.series("chat_agents")] == [
        "available", "busy", "unavailable", "away",
    ]  # fmt: skip
    assert m("chat_conversations_active", site="main", channel="email") == 2
    assert m("chat_conversations_active", site="main", channel="chat") == 0
    assert [labels["currency"] for labels in m.series("chat_turnover_today")] == ["EUR", "USD"]
    assert m("chat_satisfaction_ratings_today", site="main", criterion="speed", rating="good") == 1
    assert m("chat_satisfaction_score_today", site="main", criterion="welcome") == 0
    ann = {"site": "main", "agent_id": "1", "agent": "Ann"}
    assert m("chat_agent_status", **ann, status="away") == 1
    assert m("chat_agent_status", **ann, status="available") == 0
    assert m("chat_agent_satisfaction_ratings_today", **ann, criterion="speed") == 2
    assert [labels["status"] for labels in m.series("chat_agent_status_seconds_today")] == [
        "available", "busy", "unavailable", "away",
    ]  # fmt: skip
    assert m("chat_agent_status_seconds_today", **ann, status="away") == 45
    assert m("chat_agent_status_seconds_today", **ann, status="available") == 0
    assert m("chat_agent_status_since_timestamp_seconds", **ann) == 1_764_000_000
    assert m("chat_agent_status_reason", **ann, reason="coaching") == 1


def test_a_disconnected_agent_has_no_status_since_nor_reason() -> None:
    agent = Agent(
        agent_id=2,
        name="Bo",
        status=None,
        presence_seconds=0.0,
        status_seconds={},
        status_since=None,
        reason=None,
        day=Day(),
        active=0,
        active_all_sites=0,
        signals={},
        slots=3,
    )
    snapshot = Snapshot(TAKEN, (_site(agent_figures=(agent,)),))

    m = Metrics.of(Outcome(snapshot, None, 1.0, 0.1, 1.0), now=1.0)

    assert m.series("chat_agent_status_since_timestamp_seconds") == []
    assert m.series("chat_agent_status_reason") == []
    assert m.series("chat_agent_status") == []
    assert len(m.series("chat_agent_status_seconds_today")) == 3


def test_caching_is_noted_in_help() -> None:
    snapshot = Snapshot(TAKEN, (_site(),))
    outcome = Outcome(snapshot, None, 1.0, 0.1, 1.0)
    helps = {
        family.name: family.help
        for family in (
            *health_families(outcome, 1.0),
            *data_families(snapshot, " Cached for up to 30s."),
        )
    }
    assert helps["chat_conversations_today"].endswith(" Cached for up to 30s.")
    assert not helps["chat_up"].endswith("30s.")
