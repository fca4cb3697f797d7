"""The reference source: one collection's figures from the reference schema (docs/schema.md).

Eleven set-based queries run on one connection, inside the caller's read-only transaction. Each
aggregates in the database and returns at most one row per (site, agent, label value), with
the site totals attached by window functions; Python only files those rows into the snapshot.
"Today" starts at a different instant for each site, so the sites' day starts and signal
cutoffs are computed here once per site and joined in as a small derived table (``site_days``).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    Float,
    Integer,
    Result,
    Row,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect, Subquery

from exporter.days import day_start, zone
from exporter.objectives import objective_value
from exporter.schema import (
    agent_sessions,
    agent_sites,
    agents,
    conversations,
    messages,
    objectives,
    satisfaction_ratings,
    sites,
    transactions,
)
from exporter.settings import Settings
from exporter.snapshot import Agent, Day, Objective, Ratings, Site, Snapshot
from exporter.sources.sql import seconds_between, timestamp_param


@dataclass(frozen=True, slots=True)
class SiteDay:
    """A site's day start and signal cutoffs (naive UTC): a conversation signals when it
    started, or its visitor began waiting, before the cutoff."""

    site_id: int
    name: str
    day_start: datetime
    handling_seconds: float
    response_seconds: float
    handling_cutoff: datetime
    response_cutoff: datetime


def _site_day(row: Row[Any], now: datetime, settings: Settings) -> SiteDay:
    """The day and thresholds of one ``sites`` row at ``now`` (aware UTC)."""
    handling = (
        settings.handling_seconds if row.max_handling_seconds is None else row.max_handling_seconds
    )
    response = (
        settings.response_seconds if row.max_response_seconds is None else row.max_response_seconds
    )
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    return SiteDay(
        site_id=row.id,
        name=row.name,
        day_start=day_start(now, zone(row.timezone)),
        handling_seconds=float(handling),
        response_seconds=float(response),
        handling_cutoff=naive_now - timedelta(seconds=float(handling)),
        response_cutoff=naive_now - timedelta(seconds=float(response)),
    )


async def fetch(connection: AsyncConnection, now: datetime, settings: Settings) -> Snapshot:
    """Read every figure of the configured sites at ``now`` (aware UTC)."""

    async def rows(query: Select[Any]) -> Sequence[Row[Any]]:
        result: Result[Any] = await connection.execute(query)
        return result.all()

    days = [_site_day(row, now, settings) for row in await rows(_sites_query(settings.sites))]
    if not days:
        return Snapshot(taken_at=now, sites=())
    naive_now = timestamp_param(now.astimezone(UTC).replace(tzinfo=None))
    site_days = _site_days(days)
    day_starts = sorted({day.day_start for day in days})

    agent_rows = await rows(_agents_query())
    status_rows = await rows(_status_query(site_days))
    connected_rows = await rows(_connected_pairs_query(site_days))
    presence_rows = await rows(_presence_query(day_starts, naive_now))
    today = _today(site_days, min(day_starts))
    first_id = await connection.scalar(_first_id_query(today))
    day_rows: Sequence[Row[Any]] = ()  # no conversation today, nothing more to read
    turnover_rows: Sequence[Row[Any]] = ()
    rating_rows: Sequence[Row[Any]] = ()
    if first_id is not None:
        day_rows = await rows(_day_query(today, first_id))
        turnover_rows = await rows(_turnover_query(today, first_id))
        rating_rows = await rows(_ratings_query(today, first_id, settings))
    live_rows = await rows(_live_query(site_days, naive_now))
    objective_rows = await rows(_objectives_query([day.site_id for day in days]))

    presence: dict[datetime, dict[int, float]] = defaultdict(dict)
    for row in presence_rows:
        presence[day_starts[row.day]][row.agent_id] = float(row.seconds or 0)
    agents_by_id = {row.id: row for row in agent_rows}
    statuses, connected = _by_site(status_rows), _by_site(connected_rows)
    day_figures, turnover, ratings = (
        _by_site(day_rows),
        _by_site(turnover_rows),
        _by_site(rating_rows),
    )
    live, goals = _by_site(live_rows), _by_site(objective_rows)
    return Snapshot(
        taken_at=now,
        sites=tuple(
            _site(
                day,
                agents=agents_by_id,
                status_rows=statuses[day.site_id],
                connected={row.agent_id for row in connected[day.site_id]},
                presence=presence[day.day_start],
                day_rows=day_figures[day.site_id],
                turnover_rows=turnover[day.site_id],
                rating_rows=ratings[day.site_id],
                live_rows=live[day.site_id],
                objective_rows=[*goals[None], *goals[day.site_id]],
            )
            for day in sorted(days, key=lambda day: day.name)
        ),
    )


def _by_site(rows: Iterable[Row[Any]]) -> defaultdict[int | None, list[Row[Any]]]:
    grouped: defaultdict[int | None, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        grouped[row.site_id].append(row)
    return grouped


# --- queries -------------------------------------------------------------------------------


def _sites_query(allowed: tuple[str, ...]) -> Select[Any]:
    query = select(
        sites.c.id,
        sites.c.name,
        sites.c.timezone,
        sites.c.max_handling_seconds,
        sites.c.max_response_seconds,
    )
    return query.where(sites.c.name.in_(allowed)) if allowed else query


def _constants(name: str, rows: Sequence[Select[*tuple[Any, ...]]]) -> CTE:
    """A derived table of parameter rows, one ``SELECT`` each, portable to all three dialects."""
    return (union_all(*rows) if len(rows) > 1 else rows[0]).cte(name)


def _site_days(days: Sequence[SiteDay]) -> CTE:
    return _constants(
        "site_days",
        [
            select(
                literal(day.site_id, Integer).label("site_id"),
                timestamp_param(day.day_start).label("day_start"),
                timestamp_param(day.handling_cutoff).label("handling_cutoff"),
                timestamp_param(day.response_cutoff).label("response_cutoff"),
            )
            for day in days
        ],
    )


def _status_of(agent_id: ColumnElement[int]) -> ScalarSelect[str]:
    """The status of the agent's latest open session; NULL when it is disconnected.

    A correlated lookup through the (agent_id, ended_at, started_at) index: a few rows per
    agent, where a window over all open sessions made SQLite rescan them for every agent.
    """
    return (
        select(agent_sessions.c.status)
        .where(agent_sessions.c.agent_id == agent_id, agent_sessions.c.ended_at.is_(None))
        .order_by(agent_sessions.c.started_at.desc(), agent_sessions.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _load() -> Subquery:
    """In-progress conversations per agent or bot, on all sites."""
    return (
        select(conversations.c.agent_id, func.count().label("active"))
        .where(conversations.c.ended_at.is_(None), conversations.c.agent_id.is_not(None))
        .group_by(conversations.c.agent_id)
        .subquery("load")
    )


def _agents_query() -> Select[Any]:
    load = _load()
    return (
        select(
            agents.c.id,
            agents.c.name,
            agents.c.max_slots,
            _status_of(agents.c.id).label("status"),
            func.coalesce(load.c.active, 0).label("active_all_sites"),
        )
        .select_from(agents.outerjoin(load, load.c.agent_id == agents.c.id))
        .where(agents.c.is_bot == false())
    )


def _status_query(site_days: CTE) -> Select[Any]:
    """Connected agents and bots assigned to each site, by status, with their slots."""
    load = _load()
    assigned = (
        select(
            agent_sites.c.site_id,
            agents.c.is_bot,
            agents.c.max_slots,
            _status_of(agents.c.id).label("status"),
            func.coalesce(load.c.active, 0).label("active"),
        )
        .select_from(
            agent_sites.join(site_days, site_days.c.site_id == agent_sites.c.site_id)
            .join(agents, agents.c.id == agent_sites.c.agent_id)
            .outerjoin(load, load.c.agent_id == agents.c.id)
        )
        .subquery("assigned")
    )
    free = assigned.c.max_slots - assigned.c.active
    return (
        select(
            assigned.c.site_id,
            assigned.c.is_bot,
            assigned.c.status,
            func.count().label("agents"),
            _whole(func.sum(assigned.c.max_slots)).label("slots"),
            _whole(func.sum(case((free > 0, free), else_=0))).label("free"),
        )
        .where(assigned.c.status.is_not(None))
        .group_by(assigned.c.site_id, assigned.c.is_bot, assigned.c.status)
    )


def _connected_pairs_query(site_days: CTE) -> Select[Any]:
    return (
        select(agent_sites.c.site_id, agent_sites.c.agent_id)
        .join(site_days, site_days.c.site_id == agent_sites.c.site_id)
        .where(_status_of(agent_sites.c.agent_id).is_not(None))
    )


def _presence_query(day_starts: Sequence[datetime], now: ColumnElement[datetime]) -> Select[Any]:
    """Length of the union of each agent's sessions within each distinct day start up to now.

    Sessions are clipped to [day start, now] and sorted by start; each one adds only what
    lies beyond the furthest end of the sessions before it.
    """
    days = _constants(
        "day_starts",
        [
            select(literal(index, Integer).label("day"), timestamp_param(start).label("day_start"))
            for index, start in enumerate(day_starts)
        ],
    )
    started, ended = agent_sessions.c.started_at, agent_sessions.c.ended_at
    clipped = (
        select(
            agent_sessions.c.agent_id,
            days.c.day,
            case((started > days.c.day_start, started), else_=days.c.day_start).label("start_at"),
            case((or_(ended.is_(None), ended > now), now), else_=ended).label("end_at"),
        )
        .select_from(
            agent_sessions.join(
                agents, and_(agents.c.id == agent_sessions.c.agent_id, agents.c.is_bot == false())
            ).join(days, true())
        )
        .where(
            started < now,
            or_(ended.is_(None), ended > timestamp_param(day_starts[0])),
            or_(ended.is_(None), ended > days.c.day_start),
        )
        .subquery("clipped")
    )
    ordered = (
        select(
            clipped.c.agent_id,
            clipped.c.day,
            clipped.c.start_at,
            clipped.c.end_at,
            func.max(clipped.c.end_at)
            .over(
                partition_by=(clipped.c.agent_id, clipped.c.day),
                order_by=(clipped.c.start_at, clipped.c.end_at),
                rows=(None, -1),
            )
            .label("covered_to"),
        )
        .where(clipped.c.end_at > clipped.c.start_at)
        .subquery("ordered")
    )
    start, end, covered = ordered.c.start_at, ordered.c.end_at, ordered.c.covered_to
    added = case(
        (or_(covered.is_(None), covered <= start), seconds_between(start, end)),
        (covered < end, seconds_between(covered, end)),
        else_=0,
    )
    return select(ordered.c.agent_id, ordered.c.day, func.sum(added).label("seconds")).group_by(
        ordered.c.agent_id, ordered.c.day
    )


def _today(site_days: CTE, earliest: datetime) -> Select[Any]:
    """Today's conversations of every site: started at or after the site's day start.

    Each query reads it once, so that the database inlines it and reads the covering
    index directly instead of materialising 300 000 rows at the largest benchmark size.
    """
    return (
        select(
            conversations.c.id,
            conversations.c.site_id,
            conversations.c.agent_id,
            conversations.c.started_at,
            conversations.c.ended_at,
        )
        .join(
            site_days,
            and_(
                site_days.c.site_id == conversations.c.site_id,
                conversations.c.started_at >= site_days.c.day_start,
            ),
        )
        .where(conversations.c.started_at >= timestamp_param(earliest))
    )


def _first_id_query(today: Select[Any]) -> Select[Any]:
    """The lowest id among today's conversations (NULL if there are none).

    Not needed for the result, but ids grow with time, so ``conversation_id >= first id``
    lets the database read the sales and ratings of recent conversations only, through the
    conversation_id index, instead of the whole history. Read on its own and passed as a
    parameter: as a subquery, SQLite planned it with a temporary index over all rows.
    """
    ids = today.subquery("today_ids")
    return select(func.min(ids.c.id))


def _whole(total: ColumnElement[Any]) -> ColumnElement[int]:
    """A sum of integers as an integer: MariaDB returns DECIMAL, PostgreSQL NUMERIC for some,
    and decoding tens of thousands of Decimals per scrape is not free."""
    return cast(total, Integer)


def _with_site_totals(
    group: Sequence[ColumnElement[Any]],
    site_partition: Sequence[ColumnElement[Any]],
    sums: Mapping[str, ColumnElement[Any]],
) -> list[ColumnElement[Any]]:
    """The grouped columns, each aggregate, and its total over ``site_partition`` as site_<name>."""
    return [
        *group,
        *(aggregate.label(name) for name, aggregate in sums.items()),
        *(
            # Cast back to the aggregate's type: a sum of sums is NUMERIC on PostgreSQL.
            cast(func.sum(aggregate).over(partition_by=site_partition), aggregate.type).label(
                f"site_{name}"
            )
            for name, aggregate in sums.items()
        ),
    ]


def _day_query(conversations_today: Select[Any], first_id: int) -> Select[Any]:
    today = conversations_today.cte("today")
    paid = (  # sales per recent conversation; the join below keeps today's
        select(transactions.c.conversation_id, func.count().label("transactions"))
        .where(transactions.c.conversation_id >= first_id)
        .group_by(transactions.c.conversation_id)
        .subquery("paid")
    )
    handling = seconds_between(today.c.started_at, today.c.ended_at)
    return (
        select(
            *_with_site_totals(
                (today.c.site_id, today.c.agent_id),
                (today.c.site_id,),
                {  # in the order of Day's fields
                    "conversations": func.count(),
                    "ended": func.count(today.c.ended_at),
                    "handling_seconds": cast(func.coalesce(func.sum(handling), 0), Float),
                    "converted": func.count(paid.c.conversation_id),
                    "transactions": _whole(func.coalesce(func.sum(paid.c.transactions), 0)),
                },
            )
        )
        .select_from(today.outerjoin(paid, paid.c.conversation_id == today.c.id))
        .group_by(today.c.site_id, today.c.agent_id)
    )


def _turnover_query(conversations_today: Select[Any], first_id: int) -> Select[Any]:
    today = conversations_today.cte("today")
    return (
        select(
            *_with_site_totals(
                (today.c.site_id, today.c.agent_id, transactions.c.currency),
                (today.c.site_id, transactions.c.currency),
                {"amount": cast(func.sum(transactions.c.amount), Float)},
            )
        )
        .join(today, today.c.id == transactions.c.conversation_id)
        .where(transactions.c.conversation_id >= first_id)
        .group_by(today.c.site_id, today.c.agent_id, transactions.c.currency)
    )


def _ratings_query(
    conversations_today: Select[Any], first_id: int, settings: Settings
) -> Select[Any]:
    today = conversations_today.cte("today")
    score = satisfaction_ratings.c.score
    good_min = literal(settings.good_min, Integer)
    poor_max = literal(settings.poor_max, Integer)
    return (
        select(
            *_with_site_totals(
                (today.c.site_id, today.c.agent_id, satisfaction_ratings.c.criterion),
                (today.c.site_id, satisfaction_ratings.c.criterion),
                {  # in the order of Ratings' fields
                    "score": _whole(func.sum(score)),
                    "good": _whole(func.sum(case((score >= good_min, 1), else_=0))),
                    "average": _whole(
                        func.sum(case((and_(score > poor_max, score < good_min), 1), else_=0))
                    ),
                    "poor": _whole(func.sum(case((score <= poor_max, 1), else_=0))),
                },
            )
        )
        .join(today, today.c.id == satisfaction_ratings.c.conversation_id)
        .where(satisfaction_ratings.c.conversation_id >= first_id)
        .group_by(today.c.site_id, today.c.agent_id, satisfaction_ratings.c.criterion)
    )


def _live_query(site_days: CTE, now: ColumnElement[datetime]) -> Select[Any]:
    """Open conversations per (site, agent, channel); agent NULL is the waiting queue.

    The response-time signal needs, per open conversation, the first visitor message after
    the last agent or bot message: two correlated subqueries that each read a handful of one
    conversation's messages through the (conversation_id, sent_at) index.
    """
    last_reply = (
        select(func.max(messages.c.sent_at))
        .where(
            messages.c.conversation_id == conversations.c.id,
            messages.c.sender.in_(("agent", "bot")),
        )
        .scalar_subquery()
    )
    open_ = (
        select(
            conversations.c.id,
            conversations.c.site_id,
            conversations.c.agent_id,
            conversations.c.channel,
            conversations.c.started_at,
            last_reply.label("replied_at"),
        )
        .where(conversations.c.ended_at.is_(None))
        .subquery("open_conversations")
    )
    first_unanswered = (
        select(func.min(messages.c.sent_at))
        .where(
            messages.c.conversation_id == open_.c.id,
            messages.c.sender == "visitor",
            or_(open_.c.replied_at.is_(None), messages.c.sent_at > open_.c.replied_at),
        )
        .scalar_subquery()
    )
    live = select(
        open_.c.id,
        open_.c.site_id,
        open_.c.agent_id,
        open_.c.channel,
        open_.c.started_at,
        first_unanswered.label("waiting_since"),
    ).subquery("live")
    assigned = live.c.agent_id.is_not(None)
    handling = case((and_(assigned, live.c.started_at < site_days.c.handling_cutoff), 1), else_=0)
    response = case(
        (and_(assigned, live.c.waiting_since < site_days.c.response_cutoff), 1), else_=0
    )
    count, handling_sum, response_sum = func.count(), func.sum(handling), func.sum(response)
    by_agent = (live.c.site_id, live.c.agent_id)
    return (
        select(
            live.c.site_id,
            live.c.agent_id,
            live.c.channel,
            # Per (site, channel), apart for the queue: active, or waiting when agent is NULL.
            _whole(
                func.sum(count).over(partition_by=(live.c.site_id, live.c.channel, assigned))
            ).label("site_channel"),
            _whole(func.sum(handling_sum).over(partition_by=live.c.site_id)).label("site_handling"),
            _whole(func.sum(response_sum).over(partition_by=live.c.site_id)).label("site_response"),
            _whole(func.sum(count).over(partition_by=by_agent)).label("agent_active"),
            _whole(func.sum(handling_sum).over(partition_by=by_agent)).label("agent_handling"),
            _whole(func.sum(response_sum).over(partition_by=by_agent)).label("agent_response"),
            # For the queue (agent NULL): how long its longest-waiting visitor has waited.
            func.max(seconds_between(func.min(live.c.started_at), now))
            .over(partition_by=by_agent)
            .label("oldest_seconds"),
        )
        .select_from(live.join(site_days, site_days.c.site_id == live.c.site_id))
        .group_by(live.c.site_id, live.c.agent_id, live.c.channel)
    )


def _objectives_query(site_ids: Sequence[int]) -> Select[Any]:
    return select(
        objectives.c.name,
        objectives.c.site_id,
        objectives.c.agent_id,
        objectives.c.metric,
        objectives.c.target,
        objectives.c.currency,
    ).where(or_(objectives.c.site_id.is_(None), objectives.c.site_id.in_(site_ids)))


# --- assembly ------------------------------------------------------------------------------


def _day(sums: Sequence[Any], turnover: Mapping[str, float], ratings: Mapping[str, Ratings]) -> Day:
    """``sums`` are in the order of Day's fields (``_day_query``)."""
    count, ended, handling_seconds, converted, sales = sums
    return Day(count, ended, handling_seconds, converted, sales, turnover, ratings)


