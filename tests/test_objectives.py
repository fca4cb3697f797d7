"""Objectives: today's value of each objective's metric for its scope, next to its target."""

import logging

import pytest

from exporter.settings import ConfiguredObjective, Settings
from tests.builder import Scenario, scrape

NOW = "2026-11-24 12:00:00"


async def test_objective_values_and_scopes(database_url: str) -> None:
    s = Scenario()
    main, second = s.site("main"), s.site("second")
    ann, ben = s.agent("Ann", [main]), s.agent("Ben", [main])
    bot = s.agent("Bot", [main], bot=True)
    s.session(ann, "available", "2026-11-24 08:00:00")  # 4 h of presence
    s.session(ben, "available", "2026-11-24 10:00:00")  # 2 h of presence
    c1 = s.conversation(main, ann, "2026-11-24 09:00:00", "2026-11-24 09:04:00")  # 240 s
    s.transaction(c1, "30.00", "EUR", "2026-11-24 09:03:00")
    s.rating(c1, "welcome", 5, "2026-11-24 09:05:00")
    s.rating(c1, "quality", 4, "2026-11-24 09:05:00")
    c2 = s.conversation(main, ann, "2026-11-24 10:00:00", "2026-11-24 10:06:00")  # 360 s
    s.rating(c2, "quality", 3, "2026-11-24 10:07:00")
    s.conversation(main, ann, "2026-11-24 11:00:00")  # in progress
    c4 = s.conversation(main, ben, "2026-11-24 10:30:00", "2026-11-24 10:40:00")  # 600 s
    s.transaction(c4, "20.00", "EUR", "2026-11-24 10:35:00")
    s.transaction(c4, "10.00", "USD", "2026-11-24 10:36:00")
    s.rating(c4, "welcome", 2, "2026-11-24 10:41:00")
    s.conversation(main, bot, "2026-11-24 11:00:00", "2026-11-24 11:02:00")  # 120 s

    s.objective("Daily", "conversations", 100)  # every site, site as a whole
    s.objective("Conversion", "conversion_rate", 0.3, site=main)
    s.objective("Satisfaction", "satisfaction", 4, site=main)
    s.objective("AHT", "handling_time", 300, site=main)
    s.objective("Per hour", "conversations_per_hour", 2, site=main)
    s.objective("Turnover EUR", "turnover", 100, site=main, currency="EUR")
    s.objective("Turnover", "turnover", 100, site=main)  # two currencies: undefined
    s.objective("Ann conversations", "conversations", 10, agent=ann)  # every site of Ann
    s.objective("Ann AHT", "handling_time", 200, site=main, agent=ann)
    s.objective("Ann turnover", "turnover", 50, agent=ann)  # one currency: defined
    s.objective("Ben per hour", "conversations_per_hour", 1, agent=ben)
    s.objective("Ben conversion", "conversion_rate", 0.5, agent=ben)
    s.objective("Ben satisfaction", "satisfaction", 4, agent=ben)
    s.objective("Second AHT", "handling_time", 300, site=second)  # nothing ended: undefined
    s.objective("Bot conversations", "conversations", 10, agent=bot)  # bots have no series
    s.objective("Ann on second", "conversations", 10, site=second, agent=ann)  # not listed there
    s.objective("NPS", "nps", 50, site=main)  # unknown metric: target only
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    def site_goal(site: str, name: str, metric: str) -> dict[str, str]:
        return {"site": site, "objective": name, "metric": metric, "agent_id": "", "agent": ""}

    def agent_goal(name: str, metric: str, agent_id: int, agent: str) -> dict[str, str]:
        return {"site": "main", "objective": name, "metric": metric, "agent_id": str(agent_id),
                "agent": agent}  # fmt: skip

    values = {
        (labels["site"], labels["objective"]): m("chat_objective_value", **labels)
        for labels in m.series("chat_objective_value")
    }
    assert values == {
        ("main", "Daily"): 5,
        ("second", "Daily"): 0,
        ("main", "Conversion"): 2 / 5,
        ("main", "Satisfaction"): (5 + 4 + 3 + 2) / 4,
        ("main", "AHT"): (240 + 360 + 600 + 120) / 4,
        ("main", "Per hour"): (3 + 1) / 6,  # agents' conversations over 6 agent-hours
        ("main", "Turnover EUR"): 50,
        ("main", "Ann conversations"): 3,
        ("main", "Ann AHT"): (240 + 360) / 2,
        ("main", "Ann turnover"): 30,
        ("main", "Ben per hour"): 1 / 2,
        ("main", "Ben conversion"): 1,
        ("main", "Ben satisfaction"): 2,
    }
    targets = {
        (labels["site"], labels["objective"]) for labels in m.series("chat_objective_target")
    }
    assert targets == set(values) | {
        ("main", "Turnover"),
        ("second", "Second AHT"),
        ("main", "NPS"),
    }
    assert m("chat_objective_target", **site_goal("main", "Conversion", "conversion_rate")) == 0.3
    assert m("chat_objective_target", **agent_goal("Ann AHT", "handling_time", ann, "Ann")) == 200


