"""The reference schema: the data contract the reference source reads (see docs/schema.md).

Declared once with SQLAlchemy Core so that ``init-db``, the demo, the tests and the benchmark
create exactly the same tables and indexes on SQLite, PostgreSQL and MariaDB. Enumerated
columns (status, channel, sender, criterion, metric) carry no CHECK constraint on purpose:
platforms add values over time, and the exporter handles unknown ones as docs/metrics.md says.
"""

from sqlalchemy import (
    CHAR,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    false,
    inspect,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateColumn

# Naive UTC timestamps; MariaDB's DATETIME would otherwise drop the microseconds.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


metadata = MetaData()

sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False, server_default=text("'UTC'")),
    Column("max_handling_seconds", Integer),
    Column("max_response_seconds", Integer),
)

agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("is_bot", Boolean, nullable=False, server_default=false()),
    Column("max_slots", Integer, nullable=False, server_default=text("3")),
)

agent_sites = Table(
    "agent_sites",
    metadata,
    Column("agent_id", ForeignKey("agents.id"), primary_key=True),
    Column("site_id", ForeignKey("sites.id"), primary_key=True),
    Index("ix_agent_sites_site", "site_id"),
)

agent_sessions = Table(
    "agent_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", ForeignKey("agents.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("ended_at", Timestamp),
    Column("reason", String(50)),  # why this status: break, lunch, training… (optional)
    # Sessions that overlap today (presence), and each agent's latest open one (status).
    Index("ix_agent_sessions_ended", "ended_at"),
    Index("ix_agent_sessions_agent_open", "agent_id", "ended_at", "started_at"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("agent_id", ForeignKey("agents.id")),
    Column("channel", String(10), nullable=False, server_default=text("'chat'")),
    Column("started_at", Timestamp, nullable=False),
    Column("ended_at", Timestamp),
    # Today's conversations of a site, read from the index alone (it covers every column
    # the queries need), and the ones still open.
    Index(
        "ix_conversations_site_started",
        "site_id",
        "started_at",
        "agent_id",
        "ended_at",
        postgresql_include=["id"],
    ),
    Index("ix_conversations_ended", "ended_at"),
    Index("ix_conversations_agent", "agent_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", ForeignKey("conversations.id"), nullable=False),
    Column("sender", String(10), nullable=False),
    Column("sent_at", Timestamp, nullable=False),
    # The response-time signal reads the messages of open conversations in time order.
    Index("ix_messages_conversation_sent", "conversation_id", "sent_at"),
    # First responses: the first of each recent conversation's agent messages, as the index
    # returns them (docs/performance.md, "Service level", "Planned for the rows they read").
    Index("ix_messages_sender_conversation", "sender", "conversation_id", "sent_at"),
)

satisfaction_ratings = Table(
    "satisfaction_ratings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", ForeignKey("conversations.id"), nullable=False),
    Column("criterion", String(20), nullable=False),
    Column("score", Integer, nullable=False),
    Column("rated_at", Timestamp, nullable=False),
    CheckConstraint("score BETWEEN 1 AND 5"),
    # Today's ratings in conversation order, from the index alone on PostgreSQL, to merge
    # with today's conversations read in id order.
    Index(
        "ix_satisfaction_ratings_conversation",
        "conversation_id",
        postgresql_include=["criterion", "score"],
    ),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", ForeignKey("conversations.id"), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # Likewise for today's sales.
    Index(
        "ix_transactions_conversation",
        "conversation_id",
        postgresql_include=["currency", "amount"],
    ),
)

objectives = Table(
    "objectives",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("site_id", ForeignKey("sites.id")),
    Column("agent_id", ForeignKey("agents.id")),
    Column("metric", String(30), nullable=False),
    Column("target", Numeric(14, 4), nullable=False),
    Column("currency", CHAR(3)),
)


LATER = frozenset({("agent_sessions", "reason")})
"""Optional columns added after the first release: the reference source reads a database
without them, and ``create_schema`` adds them to an existing table."""

STATISTICS = "conversations_site_agent"
"""PostgreSQL statistics on the pairs of (site, agent) that conversations hold: taken as
independent, many sites times many agents made far more possible pairs than a day has
(each agent works on a few sites), and the planner sorted today's conversations to group
them by pair instead of hashing the few groups. ANALYZE fills them."""


async def create_schema(engine: AsyncEngine) -> None:
    """Create the tables, the optional columns (``LATER``), the indexes and the statistics
    that do not exist yet; never changes or drops anything that exists."""
    async with engine.begin() as connection:
        await connection.run_sync(_complete)


def create_statistics(connection: Connection) -> None:
    """``STATISTICS``, on PostgreSQL, unless they exist."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (ndistinct) "
            "ON site_id, agent_id FROM conversations"
        )


def _complete(connection: Connection) -> None:
    existing = inspect(connection)
    tables = [table for table in metadata.sorted_tables if existing.has_table(table.name)]
    present = {table.name: existing.get_columns(table.name) for table in tables}
    indexed = {table.name: existing.get_indexes(table.name) for table in tables}
    metadata.create_all(connection, checkfirst=True)
    for table in tables:
        columns = {column["name"] for column in present[table.name]}
        for name in sorted(name for owner, name in LATER if owner == table.name):
            if name not in columns:
                column = CreateColumn(table.c[name]).compile(dialect=connection.dialect)
                connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column}")
        names = {index["name"] for index in indexed[table.name]}
        for index in table.indexes:
            if index.name not in names:
                index.create(connection)
    create_statistics(connection)
