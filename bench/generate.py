"""Fill a database with a synthetic contact centre of a given size, for the benchmark.

This module fills the reference schema; ``--database.schema chatwoot`` hands over to
``bench.chatwoot``, which fills Chatwoot's tables the same way.

Rows are made inside the database by set-based ``INSERT … SELECT`` over a counter
(PostgreSQL's generate_series, a counter table on SQLite), because a Python loop would take
longer than the benchmark itself at size L. Every choice is derived from the row number with
integer arithmetic instead of random(), so SQLite and PostgreSQL hold the same rows for the same
generation time. Tables are created without their secondary indexes, loaded, then indexed and
analysed, as a bulk load would be.

Run right before ``bench.run``: "today" is the UTC day of the generation, and its conversations
spread from UTC midnight to the generation time.
"""

import argparse
import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateTable

from bench.chatwoot import SIZES as CHATWOOT_SIZES
from bench.chatwoot import generate as generate_chatwoot
from bench.rows import (
    DAY_SECONDS,
    HISTORY_DAYS,
    MESSAGES_PER_CONVERSATION,
    Flavour,
    create_database,
    pick,
    timed,
)
from exporter.database import create_engine, redact
from exporter.schema import create_statistics, metadata

BOT_EVERY = 20  # agent ids divisible by this are bots: 5 %


@dataclass(frozen=True, slots=True)
class Size:
    """How big the contact centre is; ``conversations`` is per day, today and each history day."""

    sites: int
    agents: int
    connected: int
    conversations: int
    waiting: int


SIZES = {
    "S": Size(sites=3, agents=30, connected=20, conversations=2_000, waiting=20),
    "M": Size(sites=20, agents=500, connected=300, conversations=50_000, waiting=200),
    "L": Size(sites=100, agents=5_000, connected=2_000, conversations=300_000, waiting=500),
    "XL": Size(sites=200, agents=10_000, connected=4_000, conversations=600_000, waiting=1_000),
}


def _status(value: str) -> str:
    """Mostly available, some busy, a few unavailable."""
    draw = pick(value, "status", 10)
    return (
        f"CASE WHEN {draw} < 7 THEN 'available' WHEN {draw} < 9 THEN 'busy' ELSE 'unavailable' END"
    )


def _site_count(agent: str) -> str:
    """How many sites (1 to 3) an agent is assigned to."""
    return f"(1 + {pick(agent, 'site count', 3)})"


