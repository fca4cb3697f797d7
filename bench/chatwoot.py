"""Fill a PostgreSQL database with a synthetic Chatwoot installation, for the benchmark.

The tables are Chatwoot's own, from ``exporter/chatwoot_schema.sql``, with Chatwoot's indexes
and no other: an operator cannot be asked to change Chatwoot's schema. As for the reference
schema, rows are made inside the database by set-based ``INSERT … SELECT`` over
generate_series, every choice derived from the row number (``bench.rows.pick``); the secondary
indexes are dropped before the load and rebuilt after it, as a bulk load would do.

Agents belong to one account and are members of one or two of its inboxes; a capacity policy
per account limits some inboxes for 40 % of the agents, and every third inbox has a
``max_assignment_limit``. Conversations: seven history days, then today (the generation's UTC
day) with, besides the conversations over, open ones assigned to agents (a third awaiting a
reply, ``waiting_since`` set), a queue of unassigned ones, pending ones handled by a bot, and
2 % snoozed. Resolved conversations have a ``conversation_resolved`` reporting event (and a
``first_response`` one when an agent answered), end with Chatwoot's CSAT survey message, and
30 % of them are rated. 3 % of the conversations over have no assignee: two thirds of those
were abandoned (only the contact wrote), a bot answered the others.
"""

import time
from dataclasses import dataclass

from sqlalchemy import text

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
from exporter.demo.chatwoot import chatwoot_ddl, chatwoot_tables, run_script

POSTGRESQL = Flavour("postgresql")
OPEN, RESOLVED, PENDING, SNOOZED = 0, 1, 2, 3  # conversations.status
INCOMING, OUTGOING, TEMPLATE = 0, 1, 3  # messages.message_type
INPUT_CSAT = 9  # messages.content_type of the CSAT survey


@dataclass(frozen=True, slots=True)
class Size:
    """How big the installation is. ``conversations`` is per day, today and each history day;
    today's ``open`` (assigned), ``waiting`` (open, unassigned) and ``pending`` are among them."""

    accounts: int
    inboxes: int
    agents: int
    conversations: int
    open: int
    waiting: int
    pending: int


SIZES = {
    "S": Size(
        accounts=1, inboxes=3, agents=30, conversations=2_000, open=30, waiting=20, pending=10
    ),
    "M": Size(
        accounts=2, inboxes=20, agents=500, conversations=50_000, open=500, waiting=200, pending=100
    ),
    "L": Size(
        accounts=5,
        inboxes=100,
        agents=5_000,
        conversations=300_000,
        open=3_000,
        waiting=500,
        pending=300,
    ),
}


def _account_of(row: str, size: Size) -> str:
    """The account of an inbox or an agent: ids are dealt to the accounts in turn."""
    return f"((({row}) - 1) % {size.accounts} + 1)"


def _inbox_count(agent: str, size: Size) -> str:
    """How many inboxes (1 or 2) an agent is a member of."""
    return "1" if size.inboxes // size.accounts < 2 else f"(1 + {pick(agent, 'inbox count', 2)})"


