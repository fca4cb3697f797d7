"""The end-to-end stack on 127.0.0.1, as a context manager: a scenario in a private PostgreSQL
server, the exporter reading it, Prometheus with the project's own configuration and rules,
Alertmanager with the project's routing sending to a local webhook, VictoriaMetrics and vmalert.

tests/test_end_to_end.py checks it; tests/test_grafana_frontend.py and tests/pictures.py show it
through Grafana's code.
"""

import asyncio
import shutil
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from tests.builder import Scenario, reset_schema
from tests.servers import (
    Alertmanager,
    Exporter,
    Postgres,
    Prometheus,
    Webhook,
    alertmanager,
    eventually,
    exporter,
    prometheus,
    throwaway_postgres,
    webhook,
)
from tests.victoriametrics import (
    SILENT_ALERTMANAGER,
    VictoriaMetrics,
    Vmalert,
    for_vmalert,
    victoria_metrics,
    vmalert,
)

ROOT = Path(__file__).parent.parent
ALERTS = ROOT / "alerts"
DASHBOARDS = ROOT / "dashboards" / "json"
# Shipped scrape and evaluation intervals, shortened for the test (see the module docstring).
INTERVAL = "1s"


def mid_day_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon: today's scenario never crosses midnight."""
    offset = max(-12, min(14, 12 - now.hour))
    # POSIX-style names: Etc/GMT-2 is two hours *ahead* of UTC.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def ago(now: datetime, minutes: float) -> str:
    return (now - timedelta(minutes=minutes)).isoformat(sep=" ")


def contact_centre(now: datetime) -> Scenario:
    """Two sites; every figure the dashboards show is computed by hand in EXPECTED."""
    zone = mid_day_zone(now)
    s = Scenario()
    paris = s.site("paris", zone, max_handling=600, max_response=60)
    lyon = s.site("lyon", zone)
    alice = s.agent("Alice Martin", [paris], slots=3)
    bob = s.agent("Bob", [paris], slots=2)
    carol = s.agent("Carol", [lyon], slots=2)
    # Connected without a break since: Alice available 30 min, busy 20 min, available again
    # for the last 70 min; Bob available 10 min, then busy for the last 50 min, in back office.
    s.session(alice, "available", ago(now, 120), ago(now, 90))
    s.session(alice, "busy", ago(now, 90), ago(now, 70))
    s.session(alice, "available", ago(now, 70))
    s.session(bob, "available", ago(now, 60), ago(now, 50))
    s.session(bob, "busy", ago(now, 50), reason="back office")
    s.session(carol, "available", ago(now, 30))
    # Every conversation started within the last hour. The service-level target is the
    # default 60 s: a first agent reply within 60 s of the start is in target.
    # Alice: one ended conversation of 10 min, answered in 30 s, rated 5/4/3; one in progress
    # for 20 min (past the 600 s handling threshold), answered in 60 s (in target: <=), whose
    # visitor has waited 5 min for a reply (past 60 s).
    c1 = s.conversation(paris, alice, ago(now, 40), ago(now, 30))
    s.message(c1, "visitor", ago(now, 40))
    s.message(c1, "agent", ago(now, 39.5))
    for criterion, score in (("welcome", 5), ("quality", 4), ("response_time", 3)):
        s.rating(c1, criterion, score, ago(now, 30))
    c2 = s.conversation(paris, alice, ago(now, 20))
    s.message(c2, "visitor", ago(now, 20))
    s.message(c2, "agent", ago(now, 19))
    s.message(c2, "visitor", ago(now, 5))
    # Bob: a 5-min call answered in 120 s (late) that sold 50 EUR, rated 2/1; a chat in
    # progress, answered in 30 s.
    c3 = s.conversation(paris, bob, ago(now, 10), ago(now, 5), channel="call")
    s.message(c3, "visitor", ago(now, 10))
    s.message(c3, "agent", ago(now, 8))
    s.transaction(c3, "50.00", "EUR", ago(now, 6))
    s.rating(c3, "welcome", 2, ago(now, 5))
    s.rating(c3, "quality", 1, ago(now, 5))
    c4 = s.conversation(paris, bob, ago(now, 3))
    s.message(c4, "visitor", ago(now, 3))
    s.message(c4, "agent", ago(now, 2.5))
    # A visitor who left the paris queue after 2 min with no reply: abandoned.
    c5 = s.conversation(paris, None, ago(now, 50), ago(now, 48))
    s.message(c5, "visitor", ago(now, 50))
    # A visitor waiting in the paris queue for 2 min; Carol busy with one chat in lyon, after
    # one of 10 min answered in 120 s.
    s.conversation(paris, None, ago(now, 2))
    s.conversation(lyon, carol, ago(now, 1))
    c6 = s.conversation(lyon, carol, ago(now, 20), ago(now, 10))
    s.message(c6, "visitor", ago(now, 20))
    s.message(c6, "agent", ago(now, 18))
    s.objective("daily contacts", "conversations", 10, site=paris)
    s.objective("Alice's AHT", "handling_time", 300, site=paris, agent=alice)
    s.objective("answer fast", "service_level", 0.9, site=paris)  # lyon has the default
    return s


