"""The dashboards and Grafana's provisioning, proven by their structure (no Grafana runs here).

The committed JSON is what the generator writes; it is classic dashboard JSON that the SDK
reads back without losing a key; the rules of grafana/dashboard-linter hold (reimplemented
here, the linter being a Go binary); every PromQL expression parses (promtool) and filters on
the job and the selected sites, rendered for the job chat and for another; the queries that
are more than a lookup (agent status, turnover, time in status, the service figures of
several sites) return hand-computed figures under promtool, for either job, with the other
job's series beside, which change nothing;
the agent table is wired as Grafana's transformations need; every uid a dashboard names is
provisioned; and the drill-down's SQL, on the reference schema and on
Chatwoot's, returns the right rows from a real PostgreSQL server.
"""

import asyncio
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard
from sqlalchemy import text

import alerts
from dashboards import (
    CHATWOOT_JSON_DIRECTORY,
    CONFIG_MAPS_FILE,
    JSON_DIRECTORY,
    agent_table,
    generate,
    live_conversations,
    render,
    supervision,
)
from dashboards.__main__ import main
from exporter.collector import AGENT_METRICS, HEALTH_METRICS, OBJECTIVE_METRICS, SITE_METRICS
from exporter.database import create_engine, read_only
from mixin.generator import KUBERNETES_BASE, stale
from mixin.settings import DEFAULTS
from tests.builder import Scenario, reset_schema
from tests.chatwoot import VOICE, Chatwoot
from tests.conftest import server_url
from tests.grafana import expand, grafana_sql, sqlstring, substitute
from tests.promql import JOBS, other_job, selectors
from tests.servers import installed, succeeds

pytest_plugins = ("tests.chatwoot",)

ROOT = Path(__file__).resolve().parent.parent
PROVISIONING = ROOT / "provisioning"
PROMETHEUS_CONFIG = ROOT / "alerts" / "prometheus.yml"

Json = dict[str, Any]

COMPOSE: Json = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _load(path: Path) -> Json:
    board: Json = json.loads(path.read_text(encoding="utf-8"))
    return board


# The dashboards for the reference schema, and every dashboard file (the Chatwoot one too).
BOARDS = {path.name: _load(path) for path in sorted(JSON_DIRECTORY.glob("*.json"))}
CHATWOOT_LIVE = _load(CHATWOOT_JSON_DIRECTORY / "live-conversations.json")
EVERY_BOARD = {**BOARDS, "chatwoot/live-conversations.json": CHATWOOT_LIVE}
SUPERVISION = BOARDS["supervision.json"]
LIVE = BOARDS["live-conversations.json"]
# Each variant of the drill-down with the flavour it is built from.
DRILL_DOWNS = {
    "reference": (LIVE, live_conversations.REFERENCE),
    "chatwoot": (CHATWOOT_LIVE, live_conversations.CHATWOOT),
}
PROMETHEUS_REF = {"type": "prometheus", "uid": "${datasource}"}
DATABASE_REF = {"type": "grafana-postgresql-datasource", "uid": "chat-database"}

# The supervision page: its rows in order, and the panels under each.
ROWS = {
    "Online agents": ["Agents by status", "Agents online through the day"],
    "Service": [
        "Service level",
        "Speed of answer",
        "Abandon rate",
        "Answered and abandoned through the day",
        "Conversations per hour",
    ],
    "Satisfaction": [
        "Average satisfaction",
        "Satisfaction by criterion",
        "Share of good ratings",
        "Satisfaction through the day",
    ],
    "Objectives": ["Site objectives", "Agent objectives"],
    "Visitors in chat or call": [
        "In progress",
        "Waiting",
        "Oldest waiting",
        "With a signal",
        "Free slots / capacity",
        "Conversations through the day",
        "Free slots and forecast",
    ],
    "Signals": ["Signals now", "Signals through the day", "Signal thresholds"],
    "Agents": ["Agents"],
}
AGENT_COLUMNS = [
    "Site",
    "Agent",
    "Status",
    "Reason",
    "In status for",
    "Presence",
    "Available today",
    "Busy today",
    "Contacts",
    "AHT",
    "Contacts/H",
    "T/O",
    "Currency",
    "Conv. rate",
    "Transactions",
    "Satisfaction",
    "In progress (this site)",
    "All sites",
    "Signals",
]
SATISFACTION_STEPS = [
    {"color": "red", "value": None},
    {"color": "orange", "value": 2.5},
    {"color": "green", "value": 3.5},
]


def _panels(board: Json) -> list[Json]:
    """The panels that show data (rows excluded)."""
    return [panel for panel in board["panels"] if panel["type"] != "row"]


def _panel(board: Json, title: str) -> Json:
    (found,) = [panel for panel in _panels(board) if panel["title"] == title]
    return found


def _prometheus_targets(board: Json) -> Iterator[Json]:
    for panel in _panels(board):
        for query in panel["targets"]:
            if query["datasource"]["type"] == "prometheus":
                yield query


def _overrides(panel: Json, name: str) -> dict[str, Any]:
    """The override properties of the field ``name``, by property id."""
    return {
        prop["id"]: prop.get("value")
        for override in panel["fieldConfig"]["overrides"]
        if override["matcher"] == {"id": "byName", "options": name}
        for prop in override["properties"]
    }


