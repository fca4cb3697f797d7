"""alerts/alertmanager.yml: valid, routes every severity, inhibits, and notifies.

amtool checks the file and its routing table offline. A real Alertmanager, run on the
project's file with only the webhook URLs pointed at the composed stack's own receiver
(deploy/alert_webhook.py, started here on a free port), shows each inhibition through its API
at once, then delivers its notifications after the configured 30 s group_wait.
"""

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import (
    Alertmanager,
    Webhook,
    alertmanager,
    eventually,
    installed,
    webhook,
)

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "alerts" / "alertmanager.yml"
RULES = ROOT / "alerts" / "alerting.rules.yml"
WEBHOOK_ORIGIN = "http://alert-webhook:9095"


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [installed("amtool"), *args], capture_output=True, text=True, timeout=30, check=False
    )


def test_amtool_accepts_the_configuration() -> None:
    result = _amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 inhibit rules" in result.stdout


# Label sets, as amtool takes them, and the receiver each must reach.
ROUTES = [
    ("alertname=ChatDatabaseDown severity=critical site=paris", "on-call"),
    ("alertname=ChatExporterAbsent severity=critical", "on-call"),
    ("alertname=ChatResponseTimeExceeded severity=critical site=tokyo", "on-call"),
    ("alertname=ChatResponseTimeExceeded severity=warning site=tokyo", "team-leads"),
    ("alertname=ChatSatisfactionPoor severity=warning site=new-york", "team-leads"),
    ("alertname=ChatServiceLevelLow severity=warning site=paris", "team-leads"),
    ("alertname=ChatAbandonRateHigh severity=warning site=tokyo", "team-leads"),
    ("alertname=ChatSlotsRunningOut severity=info site=paris", "team-leads"),
    ("alertname=SomethingElse site=paris", "team-leads"),
]


def _routes_test(labels: str, receiver: str) -> subprocess.CompletedProcess[str]:
    return _amtool(
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        f"--verify.receivers={receiver}",
        *labels.split(),
    )


@pytest.mark.parametrize(("labels", "receiver"), ROUTES)
def test_routes(labels: str, receiver: str) -> None:
    result = _routes_test(labels, receiver)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_routing_expectation_fails() -> None:
    result = _routes_test("alertname=ChatDatabaseDown severity=critical", "team-leads")
    assert result.returncode != 0
    assert "on-call" in result.stdout


def _config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    return config


def test_info_alerts_are_routed_during_business_hours_only() -> None:
    """Structure only: whether a notification goes out depends on the wall clock."""
    config = _config()
    timed = {
        tuple(route["matchers"]): route.get("active_time_intervals")
        for route in config["route"]["routes"]
    }
    assert timed == {
        ('severity="critical"',): None,
        ('severity="warning"',): None,
        ('severity="info"',): ["business-hours"],
    }
    assert config["time_intervals"] == [
        {
            "name": "business-hours",
            "time_intervals": [
                {
                    "weekdays": ["monday:friday"],
                    "times": [{"start_time": "08:00", "end_time": "20:00"}],
                    "location": "Europe/Paris",
                }
            ],
        }
    ]


