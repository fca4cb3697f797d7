"""Chatwoot-shaped databases written row by row, and Redis presence keys of a test's own.

The Chatwoot counterpart of ``tests/builder.py``: a scenario names accounts, inboxes, users and
conversations with explicit timestamps (naive UTC, as Rails stores them) and ids given in order
of creation; ``write`` replaces the content of a database made from
``exporter/chatwoot_schema.sql``. The fixtures give such a database of the session's own (and
a second one without the columns and tables older Chatwoot releases lack), on the server of
CHAT_TEST_POSTGRESQL_URL, and a Redis key prefix on CHAT_TEST_REDIS_URL that is removed after
the test. Test modules load them with ``pytest_plugins = ("tests.chatwoot",)``; they import
this module first, so pytest could not rewrite its asserts anyway: PYTEST_DONT_REWRITE.
"""

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as redis
from sqlalchemy.engine import make_url

from exporter.settings import ChatwootSettings
from tests.builder import utc
from tests.conftest import server_url

DDL = Path(__file__).parent.parent / "exporter" / "chatwoot_schema.sql"
TABLES = tuple(re.findall(r"^CREATE TABLE (\w+)", DDL.read_text(), re.MULTILINE))

# What releases before the capacity policies (migration 20250806) and waiting_since
# (migration 20230620) lack: the exporter must do without.
OPTIONAL = (
    "ALTER TABLE conversations DROP COLUMN waiting_since",
    "ALTER TABLE account_users DROP COLUMN agent_capacity_policy_id",
    "DROP TABLE inbox_capacity_limits",
    "DROP TABLE agent_capacity_policies",
)

AVAILABILITY = {"online": 0, "offline": 1, "busy": 2}
STATUS = {"open": 0, "resolved": 1, "pending": 2, "snoozed": 3}
MESSAGE_TYPE = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}
WIDGET, VOICE = "Channel::WebWidget", "Channel::Voice"

# The Redis ACL rules the Chatwoot source needs, found by removing each until the exporter
# failed (chat_up 0, "no permissions to run the 'hmget' command"):
# - the two read commands the source sends (exporter/sources/chatwoot_presence.py): ZRANGEBYSCORE
#   on the presence sorted sets, HMGET on the status hashes; no SCAN/KEYS, no write;
# - nothing for the connection itself on database 0: AUTH needs no permission and the source
#   sends no CLIENT SETINFO (driver_info=None). Another database number needs +select too.
READ_ONLY_COMMANDS = ("+zrangebyscore", "+hmget")
# created_at/updated_at of the rows whose times do not matter.
LONG_AGO = utc("2026-01-01 00:00:00")


def epoch(text: str) -> float:
    """Unix time of a naive UTC ``YYYY-MM-DD HH:MM:SS``, as Chatwoot scores heartbeats."""
    return utc(text).replace(tzinfo=UTC).timestamp()


