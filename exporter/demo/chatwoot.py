"""A Chatwoot contact centre that keeps living in a Chatwoot-shaped PostgreSQL database.

Chatwoot's tables come from ``exporter/chatwoot_schema.sql`` (a transcription of Chatwoot's
``db/schema.rb``), created when missing. The simulator writes what Chatwoot itself would:
conversations arriving open and unassigned (or pending, in the bot's inbox), assigned to agents
with a free slot, ``waiting_since`` set by the visitor and cleared by a reply, resolved with a
``conversation_resolved`` reporting event and sometimes a CSAT answer; agents change their
``account_users.availability``. With Redis, it also keeps Chatwoot's live presence: heartbeats in
``<prefix>ONLINE_PRESENCE::<account>::USERS`` and statuses in ``<prefix>ONLINE_STATUS::<account>``.
"""

import asyncio
import json
import logging
import random
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT
from sqlalchemy import Row, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from exporter.database import create_engine, redact
from exporter.demo.simulator import (
    ABANDON_AFTER,
    ASSIGN_PER_SECOND,
    BACKFILL,
    BACKFILL_STEP_SECONDS,
    SCORES,
    STATUS_CHANGES,
    TICK_SECONDS,
    happens,
    pace,
    poisson,
)

log = logging.getLogger(__name__)

_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I | re.M)


def chatwoot_ddl() -> str:
    """The DDL of Chatwoot's tables as shipped in the package."""
    return resources.files("exporter").joinpath("chatwoot_schema.sql").read_text("utf-8")


def chatwoot_tables(ddl: str) -> list[str]:
    """The tables ``ddl`` creates, in its order."""
    return _CREATE_TABLE.findall(ddl)


async def run_script(connection: AsyncConnection, sql: str) -> None:
    """Run several statements at once, in ``connection``'s transaction.

    Through asyncpg itself: SQLAlchemy prepares each statement, which PostgreSQL refuses for
    more than one, and splitting the DDL on semicolons would trip on those in its comments.
    """
    await connection.execute(text("SELECT 1"))  # opens the transaction the script joins
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.execute(sql)


async def create_chatwoot_schema(connection: AsyncConnection) -> bool:
    """Create Chatwoot's tables unless they exist; True if they were created.

    Only when none exists: a database with some of them is a Chatwoot of its own (or an
    older release), which the demo must not complete behind the operator's back.
    """
    ddl = chatwoot_ddl()
    tables = chatwoot_tables(ddl)
    present = await connection.scalar(
        text("SELECT count(to_regclass(name)) FROM unnest(CAST(:tables AS text[])) AS name"),
        {"tables": tables},
    )
    if present == len(tables):
        return False
    if present:
        raise RuntimeError(
            f"{present} of the {len(tables)} Chatwoot tables exist: "
            "the demo fills only a database that has all or none of them"
        )
    await run_script(connection, ddl)
    return True


# Chatwoot's enums (research §1.1).
OPEN, RESOLVED, PENDING = 0, 1, 2  # conversations.status
INCOMING, OUTGOING, TEMPLATE = 0, 1, 3  # messages.message_type
INPUT_CSAT = 9  # messages.content_type of the CSAT survey
# The simulator's agent states (as the reference demo's) as Chatwoot stores them: the chosen
# availability in account_users, the status in Redis. None = disconnected, which only the
# missing heartbeat tells; without Redis it is availability offline, like "unavailable".
AVAILABILITY = {None: 1, "available": 0, "unavailable": 1, "busy": 2}
PRESENCE_STATUS = {"available": "online", "busy": "busy", "unavailable": "offline"}
WIDGET, VOICE = "Channel::WebWidget", "Channel::Voice"
DEFAULT_SLOTS = 3  # the exporter's default_max_slots, for agents Chatwoot sets no limit for
CSAT_ANSWERED = 0.4
BOT_HANDOFF = 0.6  # share of the bot's conversations it hands over to the agents


@dataclass(frozen=True, slots=True)
class InboxSpec:
    name: str
    account: str
    timezone: str
    channel_type: str
    arrivals_per_second: float
    bot_share: float  # arrivals a bot takes first: Chatwoot creates them pending
    csat: bool
    max_assignment_limit: int | None


