"""Grafana dashboards of the chat supervision, generated from Python.

The generator is the single source of truth: ``python -m dashboards`` writes the classic
dashboard JSON that Grafana's file provisioning loads (dashboards/json/), and
``python -m dashboards --check`` fails when the committed files differ from what the code
generates. The JSON is committed so that users can provision it without running Python.
A Chatwoot deployment provisions the same supervision dashboard (the metrics are the same)
and, in place of the reference drill-down, the one in json-chatwoot/ (same uid, Chatwoot's
SQL). It lives outside json/, which Grafana's file provider reads recursively. The dashboards
of json/ are also written as ConfigMaps for Grafana's dashboard sidecar on Kubernetes
(deploy/kubernetes/base/). The committed files are rendered with the defaults of
mixin/settings.py; ``--job-selector`` and ``--out`` render them for another deployment.
"""

from pathlib import Path

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import live_conversations, supervision
from mixin.generator import KUBERNETES_BASE, header
from mixin.settings import DEFAULTS, Settings
from mixin.yamltext import documents

DIRECTORY = Path(__file__).resolve().parent
JSON_DIRECTORY = DIRECTORY / "json"
CHATWOOT_JSON_DIRECTORY = DIRECTORY / "json-chatwoot"
COMMAND = "python -m dashboards"
CONFIG_MAPS_FILE = "grafana-dashboards.yaml"
# The label Grafana's dashboard sidecar (the Grafana Helm chart's) looks for by default.
SIDECAR_LABEL = {"grafana_dashboard": "1"}


def render(board: dashboard.Dashboard) -> str:
    """The dashboard as classic JSON: sorted keys, two-space indent, a final newline.

    Panels get ids 1, 2, ... in order: Grafana would otherwise number them itself on every
    load, and rows, which the SDK always gives id 0, would share one id.
    """
    built = board.build()
    for number, panel in enumerate(built.panels or [], start=1):
        panel.id_val = number
    text: str = JSONEncoder(sort_keys=True, indent=2, ensure_ascii=False).encode(built)
    return text + "\n"


def dashboards(settings: Settings = DEFAULTS) -> dict[Path, dashboard.Dashboard]:
    """Every dashboard, by its path relative to this package."""
    return {
        Path("json", "supervision.json"): supervision.build(settings),
        Path("json", "live-conversations.json"): live_conversations.build(),
        Path("json-chatwoot", "live-conversations.json"): live_conversations.build(
            live_conversations.CHATWOOT
        ),
    }


def config_maps(files: dict[Path, str], settings: Settings) -> str:
    """One ConfigMap per dashboard of json/, for Grafana's dashboard sidecar: its file name
    as the key, its JSON as the value."""
    maps = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"chat-dashboard-{path.stem}",
                "labels": {
                    **SIDECAR_LABEL,
                    "app.kubernetes.io/name": "chat-supervision-exporter",
                    "app.kubernetes.io/component": "dashboards",
                },
            },
            "data": {path.name: text},
        }
        for path, text in files.items()
        if path.parent == Path("json")
    ]
    return documents(maps, header(COMMAND, "dashboards/*.py", settings))


def generate(settings: Settings = DEFAULTS, out: Path | None = None) -> dict[Path, str]:
    """Every dashboard file and the text it must contain: where the repository keeps it, or
    in ``out`` (with the json/ and json-chatwoot/ folders)."""
    files = {path: render(board) for path, board in dashboards(settings).items()}
    generated = {(out or DIRECTORY) / path: text for path, text in files.items()}
    generated[(out or KUBERNETES_BASE) / CONFIG_MAPS_FILE] = config_maps(files, settings)
    return generated
