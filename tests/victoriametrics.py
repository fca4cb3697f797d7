"""VictoriaMetrics as real processes for tests (Debian's victoria-metrics package): a single
node as the long-term store Prometheus writes to, and vmalert evaluating rules over it.

Everything listens on 127.0.0.1 and is stopped by the context manager that started it.
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.servers import Alertmanager, Prometheus, answers, free_port, http_get, installed, running

# VictoriaMetrics answers an instant query for "now" from the data of this long ago
# (-search.latencyOffset, 30 s by default, 1 s at the least), so that a scrape whose samples
# are still on their way is not shown half-written. The test's scrapes are 1 s apart and its
# remote_write flushes within a second: the least offset shows the newest complete scrape.
LATENCY_OFFSET = "1s"
# How often vmalert sends what it recorded (5 s by default): the rules that read the series
# recorded by those above them see them sooner.
FLUSH_INTERVAL = "1s"


class VictoriaMetrics(Prometheus):
    """A running VictoriaMetrics single node: Prometheus' query API, and remote_write."""

    @property
    def write_url(self) -> str:
        return f"{self.url}/api/v1/write"


@contextmanager
def victoria_metrics(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """Run a VictoriaMetrics single node, storing in ``tmp_path``, on a free 127.0.0.1 port."""
    binary = installed("victoria-metrics")
    port = free_port()
    command = [
        binary,
        f"-storageDataPath={tmp_path / 'victoria-metrics-data'}",
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-search.latencyOffset={LATENCY_OFFSET}",
    ]
    ready = answers(f"http://127.0.0.1:{port}/health")
    with running(command, ready, tmp_path / "victoria-metrics.log"):
        yield VictoriaMetrics(port)


class Vmalert:
    """A running vmalert and its Prometheus-like API."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts pending or firing now: ``state``, ``labels``, ``annotations``, ``value``."""
        answer = json.loads(http_get(f"{self.url}/api/v1/alerts"))
        alerts: list[dict[str, Any]] = answer["data"]["alerts"]
        return alerts

    def rules(self) -> list[dict[str, Any]]:
        """Every rule with its ``lastError`` and ``lastEvaluation``."""
        answer = json.loads(http_get(f"{self.url}/api/v1/rules"))
        return [rule for group in answer["data"]["groups"] for rule in group["rules"]]


@contextmanager
def vmalert(
    rules: Sequence[Path],
    store: VictoriaMetrics,
    notifier: Alertmanager,
    interval: str,
    tmp_path: Path,
) -> Iterator[Vmalert]:
    """Run vmalert on a free 127.0.0.1 port: it reads ``store``, writes its recorded series and
    alert states back into it, and sends its alerts to ``notifier``."""
    binary = installed("vmalert")
    port = free_port()
    command = [
        binary,
        *(f"-rule={path}" for path in rules),
        f"-datasource.url={store.url}",
        f"-remoteWrite.url={store.url}",
        f"-notifier.url={notifier.url}",
        f"-remoteWrite.flushInterval={FLUSH_INTERVAL}",
        f"-evaluationInterval={interval}",
        # Prometheus adds no label naming the group; vmalert does, unless told not to.
        "-disableAlertgroupLabel",
        f"-httpListenAddr=127.0.0.1:{port}",
    ]
    ready = answers(f"http://127.0.0.1:{port}/health")
    with running(command, ready, tmp_path / "vmalert.log"):
        yield Vmalert(port)


# An Alertmanager configuration that notifies nobody: vmalert refuses to start with alerting
# rules and nowhere to send them.
SILENT_ALERTMANAGER = {"route": {"receiver": "nobody"}, "receivers": [{"name": "nobody"}]}


# Prometheus 2.42 knows `keep_firing_for`; vmalert knows it from VictoriaMetrics 1.92.0 on
# (its CHANGELOG for 2023, "support keep_firing_for field for alerting rules"), and the one of
# Debian 12, 1.79, refuses the whole file ("unknown fields in rule: keep_firing_for").
UNKNOWN_TO_VMALERT = "keep_firing_for"


def for_vmalert(rules: Path, directory: Path) -> Path:
    """A copy of ``rules`` in ``directory`` that this vmalert loads: without the one field it
    does not know, every other field as it is."""
    content = yaml.safe_load(rules.read_text())
    for group in content["groups"]:
        for rule in group["rules"]:
            rule.pop(UNKNOWN_TO_VMALERT, None)
    path = directory / rules.name
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path