ACCOUNTS = ("Acme Europe", "Acme Global")
INBOXES = (
    InboxSpec("Website FR", "Acme Europe", "Europe/Paris", WIDGET, 0.04, 0.3, True, None),
    InboxSpec("Hotline NY", "Acme Global", "America/New_York", VOICE, 0.012, 0.0, False, 1),
    InboxSpec("Chat Tokyo", "Acme Global", "Asia/Tokyo", WIDGET, 0.03, 0.0, True, 3),
)
# (name, display name, inboxes, administrator); accounts follow from the inboxes.
AGENTS: tuple[tuple[str, str | None, tuple[str, ...], bool], ...] = (
    ("Amélie Laurent", None, ("Website FR",), True),
    ("Bastien Roux", "Bastien", ("Website FR",), False),
    ("Chloé Martin", None, ("Website FR", "Hotline NY"), False),
    ("Diego Alvarez", None, ("Website FR",), False),
    ("Emma Johnson", None, ("Hotline NY",), True),
    ("Frank O'Neil", "Frank", ("Hotline NY",), False),
    ("Grace Lee", None, ("Hotline NY", "Chat Tokyo"), False),
    ("Hiro Tanaka", None, ("Chat Tokyo",), False),
    ("Jun Sato", None, ("Chat Tokyo",), False),
    ("Kenji Mori", "Kenji", ("Chat Tokyo",), False),
    ("Lucas Petit", None, ("Website FR",), False),
    ("Ines Costa", None, ("Website FR", "Chat Tokyo"), False),
    ("Mia Wong", None, ("Chat Tokyo",), False),
)
# Acme Global's capacity policy (assignment v2): its limits per inbox, and who has it.
POLICY = ("Senior agents", "Acme Global", {"Hotline NY": 2, "Chat Tokyo": 4})
POLICY_AGENTS = ("Emma Johnson", "Grace Lee")


async def _insert(connection: AsyncConnection, table: str, **values: Any) -> int:
    """Insert one row into one of Chatwoot's tables (names from this module); its id."""
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING id")
    row_id: int = (await connection.execute(statement, values)).scalar_one()
    return row_id


async def seed(connection: AsyncConnection, now: datetime) -> bool:
    """Fill empty Chatwoot tables; returns False (and changes nothing) if an account exists."""
    if await connection.scalar(text("SELECT count(*) FROM accounts")):
        return False
    stamps = {"created_at": now, "updated_at": now}
    accounts = {
        name: await _insert(connection, "accounts", name=name, **stamps) for name in ACCOUNTS
    }
    inboxes: dict[str, tuple[int, int]] = {}  # name -> (inbox id, account id)
    for spec in INBOXES:
        account = accounts[spec.account]
        channel = 1  # Channel::Voice's table is not among those transcribed
        if spec.channel_type == WIDGET:
            channel = await _insert(
                connection,
                "channel_web_widgets",
                account_id=account,
                website_url=f"https://{spec.name.lower().replace(' ', '-')}.example",
                website_token=spec.name.lower().replace(" ", "-"),
                **stamps,
            )
        limit = spec.max_assignment_limit
        config = {} if limit is None else {"max_assignment_limit": limit}
        inbox = await _insert(
            connection,
            "inboxes",
            channel_id=channel,
            account_id=account,
            name=spec.name,
            channel_type=spec.channel_type,
            timezone=spec.timezone,
            csat_survey_enabled=spec.csat,
            auto_assignment_config=json.dumps(config),
            **stamps,
        )
        inboxes[spec.name] = (inbox, account)
    policy_name, policy_account, limits = POLICY
    policy = await _insert(
        connection,
        "agent_capacity_policies",
        account_id=accounts[policy_account],
        name=policy_name,
        **stamps,
    )
    for inbox_name, limit in limits.items():
        await _insert(
            connection,
            "inbox_capacity_limits",
            agent_capacity_policy_id=policy,
            inbox_id=inboxes[inbox_name][0],
            conversation_limit=limit,
            **stamps,
        )
    for name, display_name, names, administrator in AGENTS:
        email = f"{name.split()[0].lower()}@acme.example"
        user = await _insert(
            connection,
            "users",
            uid=email,
            email=email,
            name=name,
            display_name=display_name,
            **stamps,
        )
        for account in sorted({inboxes[inbox][1] for inbox in names}):
            with_policy = name in POLICY_AGENTS and account == accounts[policy_account]
            await _insert(
                connection,
                "account_users",
                account_id=account,
                user_id=user,
                role=1 if administrator else 0,
                availability=AVAILABILITY[None],
                agent_capacity_policy_id=policy if with_policy else None,
                **stamps,
            )
        for inbox_name in names:
            await _insert(
                connection, "inbox_members", user_id=user, inbox_id=inboxes[inbox_name][0], **stamps
            )
    return True


