"""Figures derived from today's conversations: counts, handling time, sales, satisfaction."""

from exporter.settings import Settings
from tests.builder import Scenario, scrape

NOW = "2026-11-24 12:00:00"


def _scenario() -> Scenario:
    s = Scenario()
    main, shop = s.site("main"), s.site("shop")
    ann = s.agent("Ann", [main])
    ben = s.agent("Ben", [main])
    bot = s.agent("Bot", [main], bot=True)
    c1 = s.conversation(main, ann, "2026-11-24 09:00:00", "2026-11-24 09:10:00")  # 600 s
    s.transaction(c1, "19.99", "EUR", "2026-11-24 09:05:00")
    s.transaction(c1, "5.01", "EUR", "2026-11-24 09:06:00")
    s.rating(c1, "welcome", 5, "2026-11-24 09:11:00")
    s.rating(c1, "quality", 4, "2026-11-24 09:11:00")
    c2 = s.conversation(main, ann, "2026-11-24 10:00:00", "2026-11-24 10:05:00", channel="call")
    s.transaction(c2, "100.00", "USD", "2026-11-24 10:04:00")  # 300 s
    s.rating(c2, "response_time", 3, "2026-11-24 10:06:00")
    c3 = s.conversation(main, ann, "2026-11-24 11:00:00")  # in progress
    s.rating(c3, "quality", 1, "2026-11-24 11:30:00")
    c4 = s.conversation(main, ben, "2026-11-24 08:00:00", "2026-11-24 08:20:00")  # 1200 s
    s.rating(c4, "welcome", 2, "2026-11-24 08:21:00")
    s.rating(c4, "welcome", 3, "2026-11-24 08:22:00")
    c5 = s.conversation(main, bot, "2026-11-24 07:00:00", "2026-11-24 07:01:00")  # 60 s
    s.transaction(c5, "10.00", "EUR", "2026-11-24 07:00:30")
    s.rating(c5, "quality", 5, "2026-11-24 07:02:00")
    s.conversation(main, None, "2026-11-24 11:58:00")  # waiting
    s.conversation(main, None, "2026-11-24 06:00:00", "2026-11-24 06:05:00")  # abandoned, 300 s
    # Started yesterday: not today's, even with a sale and a rating today.
    y1 = s.conversation(main, ann, "2026-11-23 23:50:00", "2026-11-24 00:10:00")
    s.transaction(y1, "50.00", "EUR", "2026-11-24 00:05:00")
    s.rating(y1, "welcome", 1, "2026-11-24 00:11:00")
    # Ann also served the shop site today.
    c8 = s.conversation(shop, ann, "2026-11-24 09:30:00", "2026-11-24 09:40:00")
    s.transaction(c8, "7.50", "GBP", "2026-11-24 09:35:00")
    return s


async def test_site_day_figures(database_url: str) -> None:
    await _scenario().write(database_url)

    m = await scrape(database_url, NOW)

    assert m("chat_conversations_today", site="main") == 7
    assert m("chat_conversations_ended_today", site="main") == 5
    assert m("chat_handling_time_seconds_today", site="main") == 600 + 300 + 1200 + 60 + 300
    assert m("chat_transactions_today", site="main") == 4
    assert m("chat_conversations_converted_today", site="main") == 3
    assert m.series("chat_turnover_today", site="main") == [
        {"site": "main", "currency": "EUR"},
        {"site": "main", "currency": "USD"},
    ]
    assert m("chat_turnover_today", site="main", currency="EUR") == 35.00  # 19.99 + 5.01 + 10
    assert m("chat_turnover_today", site="main", currency="USD") == 100.00
    assert m("chat_turnover_today", site="shop", currency="GBP") == 7.50
    assert m("chat_satisfaction_score_today", site="main", criterion="welcome") == 5 + 2 + 3
    assert m("chat_satisfaction_score_today", site="main", criterion="response_time") == 3
    assert m("chat_satisfaction_score_today", site="main", criterion="quality") == 4 + 1 + 5
    assert m.table("chat_satisfaction_ratings_today", ("criterion", "rating"), site="main") == {
        ("welcome", "good"): 1, ("welcome", "average"): 1, ("welcome", "poor"): 1,
        ("response_time", "good"): 0, ("response_time", "average"): 1, ("response_time", "poor"): 0,
        ("quality", "good"): 2, ("quality", "average"): 0, ("quality", "poor"): 1,
    }  # fmt: skip
    assert m("chat_conversations_today", site="shop") == 1
    assert m("chat_handling_time_seconds_today", site="shop") == 600


