"""The dashboards through Grafana's own frontend code (tests/grafana-frontend/), in headless
Chromium, on the end-to-end stack's scenario (tests/stack.py): what each panel displays is
what a supervisor should read, computed by hand.

The harness is Grafana's own: its npm packages are the composed stack's Grafana version,
installed from a lockfile. The stack is this module's own, so that Chromium's load does not
delay the timing-sensitive comparisons of tests/test_end_to_end.py.
"""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import pictures
from tests.grafana_frontend import FRONTEND
from tests.stack import Stack, running_stack
from tests.test_dashboards import AGENT_COLUMNS

ROOT = Path(__file__).parent.parent
PACKAGE = json.loads((FRONTEND / "package.json").read_text())
LOCK = json.loads((FRONTEND / "package-lock.json").read_text())
# Versioned with Grafana itself; @grafana/prometheus has its own versions since it moved to
# its own repository (grafana/grafana-prometheus-datasource).
GRAFANA_PACKAGES = ("data", "e2e-selectors", "i18n", "runtime", "schema", "ui")


def compose_grafana_version() -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    image: str = compose["x-grafana-service"]["image"]
    name, version = image.split(":")
    assert name == "grafana/grafana"
    return version


def test_the_packages_are_the_composed_grafanas_version() -> None:
    version = compose_grafana_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin the image to an exact version"
    for name in GRAFANA_PACKAGES:
        package = f"@grafana/{name}"
        assert PACKAGE["dependencies"][package] == version, package
        assert LOCK["packages"][f"node_modules/{package}"]["version"] == version, package


def test_every_dependency_is_pinned_and_locked() -> None:
    for package, version in PACKAGE["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), (package, version)
        assert LOCK["packages"][f"node_modules/{package}"]["version"] == version, package
    assert LOCK["packages"][""]["dependencies"] == PACKAGE["dependencies"]


def test_the_lockfile_names_no_download_address() -> None:
    """npm ci takes every package from the registry the machine is configured with."""
    for path, entry in LOCK["packages"].items():
        assert "resolved" not in entry, path
        assert path == "" or entry.get("integrity", "").startswith("sha512-"), path


# What the dashboards show, on a stack of this module's own.


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


class Duration:
    """A duration as Grafana shows it, equal within 3 s: the figures were scraped up to a
    second before the queries' instant."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def read(self, text: str) -> float | None:
        """The seconds ``text`` shows, or None if it is not in this unit."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        seconds = self.read(other) if isinstance(other, str) else None
        return seconds is not None and abs(seconds - self.seconds) <= 3

    def __hash__(self) -> int:
        return hash(self.seconds)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.seconds:.0f} s ± 3)"


class Clock(Duration):
    """Grafana's ``dthms`` unit: hh:mm:ss."""

    def read(self, text: str) -> float | None:
        if not re.fullmatch(r"\d\d:\d\d:\d\d", text):
            return None
        hours, minutes, seconds = map(int, text.split(":"))
        return hours * 3600 + minutes * 60 + seconds


class Minutes(Duration):
    """Grafana's ``s`` unit past a minute: "2.13 mins"."""

    def read(self, text: str) -> float | None:
        found = re.fullmatch(r"(\d+(?:\.\d+)?) mins?", text)
        return float(found[1]) * 60 if found else None


def shown(title: str, text: Any, colour: str) -> dict[str, Any]:
    return {"title": title, "text": text, "color": colour}


def series(*named: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"name": name, "last": last, "color": colour} for name, last, colour in named]


def cells(*texts: Any, background: str | None = None) -> list[dict[str, Any]]:
    return [
        {"text": text} if background is None else {"text": text, "background": background}
        for text in texts
    ]


