"""The settings the rules and dashboards share, the YAML they are written in, the generators'
command lines, and the Kubernetes files they write.

Which selectors the rendered rules and dashboards carry, and that promtool's tests pass on
them for another job, is proven in tests/test_rules.py and tests/test_dashboards.py.
"""

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

import alerts
import dashboards
from alerts.__main__ import main as alerts_main
from dashboards.__main__ import main as dashboards_main
from mixin.generator import KUBERNETES_BASE, ROOT
from mixin.settings import DEFAULTS, Settings, in_words, number, seconds
from mixin.yamltext import Commented, documents

SUPPORT = ["--job-selector", 'job="support-chat"']


# The settings


def test_the_selector_of_the_job() -> None:
    assert DEFAULTS.selector("up") == 'up{job="chat"}'
    assert DEFAULTS.selector("chat_agents", 'status="busy"') == (
        'chat_agents{job="chat", status="busy"}'
    )
    several = Settings(job_selector='job=~"chat|support", namespace!="test"')
    assert several.selector("up") == 'up{job=~"chat|support", namespace!="test"}'
    every_job = Settings(job_selector="")
    assert every_job.selector("up") == "up"
    assert every_job.selector("up", 'instance="a"') == 'up{instance="a"}'


@pytest.mark.parametrize(
    ("duration", "in_seconds", "words"),
    [
        ("1m", 60, "1 minute"),
        ("30m", 1800, "30 minutes"),
        ("1h30m", 5400, "1 hour 30 minutes"),
        ("6h", 21600, "6 hours"),
        ("500ms", 0.5, "500 milliseconds"),
    ],
)
def test_durations(duration: str, in_seconds: float, words: str) -> None:
    assert seconds(duration) == in_seconds
    assert in_words(duration) == words


@pytest.mark.parametrize("duration", ["", "90", "1m1h", "1m1m", "2x", "1h 30m", "-1m"])
def test_what_is_not_a_duration(duration: str) -> None:
    with pytest.raises(ValueError, match="is not a Prometheus duration"):
        seconds(duration)


def test_numbers_as_promql_writes_them() -> None:
    assert [number(value) for value in (0.8, 2.5, 1800.0, 10, 31536000.0, 0.125)] == [
        "0.8",
        "2.5",
        "1800",
        "10",
        "31536000",
        "0.125",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"job_selector": "chat"}, "job selector 'chat': expected label matchers"),
        ({"job_selector": 'job="chat",'}, "job selector"),
        ({"job_selector": 'job="chat'}, "job selector"),
        ({"service_level_low_for": "10"}, "'10' is not a Prometheus duration"),
        ({"database_down_for": "3m"}, "keep_firing_for must be longer"),
        ({"exporter_down_for": "5m", "keep_firing_for": "4m"}, "keep_firing_for must be longer"),
        ({"response_time_critical_for": "1m"}, "response_time_critical_for must be longer"),
        ({"service_level_objective": 0}, "service_level_objective"),
        ({"service_level_objective": 1.2}, "service_level_objective"),
        ({"satisfaction_poor_below": 3.5}, "satisfaction"),
        ({"abandon_rate_high": 1}, "abandon_rate_high"),
        ({"service_minimum_conversations": 0}, "at least 1"),
    ],
)
def test_settings_that_would_make_wrong_rules_are_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        replace(DEFAULTS, **changes)


def test_the_settings_changed_from_the_defaults() -> None:
    assert DEFAULTS.changed() == {}
    assert replace(DEFAULTS, job_selector='job="x"', abandon_rate_high=0.2).changed() == {
        "job_selector": 'job="x"',
        "abandon_rate_high": 0.2,
    }


# The YAML


def test_yaml_with_comments_literal_and_folded_blocks() -> None:
    description = (
        "Visitors waiting on site {{ $labels.site }} while none of its agents is available: "
        "{{ $value | humanize }}; a long sentence, long enough to fold over two lines."
    )
    document = {
        "groups": [
            Commented(
                "A group.",
                {
                    "name": "g",
                    "rules": [
                        {"expr": "a\n  and b", "labels": {}, "values": [0.8, "0.8", "yes"]},
                        {"description": description, "empty": [], "text": "a: b"},
                    ],
                },
            )
        ]
    }
    text = documents([document], "The header.", folded=("description",))
    assert text == (
        "# The header.\n"
        "groups:\n"
        "  # A group.\n"
        "  - name: g\n"
        "    rules:\n"
        "      - expr: |-\n"
        "          a\n"
        "            and b\n"
        "        labels: {}\n"
        "        values:\n"
        "          - 0.8\n"
        '          - "0.8"\n'
        '          - "yes"\n'
        "      - description: >-\n"
        "          Visitors waiting on site {{ $labels.site }} while none of its agents is available:\n"
        "          {{ $value | humanize }}; a long sentence, long enough to fold over two lines.\n"
        "        empty: []\n"
        '        text: "a: b"\n'
    )
    assert yaml.safe_load(text)["groups"][0]["rules"][1]["description"] == description


