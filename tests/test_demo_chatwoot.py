"""The Chatwoot demo on real PostgreSQL and Redis: it creates Chatwoot's tables, seeds them and
keeps them living, and what it writes holds together as Chatwoot's own rows do.

Each check is a query for the rows that break one rule, expected to find none; the figures the
exporter reads from these rows are the end-to-end tests' business.
"""

import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Row, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from exporter.database import create_engine
from exporter.demo import chatwoot_simulation
from exporter.demo.chatwoot import (
    ACCOUNTS,
    AGENTS,
    AVAILABILITY,
    PRESENCE_STATUS,
    Centre,
    Presence,
    chatwoot_ddl,
    chatwoot_tables,
    prepare,
    tick,
)
from tests.chatwoot import Presence as PresenceKeys
from tests.conftest import server_url

pytest_plugins = ("tests.chatwoot",)

DATABASE = "chat_demo_chatwoot_test"
START = datetime(2026, 11, 24, 14, 0)
TICKS = 120

# Rows that break a rule of Chatwoot's, one query per rule; each must find none.
RULES = {
    "a member without account_users in the inbox's account": """
        SELECT m.id FROM inbox_members m JOIN inboxes i ON i.id = m.inbox_id
        LEFT JOIN account_users au ON au.account_id = i.account_id AND au.user_id = m.user_id
        WHERE au.id IS NULL""",
    "a status other than open, resolved or pending (the bot's inbox only)": """
        SELECT c.id FROM conversations c JOIN inboxes i ON i.id = c.inbox_id
        WHERE c.status NOT IN (0, 1, 2) OR (c.status = 2 AND i.name <> 'Website FR')""",
    "an assignee who is not a member of the inbox": """
        SELECT c.id FROM conversations c
        LEFT JOIN inbox_members m ON m.inbox_id = c.inbox_id AND m.user_id = c.assignee_id
        WHERE c.assignee_id IS NOT NULL AND m.id IS NULL""",
    "an agent with more open conversations in an inbox than its limit": """
        SELECT c.inbox_id, c.assignee_id FROM conversations c
        JOIN inboxes i ON i.id = c.inbox_id
        JOIN account_users au ON au.account_id = i.account_id AND au.user_id = c.assignee_id
        LEFT JOIN inbox_capacity_limits l ON l.inbox_id = i.id
          AND l.agent_capacity_policy_id = au.agent_capacity_policy_id
        WHERE c.status = 0
        GROUP BY c.inbox_id, c.assignee_id, l.conversation_limit, i.auto_assignment_config
        HAVING count(*) > COALESCE(l.conversation_limit,
          CAST(i.auto_assignment_config ->> 'max_assignment_limit' AS integer), 3)""",
    "a conversation in another account than its inbox, or a message in another than its "
    "conversation": """
        SELECT c.id FROM conversations c JOIN inboxes i ON i.id = c.inbox_id
        WHERE c.account_id <> i.account_id
        UNION ALL SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE (m.account_id, m.inbox_id) <> (c.account_id, c.inbox_id)""",
    "display ids that are not 1, 2, 3… in each account": """
        SELECT account_id FROM conversations GROUP BY account_id
        HAVING count(DISTINCT display_id) <> count(*) OR max(display_id) <> count(*)""",
    "waiting_since on a resolved conversation, or not the time of a contact's message "
    "that no agent has answered": """
        SELECT c.id FROM conversations c WHERE c.waiting_since IS NOT NULL AND (c.status = 1
          OR NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                         AND m.message_type = 0 AND m.created_at = c.waiting_since)
          OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                     AND m.sender_type = 'User' AND m.created_at >= c.waiting_since))""",
    "an open assigned conversation without waiting_since whose last message is the contact's": """
        SELECT c.id FROM conversations c
        WHERE c.status = 0 AND c.assignee_id IS NOT NULL AND c.waiting_since IS NULL
          AND (SELECT m.sender_type FROM messages m WHERE m.conversation_id = c.id
               AND m.message_type IN (0, 1) ORDER BY m.id DESC LIMIT 1) <> 'User'""",
    "first_reply_created_at that is not the first agent's reply": """
        SELECT c.id FROM conversations c
        WHERE c.first_reply_created_at IS DISTINCT FROM (SELECT min(m.created_at) FROM messages m
              WHERE m.conversation_id = c.id AND m.sender_type = 'User')""",
    "a resolved conversation without exactly one conversation_resolved event worth "
    "updated_at - created_at, for its assignee, or such an event before resolution": """
        SELECT c.id FROM conversations c
        LEFT JOIN reporting_events e ON e.conversation_id = c.id
          AND e.name = 'conversation_resolved'
        GROUP BY c.id HAVING count(e.id) <> CASE WHEN c.status = 1 THEN 1 ELSE 0 END
          OR bool_or(e.value <> EXTRACT(EPOCH FROM c.updated_at - c.created_at)
                     OR e.created_at <> c.updated_at
                     OR e.user_id IS DISTINCT FROM c.assignee_id) FILTER (WHERE e.id IS NOT NULL)""",
    "a CSAT answer that is not for the survey message of a resolved conversation of an "
    "inbox with surveys, for its assignee": """
        SELECT r.id FROM csat_survey_responses r
        JOIN conversations c ON c.id = r.conversation_id JOIN inboxes i ON i.id = c.inbox_id
        LEFT JOIN messages m ON m.id = r.message_id AND m.conversation_id = c.id
          AND m.message_type = 3 AND m.content_type = 9
        WHERE m.id IS NULL OR c.status <> 1 OR NOT i.csat_survey_enabled
          OR r.assigned_agent_id IS DISTINCT FROM c.assignee_id OR r.rating NOT BETWEEN 1 AND 5
          OR r.contact_id IS DISTINCT FROM c.contact_id""",
}