def _day_figures(
    day_rows: Sequence[Sequence[Any]],
    turnover_rows: Iterable[Sequence[Any]],
    rating_rows: Iterable[Sequence[Any]],
) -> tuple[dict[int | None, Day], Day]:
    """Day figures of one site per agent id (None: the queue), and of the whole site.

    Each row holds its group's sums followed by the site's (``_with_site_totals``).
    """
    turnover: defaultdict[int | None, dict[str, float]] = defaultdict(dict)
    site_turnover: dict[str, float] = {}
    for _site_id, agent_id, currency, amount, site_amount in turnover_rows:
        turnover[agent_id][currency] = round(amount, 2)
        if currency not in site_turnover:
            site_turnover[currency] = round(site_amount, 2)
    ratings: defaultdict[int | None, dict[str, Ratings]] = defaultdict(dict)
    site_ratings: dict[str, Ratings] = {}
    for row in rating_rows:
        agent_id, criterion = row[1], row[2]
        ratings[agent_id][criterion] = Ratings(*row[3:7])
        if criterion not in site_ratings:
            site_ratings[criterion] = Ratings(*row[7:])
    agents = {row[1]: _day(row[2:7], turnover[row[1]], ratings[row[1]]) for row in day_rows}
    site = _day(day_rows[0][7:], site_turnover, site_ratings) if day_rows else Day()
    return agents, site


