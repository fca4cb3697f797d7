"""Scaling out, with real processes on 127.0.0.1 over one private PostgreSQL server.

HA pair: two Prometheus servers (external labels ``replica: a`` and ``b``) scrape one
exporter. Prometheus spreads its targets over the interval by a hash of the target and of
the server's host name and external labels, so the replicas scrape at different, arbitrary
offsets: without ``collection.min_interval`` each scrape is a collection, two per interval.
The rule: ``min_interval`` strictly between half the scrape interval and the whole (counted
from a collection's start). Whichever replica collects, the other scrapes less than
``min_interval`` later on one side of the cycle or the other, and finds the figures cached;
the collecting replica's next scrape, a whole interval later, finds them expired. The
collections are counted in the database's own log, where each exporter has a role of its own.

Shards: two exporters, each with its own ``sites`` allow-list, read the same database as one
exporter over every site. Every recording rule, every alert's condition and every dashboard
query gives the same series and values from the two setups (``instance`` aside).
"""

import asyncio
import itertools
import json
import math
import re
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from exporter.collection import Collection
from exporter.database import create_engine
from exporter.schema import sites as sites_table
from tests.builder import Scenario, reset_schema
from tests.grafana import substitute
from tests.servers import (
    Exporter,
    Postgres,
    Prometheus,
    eventually,
    exporter,
    prometheus,
    throwaway_postgres,
)
from tests.stack import ago, contact_centre
from tests.test_collection import CountingFetch

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
RULE_FILES = sorted((ROOT / "alerts").glob("*.rules.yml"))
DASHBOARDS = sorted((ROOT / "dashboards" / "json").glob("*.json"))

# Prometheus' scrape and evaluation interval here (seconds), and the HA rule's min_interval:
# three quarters of it, a quarter of an interval from either bound of the rule.
INTERVAL = 2.0
MIN_INTERVAL = 0.75 * INTERVAL
# The lateness of a scrape the rule must survive, as a fraction of the interval: its margin.
JITTER = 0.25
# Seconds from the exporter's decision to collect to its first statement in the log.
LOG_DELAY = 0.1
# Roles the exporters connect as, so that the database's log tells their statements apart.
SINGLE, SHARD_A, SHARD_B, PLAIN, CACHED = "single", "shard_a", "shard_b", "ha_plain", "ha_cached"
# Shard A serves paris; shard B every other site. Dana works on paris and tokyo.
SHARD_A_SITES = ("paris",)
# The first query of a collection of the reference schema: its sites (the second connection
# that joins the collection's snapshot sets its own statement timeout, but reads no sites).
COLLECTION = "LOG: .*SELECT sites.id, sites.name"
REFUSED = "FATAL: .*is not permitted to log in"


def scenario(now: datetime) -> Scenario:
    """The end-to-end contact centre, plus a site of the other shard and the hard cases:
    an agent on sites of both shards, a bot, a queue, objectives of a site, of an agent on
    every site and of every site."""
    s = contact_centre(now)
    zone = s.rows[sites_table][0]["timezone"]
    ids = {row["name"]: row["id"] for row in s.rows[sites_table]}
    tokyo = s.site("tokyo", zone)
    dana = s.agent("Dana", [ids["paris"], tokyo], slots=2)
    bot = s.agent("Tokyo bot", [tokyo], slots=5, bot=True)
    s.session(dana, "available", ago(now, 40))
    s.session(bot, "available", ago(now, 300))
    # Dana: in tokyo a 15-min chat answered in 20 s that sold 3000 JPY, rated 4; in paris a
    # chat in progress, answered in 45 s. A visitor waits in the tokyo queue for 3 min.
    ended = s.conversation(tokyo, dana, ago(now, 30), ago(now, 15))
    s.message(ended, "visitor", ago(now, 30))
    s.message(ended, "agent", ago(now, 30 - 20 / 60))
    s.transaction(ended, "3000", "JPY", ago(now, 16))
    s.rating(ended, "welcome", 4, ago(now, 15))
    live = s.conversation(ids["paris"], dana, ago(now, 6))
    s.message(live, "visitor", ago(now, 6))
    s.message(live, "agent", ago(now, 6 - 45 / 60))
    queued = s.conversation(tokyo, None, ago(now, 3))
    s.message(queued, "visitor", ago(now, 3))
    s.objective("tokyo contacts", "conversations", 5, site=tokyo)
    s.objective("Dana's contacts", "conversations", 4, agent=dana)
    s.objective("satisfied", "satisfaction", 4)
    return s