def _on(server: str, database: str) -> str:
    return make_url(server).set(database=database).render_as_string(hide_password=False)


@pytest.fixture
async def demo_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database of this test's own, dropped afterwards."""
    server = server_url("postgresql")
    admin = await asyncpg.connect(_on(server, "postgres"))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        await admin.execute(f"CREATE DATABASE {DATABASE}")
        yield _on(server, DATABASE)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        await admin.close()


@pytest.fixture
async def engine(demo_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(demo_url, read_only=False, pool_size=1)
    yield engine
    await engine.dispose()


async def _rows(connection: AsyncConnection, sql: str) -> Sequence[Row[Any]]:
    return (await connection.execute(text(sql))).all()


async def _broken_rules(engine: AsyncEngine) -> dict[str, Sequence[Row[Any]]]:
    async with engine.connect() as connection:
        found = {rule: await _rows(connection, sql) for rule, sql in RULES.items()}
    return {rule: rows for rule, rows in found.items() if rows}


async def _count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as connection:
        count: int = (await connection.execute(text(sql))).scalar_one()
    return count


async def test_the_demo_creates_seeds_and_keeps_a_consistent_chatwoot_living(
    engine: AsyncEngine, presence: PresenceKeys
) -> None:
    centre = Centre(engine, random.Random(2026), Presence(presence.client, presence.prefix))
    await prepare(centre, START, backfill=timedelta(minutes=10))
    before = await _count(engine, "SELECT count(*) FROM conversations")
    resolved_before = await _count(engine, "SELECT count(*) FROM conversations WHERE status = 1")
    moment = START
    for _ in range(TICKS):
        moment += timedelta(seconds=1)
        await tick(centre, moment, 1.0)

    async with engine.connect() as connection:
        tables = await _rows(
            connection,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        )
        accounts = await _rows(connection, "SELECT id, name FROM accounts ORDER BY id")
        inboxes = await _rows(
            connection,
            "SELECT name, timezone, channel_type, csat_survey_enabled FROM inboxes ORDER BY id",
        )
        users = await _rows(connection, "SELECT name FROM users ORDER BY id")
        limits = await _rows(
            connection,
            "SELECT i.name AS inbox, l.conversation_limit, count(au.id) AS agents "
            "FROM inbox_capacity_limits l JOIN inboxes i ON i.id = l.inbox_id "
            "JOIN account_users au ON au.agent_capacity_policy_id = l.agent_capacity_policy_id "
            "GROUP BY i.name, l.conversation_limit ORDER BY i.name",
        )
        availability = {
            (row.account_id, row.user_id): row.availability
            for row in await _rows(
                connection, "SELECT account_id, user_id, availability FROM account_users"
            )
        }
    assert {row.table_name for row in tables} == set(chatwoot_tables(chatwoot_ddl()))
    assert [row.name for row in accounts] == list(ACCOUNTS)
    assert [tuple(row) for row in inboxes] == [
        ("Website FR", "Europe/Paris", "Channel::WebWidget", True),
        ("Hotline NY", "America/New_York", "Channel::Voice", False),
        ("Chat Tokyo", "Asia/Tokyo", "Channel::WebWidget", True),
    ]
    assert [row.name for row in users] == [name for name, *_ in AGENTS]
    assert [tuple(row) for row in limits] == [("Chat Tokyo", 4, 2), ("Hotline NY", 2, 2)]

    # The installation lived: conversations arrived and were resolved, rated, some by the bot.
    assert await _count(engine, "SELECT count(*) FROM conversations") > before
    assert await _count(engine, "SELECT count(*) FROM conversations WHERE status = 1") > (
        resolved_before
    )
    for name in ("conversation_bot_resolved", "conversation_bot_handoff"):
        assert await _count(engine, f"SELECT count(*) FROM reporting_events WHERE name = '{name}'")
    assert await _count(engine, "SELECT count(*) FROM csat_survey_responses")
    # Some were answered by an agent, some abandoned: resolved with no reply of an agent or bot.
    assert await _count(engine, "SELECT count(*) FROM conversations "
                        "WHERE first_reply_created_at IS NOT NULL")  # fmt: skip
    assert await _count(engine, "SELECT count(*) FROM conversations c WHERE c.status = 1 "
                        "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id "
                        "AND m.message_type = 1)")  # fmt: skip
    assert await _count(engine, "SELECT count(*) FROM conversations WHERE waiting_since IS NULL "
                        "AND status = 0 AND assignee_id IS NOT NULL")  # fmt: skip
    assert await _broken_rules(engine) == {}

    # Each agent's state, as Chatwoot stores it: availability in the database, and in Redis
    # a heartbeat at the last tick and a status for those connected.
    states = centre.states
    assert set(states) == set(availability)
    assert {"available", "busy", None} <= set(states.values())
    assert availability == {key: AVAILABILITY[state] for key, state in states.items()}
    beat = int(moment.replace(tzinfo=UTC).timestamp())
    for account in (row.id for row in accounts):
        fresh = await presence.client.zrangebyscore(presence.presence_key(account), beat, "+inf")
        statuses = await presence.client.hgetall(presence.status_key(account))
        connected = {
            str(user): PRESENCE_STATUS[state]
            for (at, user), state in states.items()
            if at == account and state is not None
        }
        assert set(fresh) == set(connected)  # the others' heartbeats are older
        assert {user: statuses[user] for user in connected} == connected
    assert await presence.keys() == sorted(
        key
        for account in (row.id for row in accounts)
        for key in (presence.presence_key(account), presence.status_key(account))
    )


async def test_a_restarted_demo_resolves_what_was_left_and_starts_disconnected(
    engine: AsyncEngine,
) -> None:
    await prepare(Centre(engine, random.Random(1)), START, backfill=timedelta(minutes=10))
    in_progress = "SELECT count(*) FROM conversations WHERE status IN (0, 2)"
    assert await _count(engine, in_progress)
    conversations = await _count(engine, "SELECT count(*) FROM conversations")

    await prepare(Centre(engine, random.Random(1)), START + timedelta(hours=3))

    assert await _count(engine, "SELECT count(*) FROM accounts") == len(ACCOUNTS)
    assert await _count(engine, "SELECT count(*) FROM conversations") == conversations
    assert await _count(engine, in_progress) == 0
    assert await _count(engine, "SELECT count(*) FROM account_users WHERE availability <> 1") == 0
    assert await _broken_rules(engine) == {}


def test_the_chatwoot_demo_needs_postgresql() -> None:
    with pytest.raises(ValueError, match="needs a PostgreSQL database"):
        chatwoot_simulation("sqlite:///chat-demo.db", None, "alfred:")
