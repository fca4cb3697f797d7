"""Metric families of one scrape, built fresh from one collection outcome.

Nothing here is global or mutable: every scrape turns an immutable snapshot into new gauge
families, so an agent who logs off simply stops appearing. The tables below are the single
list of published metrics; docs/metrics.md documents each and a test holds the two together.
``exposition`` encodes the families for the wire.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from exporter import __version__
from exporter.collection import Outcome
from exporter.snapshot import (
    CHANNELS,
    PRESENCE,
    RATINGS,
    SALES,
    SIGNALS,
    SLOT_KINDS,
    STATUSES,
    Agent,
    Objective,
    Ratings,
    Site,
    Snapshot,
)

Samples = Iterable[tuple[Sequence[str], float]]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Spec:
    """Name, HELP text and label names of one published gauge, and the capability of the
    source it needs (``exporter.snapshot``), if any."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    needs: str | None = None


def _label_values(present: Iterable[str], documented: Sequence[str]) -> tuple[str, ...]:
    """The documented label values, always, then any other value the data holds."""
    return (*documented, *sorted(set(present) - set(documented)))


def _keyed(values: Mapping[str, float], documented: Sequence[str]) -> Samples:
    return [((key,), values.get(key, 0)) for key in _label_values(values, documented)]


def _ratings_by_bucket(ratings: Mapping[str, Ratings], criteria: Sequence[str]) -> Samples:
    return [
        ((criterion, rating), getattr(ratings.get(criterion, Ratings()), rating))
        for criterion in _label_values(ratings, criteria)
        for rating in RATINGS
    ]


def _one(value: float) -> Samples:
    return [((), value)]


