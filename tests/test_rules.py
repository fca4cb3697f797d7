"""The Prometheus rules: generated, accepted and unit-tested by promtool, and conventional.

The committed files are what ``python -m alerts`` writes with the default settings. promtool
unit-tests them as committed, and again rendered for the job ``chat`` and for another job
(alerts/tests' series renamed), each time with the same series of the other job beside,
which must change nothing: every selector selects its job's series, and only them.
mixtool's alert lint (a Go program none of our registries carry) is reimplemented here over
the YAML, together with what promtool cannot see: every alert and recording rule has unit
tests, every runbook link has its section, docs/metrics.md lists the recording rules as
they are, every recording rule reads only those evaluated before it, and every metric the
rules read is one the exporter publishes.
"""

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts import PROMETHEUS_RULE_FILE, generate, recording
from alerts.__main__ import main
from alerts.rules import Recording
from exporter.collector import AGENT_METRICS, HEALTH_METRICS, OBJECTIVE_METRICS, SITE_METRICS
from mixin.generator import KUBERNETES_BASE, stale
from mixin.settings import Settings
from tests.promql import JOBS, other_job, selectors
from tests.servers import installed, succeeds

ROOT = Path(__file__).resolve().parent.parent
ALERTS = ROOT / "alerts"
RULE_FILES = [ALERTS / "recording.rules.yml", ALERTS / "alerting.rules.yml"]
UNIT_TESTS = sorted((ALERTS / "tests").glob("*.yml"))
RUNBOOK = ROOT / "docs" / "runbook.md"
RUNBOOK_URL = (
    "https://github.com/chat-supervision-exporter/chat-supervision-exporter"
    "/blob/main/docs/runbook.md#"
)
SEVERITIES = {"critical", "warning", "info"}
# Alerts on the exporter itself; every other alert is on the figures of a site.
DOWN_ALERTS = {"ChatExporterDown", "ChatExporterAbsent", "ChatDatabaseDown"}
# The ones Alertmanager lets silence the data alerts of the sites they name.
INHIBITING_ALERTS = {"ChatExporterDown", "ChatDatabaseDown"}
PUBLISHED = {
    *(spec.name for spec, _ in (*SITE_METRICS, *AGENT_METRICS, *OBJECTIVE_METRICS)),
    *(spec.name for spec in HEALTH_METRICS),
}
DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset"}
# The recording rule that keeps its own previous value (the time a status was first seen).
SELF_REFERENCING = "site_agent_status:chat_agent_status_since:timestamp"


def _group(path: Path, name: str) -> list[dict[str, Any]]:
    """The rules of a file that holds exactly one group, ``name``."""
    groups = yaml.safe_load(path.read_text())["groups"]
    assert [group["name"] for group in groups] == [name]
    rules: list[dict[str, Any]] = groups[0]["rules"]
    return rules


RECORDING = _group(RULE_FILES[0], "chat-recording")
ALERTING = _group(RULE_FILES[1], "chat-alerts")
RECORDS = [rule["record"] for rule in RECORDING]


def _seconds(duration: str) -> float:
    """A Prometheus duration such as ``6h2m`` in seconds."""
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", duration)
    assert "".join(number + unit for number, unit in parts) == duration, duration
    return sum(int(number) * DURATION_UNITS[unit] for number, unit in parts)


def _metric_names(expr: str) -> set[str]:
    """The metric names an expression selects.

    What remains once strings, label matchers, ranges and grouping label lists are removed
    is functions and aggregations (followed by a parenthesis), keywords, numbers and names.
    """
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    return {
        match.group()
        for match in re.finditer(r"(?<![\w.])[A-Za-z_:][\w:]*", text)
        if match.group() not in PROMQL_KEYWORDS and not text[match.end() :].lstrip().startswith("(")
    }


def _anchors(markdown: str) -> list[str]:
    """GitHub's anchors for the headings of a Markdown text, duplicates numbered."""
    seen: Counter[str] = Counter()
    anchors = []
    fenced = False
    for line in markdown.splitlines():
        fenced ^= line.startswith("```")
        heading = re.match(r"#{1,6} (.+)", line)
        if heading is None or fenced:
            continue
        anchor = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        anchors.append(f"{anchor}-{seen[anchor]}" if seen[anchor] else anchor)
        seen[anchor] += 1
    return anchors


def test_the_committed_rules_are_what_the_generator_writes() -> None:
    generated = generate()
    assert sorted(generated) == sorted([*RULE_FILES, KUBERNETES_BASE / PROMETHEUS_RULE_FILE])
    assert stale(generated) == [], "run: python -m alerts"
    assert main(["--check"]) == 0


