"""Chatwoot: what comes from the configuration (objectives, per-site thresholds, allow-lists),
site names, and the families Chatwoot cannot publish."""

from exporter.settings import ChatwootSettings, ConfiguredObjective, Settings, SiteSignals
from tests.builder import scrape
from tests.chatwoot import Chatwoot

pytest_plugins = ("tests.chatwoot",)

NOW = "2026-11-24 12:00:00"

# Families that need sales or presence history, which Chatwoot does not have.
NOT_PUBLISHED = {
    "chat_transactions_today",
    "chat_turnover_today",
    "chat_conversations_converted_today",
    "chat_agent_transactions_today",
    "chat_agent_turnover_today",
    "chat_agent_conversations_converted_today",
    "chat_agent_presence_seconds_today",
}


async def test_objectives_and_site_thresholds_from_the_configuration(chatwoot_url: str) -> None:
    s = Chatwoot()
    acme = s.account()
    web, support = s.inbox(acme, "Website"), s.inbox(acme, "Support")
    ann, ben = s.agent(acme, "Ann", [web]), s.agent(acme, "Ben", [web])
    o1 = s.conversation(web, ann, "2026-11-24 09:00:00", "resolved", updated="2026-11-24 09:04:00")
    s.csat(o1, 5, "2026-11-24 09:05:00")  # 240 s (no event)
    o2 = s.conversation(web, ann, "2026-11-24 10:00:00", "resolved", updated="2026-11-24 10:30:00")
    s.resolved_event(o2, 360, "2026-11-24 10:30:00")  # 360 s (the event, not 1800)
    s.csat(o2, 4, "2026-11-24 10:31:00")
    # Website's own thresholds: handling 600 s, response 120 s.
    s.conversation(web, ann, "2026-11-24 11:50:00", waiting_since="2026-11-24 11:58:00")  # at both
    s.conversation(
        web, ann, "2026-11-24 11:49:59", waiting_since="2026-11-24 11:57:59"
    )  # past both
    o5 = s.conversation(web, ben, "2026-11-24 10:30:00", "resolved", updated="2026-11-24 10:40:00")
    s.csat(o5, 2, "2026-11-24 10:41:00")  # 600 s
    # Support: handling 500 s of its own, response left to the default 60 s: both signal
    # (601 s > 500 s; waiting 61 s > 60 s). Ben holds it without being a member.
    s.conversation(support, ben, "2026-11-24 11:49:59", waiting_since="2026-11-24 11:58:59")
    await s.write(chatwoot_url)
    settings = Settings(
        site_signals={
            "Website": SiteSignals(handling_seconds=600, response_seconds=120),
            "Support": SiteSignals(handling_seconds=500),
            "Elsewhere": SiteSignals(handling_seconds=1),  # no such site: nothing
        },
        objectives=(
            ConfiguredObjective("Daily", "conversations", 10),  # every site, as a whole
            ConfiguredObjective("AHT", "handling_time", 300, site="Website"),
            ConfiguredObjective("CSAT", "satisfaction", 4, site="Website"),
            ConfiguredObjective("Ann AHT", "handling_time", 200, agent_id=ann),
            ConfiguredObjective("Ben daily", "conversations", 5, agent_id=ben),
            ConfiguredObjective("Sales", "turnover", 100, site="Website", currency="EUR"),
            ConfiguredObjective("Deals", "transactions", 3, site="Website"),
            ConfiguredObjective("Conversion", "conversion_rate", 0.2, site="Website"),
            ConfiguredObjective("Per hour", "conversations_per_hour", 2, site="Website"),
            ConfiguredObjective("Ghost", "conversations", 10, site="Nowhere"),
            ConfiguredObjective("Nobody", "conversations", 1, agent_id=999),
        ),
    )

    m = await scrape(chatwoot_url, NOW, settings, schema="chatwoot")

    assert m.table("chat_signal_threshold_seconds", ("site", "signal")) == {
        ("Website", "handling_duration"): 600, ("Website", "response_time"): 120,
        ("Support", "handling_duration"): 500, ("Support", "response_time"): 60,
    }  # fmt: skip
    assert m.table("chat_conversations_signaled", ("site", "signal")) == {
        ("Website", "handling_duration"): 1, ("Website", "response_time"): 1,
        ("Support", "handling_duration"): 1, ("Support", "response_time"): 1,
    }  # fmt: skip
    assert m.table("chat_agent_signals", ("site", "agent", "signal")) == {
        ("Website", "Ann", "handling_duration"): 1, ("Website", "Ann", "response_time"): 1,
        ("Website", "Ben", "handling_duration"): 0, ("Website", "Ben", "response_time"): 0,
        ("Support", "Ben", "handling_duration"): 1, ("Support", "Ben", "response_time"): 1,
    }  # fmt: skip
    values = {
        (labels["site"], labels["objective"]): m("chat_objective_value", **labels)
        for labels in m.series("chat_objective_value")
    }
    assert values == {
        ("Website", "Daily"): 5,  # o1 o2 o3 o4 o5
        ("Support", "Daily"): 1,
        ("Website", "AHT"): (240 + 360 + 600) / 3,
        ("Website", "CSAT"): (5 + 4 + 2) / 3,
        ("Website", "Ann AHT"): (240 + 360) / 2,  # Ann has series on Website only
        ("Website", "Ben daily"): 1,  # o5
        ("Support", "Ben daily"): 1,  # listed there for his open conversation
    }
    # Sales objectives: the target is published, the value never (not 0).
    targets = {
        (labels["site"], labels["objective"]): m("chat_objective_target", **labels)
        for labels in m.series("chat_objective_target")
    }
    assert targets == {
        ("Website", "Daily"): 10, ("Support", "Daily"): 10,
        ("Website", "AHT"): 300, ("Website", "CSAT"): 4, ("Website", "Ann AHT"): 200,
        ("Website", "Ben daily"): 5, ("Support", "Ben daily"): 5,
        ("Website", "Sales"): 100, ("Website", "Deals"): 3, ("Website", "Conversion"): 0.2,
        ("Website", "Per hour"): 2,
    }  # fmt: skip
    assert m.series("chat_objective_target", objective="Ann AHT") == [
        {"site": "Website", "objective": "Ann AHT", "metric": "handling_time",
         "agent_id": str(ann), "agent": "Ann"},
    ]  # fmt: skip
    assert m.series("chat_objective_target", objective="Daily", site="Website") == [
        {"site": "Website", "objective": "Daily", "metric": "conversations", "agent_id": "",
         "agent": ""},
    ]  # fmt: skip
    assert not NOT_PUBLISHED & m.names()
    assert {"chat_agents", "chat_slots", "chat_satisfaction_score_today"} <= m.names()