def test_several_documents_and_a_text_ending_with_one_newline() -> None:
    text = documents([{"a": "{\n  1\n}\n"}, {"b": 2}], "Two.")
    assert text == "# Two.\na: |\n  {\n    1\n  }\n---\nb: 2\n"
    assert list(yaml.safe_load_all(text)) == [{"a": "{\n  1\n}\n"}, {"b": 2}]


def test_yaml_that_would_not_read_back_is_refused() -> None:
    with pytest.raises(ValueError, match="does not read back"):
        documents([{"a": "two final newlines\n\n"}], "Refused.")


# The command lines


def _files(directory: Path) -> list[str]:
    return sorted(
        str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file()
    )


def test_the_rules_rendered_for_another_deployment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runbook = "https://runbooks.example.org/chat.md"
    options = [*SUPPORT, "--runbook-url", runbook, "--out", str(tmp_path)]
    assert alerts_main(options) == 0
    assert _files(tmp_path) == [
        "alerting.rules.yml",
        "prometheus-rules.yaml",
        "recording.rules.yml",
    ]
    assert alerts_main([*options, "--check"]) == 0
    text = (tmp_path / "alerting.rules.yml").read_text()
    header = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    assert header.startswith("Generated by `python -m alerts` from alerts/*.py")
    assert header.endswith(
        "Settings other than the defaults: job_selector = 'job=\"support-chat\"', "
        f"runbook_url = '{runbook}'"
    )
    for group in yaml.safe_load(text)["groups"]:
        for rule in group["rules"]:
            assert rule["annotations"]["runbook_url"] == f"{runbook}#{rule['alert'].lower()}"
    # Only the files of the directory: the committed ones are as they were.
    assert alerts_main(["--check"]) == 0
    capsys.readouterr()
    (tmp_path / "recording.rules.yml").write_text("groups: []\n")
    assert alerts_main([*options, "--check"]) == 1
    assert capsys.readouterr().err == (
        f"stale: {tmp_path / 'recording.rules.yml'} (run python -m alerts)\n"
    )


def test_the_dashboards_rendered_for_another_deployment(tmp_path: Path) -> None:
    assert dashboards_main([*SUPPORT, "--out", str(tmp_path)]) == 0
    assert _files(tmp_path) == [
        "grafana-dashboards.yaml",
        "json-chatwoot/live-conversations.json",
        "json/live-conversations.json",
        "json/supervision.json",
    ]
    assert dashboards_main([*SUPPORT, "--out", str(tmp_path), "--check"]) == 0
    assert dashboards_main(["--check"]) == 0
    board = (tmp_path / "json" / "supervision.json").read_text()
    assert 'job=\\"support-chat\\"' in board
    assert 'job=\\"chat\\"' not in board
    # The drill-downs read the database, not Prometheus: the same as committed.
    for path in ("json/live-conversations.json", "json-chatwoot/live-conversations.json"):
        assert (tmp_path / path).read_text() == (ROOT / "dashboards" / path).read_text()


@pytest.mark.parametrize("main", [alerts_main, dashboards_main])
def test_a_bad_job_selector_is_a_usage_error(
    main: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--job-selector", "chat", "--out", str(tmp_path)])
    assert stopped.value.code == 2
    assert "error: job selector 'chat': expected label matchers" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("package", ["alerts", "dashboards"])
def test_python_m_checks_the_committed_files(package: str) -> None:
    """As CI and the README run them: from the repository, as modules."""
    done = subprocess.run(
        [sys.executable, "-m", package, "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


# The Kubernetes files


def test_the_prometheus_rule_holds_the_groups_of_the_rule_files() -> None:
    text = (KUBERNETES_BASE / alerts.PROMETHEUS_RULE_FILE).read_text()
    assert text.startswith("# Generated by `python -m alerts`")
    (resource,) = yaml.safe_load_all(text)
    assert resource["apiVersion"] == "monitoring.coreos.com/v1"
    assert resource["kind"] == "PrometheusRule"
    assert resource["metadata"]["name"] == "chat-supervision"
    files = [alerts.DIRECTORY / alerts.RECORDING_FILE, alerts.DIRECTORY / alerts.ALERTING_FILE]
    groups = [group for path in files for group in yaml.safe_load(path.read_text())["groups"]]
    assert [group["name"] for group in groups] == ["chat-recording", "chat-alerts"]
    assert resource["spec"] == {"groups": groups}


def test_the_dashboards_config_maps_for_grafanas_sidecar() -> None:
    text = (KUBERNETES_BASE / dashboards.CONFIG_MAPS_FILE).read_text()
    assert text.startswith("# Generated by `python -m dashboards`")
    maps = list(yaml.safe_load_all(text))
    assert [(m["apiVersion"], m["kind"], m["metadata"]["name"]) for m in maps] == [
        ("v1", "ConfigMap", "chat-dashboard-supervision"),
        ("v1", "ConfigMap", "chat-dashboard-live-conversations"),
    ]
    for config_map in maps:
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        ((name, board),) = config_map["data"].items()
        assert board == (dashboards.JSON_DIRECTORY / name).read_text()
