"""End to end, with real processes on 127.0.0.1: a scenario in a private PostgreSQL server,
the exporter reading it, Prometheus with the project's own configuration and rules, and
Alertmanager with the project's own routing sending to a local webhook.

What a supervisor sees (every dashboard query returns the scenario's figures), what an
analyst reads (the recording rules), and what the on-call person receives (a long wait for
a reply pages through Alertmanager; a database outage fires its own alert and silences the
site's data alerts) are checked on the same running stack, in that order.

Long-term history: Prometheus also remote-writes what it scrapes to a VictoriaMetrics single
node, and vmalert evaluates the project's rules over that store, recording into it. This is
the deployment where Grafana and the rules read the store, and Prometheus (or any agent)
only collects: Prometheus' remote_write leaves out what its own rules derive, so that the
store's recorded series are vmalert's alone. Every dashboard query, recording rule and alert
gives the same series and values from both, at the same instant; where VictoriaMetrics 1.79
cannot match, the tests assert the exact difference.

Only addresses, ports, paths and the intervals (scrape, evaluation, remote_write's and
vmalert's sending: 15 s or 5 s → 1 s, so that the test takes two minutes, not ten) differ
from the shipped configuration: the rules, their `for` durations and the routing are the
project's files as they are.
"""

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from mixin.settings import DEFAULTS
from tests.grafana import substitute
from tests.servers import Prometheus, eventually
from tests.stack import ALERTS, DASHBOARDS, Stack, running_stack, wait_for_rules

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def values(result: list[dict[str, Any]], *labels: str) -> dict[tuple[str, ...], float]:
    """An instant vector as {label values: value}."""
    return {
        tuple(series["metric"].get(label, "") for label in labels): float(series["value"][1])
        for series in result
    }