class Presence:
    """Chatwoot's live presence in Redis, written as its dashboard and OnlineStatusTracker do:
    a heartbeat (Unix time) per connected user in ``<prefix>ONLINE_PRESENCE::<account>::USERS``
    and the status each chose in ``<prefix>ONLINE_STATUS::<account>``. Nothing is removed on
    disconnection: the heartbeat just grows old, as in Chatwoot."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    async def publish(self, states: Mapping[tuple[int, int], str | None], now: datetime) -> None:
        """Heartbeats at ``now`` (naive UTC) and statuses of the connected users."""
        beat = int(now.replace(tzinfo=UTC).timestamp())
        beats: dict[int, dict[str, int]] = {}
        statuses: dict[int, dict[FieldT, EncodableT]] = {}
        for (account, user), state in sorted(states.items()):
            if state is not None:
                beats.setdefault(account, {})[str(user)] = beat
                statuses.setdefault(account, {})[str(user)] = PRESENCE_STATUS[state]
        async with self.client.pipeline(transaction=False) as pipe:
            for account, users in beats.items():
                pipe.zadd(f"{self.prefix}ONLINE_PRESENCE::{account}::USERS", users)
                pipe.hset(f"{self.prefix}ONLINE_STATUS::{account}", mapping=statuses[account])
            await pipe.execute()


@dataclass(slots=True)
class Centre:
    """One simulator run: where it writes, and each agent's state by (account, user).

    The states live here rather than in the database because Chatwoot keeps "connected" only
    as a heartbeat; a new run starts with everybody disconnected (``reopen``)."""

    engine: AsyncEngine
    rng: random.Random
    presence: Presence | None = None
    states: dict[tuple[int, int], str | None] = field(default_factory=dict)


async def change_statuses(
    connection: AsyncConnection, centre: Centre, now: datetime, step: float
) -> None:
    rows = await connection.execute(
        text("SELECT account_id, user_id FROM account_users ORDER BY account_id, user_id")
    )
    for row in rows.all():
        key = (row.account_id, row.user_id)
        state = centre.states.get(key)
        target = state
        for candidate, rate in STATUS_CHANGES[state].items():
            if happens(centre.rng, rate, step):
                target = candidate
                break
        centre.states[key] = target
        if AVAILABILITY[target] != AVAILABILITY[state]:
            await connection.execute(
                text(
                    "UPDATE account_users SET availability = :availability, updated_at = :now "
                    "WHERE account_id = :account AND user_id = :user"
                ),
                {
                    "availability": AVAILABILITY[target],
                    "now": now,
                    "account": key[0],
                    "user": key[1],
                },
            )


async def _message(
    connection: AsyncConnection,
    conversation: Row[Any],
    message_type: int,
    at: datetime,
    sender: tuple[str, int] | None,
    *,
    content_type: int = 0,
) -> int:
    """A message of ``conversation`` (a row with id, account_id, inbox_id); its id."""
    sender_type, sender_id = sender if sender else (None, None)
    return await _insert(
        connection,
        "messages",
        content="…",
        account_id=conversation.account_id,
        inbox_id=conversation.inbox_id,
        conversation_id=conversation.id,
        message_type=message_type,
        content_type=content_type,
        sender_type=sender_type,
        sender_id=sender_id,
        created_at=at,
        updated_at=at,
    )


async def _event(
    connection: AsyncConnection, name: str, conversation: Row[Any], now: datetime
) -> None:
    """A reporting event from the conversation's creation to ``now``, as Chatwoot's
    ReportingEventListener writes it: the value in seconds, for the assignee."""
    await _insert(
        connection,
        "reporting_events",
        name=name,
        value=(now - conversation.created_at).total_seconds(),
        value_in_business_hours=0,
        account_id=conversation.account_id,
        inbox_id=conversation.inbox_id,
        user_id=conversation.assignee_id,
        conversation_id=conversation.id,
        event_start_time=conversation.created_at,
        event_end_time=now,
        created_at=now,
        updated_at=now,
    )


async def arrive(
    connection: AsyncConnection, now: datetime, step: float, rng: random.Random
) -> None:
    """New conversations: open and waiting, or pending when the inbox's bot takes them."""
    inboxes = await connection.execute(text("SELECT id, account_id, name FROM inboxes ORDER BY id"))
    for inbox in inboxes.all():
        spec = next((spec for spec in INBOXES if spec.name == inbox.name), None)
        rate, bot_share = (
            (0.05, 0.0) if spec is None else (spec.arrivals_per_second, spec.bot_share)
        )
        for _ in range(poisson(rng, rate * step)):
            started = now - timedelta(seconds=rng.random() * step)
            conversation = (
                await connection.execute(
                    text(
                        "INSERT INTO conversations (account_id, inbox_id, status, contact_id, "
                        "display_id, created_at, updated_at, last_activity_at, waiting_since) "
                        "SELECT :account, :inbox, :status, :contact, "
                        "COALESCE(max(display_id), 0) + 1, :at, :at, :at, :at "
                        "FROM conversations WHERE account_id = :account "
                        "RETURNING id, account_id, inbox_id, contact_id"
                    ),
                    {
                        "account": inbox.account_id,
                        "inbox": inbox.id,
                        "status": PENDING if rng.random() < bot_share else OPEN,
                        "contact": rng.randrange(1, 1_000_000),
                        "at": started,
                    },
                )
            ).one()
            await _message(
                connection, conversation, INCOMING, started, ("Contact", conversation.contact_id)
            )


