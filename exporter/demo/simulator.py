"""A contact centre that keeps living in the demo database, so that every metric moves.

Every second: agents change status, visitors arrive and queue, are taken by an agent or a bot,
wait for replies (some conversations are answered late, some last long, so both signals fire
within minutes), conversations end with ratings and sales, and impatient visitors give up,
in the queue or awaiting a reply, some before anyone answered them.
The simulator reads the state it acts on from the database itself, so it survives restarts.
"""

import asyncio
import logging
import math
import random
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from exporter.database import create_engine, redact
from exporter.demo.seed import SITES, seed
from exporter.schema import (
    agent_sessions,
    agent_sites,
    agents,
    conversations,
    create_schema,
    messages,
    satisfaction_ratings,
    sites,
    transactions,
)

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
BACKFILL = timedelta(minutes=45)
BACKFILL_STEP_SECONDS = 5.0

# Status changes per second of an agent, by current status (None = disconnected).
STATUS_CHANGES: dict[str | None, dict[str | None, float]] = {
    None: {"available": 1 / 150},
    "available": {"busy": 1 / 240, "unavailable": 1 / 500, None: 1 / 2400},
    "busy": {"available": 1 / 90},
    "unavailable": {"available": 1 / 120, None: 1 / 1800},
}
ASSIGN_PER_SECOND = 1 / 8  # a queued visitor is taken after 8 s on average, if a slot is free
ABANDON_AFTER = timedelta(minutes=4)
GIVE_UP_PER_SECOND = 1 / 600  # an impatient visitor leaves the queue before that
LEAVES_UNANSWERED_PER_SECOND = 1 / 240  # ...or a conversation while awaiting a reply
HUNG_UP_WHILE_RINGING = 0.1  # a call put through to an agent that ends before an answer
REASONS = {  # why an agent is in a status, when the agent says
    "busy": ("back office", "after-call work"),
    "unavailable": ("break", "lunch", "training", "meeting"),
}
SCORES = (5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1)


@dataclass(frozen=True, slots=True)
class Pace:
    """How a conversation goes, drawn from its id so that it stays the same across ticks."""

    reply_seconds: float
    visitor_seconds: float
    duration_seconds: float


def pace(conversation_id: int, by_bot: bool) -> Pace:
    if by_bot:
        return Pace(reply_seconds=3, visitor_seconds=30, duration_seconds=90)
    slow_replies = conversation_id % 5 == 0  # answered after ~90 s: response-time signal
    long_talk = conversation_id % 6 == 0  # lasts ~15 min: handling-duration signal
    return Pace(
        reply_seconds=90 if slow_replies else 10,
        visitor_seconds=40,
        duration_seconds=900 if long_talk else 200,
    )


def poisson(rng: random.Random, mean: float) -> int:
    """How many events of that mean happen (Knuth's method; means here are small)."""
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def happens(rng: random.Random, per_second: float, seconds: float) -> bool:
    """Whether an event of that rate happens within ``seconds``."""
    return rng.random() < 1 - math.pow(1 - min(per_second, 1.0), seconds)


async def change_statuses(
    connection: AsyncConnection, now: datetime, step: float, rng: random.Random
) -> None:
    current = (
        select(agent_sessions.c.agent_id, func.max(agent_sessions.c.id).label("session_id"))
        .where(agent_sessions.c.ended_at.is_(None))
        .group_by(agent_sessions.c.agent_id)
        .subquery()
    )
    rows = await connection.execute(
        select(agents.c.id, agents.c.is_bot, agent_sessions.c.status)
        .outerjoin(current, current.c.agent_id == agents.c.id)
        .outerjoin(agent_sessions, agent_sessions.c.id == current.c.session_id)
        .order_by(agents.c.id)
    )
    for agent_id, is_bot, status in rows.all():
        if is_bot:
            target: str | None = "available" if status is None else status
        else:
            target = status
            for candidate, rate in STATUS_CHANGES[status].items():
                if happens(rng, rate, step):
                    target = candidate
                    break
        if target == status:
            continue
        await connection.execute(
            update(agent_sessions)
            .where(agent_sessions.c.agent_id == agent_id, agent_sessions.c.ended_at.is_(None))
            .values(ended_at=now)
        )
        if target is not None:
            reason = rng.choice(REASONS[target]) if target in REASONS else None
            await connection.execute(
                insert(agent_sessions).values(
                    agent_id=agent_id, status=target, started_at=now, reason=reason
                )
            )


