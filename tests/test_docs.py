"""The documentation is true to the code: metric tables, derived PromQL, the test command."""

import json
import re
from pathlib import Path

import pytest
import yaml

from exporter.collector import (
    AGENT_LABELS,
    AGENT_METRICS,
    HEALTH_METRICS,
    OBJECTIVE_LABELS,
    OBJECTIVE_METRICS,
    SITE_LABELS,
    SITE_METRICS,
    Spec,
)
from exporter.sources import SCHEMAS
from tests.servers import installed, succeeds

ROOT = Path(__file__).resolve().parent.parent
METRICS_DOC = (ROOT / "docs" / "metrics.md").read_text()


def _section(title: str) -> str:
    return METRICS_DOC.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _rows(section: str) -> list[list[str]]:
    """The cells of the body rows of the tables of a section (no headers, no rulers)."""
    lines = section.splitlines()
    return [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line, after in zip(lines, [*lines[1:], ""], strict=True)
        if line.startswith("| ") and not after.startswith("|---")
    ]


@pytest.mark.parametrize(
    ("title", "specs", "labels"),
    [
        ("Site metrics", [spec for spec, _ in SITE_METRICS], SITE_LABELS),
        ("Agent metrics", [spec for spec, _ in AGENT_METRICS], AGENT_LABELS),
        ("Objective metrics", [spec for spec, _ in OBJECTIVE_METRICS], OBJECTIVE_LABELS),
        ("Exporter health", list(HEALTH_METRICS), ()),
    ],
)
def test_metric_tables_match_the_code(
    title: str, specs: list[Spec], labels: tuple[str, ...]
) -> None:
    section = _section(title)
    documented = [tuple(row) for row in _rows(section)]
    served = [
        (
            f"`{spec.name}`",
            ", ".join(f"`{label}`" for label in spec.labels),
            ", ".join(
                name
                for name, source in sorted(SCHEMAS.items())
                if spec.needs is None or spec.needs in source.capabilities
            ),
            spec.help,
        )
        for spec in specs
    ]
    assert documented == served
    if labels:
        introduction = section.split("| metric |")[0]
        assert "Labels: " + ", ".join(f"`{label}`" for label in labels) in introduction