async def assign(connection: AsyncConnection, centre: Centre, now: datetime, step: float) -> None:
    """The queue: assigned to an available member with a free slot, or given up after a while."""
    queue = await connection.execute(
        text(
            "SELECT id, account_id, inbox_id, status, assignee_id, contact_id, created_at, "
            "COALESCE(waiting_since, created_at) AS since FROM conversations "
            "WHERE status = :open AND assignee_id IS NULL ORDER BY since, id"
        ),
        {"open": OPEN},
    )
    for conversation in queue.all():
        if now - conversation.since > ABANDON_AFTER:
            await resolve(connection, conversation, now, centre.rng, survey=False)
            continue
        if not happens(centre.rng, ASSIGN_PER_SECOND, step):
            continue
        agent = await _free_agent(
            connection, centre, conversation.inbox_id, conversation.account_id
        )
        if agent is not None:
            await connection.execute(
                text(
                    "UPDATE conversations SET assignee_id = :agent, updated_at = :now "
                    "WHERE id = :id"
                ),
                {"agent": agent, "now": now, "id": conversation.id},
            )


async def _free_agent(
    connection: AsyncConnection, centre: Centre, inbox: int, account: int
) -> int | None:
    """The least loaded available member of the inbox under its limit, as the exporter counts
    slots: the capacity policy's limit, else the inbox's max_assignment_limit, else the default."""
    available = [
        user
        for (at, user), state in centre.states.items()
        if at == account and state == "available"
    ]
    if not available:
        return None
    rows = await connection.execute(
        text(
            "SELECT m.user_id, COALESCE(l.conversation_limit, CASE "
            "WHEN i.auto_assignment_config ->> 'max_assignment_limit' ~ '^[1-9][0-9]*$' "
            "THEN CAST(i.auto_assignment_config ->> 'max_assignment_limit' AS integer) END, "
            ":default) AS slots, (SELECT count(*) FROM conversations c WHERE c.status = :open "
            "AND c.inbox_id = i.id AND c.assignee_id = m.user_id) AS active "
            "FROM inboxes i JOIN inbox_members m ON m.inbox_id = i.id "
            "JOIN account_users au ON au.account_id = i.account_id AND au.user_id = m.user_id "
            "LEFT JOIN inbox_capacity_limits l ON l.inbox_id = i.id "
            "AND l.agent_capacity_policy_id = au.agent_capacity_policy_id "
            "WHERE i.id = :inbox AND m.user_id = ANY(:users) ORDER BY active, m.user_id"
        ),
        {"default": DEFAULT_SLOTS, "open": OPEN, "inbox": inbox, "users": available},
    )
    return next((row.user_id for row in rows.all() if row.active < row.slots), None)