def _site(
    day: SiteDay,
    *,
    agents: Mapping[int, Row[Any]],
    status_rows: Sequence[Row[Any]],
    connected: set[int],
    presence: Mapping[int, float],
    day_rows: Sequence[Row[Any]],
    turnover_rows: Sequence[Row[Any]],
    rating_rows: Sequence[Row[Any]],
    live_rows: Sequence[Row[Any]],
    objective_rows: Sequence[Row[Any]],
) -> Site:
    kind = {False: "agent", True: "bot"}
    human_status = [row for row in status_rows if not row.is_bot]
    available = [row for row in status_rows if row.status == "available"]
    waiting = [row for row in live_rows if row.agent_id is None]
    assigned = [row for row in live_rows if row.agent_id is not None]
    agent_days, site_totals = _day_figures(day_rows, turnover_rows, rating_rows)
    agent_live = {row.agent_id: row for row in assigned}
    listed: set[int] = (
        connected | {i for i in agent_days if i is not None} | set(agent_live)
    ) & agents.keys()
    figures = tuple(_agent(agents[i], presence, agent_days, agent_live) for i in sorted(listed))
    return Site(
        name=day.name,
        thresholds={
            "handling_duration": day.handling_seconds,
            "response_time": day.response_seconds,
        },
        agents={row.status: row.agents for row in human_status},
        active={row.channel: row.site_channel for row in assigned},
        waiting={row.channel: row.site_channel for row in waiting},
        oldest_waiting_seconds=max([0.0, *(float(row.oldest_seconds) for row in waiting)]),
        signaled={
            "handling_duration": live_rows[0].site_handling if live_rows else 0,
            "response_time": live_rows[0].site_response if live_rows else 0,
        },
        slots={kind[bool(row.is_bot)]: row.slots for row in available},
        slots_available={kind[bool(row.is_bot)]: row.free for row in available},
        day=site_totals,
        agent_figures=figures,
        objectives=_objectives(objective_rows, site_totals, figures),
    )


