"""Grafana dashboards of the chat supervision, generated from Python.

The generator is the single source of truth: ``python -m dashboards`` writes the classic
dashboard JSON that Grafana's file provisioning loads (dashboards/json/), and
``python -m dashboards --check`` fails when the committed files differ from what the code
generates. The JSON is committed so that users can provision it without running Python.
A Chatwoot deployment provisions the same supervision dashboard (the metrics are the same)
and, in place of the reference drill-down, the one in json-chatwoot/ (same uid, Chatwoot's
SQL). It lives outside json/, which Grafana's file provider reads recursively.
"""

from collections.abc import Callable
from functools import partial
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import live_conversations, supervision

JSON_DIRECTORY = Path(__file__).resolve().parent / "json"
CHATWOOT_JSON_DIRECTORY = Path(__file__).resolve().parent / "json-chatwoot"

# File path -> the function building that dashboard.
DASHBOARDS: dict[Path, Callable[[], dashboard.Dashboard]] = {
    JSON_DIRECTORY / "supervision.json": supervision.build,
    JSON_DIRECTORY / "live-conversations.json": live_conversations.build,
    CHATWOOT_JSON_DIRECTORY / "live-conversations.json": partial(
        live_conversations.build, live_conversations.CHATWOOT
    ),
}


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


def generate() -> dict[Path, str]:
    """Every dashboard file and the text it must contain."""
    return {path: render(build()) for path, build in DASHBOARDS.items()}


def stale(generated: dict[Path, str]) -> list[Path]:
    """The files whose content on disk is not the generated one (or that are missing)."""
    return [
        path
        for path, text in generated.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