async def test_agent_day_figures(database_url: str) -> None:
    await _scenario().write(database_url)

    m = await scrape(database_url, NOW)
    ann = {"site": "main", "agent_id": "1", "agent": "Ann"}
    ben = {"site": "main", "agent_id": "2", "agent": "Ben"}

    assert m("chat_agent_conversations_today", **ann) == 3
    assert m("chat_agent_conversations_ended_today", **ann) == 2
    assert m("chat_agent_handling_time_seconds_today", **ann) == 600 + 300
    assert m("chat_agent_transactions_today", **ann) == 3
    assert m("chat_agent_conversations_converted_today", **ann) == 2
    assert m("chat_agent_turnover_today", **ann, currency="EUR") == 25.00
    assert m("chat_agent_turnover_today", **ann, currency="USD") == 100.00
    assert m("chat_agent_satisfaction_score_today", **ann, criterion="welcome") == 5
    assert m("chat_agent_satisfaction_score_today", **ann, criterion="response_time") == 3
    assert m("chat_agent_satisfaction_score_today", **ann, criterion="quality") == 4 + 1
    assert m("chat_agent_satisfaction_ratings_today", **ann, criterion="quality") == 2
    assert m("chat_agent_conversations_today", **ben) == 1
    assert m("chat_agent_handling_time_seconds_today", **ben) == 1200
    assert m("chat_agent_transactions_today", **ben) == 0
    assert m.series("chat_agent_turnover_today", agent="Ben") == []
    assert m("chat_agent_satisfaction_score_today", **ben, criterion="welcome") == 5
    assert m("chat_agent_satisfaction_ratings_today", **ben, criterion="welcome") == 2
    assert m("chat_agent_satisfaction_ratings_today", **ben, criterion="quality") == 0
    shop = {"site": "shop", "agent_id": "1", "agent": "Ann"}
    assert m("chat_agent_conversations_today", **shop) == 1
    assert m("chat_agent_turnover_today", **shop, currency="GBP") == 7.50
    assert m.series("chat_agent_conversations_today", agent="Bot") == []


async def test_satisfaction_bucket_bounds_follow_the_configuration(database_url: str) -> None:
    await _scenario().write(database_url)

    m = await scrape(database_url, NOW, Settings(good_min=5, poor_max=3))

    assert m.table("chat_satisfaction_ratings_today", ("criterion", "rating"), site="main") == {
        ("welcome", "good"): 1, ("welcome", "average"): 0, ("welcome", "poor"): 2,
        ("response_time", "good"): 0, ("response_time", "average"): 0, ("response_time", "poor"): 1,
        ("quality", "good"): 1, ("quality", "average"): 1, ("quality", "poor"): 1,
    }  # fmt: skip


async def test_site_totals_are_summed_exactly_where_the_database_is_exact(
    database_url: str,
) -> None:
    # Handling times of 0.1 s and 0.2 s: as doubles they add up to 0.30000000000000004,
    # in whichever order; PostgreSQL and MariaDB sum the exact seconds, then send 0.3.
    # SQLite's seconds are doubles already.
    s = Scenario()
    main = s.site("main")
    ann, ben = s.agent("Ann", [main]), s.agent("Ben", [main])
    s.conversation(main, ann, "2026-11-24 10:00:00", "2026-11-24 10:00:00.1")
    s.conversation(main, ben, "2026-11-24 10:00:00", "2026-11-24 10:00:00.2")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    assert (
        m("chat_agent_handling_time_seconds_today", site="main", agent_id="1", agent="Ann") == 0.1
    )
    assert (
        m("chat_agent_handling_time_seconds_today", site="main", agent_id="2", agent="Ben") == 0.2
    )
    exact = not database_url.startswith("sqlite")
    assert m("chat_handling_time_seconds_today", site="main") == (0.3 if exact else 0.1 + 0.2)


async def test_first_responses_are_summed_exactly_where_the_database_is_exact(
    database_url: str,
) -> None:
    # First responses after 0.1 s and 0.2 s, the same agent's: 0.3 on PostgreSQL and
    # MariaDB, whatever the order of the rows (as doubles, 0.30000000000000004).
    s = Scenario()
    main = s.site("main")
    ann = s.agent("Ann", [main])
    for reply in ("10:00:00.1", "10:00:00.2"):
        conversation = s.conversation(main, ann, "2026-11-24 10:00:00")
        s.message(conversation, "agent", f"2026-11-24 {reply}")
    await s.write(database_url)

    m = await scrape(database_url, NOW)

    exact = not database_url.startswith("sqlite")
    expected = 0.3 if exact else 0.1 + 0.2
    assert m("chat_first_response_seconds_today", site="main") == expected
    assert (
        m("chat_agent_first_response_seconds_today", site="main", agent_id="1", agent="Ann")
        == expected
    )
