"""The dashboards as a supervisor sees them, on the end-to-end scenario, drawn by Grafana's own
frontend code in headless Chromium at 1 920 px: the pictures of the README and docs/.

    python -m tests.pictures [--out docs/pictures] [--minutes 5]

starts the end-to-end stack (tests/stack.py), lets Prometheus gather that many minutes of
history, and writes supervision.png, agent-table.png and live-conversations.png over the
last that many minutes. tests/test_grafana_frontend.py draws the same pictures, after 30 s of
history, into a temporary directory, and checks every panel's displayed values.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.grafana_backend import TimeRange, board_input
from tests.grafana_frontend import Crop, Shown, show
from tests.servers import eventually
from tests.stack import DASHBOARDS, Stack, running_stack, wait_for_rules

ROOT = Path(__file__).parent.parent
PICTURES = ROOT / "docs" / "pictures"
# The browser's zone, which the dashboards follow.
TIME_ZONE = "UTC"
SITE = "paris"
AGENT_ID = "1"  # Alice Martin, of paris
CROPS = (Crop("agent-table", "supervision", "Agents"),)


def last(minutes: int) -> tuple[dict[str, str], TimeRange]:
    """The time picker's "Last ``minutes`` minutes": as the dashboard keeps it, and resolved."""
    now_ms = int(time.time() * 1000)
    return {"from": f"now-{minutes}m", "to": "now"}, TimeRange(now_ms - minutes * 60_000, now_ms)


def boards(stack: Stack, minutes: int) -> list[dict[str, Any]]:
    """Both dashboards, on site paris (and Alice's conversations for the drill-down), with
    the backend's answers to every panel's queries now.

    Over the last ``minutes`` rather than the dashboards' today so far: the stack's
    Prometheus holds only the minutes it has run, which a whole day's axis shrinks to a
    sliver (and whose step, up to 2 minutes, could hold no point yet)."""
    picked, time_range = last(minutes)
    chosen = {
        "supervision": {"datasource": ["chat-prometheus"], "site": [SITE]},
        "live-conversations": {"site": [SITE], "agent": [AGENT_ID]},
    }
    inputs = []
    for name, variables in chosen.items():
        dashboard = json.loads((DASHBOARDS / f"{name}.json").read_text())
        dashboard["time"] = picked
        inputs.append(
            board_input(
                name,
                dashboard,
                variables,
                time_range,
                prometheus_url=stack.prometheus.url,
                database_url=stack.database.url,
                time_zone=TIME_ZONE,
            )
        )
    return inputs


def draw(
    stack: Stack, pictures: Path, *, minutes: int = 15, history: int = 30
) -> tuple[list[dict[str, Any]], Shown]:
    """Every dashboard of the running ``stack`` through Grafana's code over the last
    ``minutes``, pictured in ``pictures``: what it was given, and what it showed. Waits
    until the rules have run and Prometheus holds ``history`` seconds (at least two of
    Grafana's 15 s steps, so that a graph has points)."""
    wait_for_rules(stack.prometheus)
    scrapes = f"count_over_time(chat_up[{history + 60}s]) > {history}"  # a scrape a second
    assert eventually(lambda: stack.prometheus.query(scrapes), history + 10), "no history"
    given = boards(stack, minutes)
    return given, show(given, CROPS, pictures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pictures", description=__doc__)
    parser.add_argument("--out", type=Path, default=PICTURES, help="where the PNGs go")
    parser.add_argument(
        "--minutes", type=int, default=5, help="history to gather first, and the time range"
    )
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory, running_stack(Path(directory)) as stack:
        _, shown = draw(
            stack, arguments.out, minutes=arguments.minutes, history=arguments.minutes * 60
        )
    for error in shown.errors:
        print(error, file=sys.stderr)
    return 1 if shown.errors else 0


if __name__ == "__main__":
    sys.exit(main())