# --- the database and its log --------------------------------------------------------------


async def run_sql(url: str, *statements: str) -> None:
    """Run ``statements`` as the superuser, outside any transaction (ALTER SYSTEM needs it)."""
    engine = create_engine(url, read_only=False, pool_size=1)
    try:
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await autocommit.execute(text(statement))
    finally:
        await engine.dispose()


def role_url(database: Postgres, role: str) -> str:
    return f"postgresql://{role}@127.0.0.1:{database.port}/postgres"


async def prepare(database: Postgres, roles: list[str]) -> None:
    """Log every statement of ``roles`` with its Unix time and role; let them read."""
    await run_sql(
        database.url,
        "ALTER SYSTEM SET log_line_prefix = '%n %u '",
        "SELECT pg_reload_conf()",
        *(f"CREATE ROLE {role} LOGIN IN ROLE pg_read_all_data" for role in roles),
        *(f"ALTER ROLE {role} SET log_statement = 'all'" for role in roles),
    )


async def deny(database: Postgres, role: str) -> None:
    """The database refuses ``role`` from now on: its sessions are ended, new ones refused."""
    await run_sql(
        database.url,
        f"ALTER ROLE {role} NOLOGIN",
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'",
    )


def logged(database: Postgres, role: str, event: str) -> list[float]:
    """Unix times of the database log's lines of ``role`` matching ``event``."""
    line = re.compile(rf"^(\d+\.\d+) {role} {event}")
    log = (database.directory / "server.log").read_text()
    return [float(found[1]) for found in map(line.match, log.splitlines()) if found]


def spacings(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


# --- the processes -------------------------------------------------------------------------


@dataclass
class Stack:
    database: Postgres
    exporters: dict[str, Exporter]  # by role
    single: Prometheus  # job chat: the exporter over every site
    shards: Prometheus  # job chat: the two shard exporters
    replicas: dict[str, Prometheus]  # the HA pair by replica label; jobs plain and cached
    started: float  # Unix time the HA pair began scraping


def write_yaml(path: Path, content: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(content))
    return path


def prometheus_config(
    directory: Path, jobs: dict[str, list[Exporter]], replica: str | None
) -> Path:
    """Scrape ``jobs`` every INTERVAL: an HA replica, or a server with the project's rules."""
    interval = f"{INTERVAL:g}s"
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": interval,
            "evaluation_interval": interval,
            "scrape_timeout": interval,
        },
        "scrape_configs": [
            {
                "job_name": job,
                "static_configs": [{"targets": [f"127.0.0.1:{e.port}" for e in targets]}],
            }
            for job, targets in jobs.items()
        ],
    }
    if replica is None:
        for rules in RULE_FILES:
            shutil.copy(rules, directory)
        config["rule_files"] = ["*.rules.yml"]
    else:
        config["global"]["external_labels"] = {"replica": replica}
    return write_yaml(directory / "prometheus.yml", config)


