"""Grafana dashboards of the chat supervision, generated from Python.

The generator is the single source of truth: ``python -m dashboards`` writes the classic
dashboard JSON that Grafana's file provisioning loads (dashboards/json/), and
``python -m dashboards --check`` fails when the committed files differ from what the code
generates. The JSON is committed so that users can provision it without running Python.
"""

from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import live_conversations, supervision

JSON_DIRECTORY = Path(__file__).resolve().parent / "json"

# File name (in JSON_DIRECTORY) -> the function building that dashboard.
DASHBOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "supervision.json": supervision.build,
    "live-conversations.json": live_conversations.build,
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
    return {JSON_DIRECTORY / name: render(build()) for name, build in DASHBOARDS.items()}


def stale(generated: dict[Path, str]) -> list[Path]:
    """The files whose content on disk is not the generated one (or that are missing)."""
    return [
        path
        for path, text in generated.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