async def talk(connection: AsyncConnection, now: datetime, step: float, rng: random.Random) -> None:
    """Replies, contact messages and endings of the assigned and the bot's conversations.

    A human reply clears ``waiting_since``, the contact's next message sets it again; the
    bot's replies leave it, as Chatwoot's do. The bot resolves or hands over to the queue."""
    rows = await connection.execute(
        text(
            "SELECT c.id, c.account_id, c.inbox_id, c.status, c.assignee_id, c.contact_id, "
            "c.created_at, c.waiting_since, i.csat_survey_enabled, last.message_type AS last "
            "FROM conversations c JOIN inboxes i ON i.id = c.inbox_id "
            "LEFT JOIN LATERAL (SELECT m.message_type FROM messages m "
            "WHERE m.conversation_id = c.id AND m.message_type IN (:incoming, :outgoing) "
            "ORDER BY m.id DESC LIMIT 1) AS last ON true "
            "WHERE (c.status = :open AND c.assignee_id IS NOT NULL) OR c.status = :pending "
            "ORDER BY c.id"
        ),
        {"incoming": INCOMING, "outgoing": OUTGOING, "open": OPEN, "pending": PENDING},
    )
    for conversation in rows.all():
        bot = conversation.status == PENDING
        how = pace(conversation.id, by_bot=bot)
        contact = ("Contact", conversation.contact_id)
        if happens(rng, 1 / how.duration_seconds, step):
            if bot and rng.random() < BOT_HANDOFF:
                await _handoff(connection, conversation, now)
            else:
                await resolve(
                    connection, conversation, now, rng, survey=conversation.csat_survey_enabled
                )
        elif bot:
            if conversation.last == INCOMING and happens(rng, 1 / how.reply_seconds, step):
                await _message(connection, conversation, OUTGOING, now, ("AgentBot", 1))
            elif conversation.last == OUTGOING and happens(rng, 1 / how.visitor_seconds, step):
                await _message(connection, conversation, INCOMING, now, contact)
        elif conversation.waiting_since is not None:
            if happens(rng, 1 / how.reply_seconds, step):
                await _message(
                    connection, conversation, OUTGOING, now, ("User", conversation.assignee_id)
                )
                await _touch(
                    connection,
                    conversation,
                    now,
                    "waiting_since = NULL, "
                    "first_reply_created_at = COALESCE(first_reply_created_at, :now)",
                )
        elif happens(rng, 1 / how.visitor_seconds, step):
            await _message(connection, conversation, INCOMING, now, contact)
            await _touch(connection, conversation, now, "waiting_since = :now")


async def _touch(
    connection: AsyncConnection, conversation: Row[Any], now: datetime, changes: str
) -> None:
    """Apply ``changes`` (SQL assignments that may use :now) and Chatwoot's activity stamps."""
    await connection.execute(
        text(
            f"UPDATE conversations SET {changes}, updated_at = :now, last_activity_at = :now "
            "WHERE id = :id"
        ),
        {"now": now, "id": conversation.id},
    )


async def _handoff(connection: AsyncConnection, conversation: Row[Any], now: datetime) -> None:
    """The bot hands over: the conversation joins the queue, still waiting since the contact's
    first message (no human has answered)."""
    await _touch(connection, conversation, now, f"status = {OPEN}")
    await _event(connection, "conversation_bot_handoff", conversation, now)