# Input series and the expected result of every derived figure of the doc, by its title.
LABELS = 'site="s",agent_id="1",agent="Ann"'
INPUT = {
    f'chat_agent_status{{{LABELS},status="available"}}': 1,
    f'chat_agent_status{{{LABELS},status="busy"}}': 0,
    f"chat_agent_presence_seconds_today{{{LABELS}}}": 7200,
    f"chat_agent_conversations_today{{{LABELS}}}": 4,
    f"chat_agent_conversations_ended_today{{{LABELS}}}": 3,
    f"chat_agent_handling_time_seconds_today{{{LABELS}}}": 900,
    f'chat_agent_turnover_today{{{LABELS},currency="EUR"}}': 120.5,
    f"chat_agent_conversations_converted_today{{{LABELS}}}": 1,
    f"chat_agent_transactions_today{{{LABELS}}}": 2,
    f'chat_agent_satisfaction_score_today{{{LABELS},criterion="welcome"}}': 9,
    f'chat_agent_satisfaction_score_today{{{LABELS},criterion="quality"}}': 4,
    f'chat_agent_satisfaction_ratings_today{{{LABELS},criterion="welcome"}}': 2,
    f'chat_agent_satisfaction_ratings_today{{{LABELS},criterion="quality"}}': 1,
    f"chat_agent_conversations_active{{{LABELS}}}": 1,
    f"chat_agent_conversations_active_all_sites{{{LABELS}}}": 2,
    f'chat_agent_signals{{{LABELS},signal="handling_duration"}}': 1,
    f'chat_agent_signals{{{LABELS},signal="response_time"}}': 0,
    'chat_handling_time_seconds_today{site="s"}': 2000,
    'chat_conversations_ended_today{site="s"}': 5,
    'chat_conversations_converted_today{site="s"}': 2,
    'chat_conversations_today{site="s"}': 8,
    'chat_satisfaction_score_today{site="s",criterion="welcome"}': 12,
    'chat_satisfaction_score_today{site="s",criterion="quality"}': 0,
    'chat_satisfaction_ratings_today{site="s",criterion="welcome",rating="good"}': 2,
    'chat_satisfaction_ratings_today{site="s",criterion="welcome",rating="average"}': 1,
    'chat_satisfaction_ratings_today{site="s",criterion="quality",rating="good"}': 0,
    'chat_slots{site="s",kind="agent"}': 6,
    'chat_slots{site="s",kind="bot"}': 4,
    'chat_slots_available{site="s",kind="agent"}': 2,
    'chat_slots_available{site="s",kind="bot"}': 3,
    'chat_conversations_answered_in_target_today{site="s"}': 6,
    'chat_conversations_answered_today{site="s"}': 7,
    'chat_conversations_abandoned_today{site="s"}': 1,
    'chat_first_response_seconds_today{site="s"}': 210,
    'chat_conversations_answered_in_target_today{site="t"}': 1,
    'chat_conversations_answered_today{site="t"}': 3,
    'chat_conversations_abandoned_today{site="t"}': 1,
    'chat_objective_value{site="s",objective="o",metric="conversations",agent_id="",agent=""}': 50,
    'chat_objective_target{site="s",objective="o",metric="conversations",agent_id="",agent=""}': 100,
    'chat_objective_value{site="s",objective="h",metric="handling_time",agent_id="",agent=""}': 300,
    'chat_objective_target{site="s",objective="h",metric="handling_time",agent_id="",agent=""}': 240,
    'chat_objective_value{site="s",objective="a",metric="abandon_rate",agent_id="",agent=""}': 0.2,
    'chat_objective_target{site="s",objective="a",metric="abandon_rate",agent_id="",agent=""}': 0.1,
}
AGENT = {"site": "s", "agent_id": "1", "agent": "Ann"}
SITE = {"site": "s"}
EXPECTED: dict[str, list[tuple[dict[str, str], float]]] = {
    "Agent, Status": [({**AGENT, "status": "available"}, 1)],
    "Presence": [(AGENT, 7200)],
    "Contacts": [(AGENT, 4)],
    "AHT": [(AGENT, 300)],  # 900 s over 3 ended
    "Contacts/H": [(AGENT, 2)],  # 4 in 2 hours
    "T/O, Currency": [({**AGENT, "currency": "EUR"}, 120.5)],
    "Conv. rate": [(AGENT, 0.25)],
    "Transactions": [(AGENT, 2)],
    "Satisfaction": [(AGENT, 13 / 3)],
    "In progress": [(AGENT, 1)],
    "All sites": [(AGENT, 2)],
    "Signals": [(AGENT, 1)],
    "AHT of the site": [(SITE, 400)],
    "Conversion rate": [(SITE, 0.25)],
    "Average satisfaction, by criterion": [({**SITE, "criterion": "welcome"}, 4)],
    "Average satisfaction, overall": [(SITE, 4)],
    "Share of good ratings": [(SITE, 2 / 3)],
    "Contacts per agent-hour": [(SITE, 2)],
    "Slot occupancy": [(SITE, 0.5)],
    "Service level": [(SITE, 0.75), ({"site": "t"}, 0.25)],  # 6 / (7 + 1), 1 / (3 + 1)
    "Speed of answer": [(SITE, 30)],  # 210 s over 7 answered; site t has no sum
    "Abandon rate": [(SITE, 0.2)],  # 1 over 5 ended; site t has no ended
    "Service level over several sites": [({}, 7 / 12)],  # (6 + 1) / (7 + 1 + 3 + 1)
    "Objective progress": [
        ({**SITE, "objective": "o", "metric": "conversations", "agent_id": "", "agent": ""}, 0.5)
    ],
    "Objective progress, lower is better (handling time, first response time, abandon rate)": [
        ({**SITE, "objective": "h", "metric": "handling_time", "agent_id": "", "agent": ""}, 0.8),
        ({**SITE, "objective": "a", "metric": "abandon_rate", "agent_id": "", "agent": ""}, 0.5),
    ],
}


def _derived() -> dict[str, str]:
    rows = _rows(_section("Derived figures in PromQL"))
    # A "|" inside a table cell is written "\|", even within code.
    return {
        title: re.findall(r"`([^`]+)`", expression)[0].replace("\\|", "|")
        for title, expression in rows
    }


def test_derived_figures_compute_what_the_doc_says(tmp_path: Path) -> None:
    promtool = installed("promtool")
    derived = _derived()
    assert set(derived) == set(EXPECTED)
    names = {title: f"doc:figure_{index}" for index, title in enumerate(derived)}
    rules = {
        "groups": [
            {
                "name": "doc",
                "rules": [{"record": names[t], "expr": e} for t, e in derived.items()],
            }
        ]
    }
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    succeeds(promtool, "check", "rules", str(tmp_path / "rules.yml"))
    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": str(v)} for s, v in INPUT.items()],
                "promql_expr_test": [
                    {
                        "expr": names[title],
                        "eval_time": "0m",
                        "exp_samples": [
                            {"labels": _labels(names[title], labels), "value": value}
                            for labels, value in samples
                        ],
                    }
                    for title, samples in EXPECTED.items()
                ],
            }
        ],
    }
    (tmp_path / "tests.yml").write_text(json.dumps(tests))
    succeeds(promtool, "test", "rules", str(tmp_path / "tests.yml"))


def _labels(name: str, labels: dict[str, str]) -> str:
    pairs = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return f"{name}{{{pairs}}}"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"<!-- test-command -->\n```sh\n(.+?)\n```", readme, re.S)
    assert command is not None, "README.md marks its test command with <!-- test-command -->"
    assert command.group(1) in ci.splitlines()
