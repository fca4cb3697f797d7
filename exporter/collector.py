"""Metric families of one scrape, built fresh from one collection outcome.

Nothing here is global or mutable: every scrape turns an immutable snapshot into new gauge
families, so an agent who logs off simply stops appearing. The tables below are the single
list of published metrics; docs/metrics.md documents each and a test holds the two together.
``exposition`` encodes the families for the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from typing import Any, Generic, Literal, TypeAlias, TypeVar

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

Samples = Iterable[tuple[tuple[str, ...], float]]
T = TypeVar("T")


class Documented(Enum):
    """Label values documented by the snapshot rather than fixed here."""

    CRITERIA = "the satisfaction criteria of the snapshot's source"


@dataclass(frozen=True, slots=True)
class Keyed(Generic[T]):
    """Samples of one label of the family's own whose values are the keys of a mapping: the
    documented values always, a missing one at 0, then any other key the data holds, sorted;
    no sample at all when ``values`` gives None. ``documented`` is a fixed list, or the
    snapshot's criteria; ``read`` turns a mapping's value (or ``missing``) into the sample's
    value."""

    values: Callable[[T], Mapping[str, Any] | None]
    documented: Sequence[str] | Literal[Documented.CRITERIA]
    read: Callable[[Any], float] | None = None
    missing: Any = 0


Sampler: TypeAlias = "attrgetter[Any] | Keyed[T] | Callable[[T, Snapshot], Samples]"
"""A family's samples of one subject. Hundreds of thousands of samples are read here, so the
common shapes are read for every subject by C code: an ``attrgetter`` of the attribute
holding the one value (no sample when None), or a ``Keyed`` mapping; otherwise a function
gives (label values, value) pairs."""


@dataclass(frozen=True, slots=True)
class Spec:
    """Name, HELP text and label names of one published gauge, and the capability of the
    source it needs (``exporter.snapshot``), if any."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    needs: str | None = None


def _label_values(present: Iterable[str], documented: Sequence[str]) -> Sequence[str]:
    """The documented label values, always, then any other value the data holds."""
    other = [value for value in present if value not in documented]
    return (*documented, *sorted(other)) if other else documented


def _ratings_by_bucket(ratings: Mapping[str, Ratings], criteria: Sequence[str]) -> Samples:
    return [
        ((criterion, rating), getattr(ratings.get(criterion, Ratings()), rating))
        for criterion in _label_values(ratings, criteria)
        for rating in RATINGS
    ]


SITE_METRICS: tuple[tuple[Spec, Sampler[Site]], ...] = (
    (
        Spec(
            "chat_agents", "Connected agents assigned to the site, by current status.", ("status",)
        ),
        Keyed(attrgetter("agents"), STATUSES),
    ),
    (
        Spec(
            "chat_conversations_active",
            "Conversations in progress with an agent or bot on the site, by channel.",
            ("channel",),
        ),
        Keyed(attrgetter("active"), CHANNELS),
    ),
    (
        Spec(
            "chat_conversations_waiting",
            "Visitors waiting in the queue (no agent yet, not ended), by channel.",
            ("channel",),
        ),
        Keyed(attrgetter("waiting"), CHANNELS),
    ),
    (
        Spec(
            "chat_conversations_signaled",
            "Conversations in progress whose signal is triggered, by signal.",
            ("signal",),
        ),
        Keyed(attrgetter("signaled"), SIGNALS),
    ),
    (
        Spec(
            "chat_signal_threshold_seconds",
            "Threshold beyond which a conversation in progress triggers the signal.",
            ("signal",),
        ),
        Keyed(attrgetter("thresholds"), SIGNALS),
    ),
    (
        Spec(
            "chat_slots",
            "Conversation slots of the available agents and bots assigned to the site.",
            ("kind",),
        ),
        Keyed(attrgetter("slots"), SLOT_KINDS),
    ),
    (
        Spec(
            "chat_slots_available",
            "Free conversation slots of the available agents and bots assigned to the site.",
            ("kind",),
        ),
        Keyed(attrgetter("slots_available"), SLOT_KINDS),
    ),
    (
        Spec("chat_conversations_today", "Conversations started on the site today (site time)."),
        attrgetter("day.conversations"),
    ),
    (
        Spec("chat_conversations_ended_today", "Conversations started today that have ended."),
        attrgetter("day.ended"),
    ),
    (
        Spec(
            "chat_handling_time_seconds_today",
            "Total duration of the conversations started today that have ended.",
        ),
        attrgetter("day.handling_seconds"),
    ),
    (
        Spec(
            "chat_transactions_today",
            "Transactions of the conversations started today.",
            needs=SALES,
        ),
        attrgetter("day.transactions"),
    ),
    (
        Spec(
            "chat_turnover_today",
            "Sum of the transaction amounts of the conversations started today, by currency.",
            ("currency",),
            needs=SALES,
        ),
        Keyed(attrgetter("day.turnover"), ()),
    ),
    (
        Spec(
            "chat_conversations_converted_today",
            "Conversations started today with at least one transaction.",
            needs=SALES,
        ),
        attrgetter("day.converted"),
    ),
    (
        Spec(
            "chat_satisfaction_score_today",
            "Sum of the satisfaction scores given to conversations started today, by criterion.",
            ("criterion",),
        ),
        Keyed(attrgetter("day.satisfaction"), Documented.CRITERIA, attrgetter("score"), Ratings()),
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
        attrgetter("day.answered"),
    ),
    (
        Spec(
            "chat_first_response_seconds_today",
            "Sum over today's answered conversations of the wait for their first response.",
        ),
        attrgetter("day.first_response_seconds"),
    ),
    (
        Spec(
            "chat_conversations_answered_in_target_today",
            "Conversations started today first answered within the service-level target.",
        ),
        attrgetter("day.answered_in_target"),
    ),
    (
        Spec(
            "chat_conversations_abandoned_today",
            "Conversations started today that ended with no reply from any agent or bot.",
        ),
        attrgetter("day.abandoned"),
    ),
    (
        Spec(
            "chat_service_level_target_seconds",
            "Wait for a first response within which a conversation is answered in target.",
        ),
        attrgetter("service_level_seconds"),
    ),
    (
        Spec(
            "chat_oldest_waiting_seconds",
            "How long the longest-waiting visitor in the queue has waited (0 if none).",
        ),
        attrgetter("oldest_waiting_seconds"),
    ),
)

