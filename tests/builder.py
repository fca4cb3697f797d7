"""Small chat databases written row by row, and the metrics the exporter reads from them.

Tests describe a scenario with explicit timestamps and ids, write it into a real database,
collect through the exporter's own path (read-only engine, reference source, collector), and
compare the exposed samples with values computed by hand.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Table, delete, insert, text

from exporter.collection import Outcome
from exporter.collector import data_families, health_families
from exporter.database import create_engine, read_only
from exporter.exposition import encode
from exporter.schema import (
    agent_sessions,
    agent_sites,
    agents,
    conversations,
    create_schema,
    messages,
    metadata,
    objectives,
    satisfaction_ratings,
    sites,
    transactions,
)
from exporter.settings import Settings
from exporter.snapshot import Snapshot
from exporter.sources import SCHEMAS


def utc(text: str) -> datetime:
    """A naive UTC timestamp from ``YYYY-MM-DD HH:MM[:SS]``."""
    return datetime.fromisoformat(text)


def shift(text: str, seconds: int) -> str:
    """The timestamp ``seconds`` after (or before) ``text``, in the same notation."""
    return (utc(text) + timedelta(seconds=seconds)).isoformat(sep=" ")


@dataclass
class Scenario:
    """Rows of every table, with ids given in order of creation."""

    rows: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)

    def _add(self, table: Table, **values: Any) -> int:
        rows = self.rows.setdefault(table, [])
        row_id = len(rows) + 1
        rows.append({"id": row_id, **values} if "id" in table.c else values)
        return row_id

    def site(
        self,
        name: str,
        timezone: str = "UTC",
        *,
        max_handling: int | None = None,
        max_response: int | None = None,
    ) -> int:
        return self._add(
            sites,
            name=name,
            timezone=timezone,
            max_handling_seconds=max_handling,
            max_response_seconds=max_response,
        )

    def agent(
        self, name: str, sites: Sequence[int] = (), *, slots: int = 3, bot: bool = False
    ) -> int:
        agent_id = self._add(agents, name=name, is_bot=bot, max_slots=slots)
        for site_id in sites:
            self._add(agent_sites, agent_id=agent_id, site_id=site_id)
        return agent_id

    def session(
        self,
        agent: int,
        status: str,
        start: str,
        end: str | None = None,
        *,
        reason: str | None = None,
    ) -> int:
        return self._add(
            agent_sessions,
            agent_id=agent,
            status=status,
            started_at=utc(start),
            ended_at=utc(end) if end else None,
            reason=reason,
        )

    def conversation(
        self,
        site: int,
        agent: int | None,
        start: str,
        end: str | None = None,
        *,
        channel: str = "chat",
    ) -> int:
        return self._add(
            conversations,
            site_id=site,
            agent_id=agent,
            channel=channel,
            started_at=utc(start),
            ended_at=utc(end) if end else None,
        )

    def message(self, conversation: int, sender: str, at: str) -> int:
        return self._add(messages, conversation_id=conversation, sender=sender, sent_at=utc(at))

    def rating(self, conversation: int, criterion: str, score: int, at: str) -> int:
        return self._add(
            satisfaction_ratings,
            conversation_id=conversation,
            criterion=criterion,
            score=score,
            rated_at=utc(at),
        )

    def transaction(self, conversation: int, amount: str, currency: str, at: str) -> int:
        return self._add(
            transactions,
            conversation_id=conversation,
            amount=Decimal(amount),
            currency=currency,
            created_at=utc(at),
        )

    def objective(
        self,
        name: str,
        metric: str,
        target: float,
        *,
        site: int | None = None,
        agent: int | None = None,
        currency: str | None = None,
    ) -> int:
        return self._add(
            objectives,
            name=name,
            metric=metric,
            target=target,
            site_id=site,
            agent_id=agent,
            currency=currency,
        )

    async def write(self, url: str) -> None:
        """Replace the content of the database at ``url`` with this scenario."""
        engine = create_engine(url, read_only=False, pool_size=1)
        try:
            async with engine.begin() as connection:
                for table in reversed(metadata.sorted_tables):
                    await connection.execute(delete(table))
                for table in metadata.sorted_tables:
                    if self.rows.get(table):
                        await connection.execute(insert(table), self.rows[table])
        finally:
            await engine.dispose()


async def reset_schema(url: str) -> None:
    """Drop the reference tables at ``url`` and create them again from the current code."""
    engine = create_engine(url, read_only=False, pool_size=1)
    try:
        async with engine.begin() as connection:
            if engine.dialect.name == "mysql":
                await connection.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            await connection.run_sync(metadata.drop_all)
        await create_schema(engine)
    finally:
        await engine.dispose()


# The service figures of a site, and of an agent on it (issue 10's families).
SERVICE_SITE_FAMILIES = (
    "chat_conversations_answered_today",
    "chat_first_response_seconds_today",
    "chat_conversations_answered_in_target_today",
    "chat_conversations_abandoned_today",
)
SERVICE_AGENT_FAMILIES = (
    "chat_agent_conversations_answered_today",
    "chat_agent_first_response_seconds_today",
    "chat_agent_conversations_answered_in_target_today",
    "chat_agent_conversations_abandoned_today",
)

# What a scrape serves when there are no chat figures: the exporter's own health.
HEALTH_NAMES = {
    "chat_up",
    "chat_collect_duration_seconds",
    "chat_last_success_timestamp_seconds",
    "chat_snapshot_age_seconds",
    "chat_exporter_build_info",
}


class Metrics:
    """Samples of one scrape, as a Prometheus client parses them, looked up by name and labels."""

    def __init__(self, exposition: str) -> None:
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for metric in text_string_to_metric_families(exposition):
            for sample in metric.samples:
                key = (sample.name, frozenset(sample.labels.items()))
                assert key not in self.samples, f"duplicate sample {key}"
                self.samples[key] = sample.value

    @classmethod
    def of(cls, outcome: Outcome, now: float, help_suffix: str = "") -> "Metrics":
        """What the exporter serves for ``outcome`` in the text format."""
        snapshot = outcome.snapshot
        families = [
            *health_families(outcome, now),
            *(data_families(snapshot, help_suffix) if snapshot else []),
        ]
        return cls(encode(families, openmetrics=False).decode())

    def __call__(self, name: str, **labels: str) -> float:
        """The value of the one sample with exactly these labels (KeyError if absent)."""
        return self.samples[name, frozenset(labels.items())]

    def get(self, name: str, **labels: str) -> float | None:
        return self.samples.get((name, frozenset(labels.items())))

    def series(self, name: str, **matching: str) -> list[dict[str, str]]:
        """Label sets of the samples of ``name`` that carry the ``matching`` labels."""
        return [
            dict(labels)
            for sample_name, labels in self.samples
            if sample_name == name and set(matching.items()) <= labels
        ]

    def table(
        self, name: str, keys: Sequence[str], **matching: str
    ) -> dict[tuple[str, ...], float]:
        """Values of the matching samples of ``name``, keyed by the values of ``keys``."""
        return {
            tuple(labels[key] for key in keys): self(name, **labels)
            for labels in self.series(name, **matching)
        }

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


async def snapshot(
    url: str, now: str, settings: Settings | None = None, schema: str = "reference"
) -> Snapshot:
    """Collect from ``url`` at ``now`` (UTC) as the exporter does, with the ``schema``'s source."""
    source = SCHEMAS[schema](settings or Settings())
    engine = create_engine(url, pool_size=1)
    try:
        async with read_only(engine, statement_timeout=30) as connection:
            return await source.snapshot(connection, utc(now).replace(tzinfo=UTC))
    finally:
        await engine.dispose()


async def scrape(
    url: str, now: str, settings: Settings | None = None, schema: str = "reference"
) -> Metrics:
    """The samples a scrape at ``now`` would expose."""
    taken = await snapshot(url, now, settings, schema)
    finished = taken.taken_at.timestamp()
    return Metrics.of(Outcome(taken, None, finished, 0.0, finished), finished)