def _rendered(job: str, directory: Path) -> list[Path]:
    """The two rule files for the settings of ``job``, written into ``directory``."""
    generated = generate(JOBS[job], directory)
    for path, text in generated.items():
        path.write_text(text)
    return [directory / path.name for path in RULE_FILES]


@pytest.mark.parametrize("job", JOBS)
def test_promtool_checks_the_rules_with_every_lint_fatal(job: str, tmp_path: Path) -> None:
    files = RULE_FILES if job == "chat" else _rendered(job, tmp_path)
    succeeds(
        installed("promtool"), "check", "rules", "--lint=all", "--lint-fatal", *map(str, files)
    )


@pytest.mark.parametrize("path", UNIT_TESTS, ids=[path.name for path in UNIT_TESTS])
def test_promtool_unit_tests_pass(path: Path) -> None:
    succeeds(installed("promtool"), "test", "rules", str(path))


def _renamed(value: object, job: str) -> object:
    """A unit test's data with the job chat renamed ``job``: in series and PromQL, in
    expected labels, and where a description names the job."""
    if isinstance(value, dict):
        return {
            key: job if key == "job" and item == "chat" else _renamed(item, job)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_renamed(item, job) for item in value]
    if isinstance(value, str):
        return value.replace('job="chat"', f'job="{job}"').replace("the job chat", f"the job {job}")
    return value


def _with_the_other_job(test: dict[str, Any], job: str) -> dict[str, Any]:
    """A test group with each input series of ``job`` given again, same values, in the other
    job: a selector without the job would see both, and count, alert or record twice."""
    own, other = f'job="{job}"', f'job="{other_job(job)}"'
    copies = [
        {**series, "series": series["series"].replace(own, other)}
        for series in test["input_series"]
        if own in series["series"]
    ]
    return {**test, "input_series": [*test["input_series"], *copies]}


@pytest.mark.parametrize("job", JOBS)
@pytest.mark.parametrize("path", UNIT_TESTS, ids=[path.name for path in UNIT_TESTS])
def test_promtool_unit_tests_pass_for_any_job_beside_another(
    path: Path, job: str, tmp_path: Path
) -> None:
    _rendered(job, tmp_path)
    renamed = _renamed(yaml.safe_load(path.read_text()), job)
    assert isinstance(renamed, dict)
    if job != "chat":
        text = json.dumps(renamed)
        # Every mention of the job chat renamed.
        assert 'job=\\"chat\\"' not in text
        assert '"job": "chat"' not in text
        assert "job chat" not in text
    renamed["tests"] = [_with_the_other_job(test, job) for test in renamed["tests"]]
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / path.name).write_text(json.dumps(renamed))
    succeeds(installed("promtool"), "test", "rules", str(tmp_path / "tests" / path.name))


def _rules(settings: Settings) -> list[dict[str, Any]]:
    """Every rule of both groups, as rendered with ``settings``."""
    generated = generate(settings)
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(generated[path])["groups"]
        for rule in group["rules"]
    ]


@pytest.mark.parametrize("job", JOBS)
def test_every_selector_selects_the_job_and_no_other(job: str) -> None:
    rules = _rules(JOBS[job])
    assert len(rules) == len(RECORDING) + len(ALERTING)
    for rule in rules:
        found = selectors(rule["expr"])
        assert found, rule["expr"]
        for metric, matchers in found:
            jobs = {matcher for matcher in matchers if matcher[0] == "job"}
            assert jobs == {("job", "=", job)}, f"{metric} in {rule['expr']}"


@pytest.mark.parametrize("rule", ALERTING, ids=[rule["alert"] for rule in ALERTING])
def test_alert_follows_the_conventions(rule: dict[str, Any]) -> None:
    name: str = rule["alert"]
    annotations: dict[str, str] = rule["annotations"]
    summary, description = annotations["summary"], annotations["description"]
    assert re.fullmatch(r"Chat(?:[A-Z][a-z0-9]+)+", name), "CamelCase with the prefix Chat"
    assert rule["labels"]["severity"] in SEVERITIES
    assert _seconds(rule["for"]) > 0, "an explicit for"
    assert re.fullmatch(r"[A-Z][^{}]*[^.]\.", summary), "a static sentence"
    assert ". " not in summary, "one sentence"
    assert "{{" in description, "a templated description"
    assert "$labels.site" in description
    if any(metric.startswith("chat_agent_") for metric in _metric_names(rule["expr"])):
        assert "$labels.agent " in description, "a per-agent alert names the agent"
    assert annotations["runbook_url"] == RUNBOOK_URL + name.lower()
    assert set(annotations) == {"summary", "description", "runbook_url"}