def _walk(value: object) -> Iterator[tuple[str, object]]:
    """Every (key, value) pair of a JSON document, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _key_paths(value: object, path: str = "") -> set[str]:
    """The path of every key of a JSON document (list items by index)."""
    if isinstance(value, dict):
        return {f"{path}.{key}" for key in value} | {
            deeper for key, item in value.items() for deeper in _key_paths(item, f"{path}.{key}")
        }
    if isinstance(value, list):
        return {
            deeper for i, item in enumerate(value) for deeper in _key_paths(item, f"{path}[{i}]")
        }
    return set()


# The generator


def test_the_committed_json_is_what_the_generator_writes() -> None:
    generated = generate()
    json_files = [*JSON_DIRECTORY.rglob("*.json"), *CHATWOOT_JSON_DIRECTORY.rglob("*.json")]
    assert sorted(generated) == sorted([*json_files, KUBERNETES_BASE / CONFIG_MAPS_FILE])
    assert stale(generated) == [], "run: python -m dashboards"
    assert main(["--check"]) == 0
    for content in (generated[path] for path in json_files):
        assert content.endswith("}\n")
        assert (
            json.dumps(json.loads(content), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
            == content
        )


def test_check_names_stale_and_missing_files(tmp_path: Path) -> None:
    current, changed, missing = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    current.write_text("{}\n")
    changed.write_text("{}\n")
    assert stale({current: "{}\n", changed: '{"x": 1}\n', missing: "{}\n"}) == [changed, missing]


# Classic JSON, as Grafana's file provisioning loads it


@pytest.mark.parametrize("name", sorted(EVERY_BOARD))
def test_classic_dashboard_json(name: str) -> None:
    board = EVERY_BOARD[name]
    assert isinstance(board["schemaVersion"], int)
    assert board["schemaVersion"] in (41, 42)
    assert isinstance(board["panels"], list)
    assert isinstance(board["templating"]["list"], list)
    assert not {"elements", "layout", "apiVersion", "kind", "spec", "id"} & set(board)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", board["uid"])
    assert board["title"]
    assert board["tags"] == ["chat"]
    assert board["editable"] is False
    assert board["refresh"] == "30s"
    assert "30s" in board["timepicker"]["refresh_intervals"]
    assert board["time"] == {"from": "now/d", "to": "now"}
    assert board["timezone"] == "browser"
    titles = [panel["title"] for panel in _panels(board)]
    assert len(titles) == len(set(titles))
    ids = [panel["id"] for panel in board["panels"]]
    assert ids == list(range(1, len(ids) + 1))


def test_dashboard_uids_and_titles_are_unique() -> None:
    assert len({board["uid"] for board in BOARDS.values()}) == len(BOARDS)
    assert len({board["title"] for board in BOARDS.values()}) == len(BOARDS)
    assert SUPERVISION["uid"] == "chat-supervision"
    assert SUPERVISION["title"] == "Chat supervision"
    assert LIVE["uid"] == "chat-live-conversations"
    assert LIVE["title"] == "Live conversations"


@pytest.mark.parametrize("name", sorted(EVERY_BOARD))
def test_the_sdk_reads_every_key_back(name: str) -> None:
    """The SDK drops keys it does not know: a misspelt option would disappear here."""
    register_default_plugins()
    board = EVERY_BOARD[name]
    again = json.loads(JSONEncoder().encode(Dashboard.from_json(board)))
    assert _key_paths(board) - _key_paths(again) == set()
    assert again == board


# dashboard-linter's rules


def test_the_datasource_variable() -> None:
    (variable,) = [v for v in SUPERVISION["templating"]["list"] if v["type"] == "datasource"]
    assert variable["name"] == "datasource"
    assert variable["label"] == "Data source"
    assert variable["query"] == "prometheus"
    assert variable["current"]["value"] == "chat-prometheus"


def test_the_site_variable() -> None:
    (variable,) = [v for v in SUPERVISION["templating"]["list"] if v["name"] == "site"]
    assert variable["type"] == "query"
    assert variable["datasource"] == PROMETHEUS_REF
    assert variable["query"] == 'label_values(chat_conversations_today{job="chat"}, site)'
    assert variable["refresh"] == 2
    assert variable["multi"] is True
    assert variable["includeAll"] is True
    assert variable["allValue"] == ".+"


@pytest.mark.parametrize("panel", _panels(SUPERVISION), ids=lambda panel: panel["title"])
def test_every_supervision_panel(panel: Json) -> None:
    assert panel["title"]
    assert panel["description"].endswith(".")
    assert panel["datasource"] == PROMETHEUS_REF
    assert panel["targets"]
    defaults = panel["fieldConfig"]["defaults"] if "fieldConfig" in panel else {}
    assert defaults.get("unit") or defaults.get("mappings"), "a unit, or value mappings"
    refs = [query["refId"] for query in panel["targets"]]
    assert len(refs) == len(set(refs))
    for query in panel["targets"]:
        assert query["datasource"] == PROMETHEUS_REF
        assert query["expr"]
        assert query["instant"] != query["range"]


@pytest.mark.parametrize(
    ("variant", "title"),
    [(variant, panel["title"]) for variant in DRILL_DOWNS for panel in _panels(LIVE)],
)
def test_every_drill_down_panel(variant: str, title: str) -> None:
    board, flavour = DRILL_DOWNS[variant]
    panel = _panel(board, title)
    assert panel["description"].endswith(".")
    assert panel["datasource"] == DATABASE_REF
    assert panel["fieldConfig"]["defaults"]["unit"]
    (query,) = panel["targets"]
    assert query == {
        "datasource": DATABASE_REF,
        "editorMode": "code",
        "format": "table",
        "rawQuery": True,
        "rawSql": flavour.conversations_sql,
        "refId": "A",
    }


def _placeholders(value: object, texts: dict[str, str]) -> object:
    """``value`` with every occurrence of each of ``texts``' values replaced by ``<key>``."""
    if isinstance(value, dict):
        return {key: _placeholders(item, texts) for key, item in value.items()}
    if isinstance(value, list):
        return [_placeholders(item, texts) for item in value]
    if isinstance(value, str):
        for key, text_ in texts.items():
            value = value.replace(text_, f"<{key}>")
    return value


def test_the_chatwoot_drill_down_differs_only_by_its_flavour() -> None:
    """The same dashboard once the texts of each flavour are put aside, and each of them used."""
    reference = _placeholders(LIVE, asdict(live_conversations.REFERENCE))
    chatwoot = _placeholders(CHATWOOT_LIVE, asdict(live_conversations.CHATWOOT))
    assert chatwoot == reference
    rendered = json.dumps(chatwoot)
    for field in asdict(live_conversations.CHATWOOT):
        assert f"<{field}>" in rendered, field
    for field, text_ in asdict(live_conversations.REFERENCE).items():
        assert text_ != getattr(live_conversations.CHATWOOT, field), field


# PromQL: parsed by promtool, checked selector by selector


@cache
def _supervision(job: str) -> Json:
    """The supervision dashboard rendered for ``job``'s settings (the live conversations
    one has no Prometheus query)."""
    board: Json = json.loads(render(supervision.build(JOBS[job])))
    return board


def _expressions(job: str = "chat") -> list[str]:
    """Every PromQL expression of the dashboards for ``job``, with the site variable's
    metric selector."""
    board = _supervision(job)
    (site,) = [v for v in board["templating"]["list"] if v["name"] == "site"]
    label_values = re.fullmatch(r"label_values\((.+), site\)", site["query"])
    assert label_values is not None
    return [label_values.group(1)] + [query["expr"] for query in _prometheus_targets(board)]