def wait_for_rules(server: Prometheus) -> None:
    """Until the rules have been evaluated on scraped data for four intervals: the comparison
    looks three intervals back."""

    def evaluated() -> bool:
        found = server.query("count_over_time(site:chat_slots:sum[5m])")
        return bool(found) and all(float(s["value"][1]) >= 5 for s in found)

    assert eventually(evaluated, 60), f"rules not evaluated on {server.url}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp_path = tmp_path_factory.mktemp("scale-out")
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    built = scenario(now)
    names = [row["name"] for row in built.rows[sites_table]]
    configs: dict[str, dict[str, Any]] = {
        SINGLE: {},
        SHARD_A: {"sites": list(SHARD_A_SITES)},
        SHARD_B: {"sites": [name for name in names if name not in SHARD_A_SITES]},
        PLAIN: {},
        CACHED: {"collection": {"min_interval": MIN_INTERVAL}},
    }
    with throwaway_postgres() as database, ExitStack() as processes:
        asyncio.run(reset_schema(database.url))
        asyncio.run(built.write(database.url))
        asyncio.run(prepare(database, [*configs, *SWEEP_ROLES]))
        running = {
            role: processes.enter_context(
                exporter(
                    [
                        "--config.file",
                        str(write_yaml(tmp_path / f"{role}.yml", config)),
                        "--database.url",
                        role_url(database, role),
                    ],
                    tmp_path,
                )
            )
            for role, config in configs.items()
        }

        def server(name: str, jobs: dict[str, list[str]], replica: str | None = None) -> Prometheus:
            directory = tmp_path_factory.mktemp(name)
            targets = {job: [running[role] for role in roles] for job, roles in jobs.items()}
            config = prometheus_config(directory, targets, replica)
            return processes.enter_context(prometheus(config, directory))

        pair = {"plain": [PLAIN], "cached": [CACHED]}
        replicas = {replica: server(f"replica-{replica}", pair, replica) for replica in "ab"}
        started = time.time()
        single = server("single", {"chat": [SINGLE]})
        shards = server("shards", {"chat": [SHARD_A, SHARD_B]})
        for rules in (single, shards):
            wait_for_rules(rules)
        yield Stack(database, running, single, shards, replicas, started)


# --- shards --------------------------------------------------------------------------------

Series = dict[frozenset[tuple[str, str]], float]


def series(server: Prometheus, expr: str, at: float) -> Series:
    """``expr`` at Unix time ``at``, keyed by its labels without ``instance``: two series that
    differ only by their exporter are one figure published twice, which fails here."""
    data = server.api("query", query=expr, time=f"{at:.3f}")
    keyed: Series = {}
    for sample in data["result"] if data["resultType"] == "vector" else []:
        labels = frozenset(
            (label, value) for label, value in sample["metric"].items() if label != "instance"
        )
        assert labels not in keyed, f"{expr}: {dict(labels)} published twice"
        keyed[labels] = float(sample["value"][1])
    return keyed