@dataclass
class Chatwoot:
    """Rows of the Chatwoot tables, by table name, with ids given in order of creation."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _display_ids: dict[int, int] = field(default_factory=dict)

    def _add(self, table: str, **values: Any) -> int:
        rows = self.rows.setdefault(table, [])
        row_id = len(rows) + 1
        rows.append({"id": row_id, "created_at": LONG_AGO, "updated_at": LONG_AGO, **values})
        return row_id

    def _row(self, table: str, row_id: int) -> dict[str, Any]:
        return self.rows[table][row_id - 1]

    def account(self, name: str = "Acme") -> int:
        return self._add("accounts", name=name)

    def inbox(
        self,
        account: int,
        name: str,
        timezone: str | None = "UTC",
        *,
        channel_type: str = WIDGET,
        auto_assignment_config: Mapping[str, Any] | None = None,
    ) -> int:
        return self._add(
            "inboxes",
            account_id=account,
            channel_id=len(self.rows.get("inboxes", [])) + 1,
            name=name,
            timezone=timezone,
            channel_type=channel_type,
            auto_assignment_config=json.dumps(auto_assignment_config or {}),
        )

    def user(self, name: str, display_name: str | None = None) -> int:
        user_id = len(self.rows.get("users", [])) + 1
        return self._add(
            "users", name=name, display_name=display_name, email=f"user{user_id}@example.com"
        )

    def account_user(
        self,
        account: int,
        user: int,
        availability: str = "online",
        *,
        policy: int | None = None,
        role: int = 0,
    ) -> int:
        return self._add(
            "account_users",
            account_id=account,
            user_id=user,
            availability=AVAILABILITY[availability],
            agent_capacity_policy_id=policy,
            role=role,
        )

    def inbox_member(self, inbox: int, user: int) -> int:
        return self._add("inbox_members", inbox_id=inbox, user_id=user)

    def agent(
        self,
        account: int,
        name: str,
        inboxes: Sequence[int] = (),
        availability: str = "online",
        *,
        display_name: str | None = None,
        policy: int | None = None,
    ) -> int:
        """A user with an ``account_users`` row in ``account`` and a membership per inbox."""
        user = self.user(name, display_name)
        self.account_user(account, user, availability, policy=policy)
        for inbox in inboxes:
            self.inbox_member(inbox, user)
        return user

    def conversation(
        self,
        inbox: int,
        assignee: int | None,
        created: str,
        status: str = "open",
        *,
        updated: str | None = None,
        waiting_since: str | None = None,
        first_reply: str | None = None,
    ) -> int:
        """A conversation; ``updated`` defaults to ``created``, ``waiting_since`` to NULL."""
        account = self._row("inboxes", inbox)["account_id"]
        display_id = self._display_ids.get(account, 0) + 1
        self._display_ids[account] = display_id
        return self._add(
            "conversations",
            account_id=account,
            inbox_id=inbox,
            status=STATUS[status],
            assignee_id=assignee,
            display_id=display_id,
            created_at=utc(created),
            updated_at=utc(updated or created),
            last_activity_at=utc(updated or created),
            waiting_since=utc(waiting_since) if waiting_since else None,
            first_reply_created_at=utc(first_reply) if first_reply else None,
        )

    def reporting_event(
        self, conversation: int, name: str, value: float, at: str, *, user: int | None = None
    ) -> int:
        row = self._row("conversations", conversation)
        return self._add(
            "reporting_events",
            name=name,
            value=value,
            value_in_business_hours=0.0,
            account_id=row["account_id"],
            inbox_id=row["inbox_id"],
            user_id=user if user is not None else row["assignee_id"],
            conversation_id=conversation,
            created_at=utc(at),
            updated_at=utc(at),
            event_start_time=row["created_at"],
            event_end_time=utc(at),
        )

    def resolved_event(self, conversation: int, value: float, at: str) -> int:
        """Chatwoot's ``conversation_resolved`` event: ``value`` seconds, recorded at ``at``."""
        return self.reporting_event(conversation, "conversation_resolved", value, at)

    def message(
        self,
        conversation: int,
        message_type: str,
        at: str,
        sender_type: str | None = None,
        sender_id: int | None = None,
        *,
        private: bool = False,
        content_type: int = 0,
        content: str = "Hello",
    ) -> int:
        """A message of ``conversation``; ``sender_type`` as Chatwoot's polymorphic sender
        (``Contact``, ``User``, ``AgentBot``, ``Captain::Assistant``), None for a system one."""
        row = self._row("conversations", conversation)
        return self._add(
            "messages",
            account_id=row["account_id"],
            inbox_id=row["inbox_id"],
            conversation_id=conversation,
            message_type=MESSAGE_TYPE[message_type],
            content_type=content_type,
            content=content,
            private=private,
            sender_type=sender_type,
            sender_id=sender_id,
            created_at=utc(at),
            updated_at=utc(at),
        )

    def csat(
        self, conversation: int, rating: int, at: str, *, assigned_agent: int | None = None
    ) -> int:
        """A CSAT answer, with the survey message it answers (template, input_csat).
        ``assigned_agent`` defaults to the conversation's assignee."""
        row = self._row("conversations", conversation)
        message = self.message(
            conversation, "template", at, content_type=9, content="Rate the conversation"
        )
        return self._add(
            "csat_survey_responses",
            account_id=row["account_id"],
            conversation_id=conversation,
            message_id=message,
            rating=rating,
            contact_id=1,
            assigned_agent_id=assigned_agent if assigned_agent is not None else row["assignee_id"],
            created_at=utc(at),
            updated_at=utc(at),
        )

    def capacity_policy(self, account: int, name: str = "Capacity") -> int:
        return self._add("agent_capacity_policies", account_id=account, name=name)

    def capacity_limit(self, policy: int, inbox: int, limit: int) -> int:
        return self._add(
            "inbox_capacity_limits",
            agent_capacity_policy_id=policy,
            inbox_id=inbox,
            conversation_limit=limit,
        )

    async def write(self, url: str) -> None:
        """Replace the content of the Chatwoot database at ``url`` with this scenario.

        A column or table the database lacks (an older release) may only be given NULL.
        """
        connection = await asyncpg.connect(_plain(url))
        try:
            columns: dict[str, set[str]] = {}
            for record in await connection.fetch(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public'"
            ):
                columns.setdefault(record["table_name"], set()).add(record["column_name"])
            async with connection.transaction():
                present = [table for table in TABLES if table in columns]
                await connection.execute(f"TRUNCATE {', '.join(present)} RESTART IDENTITY")
                for table, rows in self.rows.items():
                    await _insert(connection, table, rows, columns.get(table, set()))
        finally:
            await connection.close()