SITE_METRICS: tuple[tuple[Spec, Callable[[Site, Snapshot], Samples]], ...] = (
    (
        Spec(
            "chat_agents", "Connected agents assigned to the site, by current status.", ("status",)
        ),
        lambda s, _: _keyed(s.agents, STATUSES),
    ),
    (
        Spec(
            "chat_conversations_active",
            "Conversations in progress with an agent or bot on the site, by channel.",
            ("channel",),
        ),
        lambda s, _: _keyed(s.active, CHANNELS),
    ),
    (
        Spec(
            "chat_conversations_waiting",
            "Visitors waiting in the queue (no agent yet, not ended), by channel.",
            ("channel",),
        ),
        lambda s, _: _keyed(s.waiting, CHANNELS),
    ),
    (
        Spec(
            "chat_conversations_signaled",
            "Conversations in progress whose signal is triggered, by signal.",
            ("signal",),
        ),
        lambda s, _: _keyed(s.signaled, SIGNALS),
    ),
    (
        Spec(
            "chat_signal_threshold_seconds",
            "Threshold beyond which a conversation in progress triggers the signal.",
            ("signal",),
        ),
        lambda s, _: _keyed(s.thresholds, SIGNALS),
    ),
    (
        Spec(
            "chat_slots",
            "Conversation slots of the available agents and bots assigned to the site.",
            ("kind",),
        ),
        lambda s, _: _keyed(s.slots, SLOT_KINDS),
    ),
    (
        Spec(
            "chat_slots_available",
            "Free conversation slots of the available agents and bots assigned to the site.",
            ("kind",),
        ),
        lambda s, _: _keyed(s.slots_available, SLOT_KINDS),
    ),
    (
        Spec("chat_conversations_today", "Conversations started on the site today (site time)."),
        lambda s, _: _one(s.day.conversations),
    ),
    (
        Spec("chat_conversations_ended_today", "Conversations started today that have ended."),
        lambda s, _: _one(s.day.ended),
    ),
    (
        Spec(
            "chat_handling_time_seconds_today",
            "Total duration of the conversations started today that have ended.",
        ),
        lambda s, _: _one(s.day.handling_seconds),
    ),
    (
        Spec(
            "chat_transactions_today",
            "Transactions of the conversations started today.",
            needs=SALES,
        ),
        lambda s, _: _one(s.day.transactions),
    ),
    (
        Spec(
            "chat_turnover_today",
            "Sum of the transaction amounts of the conversations started today, by currency.",
            ("currency",),
            needs=SALES,
        ),
        lambda s, _: _keyed(s.day.turnover, ()),
    ),
    (
        Spec(
            "chat_conversations_converted_today",
            "Conversations started today with at least one transaction.",
            needs=SALES,
        ),
        lambda s, _: _one(s.day.converted),
    ),
    (
        Spec(
            "chat_satisfaction_score_today",
            "Sum of the satisfaction scores given to conversations started today, by criterion.",
            ("criterion",),
        ),
        lambda s, snap: _keyed({k: r.score for k, r in s.day.satisfaction.items()}, snap.criteria),
    ),
    (
        Spec(
            "chat_satisfaction_ratings_today",
            "Satisfaction ratings of conversations started today, by criterion and rating.",
            ("criterion", "rating"),
        ),
        lambda s, snap: _ratings_by_bucket(s.day.satisfaction, snap.criteria),
    ),
    (
        Spec(
            "chat_conversations_answered_today",
            "Conversations started today that have had a first response from a human agent.",
        ),
        lambda s, _: _one(s.day.answered),
    ),
    (
        Spec(
            "chat_first_response_seconds_today",
            "Sum over today's answered conversations of the wait for their first response.",
        ),
        lambda s, _: _one(s.day.first_response_seconds),
    ),
    (
        Spec(
            "chat_conversations_answered_in_target_today",
            "Conversations started today first answered within the service-level target.",
        ),
        lambda s, _: _one(s.day.answered_in_target),
    ),
    (
        Spec(
            "chat_conversations_abandoned_today",
            "Conversations started today that ended with no reply from any agent or bot.",
        ),
        lambda s, _: _one(s.day.abandoned),
    ),
    (
        Spec(
            "chat_service_level_target_seconds",
            "Wait for a first response within which a conversation is answered in target.",
        ),
        lambda s, _: _one(s.service_level_seconds),
    ),
    (
        Spec(
            "chat_oldest_waiting_seconds",
            "How long the longest-waiting visitor in the queue has waited (0 if none).",
        ),
        lambda s, _: _one(s.oldest_waiting_seconds),
    ),
)