def displayed_expectations(age: float, started: float) -> dict[str, dict[str, Any]]:
    """What a supervisor reads on each panel for site paris (the drill-down: Alice's
    conversations), ``age`` seconds after the scenario's instant ``started``; the figures are
    those of panel_expectations, as Grafana formats and colours them. Time series are listed
    by legend, last value and colour (the points depend on how long the stack has run)."""
    h = age / 3600
    drill_down = (
        "/d/chat-live-conversations/live-conversations?var-site=paris&var-agent={id}"
        "&from=now-15m&to=now&timezone=UTC"
    )
    red_row = "red"
    alice: list[dict[str, Any]] = [
        {"text": "paris"},
        {"text": "Alice Martin", "link": drill_down.format(id=1)},
        {"text": "Available", "background": "green"},
        {"text": ""},
        {"text": Clock(70 * 60 + age)},
        {"text": Clock(7200 + age)},
        {"text": Clock(30 * 60 + 70 * 60 + age)},
        {"text": Clock(20 * 60)},
        {"text": "2"},
        {"text": Clock(600)},
        {"text": f"{2 / (2 + h):.1f}"},
        {"text": ""},
        {"text": ""},
        {"text": "0%"},
        {"text": "0"},
        {"text": "4.00", "background": "green"},
        {"text": "1"},
        {"text": "1"},
        {"text": "2"},
    ]
    # A signal turns the whole row red, but for the cells coloured by their own value.
    alice = [{"background": red_row, **cell} for cell in alice]
    bob = [
        {"text": "paris"},
        {"text": "Bob", "link": drill_down.format(id=2)},
        {"text": "Busy", "background": "orange"},
        {"text": "back office"},
        {"text": Clock(50 * 60 + age)},
        {"text": Clock(3600 + age)},
        {"text": Clock(10 * 60)},
        {"text": Clock(50 * 60 + age)},
        {"text": "2"},
        {"text": Clock(300)},
        {"text": f"{2 / (1 + h):.1f}"},
        {"text": "50.00"},
        {"text": "EUR"},
        {"text": "50%"},
        {"text": "1"},
        {"text": "1.50", "background": "red"},
        {"text": "1"},
        {"text": "1"},
        {"text": "0"},
    ]
    c2_started = datetime.fromtimestamp(started - 20 * 60, UTC)
    return {
        "supervision": {
            "Agents by status": {
                "type": "stat",
                "values": [
                    shown("Available", "1", "green"),
                    shown("Busy", "1", "orange"),
                    shown("Unavailable", "0", "red"),
                ],
            },
            # Last week's overlay has no data: a new Prometheus has no last week.
            "Agents online through the day": series(
                ("Available", "1", "green"), ("Busy", "1", "orange"), ("Unavailable", "0", "red")
            ),
            # 3 in target / (4 answered + 1 abandoned), below paris' objective 0.9: red.
            "Service level": {
                "type": "stat",
                "values": [shown("paris", "60%", "red"), shown("paris · objective", "90%", "blue")],
            },
            # (30 + 60 + 120 + 30) / 4 s; the target, 60 s.
            "Speed of answer": {
                "type": "stat",
                "values": [
                    shown("paris", "1 min", "text"),
                    shown("paris · target", "1 min", "blue"),
                ],
            },
            "Abandon rate": {"type": "stat", "values": [shown("paris", "33%", "text")]},
            "Answered and abandoned through the day": series(
                ("Answered", "4", "green"), ("Abandoned", "1", "red")
            ),
            "Conversations per hour": series(("Started in the last hour", "6", "green")),
            # (5 + 4 + 3 + 2 + 1) / 5: orange from 2.5, green from 3.5.
            "Average satisfaction": {"type": "stat", "values": [shown("paris", "3.00", "orange")]},
            "Satisfaction by criterion": {
                "type": "stat",
                "values": [
                    shown("paris · quality", "2.50", "orange"),
                    shown("paris · response time", "3.00", "orange"),
                    shown("paris · welcome", "3.50", "green"),
                ],
            },
            # 4 and 5 are good: 2 of the 5 ratings.
            "Share of good ratings": {"type": "stat", "values": [shown("paris", "40%", "blue")]},
            "Satisfaction through the day": series(
                ("paris · overall", "3.00", "green"),
                ("paris · quality", "2.50", "semi-dark-yellow"),
                ("paris · response time", "3.00", "blue"),
                ("paris · welcome", "3.50", "orange"),
            ),
            # 6 of 10 conversations; 0.6 / 0.9; AHT 300 s / Alice's 600 s: orange from 50 %.
            "Site objectives": {
                "type": "bargauge",
                "values": [
                    shown("paris · daily contacts", "60%", "orange"),
                    shown("paris · answer fast", "67%", "orange"),
                ],
            },
            "Agent objectives": {
                "type": "bargauge",
                "values": [shown("Alice Martin (paris) · Alice's AHT", "50%", "orange")],
            },
            "In progress": {
                "type": "stat",
                "values": [shown("call", "0", "blue"), shown("chat", "2", "blue")],
            },
            "Waiting": {
                "type": "stat",
                "values": [shown("call", "0", "green"), shown("chat", "1", "orange")],
            },
            # Waiting for 2 min when the scenario was written: orange from 1 min, red from 5.
            "Oldest waiting": {
                "type": "stat",
                "values": [
                    shown("Oldest", Minutes(120 + age), "orange" if 120 + age < 300 else "red")
                ],
            },
            "With a signal": {
                "type": "stat",
                "values": [shown("handling time", "1", "red"), shown("response time", "1", "red")],
            },
            "Free slots / capacity": {
                "type": "stat",
                "values": [shown("Free", "2", "green"), shown("Capacity", "3", "blue")],
            },
            "Conversations through the day": series(
                ("In progress · call", "0", "green"),
                ("In progress · chat", "2", "semi-dark-yellow"),
                ("Waiting · call", "0", "blue"),
                ("Waiting · chat", "1", "orange"),
            ),
            "Free slots and forecast": series(
                ("Free slots", "2", "green"),
                ("Capacity", "3", "blue"),
                ("Forecast in 30 minutes", "2", "orange"),
            ),
            "Signals now": {
                "type": "stat",
                "values": [
                    shown("paris · handling time", "1", "red"),
                    shown("paris · response time", "1", "red"),
                ],
            },
            "Signals through the day": series(
                ("paris · handling time", "1", "green"),
                ("paris · response time", "1", "semi-dark-yellow"),
            ),
            "Signal thresholds": {
                "type": "table",
                "columns": ["Site", "Signal", "Threshold"],
                "rows": [
                    cells("paris", "handling time", "10 mins"),
                    cells("paris", "response time", "1 min"),
                ],
            },
            # Sorted by signals: Alice's row red (her conversation handled too long, whose
            # visitor waits for a reply).
            "Agents": {"type": "table", "columns": AGENT_COLUMNS, "rows": [alice, bob]},
        },
        "live-conversations": {
            "In progress now": {"type": "stat", "values": [shown("conversation", "1", "blue")]},
            # c2: 20 min in progress, its visitor waiting 5 min for a reply.
            "Conversations in progress": {
                "type": "table",
                "columns": CONVERSATION_COLUMNS,
                "rows": [
                    [
                        {"text": "2"},
                        {"text": "paris"},
                        {"text": "Alice Martin"},
                        {"text": "chat"},
                        {"text": c2_started.strftime("%Y-%m-%d %H:%M:%S")},
                        {"text": Clock(20 * 60 + age)},
                        {"text": Clock(5 * 60 + age)},
                        {"text": "Triggered", "background": "red"},
                        {"text": "Triggered", "background": "red"},
                    ]
                ],
            },
        },
    }