def _site_of(agent: str, index: str, size: Size) -> str:
    """The ``index``-th site (from 0) of an agent; stepping by a third keeps the three distinct."""
    step = max(1, size.sites // 3)
    return f"((({agent}) - 1 + ({index}) * {step}) % {size.sites} + 1)"


def _people(flavour: Flavour, size: Size, now: int) -> list[str]:
    """Sites, agents (every 20th a bot), their 1-3 sites, and their sessions."""
    ts, series = flavour.timestamp, flavour.series
    midnight = now - now % DAY_SECONDS
    bot = f"n % {BOT_EVERY} = 0"
    online_since = f"{now} - 600 - {pick('n', 'online', 4 * 3600)}"
    days, per_day = HISTORY_DAYS + 1, 3
    return [
        f"INSERT INTO sites (id, name, timezone) "
        f"SELECT n, 'site-' || n, 'UTC' FROM {series(size.sites, 's')}",
        f"INSERT INTO agents (id, name, is_bot, max_slots) "
        f"SELECT n, CASE WHEN {bot} THEN 'bot-' ELSE 'agent-' END || n, {bot}, "
        f"CASE WHEN {bot} THEN 8 ELSE 3 END FROM {series(size.agents, 'a')}",
        f"INSERT INTO agent_sites (agent_id, site_id) "
        f"SELECT a.n, {_site_of('a.n', 'j.n - 1', size)} "
        f"FROM {series(size.agents, 'a')} CROSS JOIN {series(3, 'j')} "
        f"WHERE j.n <= {_site_count('a.n')}",
        # Connected agents (the first ids): one open session, started within the last hours.
        f"INSERT INTO agent_sessions (id, agent_id, status, started_at) "
        f"SELECT n, n, {_status('n')}, {ts(online_since)} FROM {series(size.connected, 'a')}",
        # Every agent: three closed sessions a day from 07:00, today's only if already over.
        f"INSERT INTO agent_sessions (id, agent_id, status, started_at, ended_at) "
        f"SELECT {size.agents} + x, agent_id, {_status('x')}, {ts('started')}, {ts('ended')} "
        f"FROM (SELECT x, agent_id, started, "
        f"started + 1800 + {pick('x', 'session length', 2 * 3600)} AS ended "
        f"FROM (SELECT x, agent_id, {midnight} - (day - 1) * {DAY_SECONDS} "
        f"+ 7 * 3600 + (slot - 1) * 4 * 3600 + {pick('x', 'session start', 3600)} AS started "
        f"FROM (SELECT ((a.n - 1) * {days} + d.n - 1) * {per_day} + i.n AS x, "
        f"a.n AS agent_id, d.n AS day, i.n AS slot "
        f"FROM {series(size.agents, 'a')} CROSS JOIN {series(days, 'd')} "
        f"CROSS JOIN {series(per_day, 'i')}) AS k) AS s) AS t "
        f"WHERE ended <= {now}",
    ]


def _plan(flavour: Flavour, size: Size, now: int) -> list[str]:
    """Every conversation, planned in a temporary table with Unix times.

    History days come first (ids grow with time), then today: 1-2 open conversations per
    connected agent, the waiting queue, and conversations over, spread from midnight to now.
    """
    series = flavour.series
    midnight = now - now % DAY_SECONDS
    per_day, history = size.conversations, HISTORY_DAYS * size.conversations
    open_candidates, queue_end = 2 * size.connected, 2 * size.connected + size.waiting
    some_agent = (
        f"CASE WHEN {pick('id', 'abandoned', 100)} < 3 THEN NULL "
        f"ELSE 1 + {pick('id', 'agent', size.agents)} END"
    )
    columns = "id, site_id, agent_id, is_bot, channel, started, ended, visitor_last"
    site = (
        f"CASE WHEN agent_id IS NULL THEN 1 + {pick('id', 'site', size.sites)} "
        f"ELSE {_site_of('agent_id', pick('id', 'site', _site_count('agent_id')), size)} END"
    )
    shared = (
        f"{site}, agent_id, CASE WHEN agent_id % {BOT_EVERY} = 0 THEN 1 ELSE 0 END, "
        f"CASE WHEN {pick('id', 'channel', 5)} = 0 THEN 'call' ELSE 'chat' END, started"
    )
    over = f"started + 60 + {pick('id', 'duration', 1500)}"
    # Closed conversations of today start at least a minute ago and end by now.
    today_span = max(now - midnight - 60, 1)
    open_agent = "(n + 1) / 2"
    return [
        "CREATE TEMPORARY TABLE bench_plan (id BIGINT NOT NULL, site_id BIGINT NOT NULL, "
        "agent_id BIGINT, is_bot INTEGER NOT NULL, channel VARCHAR(10) NOT NULL, "
        "started BIGINT NOT NULL, ended BIGINT, visitor_last INTEGER NOT NULL)",
        f"INSERT INTO bench_plan ({columns}) SELECT id, {shared}, {over}, 0 "
        f"FROM (SELECT id, {some_agent} AS agent_id, "
        f"{midnight} - ({HISTORY_DAYS} - (id - 1) / {per_day}) * {DAY_SECONDS} "
        f"+ {pick('id', 'start', DAY_SECONDS)} AS started "
        f"FROM (SELECT n AS id FROM {series(history, 'c')}) AS c) AS h",
        f"INSERT INTO bench_plan ({columns}) SELECT id, {shared}, "
        f"CASE WHEN in_progress = 1 THEN NULL WHEN {over} < {now} THEN {over} ELSE {now} END, "
        f"CASE WHEN in_progress = 1 AND {pick('id', 'visitor last', 3)} = 0 THEN 1 ELSE 0 END "
        f"FROM (SELECT id, agent_id, in_progress, CASE "
        f"WHEN in_progress = 1 AND agent_id IS NULL THEN {now} - 30 - {pick('id', 'age', 600)} "
        f"WHEN in_progress = 1 THEN {now} - 120 - {pick('id', 'age', 1800)} "
        f"ELSE {midnight} + {pick('id', 'start', today_span)} END AS started "
        f"FROM (SELECT id, CASE WHEN n <= {open_candidates} THEN {open_agent} "
        f"WHEN n <= {queue_end} THEN NULL ELSE {some_agent} END AS agent_id, CASE "
        f"WHEN n <= {open_candidates} AND (n + 1) % 2 <= {pick(open_agent, 'load', 2)} THEN 1 "
        f"WHEN n > {open_candidates} AND n <= {queue_end} THEN 1 ELSE 0 END AS in_progress "
        f"FROM (SELECT {history} + n AS id, n FROM {series(per_day, 'c')}) AS c) AS k) AS t",
    ]


def _contents(flavour: Flavour, now: int) -> list[str]:
    """Conversations, their messages, ratings and transactions, all from the plan.

    Messages alternate from the visitor's at the start to the end (or now), evenly spaced;
    in a third of the open conversations the visitor spoke last and awaits a reply.
    """
    ts, series = flavour.timestamp, flavour.series
    count = MESSAGES_PER_CONVERSATION
    sent = f"p.started + (m.n - 1) * (COALESCE(p.ended, {now}) - p.started) / {count}"
    rating = pick("p.id * 3 + j.n", "score", 10)
    return [
        f"INSERT INTO conversations (id, site_id, agent_id, channel, started_at, ended_at) "
        f"SELECT id, site_id, agent_id, channel, {ts('started')}, {ts('ended')} FROM bench_plan",
        f"INSERT INTO messages (id, conversation_id, sender, sent_at) "
        f"SELECT (p.id - 1) * {count} + m.n, p.id, CASE "
        f"WHEN p.agent_id IS NULL OR m.n % 2 = 1 OR (m.n = {count} AND p.visitor_last = 1) "
        f"THEN 'visitor' WHEN p.is_bot = 1 THEN 'bot' ELSE 'agent' END, {ts(sent)} "
        f"FROM bench_plan AS p CROSS JOIN {series(count, 'm')}",
        # 30 % of the conversations over are rated, on 1 to 3 criteria, mostly well.
        f"INSERT INTO satisfaction_ratings (id, conversation_id, criterion, score, rated_at) "
        f"SELECT (p.id - 1) * 3 + j.n, p.id, CASE ({pick('p.id', 'criterion', 3)} + j.n) % 3 "
        f"WHEN 0 THEN 'welcome' WHEN 1 THEN 'response_time' ELSE 'quality' END, "
        f"CASE WHEN {rating} = 0 THEN 1 WHEN {rating} = 1 THEN 2 WHEN {rating} < 4 THEN 3 "
        f"WHEN {rating} < 7 THEN 4 ELSE 5 END, {ts('p.ended + 30')} "
        f"FROM bench_plan AS p CROSS JOIN {series(3, 'j')} "
        f"WHERE p.ended IS NOT NULL AND {pick('p.id', 'rated', 10)} < 3 "
        f"AND j.n <= 1 + {pick('p.id', 'criteria', 3)}",
        # 10 % of the conversations over buy once or twice, the second time maybe in USD.
        f"INSERT INTO transactions (id, conversation_id, amount, currency, created_at) "
        f"SELECT (p.id - 1) * 2 + j.n, p.id, "
        f"(500 + {pick('p.id * 2 + j.n', 'amount', 50_000)}) / 100.0, "
        f"CASE WHEN j.n = 2 AND {pick('p.id', 'currency', 2)} = 0 THEN 'USD' ELSE 'EUR' END, "
        f"{ts('p.ended')} FROM bench_plan AS p CROSS JOIN {series(2, 'j')} "
        f"WHERE p.ended IS NOT NULL AND {pick('p.id', 'paid', 10)} = 0 "
        f"AND j.n <= 1 + {pick('p.id', 'transactions', 2)}",
        "DROP TABLE bench_plan",
    ]


def _objectives(flavour: Flavour, size: Size) -> list[str]:
    """Site-wide objectives for every site, one turnover objective, and every 50th agent's."""
    return [
        "INSERT INTO objectives (id, name, site_id, agent_id, metric, target, currency) VALUES "
        "(1, 'Daily conversations', NULL, NULL, 'conversations', 400, NULL), "
        "(2, 'Conversion rate', NULL, NULL, 'conversion_rate', 0.12, NULL), "
        "(3, 'Satisfaction', NULL, NULL, 'satisfaction', 4.2, NULL), "
        "(4, 'Handling time', NULL, NULL, 'handling_time', 240, NULL), "
        "(5, 'Turnover', 1, NULL, 'turnover', 5000, 'EUR')",
        f"INSERT INTO objectives (id, name, site_id, agent_id, metric, target, currency) "
        f"SELECT 5 + n, 'Agent conversations', NULL, n, 'conversations', 40, NULL "
        f"FROM {flavour.series(size.agents, 'a')} WHERE n % 50 = 1",
    ]


def statements(flavour: Flavour, size: Size, now: int) -> list[str]:
    """Every statement that fills the tables, in dependency order, for Unix time ``now``."""
    return [
        *_counter(flavour, size),
        *_people(flavour, size, now),
        *_plan(flavour, size, now),
        *_contents(flavour, now),
        *_objectives(flavour, size),
    ]


def _counter(flavour: Flavour, size: Size) -> list[str]:
    """SQLite has no generate_series: a counter table, with n as its rowid for range scans."""
    if flavour.name == "postgresql":
        return []
    largest = max(HISTORY_DAYS * size.conversations, size.agents)
    return [
        "CREATE TEMPORARY TABLE bench_counter (n INTEGER PRIMARY KEY)",
        f"INSERT INTO bench_counter WITH RECURSIVE c(n) AS "
        f"(SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {largest}) SELECT n FROM c",
    ]


def _create_indexes(connection: Connection) -> None:
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(connection)
    create_statistics(connection)


async def generate(url: str, size: Size, now: int | None = None) -> None:
    """Drop and recreate the reference schema at ``url`` and fill it for Unix time ``now``
    (the current time by default; tests fix it); prints timings and counts."""
    if make_url(url).get_backend_name() in ("postgresql", "postgres"):
        await create_database(url)
    engine = create_engine(url, read_only=False, pool_size=1)
    flavour = Flavour(engine.dialect.name)
    started = time.perf_counter()
    try:
        async with engine.begin() as connection:
            if flavour.name == "postgresql":
                # Index builds sort in memory instead of in temporary files.
                await connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
            await connection.run_sync(metadata.drop_all)
            for table in metadata.sorted_tables:
                await connection.execute(CreateTable(table))
            load = await timed(
                connection, statements(flavour, size, int(time.time()) if now is None else now)
            )
            index_started = time.perf_counter()
            await connection.run_sync(_create_indexes)
            indexes = time.perf_counter() - index_started
            counts = {
                table.name: await connection.scalar(select(func.count()).select_from(table))
                for table in metadata.sorted_tables
            }
        async with engine.connect() as connection:
            finish = ["ANALYZE"]
            if flavour.name == "postgresql":
                # Outside a transaction. VACUUM also sets the hint bits and the visibility map,
                # and CHECKPOINT writes the load out now: else the first scrapes pay for both.
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                finish = ["VACUUM (ANALYZE)", "CHECKPOINT"]
            analyse = await timed(connection, finish)
            await connection.commit()
    finally:
        await engine.dispose()
    total = time.perf_counter() - started
    print(f"generated {redact(url)} in {total:.1f}s")
    print(f"  load {load:.1f}s, indexes {indexes:.1f}s, {' + '.join(finish)} {analyse:.1f}s")
    for name, count in counts.items():
        print(f"  {name:<22}{count:>12,}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description="Fill a chat database for the benchmark."
    )
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--database.url", dest="database_url", required=True, metavar="URL")
    parser.add_argument(
        "--database.schema",
        dest="schema",
        choices=("reference", "chatwoot"),
        default="reference",
        help="the tables to fill: the exporter's reference schema (default) or Chatwoot's "
        "(PostgreSQL only)",
    )
    args = parser.parse_args()
    if args.schema == "reference":
        asyncio.run(generate(args.database_url, SIZES[args.size]))
        return
    if make_url(args.database_url).get_backend_name() not in ("postgresql", "postgres"):
        parser.error("the Chatwoot schema needs a PostgreSQL database")
    if args.size not in CHATWOOT_SIZES:
        parser.error(f"the Chatwoot schema comes in sizes {', '.join(sorted(CHATWOOT_SIZES))}")
    asyncio.run(generate_chatwoot(args.database_url, CHATWOOT_SIZES[args.size]))


if __name__ == "__main__":
    main()