async def resolve(
    connection: AsyncConnection,
    conversation: Row[Any],
    now: datetime,
    rng: random.Random,
    *,
    survey: bool,
) -> None:
    """Resolve as Chatwoot does: status, a ``conversation_resolved`` event valued
    updated_at - created_at, and with ``survey`` the CSAT message, which some contacts answer."""
    await _touch(connection, conversation, now, f"status = {RESOLVED}, waiting_since = NULL")
    await _event(connection, "conversation_resolved", conversation, now)
    if conversation.status == PENDING:
        await _event(connection, "conversation_bot_resolved", conversation, now)
    if not survey:
        return
    message = await _message(connection, conversation, TEMPLATE, now, None, content_type=INPUT_CSAT)
    if rng.random() < CSAT_ANSWERED:
        await _insert(
            connection,
            "csat_survey_responses",
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            message_id=message,
            rating=rng.choice(SCORES),
            contact_id=conversation.contact_id,
            assigned_agent_id=conversation.assignee_id,
            created_at=now,
            updated_at=now,
        )


async def tick(centre: Centre, now: datetime, step: float) -> None:
    """Advance the installation by ``step`` seconds ending at ``now`` (naive UTC); then the
    heartbeats, once the database has committed."""
    async with centre.engine.begin() as connection:
        await change_statuses(connection, centre, now, step)
        await arrive(connection, now, step, centre.rng)
        await assign(connection, centre, now, step)
        await talk(connection, now, step, centre.rng)
    if centre.presence is not None:
        await centre.presence.publish(centre.states, now)


async def reopen(connection: AsyncConnection, now: datetime) -> None:
    """Resolve what a previous run left in progress, so old conversations do not signal
    forever, and set every agent offline: a new run starts disconnected."""
    left = await connection.execute(
        text(
            "SELECT id, account_id, inbox_id, status, assignee_id, contact_id, created_at "
            "FROM conversations WHERE status IN (:open, :pending) ORDER BY id"
        ),
        {"open": OPEN, "pending": PENDING},
    )
    for conversation in left.all():
        await resolve(connection, conversation, now, random.Random(), survey=False)
    await connection.execute(
        text("UPDATE account_users SET availability = :offline, updated_at = :now"),
        {"offline": AVAILABILITY[None], "now": now},
    )


async def prepare(centre: Centre, now: datetime, backfill: timedelta = BACKFILL) -> None:
    """Create Chatwoot's tables if missing, seed them and simulate the ``backfill`` before
    ``now``, so that the day has a history from the first scrape; or reopen the installation
    a previous demo left."""
    async with centre.engine.begin() as connection:
        await create_chatwoot_schema(connection)
        fresh = await seed(connection, now - backfill)
        if not fresh:
            await reopen(connection, now)
    if not fresh:
        return
    moment = now - backfill
    while moment < now:
        moment += timedelta(seconds=BACKFILL_STEP_SECONDS)
        await tick(centre, moment, BACKFILL_STEP_SECONDS)


async def run(centre: Centre) -> None:
    """Tick forever in real time; a failing tick is logged and the next one tried."""
    while True:
        await asyncio.sleep(TICK_SECONDS)
        try:
            await tick(centre, datetime.now(UTC).replace(tzinfo=None), TICK_SECONDS)
        except Exception as error:
            log.warning("Chatwoot demo tick failed: %s", str(error).splitlines()[0])


def chatwoot_simulation(
    url: str, redis_url: str | None, key_prefix: str
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context that runs the Chatwoot simulator on ``url`` (PostgreSQL)
    while the app runs, with presence in Redis at ``redis_url`` under ``key_prefix`` if set.

    Raises ValueError at once for a database other than PostgreSQL, Chatwoot's only one."""
    if make_url(url).get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"the Chatwoot demo needs a PostgreSQL database, not {redact(url)}")

    async def context(_app: web.Application) -> AsyncIterator[None]:
        engine = create_engine(url, read_only=False, pool_size=1)
        client = None if redis_url is None else Redis.from_url(redis_url)
        presence = None if client is None else Presence(client, key_prefix)
        centre = Centre(engine, random.Random(), presence)
        try:
            log.info("demo: preparing the simulated Chatwoot installation in %s", redact(url))
            await prepare(centre, datetime.now(UTC).replace(tzinfo=None))
            task = asyncio.create_task(run(centre))
            log.info("demo: Chatwoot simulator running%s", "" if client else " (no Redis)")
            yield
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        finally:
            await engine.dispose()
            if client is not None:
                await client.aclose()

    return context
