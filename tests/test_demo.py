"""The demo's simulated contact centre, on a simulated clock, in each of the three databases."""

import random
from datetime import datetime, timedelta

from exporter.collector import AGENT_METRICS, OBJECTIVE_METRICS, SITE_METRICS
from exporter.database import create_engine
from exporter.demo.simulator import prepare, tick
from tests.builder import Metrics, Scenario, scrape

# Constant by nature: configuration, max_slots, targets.
STILL = {
    "chat_signal_threshold_seconds",
    "chat_service_level_target_seconds",
    "chat_agent_slots",
    "chat_objective_target",
}


async def test_every_metric_moves_and_both_signals_fire(database_url: str) -> None:
    await Scenario().write(database_url)  # empty tables: the demo seeds them
    engine = create_engine(database_url, read_only=False, pool_size=1)
    rng = random.Random(2026)
    moment = datetime(2026, 11, 24, 14, 0)
    await prepare(engine, rng, moment, backfill=timedelta(minutes=20))
    scrapes: list[Metrics] = [await scrape(database_url, moment.isoformat(sep=" "))]
    for _ in range(4):  # four simulated minutes, one tick a second
        for _ in range(60):
            moment += timedelta(seconds=1)
            await tick(engine, moment, 1.0, rng)
        scrapes.append(await scrape(database_url, moment.isoformat(sep=" ")))
    await engine.dispose()

    names = {spec.name for spec, _ in (*SITE_METRICS, *AGENT_METRICS, *OBJECTIVE_METRICS)}
    series = {key for scrape in scrapes for key in scrape.samples}
    moved = {
        name  # a series that changed, appeared or vanished
        for name, labels in series
        if len({scrape.samples.get((name, labels)) for scrape in scrapes}) > 1
    }
    assert names - STILL - moved == set()
    for signal in ("handling_duration", "response_time"):
        assert any(
            scrape("chat_conversations_signaled", site=site, signal=signal) > 0
            for scrape in scrapes
            for site in ("paris", "new-york", "tokyo")
        ), signal


async def test_a_restarted_demo_reopens_its_database(sqlite_url: str) -> None:
    await Scenario().write(sqlite_url)
    engine = create_engine(sqlite_url, read_only=False, pool_size=1)
    start = datetime(2026, 11, 24, 14, 0)
    await prepare(engine, random.Random(1), start, backfill=timedelta(minutes=10))
    later = start + timedelta(hours=3)
    await prepare(engine, random.Random(1), later)
    await engine.dispose()

    m = await scrape(sqlite_url, later.isoformat(sep=" "))

    assert {labels["site"] for labels in m.series("chat_conversations_today")} == {
        "paris", "new-york", "tokyo",
    }  # fmt: skip
    # Nothing the first run left open is still in progress or connected.
    assert (
        sum(
            m(name, **labels)
            for name in ("chat_conversations_active", "chat_conversations_waiting", "chat_agents")
            for labels in m.series(name)
        )
        == 0
    )