def test_only_the_supervision_dashboard_queries_prometheus() -> None:
    assert [name for name, board in EVERY_BOARD.items() if any(_prometheus_targets(board))] == [
        "supervision.json"
    ]
    assert _supervision("chat") == SUPERVISION


def test_the_selector_reader() -> None:
    assert selectors('sum by (site) (a{site=~"$site"}) / on (site) group_left b offset 1w') == [
        ("a", {("site", "=~", "$site")}),
        ("b", set()),
    ]
    assert selectors('max(x{agent="site=~\\"$site\\"", site!="y"}[5m])') == [
        ("x", {("agent", "=", 'site=~\\"$site\\"'), ("site", "!=", "y")})
    ]
    assert selectors("count by (a) (b) and sum without (c) (rate(d[1m]))") == [
        ("b", set()),
        ("d", set()),
    ]


@pytest.mark.parametrize("job", JOBS)
def test_every_expression_parses(job: str, tmp_path: Path) -> None:
    promtool = installed("promtool")
    rules = [
        {"record": f"dashboard:query_{number}", "expr": substitute(expr)}
        for number, expr in enumerate(_expressions(job))
    ]
    path = tmp_path / "queries.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    succeeds(promtool, "check", "rules", str(path))


@pytest.mark.parametrize("job", JOBS)
def test_every_selector_filters_on_the_job_and_the_selected_sites(job: str) -> None:
    """The site variable's query on the job only; every panel's on the job and the sites."""
    (site_query, *queries) = _expressions(job)
    assert selectors(site_query) == [("chat_conversations_today", {("job", "=", job)})]
    assert len(queries) == sum(1 for _ in _prometheus_targets(SUPERVISION))
    for expr in queries:
        found = selectors(expr)
        assert found, expr
        for metric, matchers in found:
            assert ("site", "=~", "$site") in matchers, f"{metric} in {expr}"
            jobs = {matcher for matcher in matchers if matcher[0] == "job"}
            assert jobs == {("job", "=", job)}, f"{metric} in {expr}"


def _published() -> set[str]:
    specs = [spec for spec, _ in (*SITE_METRICS, *AGENT_METRICS, *OBJECTIVE_METRICS)]
    return {spec.name for spec in [*specs, *HEALTH_METRICS]}


def _recorded() -> set[str]:
    rules = yaml.safe_load((alerts.DIRECTORY / alerts.RECORDING_FILE).read_text())
    return {rule["record"] for group in rules["groups"] for rule in group["rules"]}


def test_every_metric_is_published_or_recorded() -> None:
    known = _published() | _recorded()
    used = {metric for expr in _expressions() for metric, _ in selectors(expr)}
    assert used - known == set()


def test_rates_use_the_rate_interval() -> None:
    for expr in _expressions():
        for match in re.finditer(r"\b(?:rate|irate|increase)\s*\(", expr):
            assert "[$__rate_interval]" in expr[match.end() :], expr


Samples = list[tuple[str, float]]


def _in_jobs(series: dict[str, float | str], job: str) -> dict[str, float | str]:
    """``series`` in ``job`` (those without a job label are given it), and each again in the
    other job with another value, which must change nothing."""
    own = {
        name if 'job="' in name else name.replace("{", f'{{job="{job}",', 1): values
        for name, values in series.items()
    }
    other = {
        name.replace(f'job="{job}"', f'job="{other_job(job)}"'): "7x20"
        for name in own
        if f'job="{job}"' in name
    }
    assert len(other) == len(own)
    return own | other


def _promtool_test(
    tmp_path: Path,
    job: str,
    series: dict[str, float | str],
    expected: dict[str, Samples],
    *,
    at: str = "0m",
    rule_files: Sequence[Path] = (),
) -> None:
    """promtool's unit test: ``series`` of ``job`` (values in promtool's notation, one a
    minute from 0) beside the other job's, and the samples each expression of ``expected``
    returns at ``at``, labels written as promtool prints them (an empty list: none)."""
    tests = {
        "rule_files": [str(path) for path in rule_files],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": s, "values": str(v)} for s, v in _in_jobs(series, job).items()
                ],
                "promql_expr_test": [
                    {
                        "expr": expr,
                        "eval_time": at,
                        "exp_samples": [{"labels": labels, "value": v} for labels, v in samples],
                    }
                    for expr, samples in expected.items()
                ],
            }
        ],
    }
    (tmp_path / "tests.yml").write_text(json.dumps(tests))
    succeeds(installed("promtool"), "test", "rules", str(tmp_path / "tests.yml"))


@pytest.mark.parametrize("job", JOBS)
def test_the_agent_status_and_turnover_columns(job: str, tmp_path: Path) -> None:
    """The two agent-table columns that are more than a lookup, on hand-written series."""
    ann, bob, eve = (
        f'site="s",agent_id="{i}",agent="{name}"'
        for i, name in ((1, "Ann"), (2, "Bob"), (3, "Eve"))
    )
    series: dict[str, float | str] = {
        f'chat_agent_status{{{ann},status="available"}}': 0,
        f'chat_agent_status{{{ann},status="busy"}}': 1,
        f'chat_agent_status{{{ann},status="unavailable"}}': 0,
        f'chat_agent_status{{{bob},status="available"}}': 0,
        f'chat_agent_status{{{bob},status="busy"}}': 0,
        f'chat_agent_status{{{bob},status="unavailable"}}': 0,
        f'chat_agent_status{{{bob},status="away"}}': 1,
        'chat_agent_status{site="t",agent_id="1",agent="Ann",status="unavailable"}': 1,
        f'chat_agent_turnover_today{{{ann},currency="EUR"}}': 120.5,
        f'chat_agent_turnover_today{{{bob},currency="EUR"}}': 10,
        f'chat_agent_turnover_today{{{bob},currency="USD"}}': 20,
        f'chat_agent_turnover_today{{{eve},currency="USD"}}': 0,
    }
    expected: dict[str, list[tuple[str, float]]] = {
        "A": [(ann, 2), (bob, 0), ('site="t",agent_id="1",agent="Ann"', 3)],
        # Bob sold in two currencies: no turnover; the others' with their currency.
        "F": [(f'{ann},currency="EUR"', 120.5), (f'{eve},currency="USD"', 0)],
    }
    columns = {column.ref_id: column.expr for column in agent_table.columns(JOBS[job])}
    _promtool_test(
        tmp_path,
        job,
        series,
        {
            substitute(columns[ref_id]): [(f"{{{labels}}}", v) for labels, v in samples]
            for ref_id, samples in expected.items()
        },
    )