def test_data_alerts_keep_firing_until_the_down_alerts_silence_them() -> None:
    """In an outage the figures vanish: a data alert must outlast the down alerts' for."""
    takeover = max(_seconds(rule["for"]) for rule in ALERTING if rule["alert"] in INHIBITING_ALERTS)
    for rule in ALERTING:
        if rule["alert"] not in DOWN_ALERTS:
            assert _seconds(rule.get("keep_firing_for", "0s")) > takeover, rule["alert"]


def test_runbook_has_one_section_per_alert_and_every_link_lands() -> None:
    runbook = RUNBOOK.read_text()
    sections = re.findall(r"^## (.+)$", runbook, re.M)
    names = {rule["alert"] for rule in ALERTING}
    assert sorted(sections) == sorted(names)
    anchors = set(_anchors(runbook))
    for rule in ALERTING:
        assert rule["annotations"]["runbook_url"].removeprefix(RUNBOOK_URL) in anchors


def _alert_cases() -> list[list[dict[str, Any]]]:
    """The alert_rule_test cases of each test group (one set of input series) of each file."""
    return [
        group.get("alert_rule_test", [])
        for path in UNIT_TESTS
        for group in yaml.safe_load(path.read_text())["tests"]
    ]


@pytest.mark.parametrize(
    "rule",
    ALERTING,
    ids=[f"{rule['alert']}-{rule['labels']['severity']}" for rule in ALERTING],
)
def test_every_alert_is_tested_firing_and_not_firing_before_its_for(rule: dict[str, Any]) -> None:
    """Each alert and severity fires in a test group that shows it silent just before.

    Silent means no expected alert of that severity (for a critical alert, its warning may
    fire), at a time within ``for`` before it first fires: the condition already held then,
    so the alert was pending, not firing.
    """
    name, severity, pending = rule["alert"], rule["labels"]["severity"], _seconds(rule["for"])
    for cases in _alert_cases():
        times: dict[bool, list[float]] = {True: [], False: []}
        for case in cases:
            if case["alertname"] == name:
                expected = case.get("exp_alerts") or []
                fires = any(alert["exp_labels"]["severity"] == severity for alert in expected)
                times[fires].append(_seconds(case["eval_time"]))
        if times[True] and any(
            min(times[True]) - pending <= silent < min(times[True]) for silent in times[False]
        ):
            return
    pytest.fail(f"no unit test shows {name} ({severity}) pending, then firing")


def test_every_recording_rule_is_tested() -> None:
    exprs = [
        case["expr"]
        for path in UNIT_TESTS
        for group in yaml.safe_load(path.read_text())["tests"]
        for case in group.get("promql_expr_test", [])
    ]
    for record in RECORDS:
        pattern = rf"(?<![\w:]){re.escape(record)}(?![\w:])"
        assert any(re.search(pattern, expr) for expr in exprs), record


def test_recording_rules_read_the_rules_above_them() -> None:
    """Prometheus evaluates a group's rules in order: a rule reading one further down would
    get that rule's value of the previous evaluation. Only the time in status reads itself,
    on purpose."""
    for index, rule in enumerate(RECORDING):
        record = rule["record"]
        read = _metric_names(rule["expr"]) & set(RECORDS[index:])
        assert read == ({record} if record == SELF_REFERENCING else set()), record


def test_the_metrics_doc_lists_the_recording_rules() -> None:
    """The table as the generator writes the rules with an empty job selector (the files
    carry the job in every selector); a pipe within PromQL is escaped in a table cell."""
    section = (ROOT / "docs" / "metrics.md").read_text().split("\n## Recording rules\n")[1]
    documented = re.findall(r"^\| `([^`]+)` \| `((?:[^`|]|\\\|)+)` \| [^|]+ \|$", section, re.M)
    rules = recording.group(Settings(job_selector="")).rules
    every_job = [rule for rule in rules if isinstance(rule, Recording)]
    assert documented == [
        (rule.record, " ".join(rule.expr.split()).replace("|", "\\|")) for rule in every_job
    ]
    assert [rule.record for rule in every_job] == RECORDS


def test_rules_read_only_published_metrics() -> None:
    used = {name for rule in [*RECORDING, *ALERTING] for name in _metric_names(rule["expr"])}
    assert {"up", "chat_up", "site:chat_slots_available:sum"} <= used
    assert used <= PUBLISHED | set(RECORDS) | {"up"}


def test_metric_names_are_found_among_functions_labels_and_keywords() -> None:
    expr = (
        'sum without (kind) (chat_slots{kind="a b"}) / on (site) group_left () '
        "last_over_time(up[6h]) > bool 2.5e3 and site:x:sum offset 1h or absent(chat_up)"
    )
    assert _metric_names(expr) == {"chat_slots", "up", "site:x:sum", "chat_up"}