AGENT_METRICS: tuple[tuple[Spec, Sampler[Agent]], ...] = (
    (
        Spec(
            "chat_agent_status",
            "Current status of a connected agent: 1 for its status, 0 for the others.",
            ("status",),
        ),
        Keyed(lambda a: {a.status: 1} if a.status else None, STATUSES),
    ),
    (
        Spec(
            "chat_agent_presence_seconds_today",
            "Time the agent has been connected today.",
            needs=PRESENCE,
        ),
        attrgetter("presence_seconds"),
    ),
    (
        Spec(
            "chat_agent_status_seconds_today",
            "Time the agent has spent in each status today.",
            ("status",),
            needs=PRESENCE,
        ),
        Keyed(attrgetter("status_seconds"), STATUSES),
    ),
    (
        Spec(
            "chat_agent_status_since_timestamp_seconds",
            "Unix time at which the connected agent's current status started.",
            needs=PRESENCE,
        ),
        attrgetter("status_since"),
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
        attrgetter("day.conversations"),
    ),
    (
        Spec(
            "chat_agent_conversations_ended_today",
            "Conversations of the agent started on the site today that have ended.",
        ),
        attrgetter("day.ended"),
    ),
    (
        Spec(
            "chat_agent_handling_time_seconds_today",
            "Total duration of the agent's ended conversations started on the site today.",
        ),
        attrgetter("day.handling_seconds"),
    ),
    (
        Spec(
            "chat_agent_transactions_today",
            "Transactions of the agent's conversations started on the site today.",
            needs=SALES,
        ),
        attrgetter("day.transactions"),
    ),
    (
        Spec(
            "chat_agent_turnover_today",
            "Transaction amounts of the agent's conversations started on the site today.",
            ("currency",),
            needs=SALES,
        ),
        Keyed(attrgetter("day.turnover"), ()),
    ),
    (
        Spec(
            "chat_agent_conversations_converted_today",
            "The agent's conversations started on the site today with a transaction.",
            needs=SALES,
        ),
        attrgetter("day.converted"),
    ),
    (
        Spec(
            "chat_agent_satisfaction_score_today",
            "Sum of the scores given to the agent's conversations started today, by criterion.",
            ("criterion",),
        ),
        Keyed(attrgetter("day.satisfaction"), Documented.CRITERIA, attrgetter("score"), Ratings()),
    ),
    (
        Spec(
            "chat_agent_satisfaction_ratings_today",
            "Ratings given to the agent's conversations started today, by criterion.",
            ("criterion",),
        ),
        Keyed(attrgetter("day.satisfaction"), Documented.CRITERIA, attrgetter("rated"), Ratings()),
    ),
    (
        Spec(
            "chat_agent_conversations_answered_today",
            "The agent's conversations started today that have had a first response.",
        ),
        attrgetter("day.answered"),
    ),
    (
        Spec(
            "chat_agent_first_response_seconds_today",
            "Sum over the agent's answered conversations of today of the wait for an answer.",
        ),
        attrgetter("day.first_response_seconds"),
    ),
    (
        Spec(
            "chat_agent_conversations_answered_in_target_today",
            "The agent's conversations of today first answered within the service-level target.",
        ),
        attrgetter("day.answered_in_target"),
    ),
    (
        Spec(
            "chat_agent_conversations_abandoned_today",
            "The agent's conversations of today that ended with no reply from any agent or bot.",
        ),
        attrgetter("day.abandoned"),
    ),
    (
        Spec(
            "chat_agent_conversations_active",
            "Conversations in progress with the agent on this site.",
        ),
        attrgetter("active"),
    ),
    (
        Spec(
            "chat_agent_conversations_active_all_sites",
            "Conversations in progress with the agent on all sites.",
        ),
        attrgetter("active_all_sites"),
    ),
    (
        Spec(
            "chat_agent_signals",
            "The agent's conversations in progress on the site whose signal is triggered.",
            ("signal",),
        ),
        Keyed(attrgetter("signals"), SIGNALS),
    ),
    (
        Spec("chat_agent_slots", "Conversations the agent can hold at once (max_slots)."),
        attrgetter("slots"),
    ),
)