@pytest.mark.parametrize("job", JOBS)
def test_the_time_in_status_columns(job: str, tmp_path: Path) -> None:
    """The exporter's figures where it publishes them (Ann, the reference schema), else
    Prometheus' own record of chat_agent_status (Bob, Chatwoot), with the dashboard's range
    (1d in the test); at 9 min, time() is 540."""
    ann, bob = (f'site="s",agent_id="{i}",agent="{name}"' for i, name in ((1, "Ann"), (2, "Bob")))
    series: dict[str, float | str] = {
        # Ann: the exact figures, and a record of her own that they win over.
        f"chat_agent_status_since_timestamp_seconds{{{ann}}}": "100x10",
        f'chat_agent_status_seconds_today{{{ann},status="available"}}': "1234x10",
        f'chat_agent_status_seconds_today{{{ann},status="busy"}}': "56x10",
        f'site_agent_status:chat_agent_status_since:timestamp{{{ann},status="available"}}': "300x10",
        f'chat_agent_status{{{ann},status="available"}}': "1x10",
        f'chat_agent_status{{{ann},status="busy"}}': "0x10",
        # Bob: available at 0, 1 and 2 min, disconnected at 3 min (the series go stale, as
        # Prometheus marks them when they leave a scrape), back busy from 5 min, first seen
        # busy at 5 min (300 s) by the recording rule.
        f'chat_agent_status{{{bob},status="available"}}': "1 1 1 stale _ 0x5",
        f'chat_agent_status{{{bob},status="busy"}}': "0 0 0 stale _ 1x5",
        f'site_agent_status:chat_agent_status_since:timestamp{{{bob},status="busy"}}': (
            "_ _ _ _ _ 300x5"
        ),
    }
    columns = {column.name: column.expr for column in agent_table.columns(JOBS[job])}
    expected: dict[str, list[tuple[str, float]]] = {
        # Ann 540 - 100; Bob 540 - 300.
        "In status for": [(ann, 440), (bob, 240)],
        # Bob: available at the minutes 0, 1 and 2 out of 0..9: 3 x 60 (not the two minutes
        # disconnected); busy at the minutes 5..9: 5 x 60.
        "Available today": [(ann, 1234), (bob, 180)],
        "Busy today": [(ann, 56), (bob, 300)],
    }
    _promtool_test(
        tmp_path,
        job,
        series,
        {
            substitute(columns[name]): [(f"{{{labels}}}", v) for labels, v in samples]
            for name, samples in expected.items()
        },
        at="9m",
    )


def _targets(job: str, title: str) -> dict[str, str]:
    """A supervision panel's expressions for ``job`` by refId."""
    return {query["refId"]: query["expr"] for query in _panel(_supervision(job), title)["targets"]}


@pytest.mark.parametrize("job", JOBS)
def test_the_service_row_computes_several_sites_from_their_sums(job: str, tmp_path: Path) -> None:
    """Each site's figure from the recording rules, and that of the selected sites together as
    a ratio of their sums, shown only when they are several. Sites a and b are of very
    different sizes: the mean of their ratios would be far off (service level
    (0.81 + 0.9) / 2 = 0.855 against 90 / 110 = 0.818). Each site's figure is split by its
    objective: a (0.81) is below its own 0.9 though above the default 0.8; b (0.9) is above
    the default."""
    a, b = (f'job="{job}",instance="e:1",site="{site}"' for site in "ab")
    figures = {
        "chat_conversations_answered_today": (90, 9),
        "chat_conversations_answered_in_target_today": (81, 9),
        "chat_conversations_abandoned_today": (10, 1),
        "chat_conversations_ended_today": (100, 5),
        "chat_first_response_seconds_today": (90 * 20, 9 * 100),
        "chat_service_level_target_seconds": (30, 60),
        "chat_conversations_today": (120, 12),
    }
    # Each figure steady from 0 to 10 min.
    series: dict[str, float | str] = {
        f"{metric}{{{site}}}": f"{value}x10"
        for metric, values in figures.items()
        for site, value in zip((a, b), values, strict=True)
    }
    # Site a has a service-level objective of its own; b has the default.
    series[f'chat_objective_target{{{a},objective="fast",metric="service_level"}}'] = "0.9x10"

    def per_site(name: str, value_a: float, value_b: float) -> Samples:
        return [(f"{name}{{{a}}}", value_a), (f"{name}{{{b}}}", value_b)]

    level, speed, abandon = (
        _targets(job, title) for title in ("Service level", "Speed of answer", "Abandon rate")
    )
    answered = _targets(job, "Answered and abandoned through the day")
    per_hour = _targets(job, "Conversations per hour")
    expected: dict[str, Samples] = {
        # In target / (answered + abandoned).
        # At or above the site's objective (green), below it (red).
        level["A"]: [(f"site:chat_service_level:ratio_today{{{b}}}", 9 / (9 + 1))],
        level["D"]: [(f"site:chat_service_level:ratio_today{{{a}}}", 81 / (90 + 10))],
        level["B"]: [("{}", (81 + 9) / ((90 + 9) + (10 + 1)))],
        level["C"]: per_site(
            "site:chat_service_level_objective:ratio", 0.9, DEFAULTS.service_level_objective
        ),
        # First response seconds / answered.
        speed["A"]: per_site("site:chat_first_response_seconds:avg_today", 20, 100),
        speed["B"]: [("{}", (90 * 20 + 9 * 100) / (90 + 9))],
        speed["C"]: per_site("chat_service_level_target_seconds", 30, 60),
        # Abandoned / ended.
        abandon["A"]: per_site("site:chat_abandon:ratio_today", 10 / 100, 1 / 5),
        abandon["B"]: [("{}", (10 + 1) / (100 + 5))],
        answered["A"]: [("{}", 90 + 9)],
        answered["B"]: [("{}", 10 + 1)],
        # No figure an hour before: the day's conversations so far.
        per_hour["A"]: [("{}", 120 + 12)],
        per_hour["B"]: [],
    }
    everything = {substitute(expr): samples for expr, samples in expected.items()}
    # Site a alone: its own figures, and no second figure for the selection.
    alone = {
        substitute(level["D"], "a"): [(f"site:chat_service_level:ratio_today{{{a}}}", 81 / 100)],
        **{substitute(panel["B"], "a"): [] for panel in (level, speed, abandon)},
    }
    rules = alerts.generate(JOBS[job], tmp_path)
    recording_rules = tmp_path / alerts.RECORDING_FILE
    recording_rules.write_text(rules[recording_rules])
    _promtool_test(tmp_path, job, series, everything | alone, at="5m", rule_files=[recording_rules])