AGENT_METRICS: tuple[tuple[Spec, Callable[[Agent, Snapshot], Samples]], ...] = (
    (
        Spec(
            "chat_agent_status",
            "Current status of a connected agent: 1 for its status, 0 for the others.",
            ("status",),
        ),
        lambda a, _: _keyed({a.status: 1}, STATUSES) if a.status else [],
    ),
    (
        Spec(
            "chat_agent_presence_seconds_today",
            "Time the agent has been connected today.",
            needs=PRESENCE,
        ),
        lambda a, _: _one(a.presence_seconds),
    ),
    (
        Spec(
            "chat_agent_status_seconds_today",
            "Time the agent has spent in each status today.",
            ("status",),
            needs=PRESENCE,
        ),
        lambda a, _: _keyed(a.status_seconds, STATUSES),
    ),
    (
        Spec(
            "chat_agent_status_since_timestamp_seconds",
            "Unix time at which the connected agent's current status started.",
            needs=PRESENCE,
        ),
        lambda a, _: _one(a.status_since) if a.status_since is not None else [],
    ),
    (
        Spec(
            "chat_agent_status_reason",
            "Reason given for the connected agent's current status (break, lunch…); always 1.",
            ("reason",),
            needs=PRESENCE,
        ),
        lambda a, _: [((a.reason,), 1)] if a.reason is not None else [],
    ),
    (
        Spec(
            "chat_agent_conversations_today",
            "Conversations of the agent started on the site today.",
        ),
        lambda a, _: _one(a.day.conversations),
    ),
    (
        Spec(
            "chat_agent_conversations_ended_today",
            "Conversations of the agent started on the site today that have ended.",
        ),
        lambda a, _: _one(a.day.ended),
    ),
    (
        Spec(
            "chat_agent_handling_time_seconds_today",
            "Total duration of the agent's ended conversations started on the site today.",
        ),
        lambda a, _: _one(a.day.handling_seconds),
    ),
    (
        Spec(
            "chat_agent_transactions_today",
            "Transactions of the agent's conversations started on the site today.",
            needs=SALES,
        ),
        lambda a, _: _one(a.day.transactions),
    ),
    (
        Spec(
            "chat_agent_turnover_today",
            "Transaction amounts of the agent's conversations started on the site today.",
            ("currency",),
            needs=SALES,
        ),
        lambda a, _: _keyed(a.day.turnover, ()),
    ),
    (
        Spec(
            "chat_agent_conversations_converted_today",
            "The agent's conversations started on the site today with a transaction.",
            needs=SALES,
        ),
        lambda a, _: _one(a.day.converted),
    ),
    (
        Spec(
            "chat_agent_satisfaction_score_today",
            "Sum of the scores given to the agent's conversations started today, by criterion.",
            ("criterion",),
        ),
        lambda a, snap: _keyed({k: r.score for k, r in a.day.satisfaction.items()}, snap.criteria),
    ),
    (
        Spec(
            "chat_agent_satisfaction_ratings_today",
            "Ratings given to the agent's conversations started today, by criterion.",
            ("criterion",),
        ),
        lambda a, snap: _keyed({k: r.count for k, r in a.day.satisfaction.items()}, snap.criteria),
    ),
    (
        Spec(
            "chat_agent_conversations_answered_today",
            "The agent's conversations started today that have had a first response.",
        ),
        lambda a, _: _one(a.day.answered),
    ),
    (
        Spec(
            "chat_agent_first_response_seconds_today",
            "Sum over the agent's answered conversations of today of the wait for an answer.",
        ),
        lambda a, _: _one(a.day.first_response_seconds),
    ),
    (
        Spec(
            "chat_agent_conversations_answered_in_target_today",
            "The agent's conversations of today first answered within the service-level target.",
        ),
        lambda a, _: _one(a.day.answered_in_target),
    ),
    (
        Spec(
            "chat_agent_conversations_abandoned_today",
            "The agent's conversations of today that ended with no reply from any agent or bot.",
        ),
        lambda a, _: _one(a.day.abandoned),
    ),
    (
        Spec(
            "chat_agent_conversations_active",
            "Conversations in progress with the agent on this site.",
        ),
        lambda a, _: _one(a.active),
    ),
    (
        Spec(
            "chat_agent_conversations_active_all_sites",
            "Conversations in progress with the agent on all sites.",
        ),
        lambda a, _: _one(a.active_all_sites),
    ),
    (
        Spec(
            "chat_agent_signals",
            "The agent's conversations in progress on the site whose signal is triggered.",
            ("signal",),
        ),
        lambda a, _: _keyed(a.signals, SIGNALS),
    ),
    (
        Spec("chat_agent_slots", "Conversations the agent can hold at once (max_slots)."),
        lambda a, _: _one(a.slots),
    ),
)

OBJECTIVE_METRICS: tuple[tuple[Spec, Callable[[Objective, Snapshot], Samples]], ...] = (
    (
        Spec("chat_objective_target", "Target of the objective."),
        lambda o, _: _one(o.target),
    ),
    (
        Spec(
            "chat_objective_value",
            "Today's value of the objective's metric for its scope (absent when undefined).",
        ),
        lambda o, _: _one(o.value) if o.value is not None else [],
    ),
)