def test_recording_rules_compute_the_scenario(stack: Stack) -> None:
    wait_for_rules(stack.prometheus)
    query = stack.prometheus.query

    # Ended: in paris 10 min, 5 min and the abandoned 2 min; in lyon 10 min.
    assert values(query("site:chat_handling_time_seconds:avg_today"), "site") == {
        ("paris",): (600 + 300 + 120) / 3,
        ("lyon",): 600,
    }
    assert values(query("site_agent:chat_handling_time_seconds:avg_today"), "agent") == {
        ("Alice Martin",): 600,
        ("Bob",): 300,
        ("Carol",): 600,
    }
    # One sale out of six conversations in paris, none of two in lyon.
    assert values(query("site:chat_conversion:ratio_today"), "site") == {
        ("paris",): 1 / 6,
        ("lyon",): 0,
    }
    assert values(query("site_agent:chat_conversion:ratio_today"), "agent") == {
        ("Alice Martin",): 0,
        ("Bob",): 1 / 2,
        ("Carol",): 0,
    }
    # Scores: welcome 5 + 2, quality 4 + 1, response_time 3; five ratings, two of them good.
    assert values(query("site:chat_satisfaction_score:avg_today"), "site") == {("paris",): 3}
    assert values(
        query("site_criterion:chat_satisfaction_score:avg_today"), "site", "criterion"
    ) == {("paris", "welcome"): 3.5, ("paris", "quality"): 2.5, ("paris", "response_time"): 3}
    assert values(query("site_agent:chat_satisfaction_score:avg_today"), "agent") == {
        ("Alice Martin",): 4,
        ("Bob",): 1.5,
    }
    assert values(query("site:chat_satisfaction_good:ratio_today"), "site") == {("paris",): 0.4}
    # 10 contacts wanted, 6 so far; Alice's AHT of 600 s against 300 s wanted (inverted); a
    # service level of 3 / 5 (below) against 0.9 wanted.
    assert values(query("objective:chat_objective_progress:ratio"), "objective") == {
        ("daily contacts",): 6 / 10,
        ("Alice's AHT",): 0.5,
        ("answer fast",): (3 / 5) / 0.9,
    }
    # Available agents' slots: Alice 3 with 1 taken in paris (Bob is busy), Carol 2 with 1.
    assert values(query("site:chat_slots:sum"), "site") == {("paris",): 3, ("lyon",): 2}
    assert values(query("site:chat_slots_available:sum"), "site") == {("paris",): 2, ("lyon",): 1}
    # Contacts per presence hour: Alice 2 in 2 h, Bob 2 in 1 h, Carol 2 in 30 min. They stay
    # connected, so presence grows: compare at the time of the query, within the 1 s interval.
    h = (time.time() - stack.started) / 3600
    per_hour = values(query("site_agent:chat_conversations_per_hour:today"), "agent")
    expected = {("Alice Martin",): 2 / (2 + h), ("Bob",): 2 / (1 + h), ("Carol",): 2 / (0.5 + h)}
    assert per_hour == pytest.approx(expected, rel=3e-3)
    per_agent_hour = values(query("site:chat_conversations_per_agent_hour:today"), "site")
    expected = {("paris",): 4 / (3 + 2 * h), ("lyon",): 2 / (0.5 + h)}
    assert per_agent_hour == pytest.approx(expected, rel=3e-3)
    # First responses: Alice 30 s and 60 s, Bob 120 s and 30 s, Carol 120 s.
    assert values(query("site_agent:chat_first_response_seconds:avg_today"), "agent") == {
        ("Alice Martin",): (30 + 60) / 2,
        ("Bob",): (120 + 30) / 2,
        ("Carol",): 120,
    }
    # Everything started within the last hour, and Prometheus holds no figure from an hour
    # ago: the last hour's figures are the day's. Paris: 3 in target out of 4 answered and 1
    # abandoned, 1 abandoned out of 3 ended; lyon: 0 in target out of 1, none abandoned of 1.
    assert values(query("site:chat_conversations:last_hour"), "site") == {
        ("paris",): 6,
        ("lyon",): 2,
    }
    assert values(query("site:chat_service_level:ratio_last_hour"), "site") == {
        ("paris",): 3 / (4 + 1),
        ("lyon",): 0 / (1 + 0),
    }
    assert values(query("site:chat_abandon:ratio_last_hour"), "site") == {
        ("paris",): 1 / 3,
        ("lyon",): 0 / 1,
    }
    # Paris's own objective; lyon the default.
    assert values(query("site:chat_service_level_objective:ratio"), "site") == {
        ("paris",): 0.9,
        ("lyon",): DEFAULTS.service_level_objective,
    }


Labels = frozenset[tuple[str, str]]


def labels(**pairs: str) -> Labels:
    """A label set as a dictionary key."""
    return frozenset(pairs.items())


def paris(**pairs: str) -> Labels:
    return labels(site="paris", **pairs)


def by(label: str, **counts: float) -> dict[Labels, float]:
    """One series per value of ``label``."""
    return {labels(**{label: value}): count for value, count in counts.items()}