def test_the_service_panels() -> None:
    level = _panel(SUPERVISION, "Service level")
    defaults = level["fieldConfig"]["defaults"]
    assert (defaults["unit"], defaults["decimals"]) == ("percentunit", 0)
    # Green at or above the default objective (Grafana colours a value >= a step's value).
    assert defaults["thresholds"]["steps"] == [
        {"color": "red", "value": None},
        {"color": "green", "value": DEFAULTS.service_level_objective},
    ]
    assert f"{DEFAULTS.service_level_objective:.0%}" in level["description"]
    for title, unit in (("Speed of answer", "s"), ("Abandon rate", "percentunit")):
        assert _panel(SUPERVISION, title)["fieldConfig"]["defaults"]["unit"] == unit
    # The objective and the target, reference values, in blue; a site's service level green
    # at or above its objective (query A), red below (query D).
    colours = {
        "Service level": {"A": "green", "C": "blue", "D": "red"},
        "Speed of answer": {"C": "blue"},
    }
    for title, expected in colours.items():
        overrides = _panel(SUPERVISION, title)["fieldConfig"]["overrides"]
        assert {o["matcher"]["id"] for o in overrides} == {"byFrameRefID"}
        assert {o["matcher"]["options"]: o["properties"] for o in overrides} == {
            ref_id: [{"id": "color", "value": {"fixedColor": colour, "mode": "fixed"}}]
            for ref_id, colour in expected.items()
        }
    # Grafana shows the figures in the order of the queries: each site's, all selected, and
    # only then the reference values.
    for title in ("Service level", "Speed of answer", "Abandon rate"):
        legends = [query["legendFormat"] for query in _panel(SUPERVISION, title)["targets"]]
        figures = legends.index("All selected")
        assert set(legends[:figures]) == {"{{site}}"}, title
        assert all(" · " in legend for legend in legends[figures + 1 :]), title


# The grid


@pytest.mark.parametrize("name", sorted(EVERY_BOARD))
def test_panels_fit_the_grid_without_overlapping(name: str) -> None:
    boxes = []
    for panel in EVERY_BOARD[name]["panels"]:
        grid = panel["gridPos"]
        assert 0 < grid["w"] <= 24, panel["title"]
        assert grid["h"] > 0, panel["title"]
        assert 0 <= grid["x"] <= 24 - grid["w"], panel["title"]
        assert grid["y"] >= 0, panel["title"]
        if panel["type"] == "row":
            assert (grid["x"], grid["w"], grid["h"]) == (0, 24, 1)
            assert panel["collapsed"] is False
            assert panel["panels"] == []
        boxes.append(
            (panel["title"], grid["x"], grid["y"], grid["x"] + grid["w"], grid["y"] + grid["h"])
        )
    for index, (title, left, top, right, bottom) in enumerate(boxes):
        for other, left2, top2, right2, bottom2 in boxes[index + 1 :]:
            apart = right <= left2 or right2 <= left or bottom <= top2 or bottom2 <= top
            assert apart, f"{title} overlaps {other}"


def test_the_rows_in_order_with_their_panels() -> None:
    rows: dict[str, list[str]] = {}
    ordered = sorted(SUPERVISION["panels"], key=lambda p: (p["gridPos"]["y"], p["gridPos"]["x"]))
    assert ordered[0]["type"] == "row"
    for panel in ordered:
        if panel["type"] == "row":
            current = rows.setdefault(panel["title"], [])
        else:
            current.append(panel["title"])
    assert rows == ROWS
    assert list(rows) == list(ROWS)


# The agent table

AGENTS = _panel(SUPERVISION, "Agents")


def test_agent_table_queries_are_instant_tables_with_the_same_labels() -> None:
    """Every query, and each side of an ``exact or recorded`` one, is reduced to the labels
    the rows merge on; the reason's query keeps its label, which is the column."""
    assert AGENTS["type"] == "table"
    labelled = {
        column.ref_id: column.label for column in agent_table.columns(DEFAULTS) if column.label
    }
    assert labelled == {"M": "reason", "F": "currency"}
    for query in AGENTS["targets"]:
        assert (query["format"], query["instant"], query["range"]) == ("table", True, False)
        extra = f", {labelled[query['refId']]}" if query["refId"] in labelled else ""
        for side in re.split(r" or (?=(?:max|sum) by )", query["expr"]):
            assert re.match(rf"(max|sum) by \(site, agent_id, agent{extra}\) \(", side), side


def test_agent_table_transformations() -> None:
    merge, organize, filter_by_value = AGENTS["transformations"]
    assert [merge["id"], organize["id"], filter_by_value["id"]] == [
        "merge",
        "organize",
        "filterByValue",
    ]
    options = organize["options"]
    # The reason's value (always 1) is dropped: its label is the column. The turnover's
    # value and its currency label are both columns.
    assert options["excludeByName"] == {"Time": True, "Value #M": True}
    order = sorted(options["indexByName"], key=options["indexByName"].__getitem__)
    assert [options["renameByName"].get(field, field) for field in order] == [
        *AGENT_COLUMNS,
        "agent_id",
    ]
    refs = {query["refId"] for query in AGENTS["targets"]}
    values = {
        field[len("Value #") :] for field in options["renameByName"] if field.startswith("Value #")
    }
    assert values == refs - {"M"}
    assert options["renameByName"]["reason"] == "Reason"
    assert options["renameByName"]["currency"] == "Currency"
    assert filter_by_value["options"] == {
        "filters": [{"config": {"id": "isNotNull", "options": {}}, "fieldName": "Status"}],
        "match": "all",
        "type": "include",
    }