HEALTH_METRICS = (
    Spec("chat_up", "1 if the last collection from the chat database succeeded, else 0."),
    Spec("chat_collect_duration_seconds", "Duration of the collection that produced this scrape."),
    Spec(
        "chat_last_success_timestamp_seconds",
        "Unix time of the last successful collection (0 if none yet).",
    ),
    Spec("chat_snapshot_age_seconds", "Age of the collection served by this scrape."),
    Spec("chat_exporter_build_info", "Version of the exporter; always 1.", ("version",)),
)

SITE_LABELS = ("site",)
AGENT_LABELS = ("site", "agent_id", "agent")
OBJECTIVE_LABELS = ("site", "objective", "metric", "agent_id", "agent")


@dataclass(frozen=True, slots=True)
class Family:
    """One gauge family, its samples' labels already in exposition syntax (``a="x",b="y"``).

    Label text is built once per site or agent and shared by all of its samples: with
    thousands of agents a scrape holds hundreds of thousands of samples.
    """

    name: str
    help: str
    samples: list[tuple[str, float]]


def escape(value: str) -> str:
    """A label value escaped for both exposition formats."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _label_text(names: Sequence[str], values: Sequence[str]) -> str:
    return ",".join(f'{name}="{escape(value)}"' for name, value in zip(names, values, strict=True))


def data_families(snapshot: Snapshot, help_suffix: str = "") -> list[Family]:
    """The site, agent and objective families of a snapshot (no agent family when it holds
    no per-agent figures); ``help_suffix`` notes caching."""
    sites = snapshot.sites
    agents = [
        (_label_text(AGENT_LABELS, (site.name, str(agent.agent_id), agent.name)), agent)
        for site in sites
        for agent in site.agent_figures
    ]
    objectives = [
        (
            _label_text(
                OBJECTIVE_LABELS,
                (
                    site.name,
                    objective.name,
                    objective.metric,
                    "" if objective.agent_id is None else str(objective.agent_id),
                    objective.agent,
                ),
            ),
            objective,
        )
        for site in sites
        for objective in site.objectives
    ]
    return [
        *_table(
            SITE_METRICS,
            [(_label_text(SITE_LABELS, (site.name,)), site) for site in sites],
            help_suffix,
            snapshot,
        ),
        *(_table(AGENT_METRICS, agents, help_suffix, snapshot) if snapshot.per_agent else ()),
        *_table(OBJECTIVE_METRICS, objectives, help_suffix, snapshot),
    ]


def _table(
    table: Sequence[tuple[Spec, Callable[[T, Snapshot], Samples]]],
    subjects: Sequence[tuple[str, T]],
    help_suffix: str,
    snapshot: Snapshot,
) -> Iterator[Family]:
    for spec, samples in table:
        if spec.needs is not None and spec.needs not in snapshot.capabilities:
            continue
        if spec.labels:
            rows = [
                (prefix + _more_labels(spec.labels, tuple(extra)), value)
                for prefix, subject in subjects
                for extra, value in samples(subject, snapshot)
            ]
        else:  # most families: one sample per subject, with its labels as they are
            rows = [
                (prefix, value)
                for prefix, subject in subjects
                for _, value in samples(subject, snapshot)
            ]
        yield Family(spec.name, spec.help + help_suffix, rows)


@lru_cache(maxsize=4096)
def _more_labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    """``,name="value"…`` for a family's own labels; their values come from small sets."""
    return "".join(f',{name}="{escape(value)}"' for name, value in zip(names, values, strict=True))


def health_families(outcome: Outcome, now: float) -> list[Family]:
    """The exporter's own gauges for a scrape at Unix time ``now``."""
    up, duration, last_success, age, build = HEALTH_METRICS
    values = (
        (up, 0.0 if outcome.snapshot is None else 1.0),
        (duration, outcome.duration_seconds),
        (last_success, outcome.last_success_at or 0.0),
        (age, max(0.0, now - outcome.finished_at)),
    )
    return [
        *(Family(spec.name, spec.help, [("", value)]) for spec, value in values),
        Family(build.name, build.help, [(_label_text(build.labels, (__version__,)), 1.0)]),
    ]
