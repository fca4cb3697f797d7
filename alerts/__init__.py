"""The Prometheus rules of the chat supervision, generated from Python.

As with the dashboards, the Python is the single source of truth: ``python -m alerts``
writes recording.rules.yml and alerting.rules.yml (for Prometheus' ``rule_files``) and the
same two groups as a prometheus-operator PrometheusRule in deploy/kubernetes/base/, from the
settings of mixin/settings.py; ``--check`` fails when a committed file differs from what the
code generates. The committed files are the defaults' rendering, so that a deployment with
the job ``chat`` uses them without running Python.
"""

from pathlib import Path

from alerts import alerting, recording
from alerts.rules import Group
from mixin.generator import KUBERNETES_BASE, header
from mixin.settings import DEFAULTS, Settings
from mixin.yamltext import Commented, documents

DIRECTORY = Path(__file__).resolve().parent
COMMAND = "python -m alerts"
SOURCES = "alerts/*.py"
# The keys whose long texts are folded over several lines.
FOLDED = ("description",)

RECORDING_FILE = "recording.rules.yml"
ALERTING_FILE = "alerting.rules.yml"
PROMETHEUS_RULE_FILE = "prometheus-rules.yaml"
PROMETHEUS_RULE_NAME = "chat-supervision"


def groups(settings: Settings = DEFAULTS) -> tuple[Group, Group]:
    """The recording group, then the alerting group, which reads what it records."""
    return recording.group(settings), alerting.group(settings)


def _commented(group: Group) -> Commented:
    return Commented(group.comment, group.group())


def rule_file(group: Group, settings: Settings) -> str:
    """A file for Prometheus' ``rule_files``, holding one group."""
    document = {"groups": [_commented(group)]}
    return documents([document], header(COMMAND, SOURCES, settings), FOLDED)


def prometheus_rule(rule_groups: tuple[Group, ...], settings: Settings) -> str:
    """The groups as a prometheus-operator PrometheusRule, for the Kubernetes manifests."""
    resource = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": PROMETHEUS_RULE_NAME,
            "labels": {
                "app.kubernetes.io/name": "chat-supervision-exporter",
                "app.kubernetes.io/component": "rules",
            },
        },
        "spec": {"groups": [_commented(group) for group in rule_groups]},
    }
    return documents([resource], header(COMMAND, SOURCES, settings), FOLDED)


def generate(settings: Settings = DEFAULTS, out: Path | None = None) -> dict[Path, str]:
    """Every rule file and the text it must contain: where the repository keeps it, or
    all in ``out``."""
    recorded, alerts = groups(settings)
    return {
        (out or DIRECTORY) / RECORDING_FILE: rule_file(recorded, settings),
        (out or DIRECTORY) / ALERTING_FILE: rule_file(alerts, settings),
        (out or KUBERNETES_BASE) / PROMETHEUS_RULE_FILE: prometheus_rule(
            (recorded, alerts), settings
        ),
    }