def panels(listed: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside rows included."""
    for panel in listed:
        yield panel
        yield from panels(panel.get("panels", []))


def queries(site_names: list[str]) -> list[tuple[str, str]]:
    """(what, PromQL) of every recording rule, alert condition and dashboard query, the latter
    for every site and all of them; without ``offset 1w`` too, since last week is empty."""
    found: list[tuple[str, str]] = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    found.append((rule["record"], rule["record"]))
                else:
                    found.append((rule["alert"], rule["expr"]))
    for path in DASHBOARDS:
        for panel in panels(json.loads(path.read_text())["panels"]):
            for target in panel.get("targets", []):
                if "expr" not in target:
                    continue  # the drill-down's SQL reads the database, not an exporter
                for site in [".+", *site_names]:
                    what = f"{path.name} {panel['title']} {target['refId']} site={site}"
                    expr = substitute(target["expr"], site)
                    found.append((what, expr))
                    if " offset 1w" in expr:
                        found.append((f"{what} now", expr.replace(" offset 1w", "")))
    return found


# A rule that records when this Prometheus first saw a status: each server's own clock, equal
# within the time between their starts and a scrape and an evaluation each.
OBSERVED_BY_PROMETHEUS = "site_agent_status:chat_agent_status_since:timestamp"


def start_time(server: Prometheus) -> float:
    started: str = server.api("status/runtimeinfo")["startTime"]
    return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()


def test_two_shards_give_the_figures_of_one_exporter(stack: Stack) -> None:
    names = ["lyon", "paris", "tokyo"]
    for server in (stack.single, stack.shards):
        # No site missing: the dashboards' site variable offers every one.
        assert server.api("label/site/values", **{"match[]": "chat_conversations_today"}) == names
    # A figure that moves with the clock (presence, the oldest wait, rates per hour) was read
    # at another scrape by each setup, at most two intervals and a collection apart: it may
    # differ by what it moved over three intervals on the single exporter. Any other figure
    # is equal.
    at = time.time()
    earlier = at - 3 * INTERVAL
    started_apart = abs(start_time(stack.single) - start_time(stack.shards))
    compared = non_empty = 0
    for what, expr in queries(names):
        single, shards = series(stack.single, expr, at), series(stack.shards, expr, at)
        assert shards.keys() == single.keys(), (what, expr, single, shards)
        before = series(stack.single, expr, earlier)
        assert before.keys() == single.keys(), (what, expr, before, single)
        for labels, value in single.items():
            moved = abs(value - before[labels])
            if what == OBSERVED_BY_PROMETHEUS:
                moved = started_apart + 2 * INTERVAL
            assert math.isclose(shards[labels], value, rel_tol=1e-12, abs_tol=moved), (
                what,
                expr,
                dict(labels),
                value,
                shards[labels],
            )
        compared += 1
        non_empty += bool(single)
    assert non_empty >= 2 / 3 * compared, f"only {non_empty} of {compared} queries had series"


def test_the_second_shards_sites_and_the_agent_on_both(stack: Stack) -> None:
    # Counted by hand from scenario(), on the shards' Prometheus: the comparison above cannot
    # pass with both setups equally wrong about the hard cases.
    def at_shards(expr: str, key: str) -> dict[str, float]:
        found = series(stack.shards, expr, time.time())
        return {dict(labels)[key]: value for labels, value in found.items()}

    assert at_shards('chat_conversations_today{site="tokyo"}', "site") == {"tokyo": 2}
    assert at_shards('sum by (channel) (chat_conversations_waiting{site="tokyo"})', "channel") == {
        "chat": 1,
        "call": 0,
    }
    # Dana: one conversation on each site, and one in progress on all sites, shown on both.
    dana = 'agent="Dana"'
    assert at_shards(f"chat_agent_conversations_today{{{dana}}}", "site") == {
        "paris": 1,
        "tokyo": 1,
    }
    assert at_shards(f"chat_agent_conversations_active_all_sites{{{dana}}}", "site") == {
        "paris": 1,
        "tokyo": 1,
    }
    # Dana's objective for every site, on each of hers: 1 conversation of 4.
    objective = 'objective:chat_objective_progress:ratio{objective="Dana\'s contacts"}'
    assert at_shards(objective, "site") == {"paris": 1 / 4, "tokyo": 1 / 4}
    # Tokyo's capacity: Dana's 2 slots (1 taken in paris) and the bot's 5.
    assert at_shards('chat_slots{site="tokyo"}', "kind") == {"agent": 2, "bot": 5}
    assert at_shards('chat_slots_available{site="tokyo"}', "kind") == {"agent": 1, "bot": 5}


def test_a_shard_that_fails_names_its_own_sites(stack: Stack) -> None:
    # up, chat_up and the exporter's other health gauges are per exporter, without a site:
    # the down alerts join them to the sites the same instance published. Shard B failing
    # concerns lyon and tokyo, not paris, which shard A still serves.
    conditions = dict(queries([]))

    def named(alert: str) -> Callable[[], set[str]]:
        def sites() -> set[str]:
            found = series(stack.shards, conditions[alert], time.time())
            return {dict(labels).get("site", "") for labels in found}

        return sites

    asyncio.run(deny(stack.database, SHARD_B))
    try:
        assert eventually(named("ChatDatabaseDown"), 3 * INTERVAL) == {"lyon", "tokyo"}
    finally:
        asyncio.run(run_sql(stack.database.url, f"ALTER ROLE {SHARD_B} LOGIN"))
    assert eventually(lambda: not named("ChatDatabaseDown")(), 3 * INTERVAL)

    process = stack.exporters[SHARD_B].process
    process.send_signal(signal.SIGSTOP)  # it answers no scrape: up is 0
    try:
        assert eventually(named("ChatExporterDown"), 3 * INTERVAL) == {"lyon", "tokyo"}
    finally:
        process.send_signal(signal.SIGCONT)
    assert eventually(lambda: not named("ChatExporterDown")(), 3 * INTERVAL)


# --- HA pair -------------------------------------------------------------------------------

# Collections counted over this many intervals of the pair's steady state.
WINDOW = 8 * INTERVAL


def phase(server: Prometheus, job: str) -> float:
    """Where in the interval ``server`` scrapes ``job``: its last scrape's start, modulo."""
    [scraped] = server.query(f'timestamp(up{{job="{job}"}})')
    return float(scraped["value"][1]) % INTERVAL


def after(a: float, b: float) -> float:
    """How long after phase (or time) ``a`` phase ``b`` comes, within an interval."""
    return (b - a) % INTERVAL


def apart(a: float, b: float) -> float:
    return min(after(a, b), after(b, a))


def oldest(server: Prometheus, job: str) -> float:
    """The oldest figures ``server`` received from ``job`` over the window (seconds since the
    collection that served them ended)."""
    [age] = server.query(f'max_over_time(chat_snapshot_age_seconds{{job="{job}"}}[{WINDOW:g}s])')
    return float(age["value"][1])


def test_an_ha_pair_costs_one_collection_per_interval(stack: Stack) -> None:
    time.sleep(max(0.0, stack.started + 2 * INTERVAL + WINDOW - time.time()))
    end = time.time()
    intervals = round(WINDOW / INTERVAL)

    def in_window(role: str) -> list[float]:
        return [t for t in logged(stack.database, role, COLLECTION) if end - WINDOW <= t < end]

    # Without min_interval each replica's scrape is a collection, unless the replicas happen
    # to scrape within one collection of each other, which single flight shares. The
    # window's edges make the count one less or more.
    plain = [phase(server, "plain") for server in stack.replicas.values()]
    twice = in_window(PLAIN)
    shared = apart(*plain) < 0.2
    assert len(twice) >= (intervals - 1 if shared else 2 * intervals - 1), (plain, twice)
    for replica, server in stack.replicas.items():
        assert oldest(server, "plain") < 0.2, replica  # every scrape got fresh figures

    # With it: collections start at least min_interval apart, so never two in an interval,
    # and at most an interval (and a scrape's lateness) apart, so never none.
    once = in_window(CACHED)
    assert abs(len(once) - intervals) <= 1, once
    assert all(
        MIN_INTERVAL - LOG_DELAY <= spacing <= INTERVAL * (1 + JITTER) for spacing in spacings(once)
    ), spacings(once)
    # Each at the scrape of the same replica: the collector.
    cached = {replica: phase(server, "cached") for replica, server in stack.replicas.items()}
    collector = min(cached, key=lambda replica: max(apart(cached[replica], t) for t in once))
    assert max(apart(cached[collector], t) for t in once) < LOG_DELAY
    [other] = set(cached) - {collector}
    if after(cached[other], cached[collector]) < LOG_DELAY:
        # Phases closer than the log can tell apart: the replica a hair earlier collects.
        collector, other = other, collector
    # The cost in freshness: the other replica gets figures as old as its scrapes are late
    # on the collector's, always less than min_interval; the collector gets them fresh.
    late = after(cached[collector], cached[other])
    assert late < MIN_INTERVAL
    assert oldest(stack.replicas[collector], "cached") < 0.2
    assert late - 0.5 < oldest(stack.replicas[other], "cached") <= late + 0.1


def test_a_failing_database_reaches_both_replicas_at_once(stack: Stack) -> None:
    def both(value: float) -> bool:
        found = [server.query('chat_up{job="cached"}') for server in stack.replicas.values()]
        return all(float(up["value"][1]) == value for [up] in found)

    assert both(1)
    denied = time.time()
    asyncio.run(deny(stack.database, CACHED))
    try:
        # The collector's next scrape fails, and so does the other replica's first one after
        # the success it shared has expired: within two intervals.
        assert eventually(lambda: both(0), 2 * INTERVAL + 2)
        assert time.time() - denied < 2 * INTERVAL + 1
        # A failure is never cached: every scrape of either replica tries again, so that the
        # database's return shows at once. The window's edges make the count one less.
        time.sleep(3 * INTERVAL)
        tried = [
            t for t in logged(stack.database, CACHED, REFUSED) if time.time() - 3 * INTERVAL <= t
        ]
        assert len(tried) >= 2 * 3 - 1, tried
    finally:
        asyncio.run(run_sql(stack.database.url, f"ALTER ROLE {CACHED} LOGIN"))
    restored = time.time()
    assert eventually(lambda: both(1), 2 * INTERVAL + 2)
    assert time.time() - restored < 2 * INTERVAL + 1


# --- every offset --------------------------------------------------------------------------

# The rule over the whole cycle of offsets, in-process: two replicas as coroutines scraping
# the real Collection over the same database every INTERVAL, the second `gap` after the
# first. Fractions of the interval: (gap, min_interval, the collection's own delay, expected
# collections per interval). A slow collection (0.4 of the interval) is where counting the
# interval from a collection's end fails: the cache outlives the interval.
SCRAPES = 5
SWEEP = [
    *((gap, 0.75, delay, 1) for gap in (0.05, 0.3, 0.5, 0.7, 0.95) for delay in (0.0, 0.4)),
    # Below half the interval, replicas half an interval apart: twice. 0.3, not just under
    # 0.5: a first collection that starts late on a loaded machine must not serve the other.
    (0.5, 0.3, 0.0, 2),
    (0.5, 0.0, 0.0, 2),  # no min_interval: every scrape
]
SWEEP_ROLES = [f"sweep_{case}" for case in range(len(SWEEP))]


async def replica_pair(
    url: str,
    *,
    gap: float,
    min_interval: float,
    delay: float,
    stagger: float,
    warm: asyncio.Barrier,
) -> float:
    """Two replicas, ``gap`` apart, scraping one collection SCRAPES times each, from
    ``stagger`` after every pair is warm; the Unix time of their first scrape."""
    engine = create_engine(url, pool_size=1)
    source = CountingFetch(delay)
    collection = Collection(engine, source, statement_timeout=5, min_interval=min_interval)
    loop = asyncio.get_running_loop()

    async def replica(first: float) -> None:
        for scrape in range(SCRAPES):
            await asyncio.sleep(max(0.0, first + scrape * INTERVAL - loop.time()))
            outcome = await collection.outcome(0.9 * INTERVAL)
            assert outcome.snapshot is not None, (url, gap, min_interval, delay, outcome)

    try:
        # A first connection and the source's one look at the schema take longer than a
        # scrape's budget: done beforehand, by a collection of its own, as at start-up.
        await Collection(engine, source, statement_timeout=5).outcome(5)
        await warm.wait()
        at = loop.time() + 0.2 + stagger
        await asyncio.gather(replica(at), replica(at + gap))
        return time.time() - (loop.time() - at)
    finally:
        await collection.close()
        await engine.dispose()


def test_the_rule_holds_for_every_offset_of_the_pair(stack: Stack) -> None:
    async def sweep() -> list[float]:
        warm = asyncio.Barrier(len(SWEEP))
        return await asyncio.gather(
            *(
                replica_pair(
                    role_url(stack.database, role),
                    gap=gap * INTERVAL,
                    min_interval=min_interval * INTERVAL,
                    delay=delay * INTERVAL,
                    stagger=case * INTERVAL / len(SWEEP),  # spread, not all at once
                    warm=warm,
                )
                for case, (role, (gap, min_interval, delay, _)) in enumerate(
                    zip(SWEEP_ROLES, SWEEP, strict=True)
                )
            )
        )

    firsts = asyncio.run(sweep())
    for role, first, (gap, min_interval, delay, per_period) in zip(
        SWEEP_ROLES, firsts, SWEEP, strict=True
    ):
        started = [t for t in logged(stack.database, role, COLLECTION) if t >= first - LOG_DELAY]
        case = (gap, min_interval, delay, spacings(started))
        if per_period == 2:
            assert len(started) == 2 * SCRAPES, case
            continue
        # One per period: the first replica's scrapes, or the second's after the first.
        assert SCRAPES <= len(started) <= SCRAPES + 1, case
        assert all(
            min_interval * INTERVAL - LOG_DELAY <= spacing <= INTERVAL * (1 + JITTER)
            for spacing in spacings(started)
        ), case