def _agent(
    row: Row[Any],
    presence: Mapping[int, float],
    days: Mapping[int | None, Day],
    live: Mapping[int, Row[Any]],
) -> Agent:
    mine = live.get(row.id)
    return Agent(
        agent_id=row.id,
        name=row.name,
        status=row.status,
        presence_seconds=presence.get(row.id, 0.0),
        day=days.get(row.id, Day()),
        active=mine.agent_active if mine else 0,
        active_all_sites=row.active_all_sites,
        signals={
            "handling_duration": mine.agent_handling if mine else 0,
            "response_time": mine.agent_response if mine else 0,
        },
        slots=row.max_slots,
    )


def _objectives(
    rows: Iterable[Row[Any]], site: Day, agents: Sequence[Agent]
) -> tuple[Objective, ...]:
    """Objectives of this site: site-wide ones, and agent ones for agents listed on the site."""
    by_id = {agent.agent_id: agent for agent in agents}
    agent_conversations = sum(agent.day.conversations for agent in agents)
    presence = sum(agent.presence_seconds for agent in agents)
    result = []
    for row in rows:
        if row.agent_id is None:
            value = objective_value(
                row.metric,
                site,
                agent_conversations=agent_conversations,
                presence_seconds=presence,
                currency=row.currency,
            )
            result.append(Objective(row.name, row.metric, None, "", float(row.target), value))
        elif (agent := by_id.get(row.agent_id)) is not None:
            value = objective_value(
                row.metric,
                agent.day,
                agent_conversations=agent.day.conversations,
                presence_seconds=agent.presence_seconds,
                currency=row.currency,
            )
            result.append(
                Objective(
                    row.name, row.metric, agent.agent_id, agent.name, float(row.target), value
                )
            )
    return tuple(sorted(result, key=lambda o: (o.name, o.agent_id or 0)))