CONVERSATION_COLUMNS = [
    "Conversation",
    "Site",
    "Agent",
    "Channel",
    "Started at",
    "Duration",
    "Wait for reply",
    "Handling signal",
    "Response signal",
]
NAMED_COLOURS = {"green", "orange", "red", "blue", "text", "semi-dark-yellow", "transparent"}


def legible(panel: str, cell: dict[str, Any]) -> dict[str, Any]:
    """A table cell without its text colour, once that colour is checked: on a background,
    the contrasting text Grafana chooses, never a colour of the palette (green on red)."""
    colour = cell.get("color")
    if "background" in cell:
        assert colour is not None, (panel, cell)
        assert colour not in NAMED_COLOURS, (panel, cell)
    return {key: value for key, value in cell.items() if key != "color"}


def as_expected(panel: str, displayed: dict[str, Any]) -> Any:
    """What test_every_panel_shows_the_scenario compares: time series by legend, last value
    and colour (each with points); table cells checked for legibility."""
    if displayed["type"] == "timeseries":
        assert all(line["points"] > 0 for line in displayed["series"]), panel
        return [
            {key: line[key] for key in ("name", "last", "color")} for line in displayed["series"]
        ]
    if displayed["type"] == "table":
        rows = [[legible(panel, cell) for cell in row] for row in displayed["rows"]]
        return {**displayed, "rows": rows}
    return displayed


@pytest.mark.slow
def test_every_panel_shows_the_scenario(stack: Stack, tmp_path: Path) -> None:
    """Both dashboards through Grafana's own frontend code in Chromium, on the backend's
    answers: every panel drawn, none scrolling sideways at 1 920 px, no error, and each
    panel's displayed text and colours those a supervisor should read."""
    inputs, shown = pictures.draw(stack, tmp_path)
    assert shown.errors == []
    age = inputs[0]["timeRange"]["to"] / 1000 - stack.started
    expected = displayed_expectations(age, stack.started)
    for board in inputs:
        name = board["name"]
        titles = [
            panel["title"] for panel in board["dashboard"]["panels"] if panel["type"] != "row"
        ]
        assert sorted(shown.drawn[name]) == sorted(titles), name
        assert shown.scrolling[name] == [], name
        got = {title: as_expected(title, value) for title, value in shown.displayed[name].items()}
        assert got.keys() == expected[name].keys(), name
        for title, value in expected[name].items():
            assert got[title] == value, (name, title)
    for picture in ("supervision", "live-conversations", *(crop.name for crop in pictures.CROPS)):
        assert (tmp_path / f"{picture}.png").stat().st_size > 10_000, picture