def panel_expectations(age: float) -> dict[tuple[str, str], dict[Labels, Any]]:
    """What each target of the supervision dashboard returns for site paris, ``age`` seconds
    after the scenario's instant: {(panel title, refId): {labels: value}}. Targets with
    ``offset 1w`` are listed with the value of their expression without the offset."""
    h = age / 3600

    def grows(seconds: float) -> Any:
        return pytest.approx(seconds + age, abs=3)

    total = labels()
    status = by("status", available=1, busy=1, unavailable=0)
    signals = {paris(signal="handling_duration"): 1, paris(signal="response_time"): 1}
    criteria = {
        paris(criterion="welcome"): (5 + 2) / 2,
        paris(criterion="quality"): (4 + 1) / 2,
        paris(criterion="response_time"): 3,
    }
    alice = paris(agent_id="1", agent="Alice Martin")
    bob = paris(agent_id="2", agent="Bob")
    return {
        ("Agents by status", "A"): status,
        ("Agents online through the day", "A"): status,
        ("Agents online through the day", "B"): {total: 2},
        # Paris: answered c1 in 30 s, c2 in 60 s, c3 in 120 s, c4 in 30 s: 4 answered, 3 of
        # them within the 60 s target, 240 s in all; c5 abandoned; c1, c3 and c5 ended.
        # With one site selected, no "All selected" figure (B).
        # 3 / (4 + 1) = 0.6, below paris' own objective 0.9: red (D), not green (A).
        ("Service level", "A"): {},
        ("Service level", "D"): {paris(): 3 / (4 + 1)},
        ("Service level", "B"): {},
        ("Service level", "C"): {paris(): 0.9},
        ("Speed of answer", "A"): {paris(): (30 + 60 + 120 + 30) / 4},
        ("Speed of answer", "B"): {},
        ("Speed of answer", "C"): {paris(): 60},
        ("Abandon rate", "A"): {paris(): 1 / 3},
        ("Abandon rate", "B"): {},
        ("Answered and abandoned through the day", "A"): {total: 4},
        ("Answered and abandoned through the day", "B"): {total: 1},
        # c1 to c5 and the one waiting, all started within the last hour.
        ("Conversations per hour", "A"): {total: 6},
        ("Conversations per hour", "B"): {total: 6},
        ("Average satisfaction", "A"): {paris(): 3},
        ("Satisfaction by criterion", "A"): criteria,
        ("Share of good ratings", "A"): {paris(): 0.4},
        ("Satisfaction through the day", "A"): {paris(): 3},
        ("Satisfaction through the day", "B"): criteria,
        # Prometheus stores no empty label: a site objective has no agent_id and agent.
        ("Site objectives", "A"): {
            paris(objective="daily contacts", metric="conversations"): 6 / 10,
            paris(objective="answer fast", metric="service_level"): (3 / 5) / 0.9,
        },
        ("Agent objectives", "A"): {
            paris(
                objective="Alice's AHT", metric="handling_time", agent_id="1", agent="Alice Martin"
            ): 0.5
        },
        ("In progress", "A"): by("channel", chat=2, call=0),
        ("Waiting", "A"): by("channel", chat=1, call=0),
        ("Oldest waiting", "A"): {total: grows(120)},
        ("With a signal", "A"): by("signal", handling_duration=1, response_time=1),
        ("Free slots / capacity", "A"): {total: 2},
        ("Free slots / capacity", "B"): {total: 3},
        ("Conversations through the day", "A"): by("channel", chat=2, call=0),
        ("Conversations through the day", "B"): by("channel", chat=1, call=0),
        ("Conversations through the day", "C"): by("channel", chat=2, call=0),
        ("Conversations through the day", "D"): by("channel", chat=1, call=0),
        ("Free slots and forecast", "A"): {total: 2},
        ("Free slots and forecast", "B"): {total: 3},
        ("Free slots and forecast", "C"): {total: 2},  # flat: the forecast is the present
        ("Signals now", "A"): signals,
        ("Signals through the day", "A"): signals,
        ("Signal thresholds", "A"): {
            paris(signal="handling_duration"): 600,
            paris(signal="response_time"): 60,
        },
        ("Agents", "A"): {alice: 1, bob: 2},  # status codes: available, busy
        ("Agents", "M"): {paris(agent_id="2", agent="Bob", reason="back office"): 1},
        ("Agents", "N"): {alice: grows(70 * 60), bob: grows(50 * 60)},
        ("Agents", "B"): {alice: grows(7200), bob: grows(3600)},
        # Alice available 30 min then since 70 min ago; Bob 10 min.
        ("Agents", "O"): {alice: grows(30 * 60 + 70 * 60), bob: 10 * 60},
        # Alice busy 20 min; Bob since 50 min ago.
        ("Agents", "P"): {alice: 20 * 60, bob: grows(50 * 60)},
        ("Agents", "C"): {alice: 2, bob: 2},
        ("Agents", "D"): {alice: 600, bob: 300},
        ("Agents", "E"): {
            alice: pytest.approx(2 / (2 + h), rel=3e-3),
            bob: pytest.approx(2 / (1 + h), rel=3e-3),
        },
        # Alice sold nothing: no turnover series.
        ("Agents", "F"): {paris(agent_id="2", agent="Bob", currency="EUR"): 50},
        ("Agents", "G"): {alice: 0, bob: 1 / 2},
        ("Agents", "H"): {alice: 0, bob: 1},
        ("Agents", "I"): {alice: (5 + 4 + 3) / 3, bob: (2 + 1) / 2},
        ("Agents", "J"): {alice: 1, bob: 1},
        ("Agents", "K"): {alice: 1, bob: 1},
        ("Agents", "L"): {alice: 2, bob: 0},
    }