async def arrive(
    connection: AsyncConnection, now: datetime, step: float, rng: random.Random
) -> None:
    for site_id, name in (
        await connection.execute(select(sites.c.id, sites.c.name).order_by(sites.c.id))
    ).all():
        rate = next((spec.arrivals_per_second for spec in SITES if spec.name == name), 0.05)
        for _ in range(poisson(rng, rate * step)):
            started = now - timedelta(seconds=rng.random() * step)
            channel = "call" if rng.random() < 0.25 else "chat"
            created = await connection.execute(
                insert(conversations).values(site_id=site_id, channel=channel, started_at=started)
            )
            key = created.inserted_primary_key  # not RETURNING, which MySQL lacks
            assert key is not None
            conversation_id = key[0]
            await connection.execute(
                insert(messages).values(
                    conversation_id=conversation_id,
                    sender="visitor",
                    sent_at=started,
                )
            )


async def assign(
    connection: AsyncConnection, now: datetime, step: float, rng: random.Random
) -> None:
    waiting = await connection.execute(
        select(
            conversations.c.id,
            conversations.c.site_id,
            conversations.c.channel,
            conversations.c.started_at,
        )
        .where(conversations.c.agent_id.is_(None), conversations.c.ended_at.is_(None))
        .order_by(conversations.c.started_at)
    )
    for conversation_id, site_id, channel, started_at in waiting.all():
        if now - started_at > ABANDON_AFTER or happens(rng, GIVE_UP_PER_SECOND, step):
            await connection.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(ended_at=now)
            )
            continue
        if not happens(rng, ASSIGN_PER_SECOND, step):
            continue
        candidate = await _free_agent(
            connection, site_id, bots=channel == "chat" and rng.random() < 0.3
        )
        if candidate is None:
            continue
        agent_id, is_bot = candidate
        hung_up = channel == "call" and rng.random() < HUNG_UP_WHILE_RINGING
        await connection.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(agent_id=agent_id, ended_at=now if hung_up else None)
        )
        if hung_up or channel == "chat":  # a chat's first reply comes as the talk goes
            continue
        await connection.execute(
            insert(messages).values(
                conversation_id=conversation_id, sender="bot" if is_bot else "agent", sent_at=now
            )
        )


async def _free_agent(
    connection: AsyncConnection, site_id: int, bots: bool
) -> tuple[int, bool] | None:
    """The least loaded available agent (or bot) of the site with a free slot."""
    load = (
        select(conversations.c.agent_id, func.count().label("active"))
        .where(conversations.c.ended_at.is_(None), conversations.c.agent_id.is_not(None))
        .group_by(conversations.c.agent_id)
        .subquery()
    )
    active = func.coalesce(load.c.active, 0)
    row = (
        await connection.execute(
            select(agents.c.id, agents.c.is_bot)
            .join(
                agent_sites,
                and_(agent_sites.c.agent_id == agents.c.id, agent_sites.c.site_id == site_id),
            )
            .join(
                agent_sessions,
                and_(
                    agent_sessions.c.agent_id == agents.c.id,
                    agent_sessions.c.ended_at.is_(None),
                    agent_sessions.c.status == "available",
                ),
            )
            .outerjoin(load, load.c.agent_id == agents.c.id)
            .where(agents.c.is_bot == bots, active < agents.c.max_slots)
            .order_by(active, agents.c.id)
            .limit(1)
        )
    ).first()
    return None if row is None else (row.id, bool(row.is_bot))


async def talk(connection: AsyncConnection, now: datetime, step: float, rng: random.Random) -> None:
    """Replies, visitor messages and endings of the conversations in progress."""
    last = (
        select(messages.c.conversation_id, func.max(messages.c.id).label("message_id"))
        .join(
            conversations,
            and_(
                conversations.c.id == messages.c.conversation_id, conversations.c.ended_at.is_(None)
            ),
        )
        .group_by(messages.c.conversation_id)
        .subquery()
    )
    rows = await connection.execute(
        select(
            conversations.c.id,
            conversations.c.site_id,
            conversations.c.channel,
            agents.c.is_bot,
            messages.c.sender,
        )
        .join(agents, agents.c.id == conversations.c.agent_id)
        .outerjoin(last, last.c.conversation_id == conversations.c.id)
        .outerjoin(messages, messages.c.id == last.c.message_id)
        .where(conversations.c.ended_at.is_(None))
        .order_by(conversations.c.id)
    )
    for conversation_id, site_id, channel, is_bot, last_sender in rows.all():
        how = pace(conversation_id, bool(is_bot))
        awaiting = last_sender == "visitor"
        if happens(rng, 1 / how.duration_seconds, step) or (
            awaiting and happens(rng, LEAVES_UNANSWERED_PER_SECOND, step)
        ):
            await end(
                connection,
                now,
                rng,
                conversation_id=conversation_id,
                site_id=site_id,
                channel=channel,
            )
        elif awaiting and happens(rng, 1 / how.reply_seconds, step):
            sender = "bot" if is_bot else "agent"
            await connection.execute(
                insert(messages).values(conversation_id=conversation_id, sender=sender, sent_at=now)
            )
        elif last_sender != "visitor" and happens(rng, 1 / how.visitor_seconds, step):
            await connection.execute(
                insert(messages).values(
                    conversation_id=conversation_id, sender="visitor", sent_at=now
                )
            )