async def test_configured_objectives_are_added_to_the_database_ones(database_url: str) -> None:
    s = Scenario()
    main, second = s.site("main"), s.site("second")
    ann = s.agent("Ann", [main])
    s.session(ann, "available", "2026-11-24 10:00:00")
    s.conversation(main, ann, "2026-11-24 10:00:00", "2026-11-24 10:05:00")  # 300 s
    s.conversation(main, ann, "2026-11-24 11:00:00", "2026-11-24 11:01:40")  # 100 s
    s.conversation(second, None, "2026-11-24 11:30:00")
    s.objective("Stored", "conversations", 5, site=main)
    await s.write(database_url)
    settings = Settings(
        objectives=(
            ConfiguredObjective("Daily contacts", "conversations", 40),  # every site
            ConfiguredObjective("Main AHT", "handling_time", 180, site="main"),
            ConfiguredObjective("Ann contacts", "conversations", 10, agent_id=ann),
            ConfiguredObjective("Elsewhere", "conversations", 1, site="nowhere"),
        )
    )

    m = await scrape(database_url, NOW, settings)

    targets = m.table("chat_objective_target", ("site", "objective", "agent_id"))
    assert targets == {
        ("main", "Stored", ""): 5,
        ("main", "Daily contacts", ""): 40,
        ("second", "Daily contacts", ""): 40,
        ("main", "Main AHT", ""): 180,
        ("main", "Ann contacts", str(ann)): 10,  # Ann has series on main only
    }
    values = m.table("chat_objective_value", ("site", "objective", "agent_id"))
    assert values == {
        ("main", "Stored", ""): 2,
        ("main", "Daily contacts", ""): 2,
        ("second", "Daily contacts", ""): 1,
        ("main", "Main AHT", ""): (300 + 100) / 2,
        ("main", "Ann contacts", str(ann)): 2,
    }


async def test_one_series_per_objective_the_most_specific_wins(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    s = Scenario()
    main = s.site("main")
    s.site("second")
    s.objective("Daily", "conversations", 100)  # every site...
    s.objective("Daily", "conversations", 40, site=main)  # ...but main's own
    s.objective("Sales", "turnover", 500, site=main, currency="EUR")  # the database's own...
    await s.write(sqlite_url)
    settings = Settings(
        objectives=(
            ConfiguredObjective("Sales", "turnover", 900, "main"),  # ...over the configuration
            ConfiguredObjective("Calls", "conversations", 7),
            ConfiguredObjective("Calls", "conversations", 8, "second"),
        )
    )

    with caplog.at_level(logging.WARNING, logger="exporter.assembly"):
        m = await scrape(sqlite_url, NOW, settings)  # Metrics refuses duplicate samples
        await scrape(sqlite_url, NOW, settings)

    assert m.table("chat_objective_target", ["site", "objective"]) == {
        ("main", "Daily"): 40,
        ("second", "Daily"): 100,
        ("main", "Sales"): 500,
        ("main", "Calls"): 7,
        ("second", "Calls"): 8,
    }
    assert sorted(r.getMessage() for r in caplog.records) == [
        "objective 'Calls' (conversations) is defined more than once for site 'second': "
        "publishing the most specific one, target 8",
        "objective 'Daily' (conversations) is defined more than once for site 'main': "
        "publishing the most specific one, target 40",
        "objective 'Sales' (turnover) is defined more than once for site 'main': "
        "publishing the most specific one, target 500",
    ]