async def _insert(
    connection: Any, table: str, rows: list[dict[str, Any]], columns: set[str]
) -> None:
    names = sorted({name for row in rows for name in row})
    for name in names:
        if name not in columns:
            assert all(row.get(name) is None for row in rows), f"{table}.{name} is missing"
    names = [name for name in names if name in columns]
    placeholders = ", ".join(f"${index}" for index in range(1, len(names) + 1))
    await connection.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})",
        [[row.get(name) for name in names] for row in rows],
    )


def _plain(url: str, database: str | None = None) -> str:
    """``url`` as asyncpg reads it (no SQLAlchemy driver name), on ``database`` if given."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _create(server: str, database: str, after: Sequence[str] = ()) -> None:
    """Create ``database`` on the server with the Chatwoot tables, then run ``after``."""
    admin = await asyncpg.connect(_plain(server))
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    connection = await asyncpg.connect(_plain(server, database))
    try:
        async with connection.transaction():
            await connection.execute(f"{DDL.read_text()}; {'; '.join(after)}")
    finally:
        await connection.close()


async def _drop(server: str, database: str) -> None:
    admin = await asyncpg.connect(_plain(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


def _database(after: Sequence[str] = ()) -> Iterator[str]:
    """A database of this session's own (``chat_chatwoot_test_<random>``), so that sessions
    running at the same time on one server never write into each other's scenarios; it is
    dropped at the end of the session."""
    server = server_url("postgresql")
    database = f"chat_chatwoot_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create(server, database, after))
    try:
        yield _plain(server, database)
    finally:
        asyncio.run(_drop(server, database))


@pytest.fixture(scope="session")
def chatwoot_url() -> Iterator[str]:
    """A PostgreSQL database with the Chatwoot tables, made once per session."""
    yield from _database()


@pytest.fixture(scope="session")
def chatwoot_old_url() -> Iterator[str]:
    """Like ``chatwoot_url``, without the optional columns and tables (older releases)."""
    yield from _database(OPTIONAL)


class Presence:
    """Chatwoot's presence keys under a key prefix of this test's own (lib/online_status_tracker)."""

    def __init__(self, client: "redis.Redis", url: str, prefix: str) -> None:
        self.client = client
        self.url = url
        self.prefix = prefix

    def presence_key(self, account: int) -> str:
        return f"{self.prefix}ONLINE_PRESENCE::{account}::USERS"

    def status_key(self, account: int) -> str:
        return f"{self.prefix}ONLINE_STATUS::{account}"

    async def heartbeat(self, account: int, user: int, at: float | str) -> None:
        """The user's last heartbeat in the account: Unix time, or naive UTC text."""
        score = epoch(at) if isinstance(at, str) else at
        await self.client.zadd(self.presence_key(account), {str(user): score})

    async def status(self, account: int, user: int, status: str) -> None:
        await self.client.hset(self.status_key(account), str(user), status)

    def settings(self, **overrides: Any) -> ChatwootSettings:
        """Chatwoot settings reading this Redis under this prefix."""
        return ChatwootSettings(
            **{"redis_url": self.url, "redis_key_prefix": self.prefix, **overrides}
        )

    async def keys(self) -> list[str]:
        return sorted([key async for key in self.client.scan_iter(match=f"{self.prefix}*")])


def redis_url() -> str:
    """The URL of a real Redis server, or the same skip (failure under CI) as databases."""
    return server_url("redis")


@pytest.fixture
async def presence() -> AsyncIterator[Presence]:
    """Presence keys under ``cse-test-<uuid>:`` on CHAT_TEST_REDIS_URL, removed afterwards."""
    url = redis_url()
    client = redis.Redis.from_url(url, decode_responses=True)
    prefix = f"cse-test-{uuid.uuid4().hex}:"
    try:
        yield Presence(client, url, prefix)
    finally:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
        await client.aclose()