def test_agent_table_cells() -> None:
    status = _overrides(AGENTS, "Status")
    (mapping,) = status["mappings"]
    assert mapping["type"] == "value"
    assert {value: (o["text"], o.get("color")) for value, o in mapping["options"].items()} == {
        "1": ("Available", "green"),
        "2": ("Busy", "orange"),
        "3": ("Unavailable", "red"),
        "0": ("Other", "blue"),
    }
    assert status["custom.cellOptions"]["type"] == "color-background"
    signals = _overrides(AGENTS, "Signals")
    assert signals["custom.cellOptions"] == {
        "applyToRow": True,
        "mode": "basic",
        "type": "color-background",
    }
    assert signals["thresholds"]["steps"] == [
        {"color": "transparent", "value": None},
        {"color": "red", "value": 1},
    ]
    assert signals["color"] == {"mode": "thresholds"}
    satisfaction = _overrides(AGENTS, "Satisfaction")
    assert satisfaction["thresholds"]["steps"] == SATISFACTION_STEPS
    # Readable on a row turned red by a signal: a background of its own, not coloured text.
    assert satisfaction["custom.cellOptions"] == {
        "applyToRow": False,
        "mode": "basic",
        "type": "color-background",
    }
    # Money: every digit and the cents, not "1.23 K".
    assert (_overrides(AGENTS, "T/O")["unit"], _overrides(AGENTS, "T/O")["decimals"]) == ("none", 2)
    assert _overrides(AGENTS, "Conv. rate")["unit"] == "percentunit"
    # Durations as hh:mm:ss, exact and narrow, not "1.56 hours".
    for name in ("AHT", "Presence", "In status for", "Available today", "Busy today"):
        assert _overrides(AGENTS, name)["unit"] == "dthms", name
    # Hidden as Grafana 12 hides a column (custom.hidden only works through a migration).
    assert _overrides(AGENTS, "agent_id") == {"custom.hideFrom.viz": True}


def test_the_agent_links_to_its_live_conversations() -> None:
    (link,) = _overrides(AGENTS, "Agent")["links"]
    assert link["url"] == (
        "/d/chat-live-conversations/live-conversations?var-site=${__data.fields.site}"
        "&var-agent=${__data.fields.agent_id}&${__url_time_range}"
    )
    # The drill-down's variables take exactly these values: site names and agent ids.
    variables = {v["name"]: v for v in LIVE["templating"]["list"]}
    assert "name FROM sites" in variables["site"]["query"]
    assert "CAST(id AS text) AS __value" in variables["agent"]["query"]


def test_satisfaction_panels_share_the_colour_bands() -> None:
    for title in (
        "Average satisfaction",
        "Satisfaction by criterion",
        "Satisfaction through the day",
    ):
        defaults = _panel(SUPERVISION, title)["fieldConfig"]["defaults"]
        assert defaults["thresholds"]["steps"] == SATISFACTION_STEPS
        assert (defaults["min"], defaults["max"], defaults["unit"]) == (1, 5, "none")


def test_objectives_are_progress_bars() -> None:
    for title in ("Site objectives", "Agent objectives"):
        panel = _panel(SUPERVISION, title)
        defaults = panel["fieldConfig"]["defaults"]
        assert (defaults["unit"], defaults["min"], defaults["max"]) == ("percentunit", 0, 1)
        assert [step["color"] for step in defaults["thresholds"]["steps"]] == [
            "red",
            "orange",
            "green",
        ]
        assert "inverted" in panel["description"]


# Across files: provisioning, dashboards, compose


# Each Grafana of docker-compose.yml, and the database its SQL data source reads.
GRAFANA_DATABASES = {
    "grafana": ("postgres:5432", "chat"),
    "chatwoot-grafana": ("chatwoot-postgres:5432", "chatwoot"),
}


def _datasources(grafana: str | None = None) -> dict[str, Json]:
    """The provisioned data sources by uid: as written, or as the compose service ``grafana``
    reads them, expanded with its environment."""
    provisioned = yaml.safe_load((PROVISIONING / "datasources" / "chat.yaml").read_text())
    assert provisioned["apiVersion"] == 1
    assert provisioned["prune"] is True
    if grafana is not None:
        provisioned = expand(provisioned, COMPOSE["services"][grafana]["environment"])
    return {source["uid"]: source for source in provisioned["datasources"]}


@pytest.mark.parametrize("grafana", sorted(GRAFANA_DATABASES))
def test_the_provisioned_datasources(grafana: str) -> None:
    sources = _datasources(grafana)
    assert set(sources) == {"chat-prometheus", "chat-alertmanager", "chat-database"}
    assert all(source["editable"] is False for source in sources.values())
    prometheus = sources["chat-prometheus"]
    assert (prometheus["type"], prometheus["url"]) == ("prometheus", "http://prometheus:9090")
    scrape_interval = yaml.safe_load(PROMETHEUS_CONFIG.read_text())["global"]["scrape_interval"]
    assert prometheus["jsonData"]["timeInterval"] == scrape_interval
    assert prometheus["jsonData"]["alertmanagerUid"] in sources
    alertmanager = sources["chat-alertmanager"]
    assert (alertmanager["type"], alertmanager["url"]) == (
        "alertmanager",
        "http://alertmanager:9093",
    )
    database = sources["chat-database"]
    assert database["type"] == "grafana-postgresql-datasource"
    assert database["user"] == "grafana_reader"
    assert (database["url"], database["jsonData"]["database"]) == GRAFANA_DATABASES[grafana]
    # A variable, not a password written in the file.
    assert _datasources()["chat-database"]["secureJsonData"] == {
        "password": "$CHAT_GRAFANA_DB_PASSWORD"
    }


def test_every_datasource_a_dashboard_names_is_provisioned() -> None:
    sources = _datasources()
    for board in EVERY_BOARD.values():
        for key, value in _walk(board):
            if key == "datasource" and isinstance(value, dict) and value["uid"] != "${datasource}":
                assert value["uid"] in sources, value
                assert value["type"] == sources[value["uid"]]["type"]
    (variable,) = [v for v in SUPERVISION["templating"]["list"] if v["type"] == "datasource"]
    assert sources[variable["current"]["value"]]["type"] == variable["query"]


def test_every_dashboard_link_points_to_a_dashboard_of_the_bundle() -> None:
    uids = {board["uid"] for board in BOARDS.values()}
    linked = set()
    for board in BOARDS.values():
        for _, value in _walk(board):
            if isinstance(value, str):
                linked |= set(re.findall(r"/d/([^/?\"]+)/", value))
    assert linked == uids


