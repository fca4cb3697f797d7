"""Readings -> Snapshot: the one place where rows become figures, the same for every source.

Sources read rows that are already aggregated (``exporter.readings``); this files them under
their site and agent, decides which agents are listed on a site, and computes the objectives'
values, so that a new source cannot get any of that subtly different.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from exporter.days import SiteDay
from exporter.objectives import objective_value
from exporter.readings import Readings, Rows
from exporter.settings import Settings
from exporter.snapshot import Agent, Day, Objective, Ratings, Site, Snapshot

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
    agents = {(row.scope, row.agent_id): row for row in readings.agents}
    statuses, connected = _by_site(readings.statuses), _by_site(readings.connected)
    days, turnover, ratings = (
        _by_site(readings.days),
        _by_site(readings.turnover),
        _by_site(readings.ratings),
    )
    live, goals = _by_site(readings.live), _by_site(readings.objectives)
    return Snapshot(
        taken_at=readings.taken_at,
        capabilities=capabilities,
        criteria=criteria,
        sites=tuple(
            _site(
                day,
                agents=agents,
                status_rows=statuses[day.site_id],
                connected={row.agent_id for row in connected[day.site_id]},
                presence=presence[day.day_start],
                day_rows=days[day.site_id],
                turnover_rows=turnover[day.site_id],
                rating_rows=ratings[day.site_id],
                live_rows=live[day.site_id],
                goals=_goals(day.name, goals[day.site_id], goals[None], settings),
                capabilities=capabilities,
            )
            for day in sorted(readings.sites, key=lambda day: day.name)
        ),
    )


def _by_site(rows: Iterable[Row[Any]]) -> defaultdict[int | None, list[Row[Any]]]:
    grouped: defaultdict[int | None, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        grouped[row.site_id].append(row)
    return grouped


def _stored_goal(row: Row[Any]) -> _Goal:
    return _Goal(row.name, row.metric, row.agent_id, float(row.target), row.currency)


def _goals(site: str, own: Rows, every: Rows, settings: Settings) -> list[_Goal]:
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
        *map(_stored_goal, every),
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


def _day_figures(
    day_rows: Rows, turnover_rows: Rows, rating_rows: Rows
) -> tuple[dict[int | None, Day], Day]:
    """Day figures of one site per agent id (None: nobody's), and of the whole site."""
    turnover: defaultdict[int | None, dict[str, float]] = defaultdict(dict)
    site_turnover: dict[str, float] = {}
    for row in turnover_rows:
        turnover[row.agent_id][row.currency] = round(row.amount, 2)
        site_turnover.setdefault(row.currency, round(row.site_amount, 2))
    ratings: defaultdict[int | None, dict[str, Ratings]] = defaultdict(dict)
    site_ratings: dict[str, Ratings] = {}
    for row in rating_rows:
        ratings[row.agent_id][row.criterion] = Ratings(row.score, row.good, row.average, row.poor)
        if row.criterion not in site_ratings:
            site_ratings[row.criterion] = Ratings(
                row.site_score, row.site_good, row.site_average, row.site_poor
            )
    agents = {
        row.agent_id: Day(
            row.conversations,
            row.ended,
            row.handling_seconds,
            row.converted,
            row.transactions,
            turnover[row.agent_id],
            ratings[row.agent_id],
        )
        for row in day_rows
    }
    if not day_rows:
        return agents, Day()
    first = day_rows[0]
    site = Day(
        first.site_conversations,
        first.site_ended,
        first.site_handling_seconds,
        first.site_converted,
        first.site_transactions,
        site_turnover,
        site_ratings,
    )
    return agents, site


def _site(
    day: SiteDay,
    *,
    agents: Mapping[tuple[int, int], Row[Any]],
    status_rows: Rows,
    connected: set[int],
    presence: Mapping[int, float],
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
    agent_live = {row.agent_id: row for row in in_progress if row.agent_id is not None}
    candidates = connected | {i for i in agent_days if i is not None} | set(agent_live)
    listed = sorted(i for i in candidates if (day.scope, i) in agents)
    figures = tuple(_agent(agents[day.scope, i], presence, agent_days, agent_live) for i in listed)
    return Site(
        name=day.name,
        thresholds={
            "handling_duration": day.handling_seconds,
            "response_time": day.response_seconds,
        },
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
    row: Row[Any],
    presence: Mapping[int, float],
    days: Mapping[int | None, Day],
    live: Mapping[int, Row[Any]],
) -> Agent:
    mine = live.get(row.agent_id)
    return Agent(
        agent_id=row.agent_id,
        name=row.name,
        status=row.status,
        presence_seconds=presence.get(row.agent_id, 0.0),
        day=days.get(row.agent_id, Day()),
        active=mine.agent_active if mine else 0,
        active_all_sites=row.active_all_sites,
        signals={
            "handling_duration": mine.agent_handling if mine else 0,
            "response_time": mine.agent_response if mine else 0,
        },
        slots=row.slots,
    )


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
