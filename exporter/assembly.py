"""Readings -> Snapshot: the one place where rows become figures, the same for every source.

Sources read rows that are already aggregated (``exporter.readings``); this files them under
their site and agent, decides which agents are listed on a site, and computes the objectives'
values, so that a new source cannot get any of that subtly different.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Row

from exporter.days import SiteDay
from exporter.objectives import objective_value
from exporter.readings import Readings, Rows
from exporter.settings import Settings
from exporter.snapshot import (
    DAY_SUMS,
    NOTHING,
    RATING_SUMS,
    Agent,
    Day,
    Objective,
    Ratings,
    Site,
    Snapshot,
)

log = logging.getLogger(__name__)

_KIND = {False: "agent", True: "bot"}
# Objectives already reported as duplicates: (site, name, metric, agent id).
_reported: set[tuple[str, str, str, int | None]] = set()


@dataclass(frozen=True, slots=True)
class _Goal:
    """An objective of the database or of the configuration, before it meets its site."""

    name: str
    metric: str
    agent_id: int | None
    target: float
    currency: str | None


def assemble(
    readings: Readings,
    settings: Settings,
    capabilities: frozenset[str],
    criteria: tuple[str, ...],
) -> Snapshot:
    """The snapshot of ``readings``; ``capabilities`` and ``criteria`` are the source's."""
    presence: dict[datetime, dict[int, float]] = defaultdict(dict)
    for row in readings.presence:
        presence[readings.presence_days[row.day]][row.agent_id] = float(row.seconds or 0)
    status_times: dict[datetime, dict[int, dict[str, float]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for row in readings.status_times:
        day = readings.presence_days[row.day]
        status_times[day][row.agent_id][row.status] = float(row.seconds or 0)
    session = _columns(readings.sessions, ("agent_id", "status_since", "reason"))
    sessions = {
        agent_id: (_unix(since), reason)
        for agent_id, since, reason in map(session, readings.sessions)
    }
    agent = _columns(readings.agents, ("scope", *_AGENT_COLUMNS))
    agents = {(row[0], row[1]): row[1:] for row in map(agent, readings.agents)}
    statuses, connected = _by_site(readings.statuses), _by_site(readings.connected)
    days, turnover, ratings = (
        _by_site(readings.days),
        _by_site(readings.turnover),
        _by_site(readings.ratings),
    )
    live, goals = _by_site(readings.live), _by_site(readings.objectives)
    every = [_stored_goal(row) for row in goals.pop(None, [])]
    return Snapshot(
        taken_at=readings.taken_at,
        capabilities=capabilities,
        criteria=criteria,
        per_agent=settings.per_agent,
        sites=tuple(
            _site(
                day,
                agents=agents,
                status_rows=statuses[day.site_id],
                connected={row.agent_id for row in connected[day.site_id]},
                presence=presence[day.day_start],
                status_times=status_times[day.day_start],
                sessions=sessions,
                day_rows=days[day.site_id],
                turnover_rows=turnover[day.site_id],
                rating_rows=ratings[day.site_id],
                live_rows=live[day.site_id],
                goals=_goals(day.name, goals[day.site_id], every, settings),
                capabilities=capabilities,
            )
            for day in sorted(readings.sites, key=lambda day: day.name)
        ),
    )


def _by_site(rows: Rows) -> defaultdict[int | None, list[Row[Any]]]:
    grouped: defaultdict[int | None, list[Row[Any]]] = defaultdict(list)
    site_id = _columns(rows, ("site_id",))
    for row in rows:
        grouped[site_id(row)].append(row)
    return grouped


def _stored_goal(row: Row[Any]) -> _Goal:
    return _Goal(row.name, row.metric, row.agent_id, float(row.target), row.currency)


def _goals(site: str, own: Rows, every: Sequence[_Goal], settings: Settings) -> list[_Goal]:
    """The site's objectives, one per name, metric and agent: two would be published as the
    same series with two values. The most specific wins (the site's own over every site's),
    then the database's over the configuration's; the others are reported once."""
    configured = {
        scope: [
            _Goal(goal.name, goal.metric, goal.agent_id, goal.target, goal.currency)
            for goal in settings.objectives
            if goal.site == scope
        ]
        for scope in (site, None)
    }
    kept: dict[tuple[str, str, int | None], _Goal] = {}
    ordered = [
        *map(_stored_goal, own),
        *configured[site],
        *every,
        *configured[None],
    ]
    for goal in ordered:
        key = (goal.name, goal.metric, goal.agent_id)
        if key not in kept:
            kept[key] = goal
        elif (site, *key) not in _reported:
            _reported.add((site, *key))
            log.warning(
                "objective %r (%s%s) is defined more than once for site %r: publishing the "
                "most specific one, target %g",
                goal.name,
                goal.metric,
                "" if goal.agent_id is None else f", agent {goal.agent_id}",
                site,
                kept[key].target,
            )
    return list(kept.values())


def _columns(rows: Rows, names: Sequence[str]) -> Callable[[Row[Any]], Any]:
    """A reader of the named columns of ``rows``, as one tuple (a value if one name): the
    positions are looked up once, and at a few hundred thousand values a scrape reading
    them by position in C is several times faster than by attribute."""
    fields = rows[0]._fields if rows else names
    return itemgetter(*(fields.index(name) for name in names))


_SITE_DAY_SUMS = tuple(f"site_{name}" for name in DAY_SUMS)
_SITE_RATING_SUMS = tuple(f"site_{name}" for name in RATING_SUMS)


def _day_figures(
    day_rows: Rows, turnover_rows: Rows, rating_rows: Rows
) -> tuple[dict[int | None, Day], Day]:
    """Day figures of one site per agent id (None: nobody's), and of the whole site."""
    turnover: defaultdict[int | None, dict[str, float]] = defaultdict(dict)
    site_turnover: dict[str, float] = {}
    key = _columns(turnover_rows, ("agent_id", "currency", "amount", "site_amount"))
    for agent_id, currency, amount, site_amount in map(key, turnover_rows):
        turnover[agent_id][currency] = round(amount, 2)
        site_turnover.setdefault(currency, round(site_amount, 2))
    ratings: defaultdict[int | None, dict[str, Ratings]] = defaultdict(dict)
    site_ratings: dict[str, Ratings] = {}
    key = _columns(rating_rows, ("agent_id", "criterion"))
    sums, site_sums = _columns(rating_rows, RATING_SUMS), _columns(rating_rows, _SITE_RATING_SUMS)
    for row in rating_rows:
        agent_id, criterion = key(row)
        ratings[agent_id][criterion] = Ratings._make(sums(row))
        if criterion not in site_ratings:
            site_ratings[criterion] = Ratings._make(site_sums(row))
    key = _columns(day_rows, ("agent_id", *DAY_SUMS))
    agents = {}
    for agent_id, *figures in map(key, day_rows):
        agents[agent_id] = Day._make((*figures, turnover[agent_id], ratings[agent_id]))
    if not day_rows:
        return agents, Day()
    site_sums = _columns(day_rows, _SITE_DAY_SUMS)
    return agents, Day._make((*site_sums(day_rows[0]), site_turnover, site_ratings))


_AGENT_COLUMNS = ("agent_id", "name", "status", "slots", "active_all_sites")
_AgentRow = tuple[int, str, str | None, int, int]  # _AGENT_COLUMNS' values
_Session = tuple[float | None, str | None]  # status since (Unix time), reason
_NO_SESSION: _Session = (None, None)
_IDLE = (0, 0, 0)  # conversations in progress, handling and response signals
_NO_DAY = Day()


def _site(
    day: SiteDay,
    *,
    agents: Mapping[tuple[int, int], _AgentRow],
    status_rows: Rows,
    connected: set[int],
    presence: Mapping[int, float],
    status_times: Mapping[int, Mapping[str, float]],
    sessions: Mapping[int, _Session],
    day_rows: Rows,
    turnover_rows: Rows,
    rating_rows: Rows,
    live_rows: Rows,
    goals: Sequence[_Goal],
    capabilities: frozenset[str],
) -> Site:
    human_status = [row for row in status_rows if not row.is_bot]
    available = [row for row in status_rows if row.status == "available"]
    waiting = [row for row in live_rows if row.waiting]
    in_progress = [row for row in live_rows if not row.waiting]
    agent_days, site_totals = _day_figures(day_rows, turnover_rows, rating_rows)
    mine = _columns(in_progress, ("agent_id", "agent_active", "agent_handling", "agent_response"))
    agent_live = {row[0]: row[1:] for row in map(mine, in_progress) if row[0] is not None}
    candidates = connected | {i for i in agent_days if i is not None} | set(agent_live)
    listed = sorted(i for i in candidates if (day.scope, i) in agents)
    figures = tuple(
        _agent(
            agents[day.scope, i],
            presence=presence,
            status_times=status_times,
            sessions=sessions,
            days=agent_days,
            live=agent_live,
        )
        for i in listed
    )
    return Site(
        name=day.name,
        thresholds={
            "handling_duration": day.handling_seconds,
            "response_time": day.response_seconds,
        },
        service_level_seconds=day.service_level_seconds,
        agents={row.status: row.agents for row in human_status},
        active={row.channel: row.site_channel for row in in_progress},
        waiting={row.channel: row.site_channel for row in waiting},
        oldest_waiting_seconds=max([0.0, *(float(row.oldest_seconds) for row in waiting)]),
        signaled={
            "handling_duration": live_rows[0].site_handling if live_rows else 0,
            "response_time": live_rows[0].site_response if live_rows else 0,
        },
        slots={_KIND[bool(row.is_bot)]: row.slots for row in available},
        slots_available={_KIND[bool(row.is_bot)]: row.free for row in available},
        day=site_totals,
        agent_figures=figures,
        objectives=_objectives(goals, site_totals, figures, capabilities),
    )


def _agent(
    row: _AgentRow,
    *,
    presence: Mapping[int, float],
    status_times: Mapping[int, Mapping[str, float]],
    sessions: Mapping[int, _Session],
    days: Mapping[int | None, Day],
    live: Mapping[int, tuple[int, int, int]],
) -> Agent:
    agent_id, name, status, slots, active_all_sites = row
    active, handling, response = live.get(agent_id, _IDLE)
    # The session that gives the status; an agent the status query calls disconnected has none.
    status_since, reason = (
        sessions.get(agent_id, _NO_SESSION) if status is not None else _NO_SESSION
    )
    return Agent(
        agent_id=agent_id,
        name=name,
        status=status,
        presence_seconds=presence.get(agent_id, 0.0),
        status_seconds=status_times.get(agent_id, NOTHING),
        status_since=status_since,
        reason=reason,
        day=days.get(agent_id, _NO_DAY),
        active=active,
        active_all_sites=active_all_sites,
        signals={"handling_duration": handling, "response_time": response},
        slots=slots,
    )


def _unix(naive_utc: datetime) -> float:
    return naive_utc.replace(tzinfo=UTC).timestamp()


def _objectives(
    goals: Iterable[_Goal], site: Day, agents: Sequence[Agent], capabilities: frozenset[str]
) -> tuple[Objective, ...]:
    """Objectives of this site: site-wide ones, and agent ones for agents listed on the site."""
    by_id = {agent.agent_id: agent for agent in agents}
    agent_conversations = sum(agent.day.conversations for agent in agents)
    presence = sum(agent.presence_seconds for agent in agents)
    result = []
    for goal in goals:
        if goal.agent_id is None:
            value = objective_value(
                goal.metric,
                site,
                agent_conversations=agent_conversations,
                presence_seconds=presence,
                currency=goal.currency,
                capabilities=capabilities,
            )
            result.append(Objective(goal.name, goal.metric, None, "", goal.target, value))
        elif (agent := by_id.get(goal.agent_id)) is not None:
            value = objective_value(
                goal.metric,
                agent.day,
                agent_conversations=agent.day.conversations,
                presence_seconds=agent.presence_seconds,
                currency=goal.currency,
                capabilities=capabilities,
            )
            result.append(
                Objective(goal.name, goal.metric, agent.agent_id, agent.name, goal.target, value)
            )
    return tuple(sorted(result, key=lambda o: (o.name, o.agent_id or 0)))