def test_the_dashboard_provider() -> None:
    provided = yaml.safe_load((PROVISIONING / "dashboards" / "chat.yaml").read_text())
    assert provided["apiVersion"] == 1
    (provider,) = provided["providers"]
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    assert provider["disableDeletion"] is True
    assert provider["folder"] == "Chat supervision"
    assert provider["updateIntervalSeconds"] == 30
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


# The drill-down's SQL, on a real PostgreSQL server


@pytest.mark.parametrize("variant", sorted(DRILL_DOWNS))
def test_the_drill_down_sql_uses_only_escaped_variables(variant: str) -> None:
    board, flavour = DRILL_DOWNS[variant]
    (query,) = _panel(board, "Conversations in progress")["targets"]
    used = re.findall(r"\$\{?[\w:]+\}?", query["rawSql"])
    assert sorted(used) == ["${agent:sqlstring}", "${site:sqlstring}"]
    assert sorted(re.findall(r"\bIN \(\$\{(\w+):sqlstring\}\)", query["rawSql"])) == [
        "agent",
        "site",
    ]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["site"]["query"] == flavour.sites_sql
    assert variables["agent"]["query"] == flavour.agents_sql
    for variable in variables.values():
        assert variable["datasource"] == DATABASE_REF
        assert (variable["multi"], variable["includeAll"]) == (True, True)