@dataclass
class Stack:
    database: Postgres
    exporter: Exporter
    prometheus: Prometheus
    alertmanager: Alertmanager
    webhook: Webhook
    started: float  # Unix time the scenario is anchored at
    store: VictoriaMetrics  # the long-term store Prometheus writes to
    vmalert: Vmalert  # the project's rules, evaluated over the store


def retarget(targets: list[str], addresses: dict[str, str]) -> list[str]:
    unknown = set(targets) - addresses.keys()
    assert not unknown, f"the test does not know where {unknown} runs: teach it"
    return [addresses[target] for target in targets]


# What alerts/prometheus.yml gains to keep its history in VictoriaMetrics (README, "A long-term
# store: VictoriaMetrics"): every scraped series, and none of those the rules derive from them (recorded
# series, ALERTS and ALERTS_FOR_STATE), which vmalert records over the store itself.
REMOTE_WRITE = """
remote_write:
  - url: http://victoriametrics:8428/api/v1/write
    write_relabel_configs:
      - source_labels: [__name__]
        regex: ".+:.+|ALERTS|ALERTS_FOR_STATE"
        action: drop
"""


def prometheus_config(directory: Path, addresses: dict[str, str]) -> Path:
    """The shipped Prometheus config and rule files, with REMOTE_WRITE, pointed at the test's
    processes."""
    for rules in ALERTS.glob("*.rules.yml"):
        shutil.copy(rules, directory)
    config = yaml.safe_load((ALERTS / "prometheus.yml").read_text())
    config.update(yaml.safe_load(REMOTE_WRITE))
    for remote in config["remote_write"]:
        url = urllib.parse.urlsplit(remote["url"])
        [address] = retarget([url.netloc], addresses)
        remote["url"] = url._replace(netloc=address).geturl()
        remote["queue_config"] = {"batch_send_deadline": INTERVAL}
    config["global"].update(
        scrape_interval=INTERVAL, evaluation_interval=INTERVAL, scrape_timeout=INTERVAL
    )
    for job in config["scrape_configs"]:
        job.pop("scrape_interval", None)
        job.pop("scrape_timeout", None)
        for static in job["static_configs"]:
            static["targets"] = retarget(static["targets"], addresses)
    for manager in config["alerting"]["alertmanagers"]:
        for static in manager["static_configs"]:
            static["targets"] = retarget(static["targets"], addresses)
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def alertmanager_config(directory: Path, hook: Webhook) -> Path:
    """The shipped Alertmanager config, its webhooks sent to the test's receiver."""
    config = yaml.safe_load((ALERTS / "alertmanager.yml").read_text())
    for receiver in config["receivers"]:
        for webhook_config in receiver.get("webhook_configs", []):
            path = urllib.parse.urlsplit(webhook_config["url"]).path
            webhook_config["url"] = hook.url + path
    path = directory / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def running_stack(tmp_path: Path) -> Iterator[Stack]:
    """The whole stack on the scenario of ``contact_centre``, anchored now; stopped on exit."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with throwaway_postgres() as database, webhook(tmp_path) as hook:
        asyncio.run(reset_schema(database.url))
        asyncio.run(contact_centre(now).write(database.url))
        am_config = alertmanager_config(tmp_path, hook)
        vmalert_rules = tmp_path / "vmalert"
        vmalert_rules.mkdir()
        rules = [for_vmalert(path, vmalert_rules) for path in sorted(ALERTS.glob("*.rules.yml"))]
        silent = tmp_path / "silent"
        silent.mkdir()
        silent_config = silent / "alertmanager.yml"
        silent_config.write_text(yaml.safe_dump(SILENT_ALERTMANAGER))
        with (
            alertmanager(am_config, tmp_path) as manager,
            exporter(["--database.url", database.url], tmp_path) as running,
            victoria_metrics(tmp_path) as store,
            alertmanager(silent_config, silent) as sink,
            vmalert(rules, store, sink, INTERVAL, tmp_path) as evaluator,
        ):
            addresses = {
                "exporter:24280": f"127.0.0.1:{running.port}",
                "alertmanager:9093": manager.url.removeprefix("http://"),
                "victoriametrics:8428": store.url.removeprefix("http://"),
            }
            config = prometheus_config(tmp_path, addresses)
            with prometheus(config, tmp_path) as server:
                started = now.replace(tzinfo=UTC).timestamp()
                yield Stack(database, running, server, manager, hook, started, store, evaluator)


def wait_for_rules(server: Prometheus) -> None:
    """Until the rules have been evaluated twice on scraped data (a forecast needs two points)."""
    twice = 'count_over_time(site:chat_slots_available:sum{site="paris"}[5m]) >= 2'
    assert eventually(lambda: server.query(twice), 60), "no two rule evaluations in 60 s"