def _inbox_of(agent: str, index: str, size: Size) -> str:
    """The ``index``-th inbox (from 0) of an agent, among its account's inboxes; stepping by
    half of them keeps the two distinct."""
    per_account = size.inboxes // size.accounts
    step = max(1, per_account // 2)
    slot = f"((({agent}) - 1) / {size.accounts} + ({index}) * {step}) % {per_account}"
    return f"({slot} * {size.accounts} + {_account_of(agent, size)})"


def _people(size: Size, now: int) -> list[str]:
    """Accounts, inboxes, agents with their availability, memberships and capacity policies."""
    ts, series = POSTGRESQL.timestamp, POSTGRESQL.series
    created = ts(str(now - 365 * DAY_SECONDS))
    availability = pick("n", "availability", 20)
    return [
        f"INSERT INTO accounts (id, name, created_at, updated_at) "
        f"SELECT n, 'account-' || n, {created}, {created} FROM {series(size.accounts, 'a')}",
        f"INSERT INTO inboxes (id, channel_id, account_id, name, created_at, updated_at, "
        f"channel_type, timezone, csat_survey_enabled, auto_assignment_config) "
        f"SELECT n, n, {_account_of('n', size)}, 'inbox-' || n, {created}, {created}, "
        f"CASE WHEN n % 5 = 0 THEN 'Channel::Voice' ELSE 'Channel::WebWidget' END, 'UTC', true, "
        f"CASE WHEN n % 3 = 0 THEN jsonb_build_object('max_assignment_limit', 2 + n % 4) "
        f"ELSE '{{}}'::jsonb END FROM {series(size.inboxes, 'i')}",
        f"INSERT INTO users (id, uid, name, display_name, email, created_at, updated_at) "
        f"SELECT n, 'agent-' || n || '@bench.example', 'Agent ' || n, "
        f"CASE WHEN n % 3 = 0 THEN 'A. ' || n END, 'agent-' || n || '@bench.example', "
        f"{created}, {created} FROM {series(size.agents, 'a')}",
        f"INSERT INTO agent_capacity_policies (id, account_id, name, created_at, updated_at) "
        f"SELECT n, n, 'capacity-' || n, {created}, {created} FROM {series(size.accounts, 'a')}",
        # Half of the inboxes have a limit in their account's policy.
        f"INSERT INTO inbox_capacity_limits (id, agent_capacity_policy_id, inbox_id, "
        f"conversation_limit, created_at, updated_at) "
        f"SELECT n, {_account_of('n', size)}, n, 2 + {pick('n', 'limit', 4)}, {created}, "
        f"{created} FROM {series(size.inboxes, 'i')} WHERE n % 2 = 1",
        # 60 % online, 15 % busy, 25 % offline; every 25th an administrator; 40 % with a policy.
        f"INSERT INTO account_users (id, account_id, user_id, role, created_at, updated_at, "
        f"availability, auto_offline, agent_capacity_policy_id) "
        f"SELECT n, {_account_of('n', size)}, n, CASE WHEN n % 25 = 0 THEN 1 ELSE 0 END, "
        f"{created}, {created}, "
        f"CASE WHEN {availability} < 12 THEN 0 WHEN {availability} < 15 THEN 2 ELSE 1 END, true, "
        f"CASE WHEN {pick('n', 'policy', 10)} < 4 THEN {_account_of('n', size)} END "
        f"FROM {series(size.agents, 'a')}",
        f"INSERT INTO inbox_members (id, user_id, inbox_id, created_at, updated_at) "
        f"SELECT (a.n - 1) * 2 + j.n, a.n, {_inbox_of('a.n', 'j.n - 1', size)}, "
        f"{created}, {created} FROM {series(size.agents, 'a')} CROSS JOIN {series(2, 'j')} "
        f"WHERE j.n <= {_inbox_count('a.n', size)}",
    ]


def _plan(size: Size, now: int) -> list[str]:
    """Every conversation, planned in a temporary table with Unix times.

    History days come first (ids grow with time), then today: the open assigned ones, the
    queue, the pending ones (started within the last minutes), then the others from midnight.
    ``ended`` is the resolution time, NULL while not resolved. Of the resolved conversations
    nobody was assigned, two thirds are ``abandoned`` (the visitor left unanswered), the others
    the bot's.
    """
    series = POSTGRESQL.series
    midnight = now - now % DAY_SECONDS
    per_day, history = size.conversations, HISTORY_DAYS * size.conversations
    waiting_end = size.open + size.waiting
    pending_end = waiting_end + size.pending
    some_agent = (
        f"CASE WHEN {pick('id', 'unassigned', 100)} < 3 THEN NULL "
        f"ELSE 1 + {pick('id', 'agent', size.agents)} END"
    )
    over_or_snoozed = (
        f"CASE WHEN {pick('id', 'snoozed', 100)} < 2 THEN {SNOOZED} ELSE {RESOLVED} END"
    )
    membership = pick("id", "inbox", _inbox_count("assignee_id", size))
    inbox = (
        f"CASE WHEN assignee_id IS NULL THEN 1 + {pick('id', 'inbox', size.inboxes)} "
        f"ELSE {_inbox_of('assignee_id', membership, size)} END"
    )
    ended = (
        f"CASE WHEN status = {RESOLVED} "
        f"THEN LEAST(started + 60 + {pick('id', 'duration', 1500)}, {now}) END"
    )
    abandoned = f"status = {RESOLVED} AND assignee_id IS NULL AND {pick('id', 'abandoned', 3)} < 2"
    columns = "id, inbox_id, assignee_id, status, started, ended, visitor_last, abandoned"
    today_span = max(now - midnight - 60, 1)
    return [
        "CREATE TEMPORARY TABLE bench_plan (id BIGINT NOT NULL, inbox_id INTEGER NOT NULL, "
        "assignee_id INTEGER, status INTEGER NOT NULL, started BIGINT NOT NULL, ended BIGINT, "
        "visitor_last BOOLEAN NOT NULL, abandoned BOOLEAN NOT NULL)",
        f"INSERT INTO bench_plan ({columns}) "
        f"SELECT id, {inbox}, assignee_id, status, started, {ended}, false, {abandoned} "
        f"FROM (SELECT id, {some_agent} AS assignee_id, {over_or_snoozed} AS status, "
        f"{midnight} - ({HISTORY_DAYS} - (id - 1) / {per_day}) * {DAY_SECONDS} "
        f"+ {pick('id', 'start', DAY_SECONDS)} AS started "
        f"FROM (SELECT n AS id FROM {series(history, 'c')}) AS c) AS h",
        f"INSERT INTO bench_plan ({columns}) "
        f"SELECT id, {inbox}, assignee_id, status, started, {ended}, "
        f"n <= {size.open} AND {pick('id', 'visitor last', 3)} = 0, {abandoned} "
        f"FROM (SELECT id, n, CASE "
        f"WHEN n <= {size.open} THEN 1 + {pick('id', 'agent', size.agents)} "
        f"WHEN n <= {pending_end} THEN NULL ELSE {some_agent} END AS assignee_id, CASE "
        f"WHEN n <= {waiting_end} THEN {OPEN} WHEN n <= {pending_end} THEN {PENDING} "
        f"ELSE {over_or_snoozed} END AS status, CASE "
        f"WHEN n <= {size.open} THEN {now} - 120 - {pick('id', 'age', 1800)} "
        f"WHEN n <= {waiting_end} THEN {now} - 30 - {pick('id', 'age', 600)} "
        f"WHEN n <= {pending_end} THEN {now} - 10 - {pick('id', 'age', 600)} "
        f"ELSE {midnight} + {pick('id', 'start', today_span)} END AS started "
        f"FROM (SELECT {history} + n AS id, n FROM {series(per_day, 'c')}) AS c) AS t",
    ]


def _contents(size: Size, now: int) -> list[str]:
    """Conversations, their messages, reporting events and CSAT answers, from the plan.

    Messages are evenly spaced from the start to the resolution (or now): the contact's first,
    then in turn the assignee's (the bot's when there is none), except in the queue and the
    abandoned ones, where only the contact writes, and when the contact spoke last; a
    resolved conversation ends with the CSAT survey. ``waiting_since`` is the contact's
    unanswered message, if any.
    """
    ts, series = POSTGRESQL.timestamp, POSTGRESQL.series
    count = MESSAGES_PER_CONVERSATION
    account = _account_of("inbox_id", size)

    def sent(index: str) -> str:
        return f"started + ({index} - 1) * (COALESCE(ended, {now}) - started) / {count}"

    queued = f"(status = {OPEN} AND assignee_id IS NULL)"
    last = sent(str(count))
    waiting_since = f"CASE WHEN {queued} THEN {ts('started')} WHEN visitor_last THEN {ts(last)} END"
    first_reply = sent("2")
    rating = pick("id", "score", 10)
    return [
        f"INSERT INTO conversations (id, account_id, inbox_id, status, assignee_id, created_at, "
        f"updated_at, contact_id, display_id, uuid, last_activity_at, snoozed_until, "
        f"first_reply_created_at, waiting_since) "
        f"SELECT id, {account}, inbox_id, status, assignee_id, {ts('started')}, "
        f"{ts(f'COALESCE(ended, {last})')}, id, id, md5(id::text)::uuid, "
        f"{ts(last)}, CASE WHEN status = {SNOOZED} THEN {ts(f'{now} + 3600')} END, "
        f"CASE WHEN assignee_id IS NOT NULL THEN {ts(first_reply)} END, {waiting_since} "
        f"FROM bench_plan",
        f"INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, "
        f"message_type, created_at, updated_at, content_type, sender_type, sender_id) "
        f"SELECT (id - 1) * {count} + m, 'message ' || m, {account}, inbox_id, id, "
        f"CASE sender WHEN 'survey' THEN {TEMPLATE} WHEN 'Contact' THEN {INCOMING} "
        f"ELSE {OUTGOING} END, {ts('at')}, {ts('at')}, "
        f"CASE sender WHEN 'survey' THEN {INPUT_CSAT} ELSE 0 END, "
        f"NULLIF(sender, 'survey'), CASE sender WHEN 'survey' THEN NULL "
        f"WHEN 'Contact' THEN id WHEN 'User' THEN assignee_id ELSE 1 END "
        f"FROM (SELECT p.*, m.n AS m, {sent('m.n')} AS at, CASE "
        f"WHEN status = {RESOLVED} AND m.n = {count} THEN 'survey' "
        f"WHEN m.n % 2 = 1 OR {queued} OR abandoned OR (m.n = {count} AND visitor_last) "
        f"THEN 'Contact' "
        f"WHEN assignee_id IS NULL THEN 'AgentBot' ELSE 'User' END AS sender "
        f"FROM bench_plan AS p CROSS JOIN {series(count, 'm')}) AS k",
        f"INSERT INTO reporting_events (id, name, value, account_id, inbox_id, user_id, "
        f"conversation_id, created_at, updated_at, value_in_business_hours, event_start_time, "
        f"event_end_time) "
        f"SELECT 2 * id - 1, 'conversation_resolved', ended - started, {account}, inbox_id, "
        f"assignee_id, id, {ts('ended')}, {ts('ended')}, 0, {ts('started')}, {ts('ended')} "
        f"FROM bench_plan WHERE status = {RESOLVED}",
        f"INSERT INTO reporting_events (id, name, value, account_id, inbox_id, user_id, "
        f"conversation_id, created_at, updated_at, value_in_business_hours, event_start_time, "
        f"event_end_time) "
        f"SELECT 2 * id, 'first_response', {first_reply} - started, {account}, inbox_id, "
        f"assignee_id, id, {ts(first_reply)}, {ts(first_reply)}, 0, {ts('started')}, "
        f"{ts(first_reply)} FROM bench_plan WHERE assignee_id IS NOT NULL",
        # 30 % of the resolved conversations are rated, mostly well, half a minute later.
        f"INSERT INTO csat_survey_responses (id, account_id, conversation_id, message_id, "
        f"rating, contact_id, assigned_agent_id, created_at, updated_at) "
        f"SELECT id, {account}, id, id * {count}, CASE WHEN {rating} = 0 THEN 1 "
        f"WHEN {rating} = 1 THEN 2 WHEN {rating} < 4 THEN 3 WHEN {rating} < 7 THEN 4 ELSE 5 END, "
        f"id, assignee_id, {ts(f'LEAST(ended + 30, {now})')}, {ts(f'LEAST(ended + 30, {now})')} "
        f"FROM bench_plan WHERE status = {RESOLVED} AND {pick('id', 'rated', 10)} < 3",
        "DROP TABLE bench_plan",
    ]


def statements(size: Size, now: int) -> list[str]:
    """Every statement that fills the tables, in dependency order, for Unix time ``now``."""
    return [*_people(size, now), *_plan(size, now), *_contents(size, now)]


async def generate(url: str, size: Size, now: int | None = None) -> None:
    """Drop and recreate Chatwoot's tables at ``url`` and fill them for Unix time
    ``now`` (the current time by default; tests fix it); prints timings and counts."""
    await create_database(url)
    engine = create_engine(url, read_only=False, pool_size=1)
    ddl = chatwoot_ddl()
    tables = chatwoot_tables(ddl)
    started = time.perf_counter()
    try:
        async with engine.begin() as connection:
            # Index builds sort in memory instead of in temporary files.
            await connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
            await connection.exec_driver_sql(f"DROP TABLE IF EXISTS {', '.join(tables)} CASCADE")
            await run_script(connection, ddl)
            # Every index but those of primary keys and unique constraints, rebuilt after the load.
            indexes = (
                await connection.execute(
                    text(
                        "SELECT i.indexrelid::regclass::text AS name, "
                        "pg_get_indexdef(i.indexrelid) AS definition FROM pg_index AS i "
                        "WHERE i.indrelid::regclass::text = ANY(:tables) AND NOT EXISTS "
                        "(SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)"
                    ),
                    {"tables": tables},
                )
            ).all()
            await timed(connection, [f"DROP INDEX {index.name}" for index in indexes])
            load = await timed(
                connection, statements(size, int(time.time()) if now is None else now)
            )
            build = await timed(connection, [index.definition for index in indexes])
            counts = {
                table: await connection.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in tables
            }
        async with engine.connect() as connection:
            # Outside a transaction. VACUUM also sets the hint bits and the visibility map, and
            # CHECKPOINT writes the load out now: else the first scrapes pay for both.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            finish = ["VACUUM (ANALYZE)", "CHECKPOINT"]
            analyse = await timed(connection, finish)
    finally:
        await engine.dispose()
    total = time.perf_counter() - started
    print(f"generated Chatwoot tables in {redact(url)} in {total:.1f}s")
    print(f"  load {load:.1f}s, {len(indexes)} indexes {build:.1f}s, ", end="")
    print(f"{' + '.join(finish)} {analyse:.1f}s")
    for name, rows in counts.items():
        print(f"  {name:<26}{rows:>12,}")