def test_the_down_alerts_inhibit_every_data_alert_of_the_rules() -> None:
    """A data alert missing from the inhibition would repeat each outage, then resolve falsely."""
    rules = yaml.safe_load(RULES.read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    [inhibition] = [
        rule
        for rule in _config()["inhibit_rules"]
        if rule["source_matchers"] == ['alertname=~"ChatExporterDown|ChatDatabaseDown"']
    ]
    [target] = inhibition["target_matchers"]
    matcher = re.fullmatch(r'alertname=~"([^"]+)"', target)
    assert matcher is not None, target
    # Alertmanager anchors its regular expressions at both ends, as fullmatch does.
    inhibited = {name for name in alerts if re.fullmatch(matcher.group(1), name)}
    assert inhibited == alerts - {"ChatExporterDown", "ChatExporterAbsent", "ChatDatabaseDown"}
    assert inhibition["equal"] == ["site"]


def test_every_receiver_also_reports_resolution() -> None:
    webhooks = [hook for receiver in _config()["receivers"] for hook in receiver["webhook_configs"]]
    assert len(webhooks) == 2
    assert all(hook["send_resolved"] is True for hook in webhooks)
    assert all(hook["url"].startswith(WEBHOOK_ORIGIN + "/") for hook in webhooks)


# The alerts posted to the real Alertmanager, one site per inhibition case so that no two
# cases interfere, and what inhibits each (None: nothing does).
ALERTS: dict[str, tuple[dict[str, str], str | None]] = {
    "database-down-paris": (
        {"alertname": "ChatDatabaseDown", "severity": "critical", "site": "paris"},
        None,
    ),
    "response-paris": (
        {"alertname": "ChatResponseTimeExceeded", "severity": "warning", "site": "paris"},
        "database-down-paris",
    ),
    "response-tokyo": (
        {"alertname": "ChatResponseTimeExceeded", "severity": "warning", "site": "tokyo"},
        None,
    ),
    "exporter-down-madrid": (
        {"alertname": "ChatExporterDown", "severity": "critical", "site": "madrid"},
        None,
    ),
    "satisfaction-madrid": (
        {"alertname": "ChatSatisfactionPoor", "severity": "warning", "site": "madrid"},
        "exporter-down-madrid",
    ),
    "response-critical-new-york": (
        {"alertname": "ChatResponseTimeExceeded", "severity": "critical", "site": "new-york"},
        None,
    ),
    "response-warning-new-york": (
        {"alertname": "ChatResponseTimeExceeded", "severity": "warning", "site": "new-york"},
        "response-critical-new-york",
    ),
    "no-agent-lyon": (
        {"alertname": "ChatNoAgentAvailable", "severity": "critical", "site": "lyon"},
        None,
    ),
    "slots-exhausted-lyon": (
        {"alertname": "ChatSlotsExhausted", "severity": "warning", "site": "lyon"},
        "no-agent-lyon",
    ),
    "slots-exhausted-berlin": (
        {"alertname": "ChatSlotsExhausted", "severity": "warning", "site": "berlin"},
        None,
    ),
    "slots-running-out-berlin": (
        {"alertname": "ChatSlotsRunningOut", "severity": "info", "site": "berlin"},
        "slots-exhausted-berlin",
    ),
    "database-down-rome": (
        {"alertname": "ChatDatabaseDown", "severity": "critical", "site": "rome"},
        None,
    ),
    "service-level-rome": (
        {"alertname": "ChatServiceLevelLow", "severity": "warning", "site": "rome"},
        "database-down-rome",
    ),
    "service-level-oslo": (
        {"alertname": "ChatServiceLevelLow", "severity": "warning", "site": "oslo"},
        None,
    ),
    "exporter-down-vienna": (
        {"alertname": "ChatExporterDown", "severity": "critical", "site": "vienna"},
        None,
    ),
    "abandon-vienna": (
        {"alertname": "ChatAbandonRateHigh", "severity": "warning", "site": "vienna"},
        "exporter-down-vienna",
    ),
    "abandon-oslo": (
        {"alertname": "ChatAbandonRateHigh", "severity": "warning", "site": "oslo"},
        None,
    ),
}


@dataclass
class Stack:
    """A real Alertmanager, and the webhook receiver its notifications go to."""

    alertmanager: Alertmanager
    webhook: Webhook


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("alertmanager")
    text = CONFIG.read_text()
    assert text.count(WEBHOOK_ORIGIN) == 2
    with webhook(directory) as receiver:
        config = directory / "alertmanager.yml"
        config.write_text(text.replace(WEBHOOK_ORIGIN, receiver.url))
        with alertmanager(config, directory) as server:
            server.post(
                [
                    {"labels": labels, "annotations": {"summary": f"{labels['alertname']}."}}
                    for labels, _ in ALERTS.values()
                ]
            )
            yield Stack(server, receiver)


@pytest.fixture(scope="module")
def statuses(stack: Stack) -> dict[str, dict[str, Any]]:
    """Each posted alert's fingerprint and status, once every expected inhibition shows.

    The inhibitor learns of source alerts asynchronously, hence the short wait; the alerts
    expected to stay active are read in the same answer. Should the expectation never come
    true, the last answer is returned all the same, for each case to report its own status.
    """
    names = {tuple(sorted(labels.items())): name for name, (labels, _) in ALERTS.items()}
    found: dict[str, dict[str, Any]] = {}

    def settled() -> bool:
        found.clear()
        for alert in stack.alertmanager.alerts():
            name = names[tuple(sorted(alert["labels"].items()))]
            found[name] = alert
        inhibited = {name for name, alert in found.items() if alert["status"]["inhibitedBy"]}
        return len(found) == len(ALERTS) and inhibited == {
            name for name, (_, source) in ALERTS.items() if source
        }

    eventually(settled, 10)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ALERTS))
def test_inhibition(name: str, statuses: dict[str, dict[str, Any]]) -> None:
    source = ALERTS[name][1]
    status = statuses[name]["status"]
    if source is None:
        assert status == {"state": "active", "inhibitedBy": [], "silencedBy": []}
    else:
        assert status == {
            "state": "suppressed",
            "inhibitedBy": [statuses[source]["fingerprint"]],
            "silencedBy": [],
        }


@pytest.mark.slow
def test_notifications_reach_the_webhook_grouped_by_alert_and_site(
    stack: Stack, statuses: dict[str, dict[str, Any]]
) -> None:
    """Every alert not inhibited, and no other, is delivered to its severity's receiver.

    The info alert is inhibited too, so the business-hours interval cannot change this.
    """
    expected = {
        (f"/{receiver}", receiver, labels["alertname"], labels["site"])
        for labels, source in ALERTS.values()
        if source is None
        for receiver in ["on-call" if labels["severity"] == "critical" else "team-leads"]
    }

    def delivered() -> set[tuple[str, str, str, str]]:
        return {
            (n["path"], n["receiver"], n["group"]["alertname"], n["group"]["site"])
            for n in stack.webhook.received()
        }

    group_wait = _config()["route"]["group_wait"]
    assert group_wait == "30s", "a longer wait would need a longer test"
    eventually(lambda: delivered() >= expected, 30 + 15)
    time.sleep(1)  # every group flushed together; an inhibited one would have come by now
    assert delivered() == expected
    for notification in stack.webhook.received():
        assert notification["status"] == "firing"
        assert set(notification["group"]) == {"alertname", "site"}
        [alert] = notification["alerts"]
        assert alert["labels"]["site"] == notification["group"]["site"]
        assert alert["summary"] == f"{notification['group']['alertname']}."
