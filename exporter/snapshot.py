"""One collection's figures as immutable values: what every source produces and the collector reads.

Mappings are keyed by label value (status, channel, currency, criterion, signal, slot kind) and
hold only what the database returned; the collector adds the documented label values at zero.
The values there are many of (ratings, days and agents: tens of thousands a scrape at the
largest benchmark size) are named tuples, which assembly builds from a row's values in C; a
frozen dataclass sets each field through a Python call. The others are dataclasses.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

STATUSES = ("available", "busy", "unavailable")
CHANNELS = ("chat", "call")
SIGNALS = ("handling_duration", "response_time")
SLOT_KINDS = ("agent", "bot")
CRITERIA = ("welcome", "response_time", "quality")
RATINGS = ("good", "average", "poor")

SALES = "sales"  # transactions, turnover, conversions
PRESENCE = "presence"  # the history of agents' sessions: presence, time in status, reasons
EVERY_CAPABILITY = frozenset({SALES, PRESENCE})


NOTHING: Mapping[str, Any] = MappingProxyType({})
"""The empty mapping that defaults share: immutable, so sharing it is safe."""


class Ratings(NamedTuple):
    """Satisfaction ratings of one criterion: the sum of scores and the count per bucket."""

    score: int = 0
    good: int = 0
    average: int = 0
    poor: int = 0

    @property
    def rated(self) -> int:
        """How many ratings: ``count`` is the tuple's own method."""
        return self.good + self.average + self.poor


DAY_SUMS = (
    "conversations",
    "ended",
    "handling_seconds",
    "converted",
    "transactions",
    "answered",
    "first_response_seconds",
    "answered_in_target",
    "abandoned",
)
"""Day's fields that sources read as sums (columns of the same names), in Day's order."""
RATING_SUMS = ("score", "good", "average", "poor")
"""Ratings' fields, in order, as sources name their columns."""


class Day(NamedTuple):
    """Figures derived from today's conversations of a site, or of one agent on a site.

    ``answered`` have a first response, ``first_response_seconds`` sums how long each took,
    ``answered_in_target`` came within the site's service-level target, and ``abandoned``
    ended with no reply from any agent or bot (docs/metrics.md, per schema).
    """

    conversations: int = 0
    ended: int = 0
    handling_seconds: float = 0.0
    converted: int = 0
    transactions: int = 0
    answered: int = 0
    first_response_seconds: float = 0.0
    answered_in_target: int = 0
    abandoned: int = 0
    turnover: Mapping[str, float] = NOTHING
    satisfaction: Mapping[str, Ratings] = NOTHING


class Agent(NamedTuple):
    """One agent on one site; ``status`` is None when the agent is not connected.

    ``status_seconds`` is today's time in each status, ``status_since`` the Unix time the
    current status started and ``reason`` its reason, where the schema records them.
    """

    agent_id: int
    name: str
    status: str | None
    presence_seconds: float
    status_seconds: Mapping[str, float]
    status_since: float | None
    reason: str | None
    day: Day
    active: int
    active_all_sites: int
    signals: Mapping[str, int]
    slots: int


@dataclass(frozen=True, slots=True)
class Objective:
    """An objective applied to one site (and agent); ``value`` is None when undefined today."""

    name: str
    metric: str
    agent_id: int | None
    agent: str
    target: float
    value: float | None


@dataclass(frozen=True, slots=True)
class Site:
    """Everything the exporter publishes about one site."""

    name: str
    thresholds: Mapping[str, float]
    service_level_seconds: float
    agents: Mapping[str, int]
    active: Mapping[str, int]
    waiting: Mapping[str, int]
    oldest_waiting_seconds: float
    signaled: Mapping[str, int]
    slots: Mapping[str, int]
    slots_available: Mapping[str, int]
    day: Day
    agent_figures: tuple[Agent, ...]
    objectives: tuple[Objective, ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The figures of all sites at one instant (``taken_at``, UTC).

    ``capabilities`` name the optional figures the source's schema holds (``SALES``,
    ``PRESENCE``); families that need one it lacks are not published rather than shown as 0.
    ``criteria`` are the satisfaction criteria the schema rates, always published.
    ``per_agent`` false: per-agent figures were not collected (``privacy.per_agent``), and
    their families are left out rather than published empty.
    """

    taken_at: datetime
    sites: tuple[Site, ...]
    capabilities: frozenset[str] = EVERY_CAPABILITY
    criteria: tuple[str, ...] = CRITERIA
    per_agent: bool = True