async def _query(url: str, sql: str) -> list[dict[str, Any]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with read_only(engine, statement_timeout=30) as connection:
            result = await connection.execute(text(sql))
            return [dict(row._mapping) for row in result]
    finally:
        await engine.dispose()


def test_sqlstring_as_grafana_formats_it() -> None:
    assert sqlstring(["O'Hare", "Gare du Nord"]) == "'O''Hare','Gare du Nord'"
    assert sqlstring(['say "hi"']) == "'say \\\"hi\\\"'"


def test_the_drill_down_lists_the_conversations_in_progress() -> None:
    url = server_url("postgresql")
    asyncio.run(reset_schema(url))
    (clock,) = asyncio.run(_query(url, "SELECT now() AT TIME ZONE 'UTC' AS now_utc"))
    now: datetime = clock["now_utc"]

    def ago(seconds: int) -> str:
        return (now - timedelta(seconds=seconds)).isoformat(sep=" ")

    scenario = Scenario()
    ohare = scenario.site("O'Hare", "America/Chicago")  # thresholds: the defaults, 1200 s / 60 s
    gare = scenario.site("Gare du Nord", "Europe/Paris", max_handling=3600, max_response=300)
    elsewhere = scenario.site("Elsewhere")
    ann = scenario.agent("Ann Lee", [ohare, gare, elsewhere])
    bob = scenario.agent("Bob", [gare])
    carl = scenario.agent("Carl", [ohare])
    bot = scenario.agent("Helper", [ohare], bot=True)
    # 30 min old, the visitor unanswered for 90 s after a reply: both signals.
    late = scenario.conversation(ohare, ann, ago(1800))
    scenario.message(late, "visitor", ago(1790))
    scenario.message(late, "agent", ago(300))
    scenario.message(late, "visitor", ago(90))
    scenario.message(late, "visitor", ago(30))
    # Past the default 1200 s, answered: the visitor's last message has a reply stamped with
    # the same instant.
    long = scenario.conversation(ohare, ann, ago(1230), channel="call")
    scenario.message(long, "visitor", ago(1220))
    scenario.message(long, "agent", ago(500))
    scenario.message(long, "visitor", ago(480))
    scenario.message(long, "bot", ago(480))
    # The same ages as the first on a site with higher thresholds: no signal.
    calm = scenario.conversation(gare, bob, ago(1800))
    scenario.message(calm, "visitor", ago(90))
    # Under both default thresholds.
    young = scenario.conversation(ohare, ann, ago(1170))
    scenario.message(young, "visitor", ago(50))
    # Answered; a message from another sender is no visitor waiting.
    quiet = scenario.conversation(gare, ann, ago(600))
    scenario.message(quiet, "visitor", ago(590))
    scenario.message(quiet, "agent", ago(580))
    scenario.message(quiet, "system", ago(100))
    # Not listed: waiting in the queue, ended, another site, an unselected agent, a bot.
    scenario.conversation(ohare, None, ago(120))
    scenario.conversation(ohare, ann, ago(3000), ago(2000))
    scenario.conversation(elsewhere, ann, ago(1800))
    scenario.conversation(ohare, carl, ago(1800))
    scenario.conversation(ohare, bot, ago(1800))
    asyncio.run(scenario.write(url))

    sites = asyncio.run(_query(url, live_conversations.REFERENCE.sites_sql))
    assert [row["name"] for row in sites] == ["Elsewhere", "Gare du Nord", "O'Hare"]
    agents = asyncio.run(_query(url, live_conversations.REFERENCE.agents_sql))
    assert [(row["__text"], row["__value"]) for row in agents] == [
        ("Ann Lee", str(ann)),
        ("Bob", str(bob)),
        ("Carl", str(carl)),
    ]

    sql = grafana_sql(
        live_conversations.REFERENCE.conversations_sql,
        site=["O'Hare", "Gare du Nord"],
        agent=[str(ann), str(bob)],
    )
    rows = asyncio.run(_query(url, sql))

    # Signals first (two, then one), then the longest wait; answered ones last.
    expected = {
        late: ("O'Hare", "Ann Lee", "chat", 1800, 90, 1, 1),
        long: ("O'Hare", "Ann Lee", "call", 1230, None, 1, 0),
        calm: ("Gare du Nord", "Bob", "chat", 1800, 90, 0, 0),
        young: ("O'Hare", "Ann Lee", "chat", 1170, 50, 0, 0),
        quiet: ("Gare du Nord", "Ann Lee", "chat", 600, None, 0, 0),
    }
    assert [row["conversation"] for row in rows] == list(expected)
    for row in rows:
        site, agent, channel, duration, wait, handling, response = expected[row["conversation"]]
        assert (row["site"], row["agent"], row["channel"]) == (site, agent, channel)
        assert row["started_at"] == now - timedelta(seconds=duration)
        assert duration <= row["duration_seconds"] <= duration + 5
        if wait is None:
            assert row["wait_seconds"] is None
        else:
            assert wait <= row["wait_seconds"] <= wait + 5
        assert (row["handling_signal"], row["response_signal"]) == (handling, response)

    only_bob = grafana_sql(
        live_conversations.REFERENCE.conversations_sql, site=["Gare du Nord"], agent=[str(bob)]
    )
    assert [row["conversation"] for row in asyncio.run(_query(url, only_bob))] == [calm]


async def _query_shifted(url: str, sql: str, anchor: datetime) -> tuple[datetime, list[Json]]:
    """The database's now (UTC) and ``sql``'s rows, run after moving the conversations'
    times by now - ``anchor``, in one transaction rolled back: now() is the same for the shift
    and the query, so ages written relative to ``anchor`` are exact at the query."""
    engine = create_engine(url, pool_size=1, read_only=False)
    try:
        async with engine.connect() as connection:
            now: datetime = await connection.scalar(text("SELECT now() AT TIME ZONE 'UTC'"))
            shift = "+ (now() AT TIME ZONE 'UTC' - CAST(:anchor AS timestamp))"
            await connection.execute(
                text(
                    f"UPDATE conversations SET created_at = created_at {shift}, "
                    f"waiting_since = waiting_since {shift}"
                ),
                {"anchor": anchor},
            )
            rows = [dict(row._mapping) for row in await connection.execute(text(sql))]
            await connection.rollback()
            return now, rows
    finally:
        await engine.dispose()


def test_the_chatwoot_drill_down_lists_the_conversations_in_progress(chatwoot_url: str) -> None:
    anchor = datetime(2026, 3, 2, 12, 0, 0)

    def ago(seconds: int) -> str:
        return (anchor - timedelta(seconds=seconds)).isoformat(sep=" ")

    cw = Chatwoot()
    acme = cw.account()
    support = cw.inbox(acme, "Support")  # two inboxes named alike: "Support #1", "Support #2"
    cw.inbox(acme, "Support")
    ohare = cw.inbox(acme, "O'Hare desk")
    hotline = cw.inbox(acme, "Hotline", channel_type=VOICE)
    elsewhere = cw.inbox(cw.account("Other"), "Elsewhere")
    ann = cw.agent(acme, "ann", [ohare, hotline, support], display_name="Ann Lee")
    bob = cw.agent(acme, "Bob", [hotline])
    carl = cw.agent(acme, "Carl", [ohare])
    dan = cw.user("Dan", display_name="")  # no member: an agent as the assignee of an open one
    fay = cw.user("Fay")  # the assignee of a pending conversation only: not an agent option
    eve = cw.user("Eve")  # the assignee of a resolved conversation only: neither
    # Just past both default thresholds (1200 s, 60 s), then exactly at them.
    late = cw.conversation(ohare, ann, ago(1201), waiting_since=ago(61))
    edge = cw.conversation(ohare, ann, ago(1200), waiting_since=ago(60))
    # A call, answered (waiting_since cleared).
    call = cw.conversation(hotline, bob, ago(1500))
    # Pending: a bot's, whatever its assignee; no wait for a reply.
    pending = cw.conversation(ohare, None, ago(1201), "pending")
    assigned_pending = cw.conversation(hotline, fay, ago(100), "pending", waiting_since=ago(500))
    # On a shared name, assigned to a non-member: the response signal only.
    shared = cw.conversation(support, dan, ago(30), waiting_since=ago(61))
    # Not listed: the queue, resolved, snoozed, another site, an unselected agent.
    cw.conversation(ohare, None, ago(2000), waiting_since=ago(2000))
    cw.conversation(ohare, eve, ago(3000), "resolved")
    cw.conversation(ohare, ann, ago(3000), "snoozed")
    cw.conversation(elsewhere, ann, ago(5000))
    cw.conversation(ohare, carl, ago(5000))
    asyncio.run(cw.write(chatwoot_url))

    flavour = live_conversations.CHATWOOT
    sites = asyncio.run(_query(chatwoot_url, flavour.sites_sql))
    assert [row["name"] for row in sites] == [
        "Elsewhere",
        "Hotline",
        "O'Hare desk",
        f"Support #{support}",
        f"Support #{support + 1}",
    ]
    agents = asyncio.run(_query(chatwoot_url, flavour.agents_sql))
    assert [(row["__text"], row["__value"]) for row in agents] == [
        ("Ann Lee", str(ann)),
        ("Bob", str(bob)),
        ("Carl", str(carl)),
        ("Dan", str(dan)),
        ("Bot (pending)", "bot"),
    ]

    def rows(sites: list[str], agents: list[str]) -> tuple[datetime, list[Json]]:
        sql = grafana_sql(flavour.conversations_sql, site=sites, agent=agents)
        return asyncio.run(_query_shifted(chatwoot_url, sql, anchor))

    def display(conversation: int) -> int:
        display_id: int = cw.rows["conversations"][conversation - 1]["display_id"]
        return display_id

    now, found = rows(
        ["O'Hare desk", "Hotline", f"Support #{support}"], [str(ann), str(bob), str(dan), "bot"]
    )
    # Signals first (two, then one), then the longest wait, then the longest duration.
    expected = {
        late: ("O'Hare desk", "Ann Lee", "chat", 1201, 61, 1, 1),
        shared: (f"Support #{support}", "Dan", "chat", 30, 61, 0, 1),
        call: ("Hotline", "Bob", "call", 1500, None, 1, 0),
        pending: ("O'Hare desk", None, "chat", 1201, None, 1, 0),
        edge: ("O'Hare desk", "Ann Lee", "chat", 1200, 60, 0, 0),
        assigned_pending: ("Hotline", None, "call", 100, None, 0, 0),
    }
    assert [row["conversation"] for row in found] == [display(c) for c in expected]
    for row, (site, agent, channel, duration, wait, handling, response) in zip(
        found, expected.values(), strict=True
    ):
        assert (row["site"], row["agent"], row["channel"]) == (site, agent, channel)
        assert row["started_at"] == now - timedelta(seconds=duration)
        assert (row["duration_seconds"], row["wait_seconds"]) == (duration, wait)
        assert (row["handling_signal"], row["response_signal"]) == (handling, response)

    _, only_ann = rows(["O'Hare desk", "Hotline"], [str(ann)])
    assert [row["conversation"] for row in only_ann] == [display(late), display(edge)]
    _, only_bots = rows(["O'Hare desk", "Hotline"], ["bot"])
    assert [row["conversation"] for row in only_bots] == [
        display(pending),
        display(assigned_pending),
    ]