def _sites(m_table: dict[tuple[str, ...], float]) -> dict[str, float]:
    return {site: value for (site,), value in m_table.items()}


async def test_allow_lists_and_inboxes_sharing_a_name(chatwoot_url: str) -> None:
    s = Chatwoot()
    one, two, three = s.account("One"), s.account("Two"), s.account("Three")
    inboxes = [
        s.inbox(one, "Website"),  # 1
        s.inbox(one, "Website"),  # 2: same name in the same account
        s.inbox(two, "Website"),  # 3: same name in another account
        s.inbox(two, "Phone"),  # 4
        s.inbox(three, "Shop"),  # 5
    ]
    for count, inbox in enumerate(inboxes, start=1):  # inbox n holds n conversations today
        for minute in range(count):
            s.conversation(inbox, None, f"2026-11-24 11:0{minute}:00", "resolved",
                           updated=f"2026-11-24 11:0{minute}:30")  # fmt: skip
    await s.write(chatwoot_url)

    async def today(
        sites: tuple[str, ...] = (), accounts: tuple[int, ...] = ()
    ) -> dict[str, float]:
        settings = Settings(sites=sites, chatwoot=ChatwootSettings(accounts=accounts))
        m = await scrape(chatwoot_url, NOW, settings, schema="chatwoot")
        return _sites(m.table("chat_conversations_today", ("site",)))

    # signals.sites names a disambiguated inbox by its label.
    settings = Settings(site_signals={"Website #2": SiteSignals(handling_seconds=100)})
    m = await scrape(chatwoot_url, NOW, settings, schema="chatwoot")
    assert _sites(m.table("chat_signal_threshold_seconds", ("site",), signal="handling_duration")) == {
        "Website #1": 1200, "Website #2": 100, "Website #3": 1200, "Phone": 1200, "Shop": 1200,
    }  # fmt: skip

    # Every inbox sharing a name among the selected ones is labelled "<name> #<inbox id>".
    assert await today() == {
        "Website #1": 1, "Website #2": 2, "Website #3": 3, "Phone": 4, "Shop": 5,
    }  # fmt: skip
    assert await today(accounts=(one,)) == {"Website #1": 1, "Website #2": 2}
    # Account Two alone has one Website: no suffix.
    assert await today(accounts=(two,)) == {"Website": 3, "Phone": 4}
    # The sites allow-list names inboxes before disambiguation.
    assert await today(sites=("Website",)) == {"Website #1": 1, "Website #2": 2, "Website #3": 3}
    assert await today(sites=("Phone", "Shop"), accounts=(two,)) == {"Phone": 4}
    assert await today(sites=("Website", "Shop"), accounts=(two, three)) == {
        "Website": 3,
        "Shop": 5,
    }
    assert await today(accounts=(42,)) == {}