def dashboard_targets() -> list[tuple[str, str, str]]:
    """(panel title, refId, expression) of every target of the supervision dashboard."""
    dashboard = json.loads((DASHBOARDS / "supervision.json").read_text())
    return [
        (panel["title"], target["refId"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def test_every_dashboard_query_returns_the_scenarios_figures(stack: Stack) -> None:
    wait_for_rules(stack.prometheus)
    targets = dashboard_targets()
    expectations = panel_expectations(time.time() - stack.started)
    assert {(title, ref) for title, ref, _ in targets} == expectations.keys()

    for title, ref, expr in targets:
        query = substitute(expr, "paris")
        if " offset 1w" in query:
            # A new Prometheus has no last week: the overlay is empty; the same figure now
            # has the scenario's value.
            assert stack.prometheus.query(query) == [], (title, ref)
            query = query.replace(" offset 1w", "")
        result = stack.prometheus.query(query)
        got = {
            frozenset(
                (label, value)
                for label, value in series["metric"].items()
                if label not in ("job", "instance", "__name__")
            ): float(series["value"][1])
            for series in result
        }
        assert got == expectations[(title, ref)], (title, ref, query)

    # The site variable offers every site; "All" (.+) also selects lyon.
    sites = stack.prometheus.api("label/site/values", **{"match[]": "chat_conversations_today"})
    assert sites == ["lyon", "paris"]
    everywhere = substitute('sum(chat_conversations_today{site=~"$site"})')
    assert values(stack.prometheus.query(everywhere)) == {(): 6 + 2}
    # Both sites together, from their sums (lyon: c6 answered in 120 s, late; 1 ended; none
    # abandoned), not the mean of the sites' figures (0.3, 90 s, 1/6).
    together = {
        # In target / (answered + abandoned).
        "Service level": (3 + 0) / ((4 + 1) + (1 + 0)),
        # First response seconds / answered.
        "Speed of answer": (240 + 120) / (4 + 1),
        # Abandoned / ended.
        "Abandon rate": (1 + 0) / (3 + 1),
    }
    for title, expr in [(title, expr) for title, ref, expr in targets if ref == "B"]:
        if title in together:
            result = stack.prometheus.query(substitute(expr))
            assert values(result) == {(): together[title]}, title


def answer(server: Prometheus, expr: str, when: float) -> dict[Labels, float]:
    """The instant vector of ``expr`` at ``when``, every label kept, the name too.
    VictoriaMetrics moves an instant closer to now than its -search.latencyOffset back to
    now minus that offset, unless told ``nocache``; Prometheus ignores the parameter."""
    data = server.api("query", query=expr, time=f"{when:.3f}", nocache="1")
    assert data["resultType"] == "vector", (expr, data["resultType"])
    return {
        frozenset(series["metric"].items()): float(series["value"][1]) for series in data["result"]
    }


# VictoriaMetrics stores a value as a decimal of 12 significant digits (lib/decimal,
# conversionPrecision = 1e12), whatever -precisionBits says: a ratio vmalert records, 1/3,
# comes back as 0.333333333333. Figures computed at query time keep float64's precision.
STORED_PRECISION = 1e-11
# vmalert evaluates on data some seconds older than Prometheus does: a sample reaches
# VictoriaMetrics with remote_write's next batch (1 s here), waits in its in-memory buffer
# ("data becomes available for querying in a few seconds after inserting", its README), and a
# query for now reads the store's -search.latencyOffset (1 s) ago, at vmalert's next
# evaluation (1 s). Figures that grow with agents' presence differ by that lag, at most this
# much of the shortest presence, Carol's half hour.
BEHIND = 10.0  # seconds
GROWING = {
    "site_agent:chat_conversations_per_hour:today": BEHIND / (30 * 60),
    "site:chat_conversations_per_agent_hour:today": BEHIND / (30 * 60),
}
# When an agent's status started, for Chatwoot: the first scrape an evaluator saw it in, then
# kept by reading the rule's own previous value. Prometheus reads that value at once; vmalert
# once it has sent it and the store shows it, the same lag again. Until then it records the
# newer scrapes' times, and from then on copies its value of one round trip before: its series
# cycles through what it recorded in its first round trip, within 2 x BEHIND of Prometheus'.
# The rule must take timestamp() of the series selector itself: MetricsQL takes timestamp() of
# anything else over an implicit subquery whose points are aligned to the query's step, 5 min
# in vmalert (MetricsQL.md, "Implicit query conversions"), so timestamp(x == 1) is empty in a
# store younger than that, and a multiple of 5 min afterwards.
FIRST_SEEN = "site_agent_status:chat_agent_status_since:timestamp"


# timestamp( followed by what is not a series selector and its closing parenthesis.
TIMESTAMP_OF_NO_SELECTOR = re.compile(r"timestamp\((?!\s*[a-zA-Z_:][\w:]*\s*(\{[^{}]*\})?\s*\))")


def test_timestamp_is_taken_of_series_selectors() -> None:
    # Every timestamp() of the rules and dashboards takes a series selector (FIRST_SEEN says
    # why). The stack's comparison misses the other form when a 5-minute boundary falls
    # within its tolerance of the start; this catches it every time.
    exprs = [
        rule["expr"]
        for path in ALERTS.glob("*.rules.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]
    exprs += [target for _, _, target in dashboard_targets()]
    assert [expr for expr in exprs if TIMESTAMP_OF_NO_SELECTOR.search(expr)] == []


def tolerance(expr: str) -> float:
    """How far VictoriaMetrics' answer to ``expr`` may be from Prometheus', relatively."""
    return max([STORED_PRECISION] + [rel for name, rel in GROWING.items() if name in expr])


def differences(
    queries: list[str], stack: Stack, when: float
) -> dict[str, tuple[dict[Labels, float], dict[Labels, float]]]:
    """{query: (Prometheus' answer, VictoriaMetrics')} for the queries whose answers at
    ``when`` differ by more than their tolerance, or by their series."""
    found = {}
    for query in queries:
        expected, got = answer(stack.prometheus, query, when), answer(stack.store, query, when)
        approximately = {
            key: pytest.approx(value, rel=tolerance(query), abs=0)
            for key, value in expected.items()
        }
        if got != approximately:
            found[query] = (expected, got)
    return found


def settled(check: Callable[[], dict[str, Any]], seconds: float) -> dict[str, Any]:
    """The differences ``check`` finds, once it finds none or after ``seconds``: samples reach
    VictoriaMetrics a moment after Prometheus, and vmalert's recorded series another after."""
    found: dict[str, Any] = {}

    def none() -> bool:
        nonlocal found
        found = check()
        return not found

    eventually(none, seconds)
    return found


def test_every_dashboard_query_answers_the_same_from_victoriametrics(stack: Stack) -> None:
    wait_for_rules(stack.prometheus)
    wait_for_rules(stack.store)
    # Site paris selected, and All; the last-week overlays (empty on both) as they are.
    queries = sorted(
        {substitute(expr, site) for _, _, expr in dashboard_targets() for site in ("paris", ".+")}
    )
    assert settled(lambda: differences(queries, stack, time.time() - 3), 30) == {}
    # The site variable offers the same sites.
    sites = {"match[]": "chat_conversations_today"}
    assert stack.store.api("label/site/values", **sites) == ["lyon", "paris"]


def rules(kind: str) -> list[dict[str, Any]]:
    """The project's rules of that kind, "record" or "alert", from every rule file."""
    return [
        rule
        for path in sorted(ALERTS.glob("*.rules.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if kind in rule
    ]


def test_the_rules_record_the_same_on_vmalert(stack: Stack) -> None:
    wait_for_rules(stack.store)
    evaluated = stack.vmalert.rules()
    assert sorted(rule["name"] for rule in evaluated) == sorted(
        rule.get("record") or rule["alert"] for rule in rules("record") + rules("alert")
    )
    assert {rule["name"]: rule["lastError"] for rule in evaluated if rule["lastError"]} == {}

    # The store's recorded series are vmalert's alone, one sample an evaluation as in
    # Prometheus: remote_write would otherwise send Prometheus' into the same series, twice
    # as dense. Counted over 20 s that vmalert has had the time to send.
    dense = 'count_over_time(site:chat_slots_available:sum{site="paris"}[20s])'

    def densities() -> dict[str, float]:
        """Both counts, until Prometheus' 20 s are full and the store's count matches."""
        when = time.time() - 5
        prometheus, store = (
            sum(answer(server, dense, when).values()) for server in (stack.prometheus, stack.store)
        )
        if prometheus >= 19 and abs(store - prometheus) <= 1:
            return {}
        return {"Prometheus": prometheus, "store": store}

    assert settled(densities, 30) == {}

    recorded = [f'{{__name__="{rule["record"]}"}}' for rule in rules("record")]
    first_seen = f'{{__name__="{FIRST_SEEN}"}}'
    recorded.remove(first_seen)
    # Every alert's expression too, pending, firing or not.
    expressions = [rule["expr"] for rule in rules("alert")]
    assert settled(lambda: differences(recorded + expressions, stack, time.time() - 3), 30) == {}

    # Prometheus' first sight of each status, and vmalert's, up to two lags later.
    when = time.time() - 3
    prometheus_saw = answer(stack.prometheus, first_seen, when)
    vmalert_saw = answer(stack.store, first_seen, when)
    assert len(prometheus_saw) == 3  # one current status for each agent
    assert vmalert_saw.keys() == prometheus_saw.keys(), "no first sight on vmalert: see FIRST_SEEN"
    for series, seen in prometheus_saw.items():
        assert seen <= vmalert_saw[series] <= seen + 2 * BEHIND, dict(series)


def firing(server: Prometheus, alertname: str) -> list[dict[str, Any]]:
    """The alerts of that name firing in Prometheus now."""
    return [
        alert
        for alert in server.alerts()
        if alert["labels"]["alertname"] == alertname and alert["state"] == "firing"
    ]


def test_a_visitor_waiting_for_a_reply_reaches_the_team_leads(stack: Stack) -> None:
    # Alice's visitor has waited 5 min for a reply (threshold 60 s): the warning fires once
    # it has lasted its `for` of 1 min, for paris only.
    alerts = eventually(lambda: firing(stack.prometheus, "ChatResponseTimeExceeded"), 120)
    [alert] = alerts
    assert alert["labels"] == {
        "alertname": "ChatResponseTimeExceeded",
        "severity": "warning",
        "signal": "response_time",
        "site": "paris",
        "job": "chat",
        "instance": f"127.0.0.1:{stack.exporter.port}",
    }
    assert alert["annotations"] == {
        "summary": "Visitors have waited too long for a reply.",
        "description": "Conversations on site paris whose visitor has waited longer than the "
        "response-time threshold for a reply: 1.",
        "runbook_url": "https://github.com/chat-supervision-exporter/chat-supervision-exporter"
        "/blob/main/docs/runbook.md#chatresponsetimeexceeded",
    }

    def notified() -> list[dict[str, Any]]:
        return [
            notification
            for notification in stack.webhook.received()
            if notification["group"].get("alertname") == "ChatResponseTimeExceeded"
        ]

    # Alertmanager holds a new group for its group_wait (30 s) before it notifies.
    [notification] = eventually(notified, 60)
    assert notification["path"] == "/team-leads"
    assert notification["status"] == "firing"
    assert notification["group"] == {"alertname": "ChatResponseTimeExceeded", "site": "paris"}
    assert [sent["labels"] for sent in notification["alerts"]] == [alert["labels"]]


Alert = tuple[str, Labels, Labels, float]


def alerts_of(listed: list[dict[str, Any]]) -> set[Alert]:
    """Alerts as (state, labels, annotations, value), from Prometheus' or vmalert's API."""
    return {
        (
            alert["state"],
            frozenset(alert["labels"].items()),
            frozenset(alert["annotations"].items()),
            float(alert["value"]),
        )
        for alert in listed
    }


def test_vmalert_fires_the_alerts_prometheus_fires(stack: Stack) -> None:
    # The scenario's alerts: the response-time warning firing (for 1 min), the critical one
    # (10 min) and Alice's handling duration (5 min) pending.
    assert eventually(lambda: firing(stack.prometheus, "ChatResponseTimeExceeded"), 120)

    def apart() -> dict[str, set[Alert]]:
        prometheus = alerts_of(stack.prometheus.alerts())
        vmalert = alerts_of(stack.vmalert.alerts())
        if prometheus == vmalert:
            return {}
        return {"Prometheus only": prometheus - vmalert, "vmalert only": vmalert - prometheus}

    assert settled(apart, 30) == {}
    assert sorted(
        (state, dict(labels)["alertname"], dict(labels)["severity"])
        for state, labels, _, _ in alerts_of(stack.vmalert.alerts())
    ) == [
        ("firing", "ChatResponseTimeExceeded", "warning"),
        ("pending", "ChatHandlingDurationExceeded", "warning"),
        ("pending", "ChatResponseTimeExceeded", "critical"),
    ]


def test_a_database_outage_fires_and_silences_the_sites_data_alerts(stack: Stack) -> None:
    stack.database.stop()

    def held() -> dict[tuple[str, str], dict[str, Any]]:
        """Alertmanager's alerts by name and site, once ChatDatabaseDown is active there."""
        alerts = {
            (alert["labels"]["alertname"], alert["labels"].get("site", "")): alert
            for alert in stack.alertmanager.alerts()
        }
        down = alerts.get(("ChatDatabaseDown", "paris"))
        return alerts if down and down["status"]["state"] == "active" else {}

    # chat_up drops to 0 at the next scrape; the alert fires after its `for` of 1 min.
    alerts = eventually(held, 120)
    assert alerts, "no active ChatDatabaseDown in Alertmanager within 120 s"
    assert stack.prometheus.query("chat_up == 0")
    for site in ("paris", "lyon"):
        down = alerts[("ChatDatabaseDown", site)]
        assert down["labels"]["severity"] == "critical"
        assert down["status"]["state"] == "active"
    # The response-time alert keeps firing through the outage (keep_firing_for), and the
    # outage silences it: nobody is told "resolved" about a figure no longer known.
    signal = alerts[("ChatResponseTimeExceeded", "paris")]
    assert signal["status"]["state"] == "suppressed"
    assert signal["status"]["inhibitedBy"] == [alerts[("ChatDatabaseDown", "paris")]["fingerprint"]]


def test_vmalert_fires_the_outage_but_keeps_no_data_alert_firing(stack: Stack) -> None:
    # After the outage above: vmalert fires ChatDatabaseDown for both sites, as Prometheus does.
    def down() -> set[Alert]:
        return {
            alert
            for alert in alerts_of(stack.vmalert.alerts())
            if ("alertname", "ChatDatabaseDown") in alert[1] and alert[0] == "firing"
        }

    assert eventually(lambda: len(down()) == 2, 60)
    assert down() == alerts_of(firing(stack.prometheus, "ChatDatabaseDown"))
    # The one difference: this vmalert runs the rules without keep_firing_for, which it does
    # not know (tests/victoriametrics.py), so the response-time alert ended with its series,
    # where Prometheus keeps it firing for 3 min under the outage's inhibition.
    assert firing(stack.prometheus, "ChatResponseTimeExceeded")
    names = {dict(labels)["alertname"] for _, labels, _, _ in alerts_of(stack.vmalert.alerts())}
    assert names == {"ChatDatabaseDown"}