OBJECTIVE_METRICS: tuple[tuple[Spec, Sampler[Objective]], ...] = (
    (
        Spec("chat_objective_target", "Target of the objective."),
        attrgetter("target"),
    ),
    (
        Spec(
            "chat_objective_value",
            "Today's value of the objective's metric for its scope (absent when undefined).",
        ),
        attrgetter("value"),
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


def data_families(snapshot: Snapshot, help_suffix: str = "") -> Iterator[Family]:
    """The site, agent and objective families of a snapshot (no agent family when it holds
    no per-agent figures), one at a time: a family encoded can be freed before the next is
    built; ``help_suffix`` notes caching."""
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
    yield from _table(
        SITE_METRICS,
        [(_label_text(SITE_LABELS, (site.name,)), site) for site in sites],
        help_suffix,
        snapshot,
    )
    if snapshot.per_agent:
        yield from _table(AGENT_METRICS, agents, help_suffix, snapshot)
    yield from _table(OBJECTIVE_METRICS, objectives, help_suffix, snapshot)


def _table(
    table: Sequence[tuple[Spec, Sampler[T]]],
    subjects: Sequence[tuple[str, T]],
    help_suffix: str,
    snapshot: Snapshot,
) -> Iterator[Family]:
    prefixes = [prefix for prefix, _ in subjects]
    each = [subject for _, subject in subjects]
    for spec, sampler in table:
        if spec.needs is not None and spec.needs not in snapshot.capabilities:
            continue
        if isinstance(sampler, attrgetter):  # most families: one value per subject, if any
            values = map(sampler, each)
            rows = [
                (prefix, value)
                for prefix, value in zip(prefixes, values, strict=True)
                if value is not None
            ]
        elif isinstance(sampler, Keyed):
            rows = _keyed(sampler, _LabelText(spec.labels), prefixes, each, snapshot)
        else:
            more = _LabelText(spec.labels)
            rows = [
                (prefix + more[extra], value)
                for prefix, subject in subjects
                for extra, value in sampler(subject, snapshot)
            ]
        yield Family(spec.name, spec.help + help_suffix, rows)


def _keyed(
    keyed: Keyed[T],
    more: _LabelText,
    prefixes: Sequence[str],
    subjects: Sequence[T],
    snapshot: Snapshot,
) -> list[tuple[str, float]]:
    """A Keyed family's rows, in one comprehension over every subject's label values: the
    documented ones, shared by every subject that holds no other (nearly all)."""
    documented = tuple(
        snapshot.criteria if keyed.documented is Documented.CRITERIA else keyed.documented
    )
    known = frozenset(documented)
    shared = [(more[key,], key) for key in documented]
    labelled = [
        (
            prefix,
            values,
            shared
            if values.keys() <= known
            else [(more[key,], key) for key in _label_values(values, documented)],
        )
        for prefix, values in zip(prefixes, map(keyed.values, subjects), strict=True)
        if values is not None
    ]
    missing, read = keyed.missing, keyed.read
    if read is None:
        return [
            (prefix + text, values.get(key, missing))
            for prefix, values, pairs in labelled
            for text, key in pairs
        ]
    return [
        (prefix + text, read(values.get(key, missing)))
        for prefix, values, pairs in labelled
        for text, key in pairs
    ]


class _LabelText(dict[tuple[str, ...], str]):
    """``,name="value"…`` of a family's own labels by their values, each text built once:
    the values come from small sets, the samples number hundreds of thousands."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names

    def __missing__(self, values: tuple[str, ...]) -> str:
        text = self[values] = "".join(
            f',{name}="{escape(value)}"' for name, value in zip(self.names, values, strict=True)
        )
        return text


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