async def end(
    connection: AsyncConnection,
    now: datetime,
    rng: random.Random,
    *,
    conversation_id: int,
    site_id: int,
    channel: str,
) -> None:
    """End a conversation; some visitors rate it, some buy."""
    await connection.execute(
        update(conversations).where(conversations.c.id == conversation_id).values(ended_at=now)
    )
    if rng.random() < 0.4:
        for criterion in rng.sample(("welcome", "response_time", "quality"), rng.randint(1, 3)):
            await connection.execute(
                insert(satisfaction_ratings).values(
                    conversation_id=conversation_id,
                    criterion=criterion,
                    score=rng.choice(SCORES),
                    rated_at=now,
                )
            )
    if rng.random() < (0.25 if channel == "call" else 0.15):
        name = (
            await connection.execute(select(sites.c.name).where(sites.c.id == site_id))
        ).scalar_one()
        spec = next((spec for spec in SITES if spec.name == name), SITES[0])
        currency = spec.other_currency if rng.random() < 0.1 else spec.currency
        amount = (
            round(rng.uniform(1500, 40000)) if currency == "JPY" else round(rng.uniform(15, 400), 2)
        )
        await connection.execute(
            insert(transactions).values(
                conversation_id=conversation_id, amount=amount, currency=currency, created_at=now
            )
        )


STEPS = (change_statuses, arrive, assign, talk)


async def tick(engine: AsyncEngine, now: datetime, step: float, rng: random.Random) -> None:
    """Advance the contact centre by ``step`` seconds ending at ``now`` (naive UTC)."""
    async with engine.begin() as connection:
        for advance in STEPS:
            await advance(connection, now, step, rng)


async def reopen(engine: AsyncEngine, now: datetime) -> None:
    """Close what a previous run left open, so old conversations do not signal forever."""
    async with engine.begin() as connection:
        await connection.execute(
            update(agent_sessions).where(agent_sessions.c.ended_at.is_(None)).values(ended_at=now)
        )
        await connection.execute(
            update(conversations).where(conversations.c.ended_at.is_(None)).values(ended_at=now)
        )


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


async def prepare(
    engine: AsyncEngine, rng: random.Random, now: datetime, backfill: timedelta = BACKFILL
) -> None:
    """Create and seed the database and simulate the ``backfill`` before ``now``, so that the
    day has a history from the first scrape; or reopen the database a previous demo left."""
    await create_schema(engine)
    async with engine.begin() as connection:
        fresh = await seed(connection)
    if not fresh:
        await reopen(engine, now)
        return
    moment = now - backfill
    while moment < now:
        moment += timedelta(seconds=BACKFILL_STEP_SECONDS)
        await tick(engine, moment, BACKFILL_STEP_SECONDS, rng)


async def run(engine: AsyncEngine, rng: random.Random) -> None:
    """Tick forever in real time; a failing tick is logged and the next one tried."""
    while True:
        await asyncio.sleep(TICK_SECONDS)
        try:
            await tick(engine, _utc_now(), TICK_SECONDS, rng)
        except Exception as error:
            log.warning("demo simulator tick failed: %s", str(error).splitlines()[0])


def simulation(url: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context that runs the simulator on ``url`` while the app runs."""

    async def context(_app: web.Application) -> AsyncIterator[None]:
        engine = create_engine(url, read_only=False, pool_size=1)
        rng = random.Random()
        log.info("demo: preparing the simulated contact centre in %s", redact(url))
        await prepare(engine, rng, _utc_now())
        task = asyncio.create_task(run(engine, rng))
        log.info("demo: simulator running")
        yield
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await engine.dispose()

    return context
