"""Grafana's frontend code on the dashboards, in headless Chromium (tests/grafana-frontend/).

``show`` hands each dashboard, with the backend's answers to its panels' queries
(tests/grafana_backend.py), to page.html; Grafana's packages turn the answers into what each
panel displays and draw the dashboard. The npm packages are installed from the committed
lockfile and bundled when missing or older than their sources.
"""

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import installed

FRONTEND = Path(__file__).parent / "grafana-frontend"
SOURCES = (FRONTEND / "build.mjs", FRONTEND / "package-lock.json", *(FRONTEND / "src").glob("*"))


@dataclass(frozen=True)
class Crop:
    """A picture of one panel of a dashboard, named ``name``.png."""

    name: str
    dashboard: str
    panel: str


@dataclass(frozen=True)
class Shown:
    """What Chromium showed: per dashboard, each panel's displayed values (by title), the
    titles of the panels drawn and of those that scroll sideways; every error the page
    logged; where the pictures are."""

    displayed: dict[str, dict[str, Any]]
    drawn: dict[str, list[str]]
    scrolling: dict[str, list[str]]
    errors: list[str]
    pictures: Path


def newer(target: Path, sources: Sequence[Path]) -> bool:
    """Whether ``target`` exists and is newer than every source."""
    return target.exists() and all(
        target.stat().st_mtime >= source.stat().st_mtime for source in sources
    )


def build() -> None:
    """npm ci from the lockfile when node_modules is missing or stale, then the bundle."""
    installed("node")
    npm = installed("npm")
    if not newer(
        FRONTEND / "node_modules" / ".package-lock.json", [FRONTEND / "package-lock.json"]
    ):
        # About 700 MB when npm's cache is empty: minutes, not seconds.
        run([npm, "ci", "--no-audit", "--no-fund"], timeout=900)
    if not newer(FRONTEND / "dist" / "page.js", [path for path in SOURCES if path.is_file()]):
        run([npm, "run", "build"], timeout=120)


def run(command: list[str], timeout: float) -> None:
    """Run ``command`` in the npm project; fail with its output unless it exits 0."""
    result = subprocess.run(
        command, cwd=FRONTEND, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def show(boards: Sequence[dict[str, Any]], crops: Sequence[Crop], pictures: Path) -> Shown:
    """Open every board (a BoardInput of src/types.ts) in Chromium; pictures go to ``pictures``."""
    chromium = installed("chromium")
    node = installed("node")
    build()
    pictures.mkdir(parents=True, exist_ok=True)
    given = pictures / "input.json"
    given.write_text(
        json.dumps({"dashboards": list(boards), "crops": [vars(crop) for crop in crops]})
    )
    run([node, "run.mjs", str(given), str(pictures), chromium], timeout=300)
    given.unlink()
    answer = json.loads((pictures / "result.json").read_text())
    (pictures / "result.json").unlink()
    return Shown(
        displayed={name: board["displayed"] for name, board in answer["dashboards"].items()},
        drawn={name: board["drawn"] for name, board in answer["dashboards"].items()},
        scrolling={name: board["scrolling"] for name, board in answer["dashboards"].items()},
        errors=answer["errors"],
        pictures=pictures,
    )
