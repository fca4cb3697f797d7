"""The reference source: one collection's figures from the reference schema (docs/schema.md).

Set-based queries run inside the caller's read-only transaction (on PostgreSQL on two
connections sharing its snapshot: ``exporter.database.read_all``). Each aggregates in the
database and returns at most one row per (site, agent, label value), with the site totals
attached by window functions; ``exporter.assembly`` files those rows into the snapshot.
"Today" starts at a different instant for each site, so the sites' day starts and signal
cutoffs (``exporter.days``) are joined in as a small derived table (``site_days``), or, where
today's conversations are read in id order, chosen by site in a CASE.
"""

from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    CTE,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    inspect,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import NamedFromClause, Subquery

from exporter.database import Statement, read_all
from exporter.days import SiteDay, site_day
from exporter.readings import Readings
from exporter.schema import (
    LATER,
    Timestamp,
    agent_sessions,
    agent_sites,
    agents,
    conversations,
    messages,
    metadata,
    objectives,
    satisfaction_ratings,
    sites,
    transactions,
)
from exporter.settings import Settings
from exporter.snapshot import EVERY_CAPABILITY
from exporter.sources.base import Source
from exporter.sources.sql import (
    constants,
    float_seconds_between,
    seconds_between,
    seconds_sum,
    timestamp_param,
    whole,
    with_site_totals,
)

T = TypeVar("T", bound=Hashable)


class ReferenceSource(Source):
    """The reference schema of ``exporter.schema``: everything the snapshot can hold."""

    capabilities = EVERY_CAPABILITY
    required: ClassVar[Mapping[str, tuple[str, ...]]] = {
        table.name: tuple(
            column.name for column in table.columns if (table.name, column.name) not in LATER
        )
        for table in metadata.tables.values()
    }
    hint = "is this the reference schema? `chat-supervision-exporter init-db` creates it"

    _reason_seen = False

    async def _has_reason(self, connection: AsyncConnection) -> bool:
        """Whether ``agent_sessions.reason`` exists: databases created before it was added
        lack it until ``init-db`` adds it. Once seen it is not looked for again."""
        if not self._reason_seen:
            columns = await connection.run_sync(
                lambda sync: inspect(sync).get_columns(agent_sessions.name)
            )
            self._reason_seen = any(column["name"] == "reason" for column in columns)
        return self._reason_seen

    async def read(self, connection: AsyncConnection, now: datetime) -> Readings:
        settings = self.settings
        days = [
            site_day(
                row.id,
                row.name,
                row.timezone,
                now,
                settings,
                own_handling=row.max_handling_seconds,
                own_response=row.max_response_seconds,
            )
            for row in (await connection.execute(_sites_query(settings.sites))).all()
        ]
        if not days:
            return Readings(taken_at=now, sites=())
        naive_now = timestamp_param(now.astimezone(UTC).replace(tzinfo=None))
        postgresql = connection.dialect.name == "postgresql"
        site_days = _site_days(days, arrays=postgresql)
        day_starts = tuple(sorted({day.day_start for day in days}))
        first = (await connection.execute(_first_id_query(_today(site_days, day_starts[0])))).one()
        first_id: int | None = first.first_id
        # Named as Readings' fields, the longest first (read_all packs them in that order),
        # each built when read, while the other connection reads.
        queries: dict[str, Statement] = {}
        if first_id is not None:  # no conversation today: nothing to read about today
            # Reading every site, every conversation is counted (``_count_from_query``).
            counted = [day.site_id for day in days] if settings.sites else None
            from_first = await connection.scalar(_count_from_query(first_id, counted))
            recent = _today_from(first_id, days, counted, ids_suffice=from_first == first.today)
            queries["days"] = partial(_day_query, recent, first_id, merge=postgresql)
            queries["ratings"] = partial(_ratings_query, recent, first_id, settings)
            queries["turnover"] = partial(_turnover_query, recent, first_id)
        queries["live"] = partial(_live_query, site_days, naive_now)
        if settings.per_agent:
            has_reason = await self._has_reason(connection)
            queries["sessions"] = partial(_sessions_query, has_reason, hashed=postgresql)
            queries["connected"] = partial(_connected_pairs_query, site_days, hashed=postgresql)
        queries["statuses"] = partial(_status_query, site_days, hashed=postgresql)
        if settings.per_agent:
            queries["agents"] = partial(
                _agents_query, names=settings.agent_names, hashed=postgresql
            )
            presence = partial(_presence_query, day_starts, naive_now, arrays=postgresql)
            queries["status_times"] = partial(presence, by_status=True)
            queries["presence"] = partial(presence, by_status=False)
        queries["objectives"] = partial(_objectives_query, [day.site_id for day in days])
        return Readings(
            taken_at=now,
            sites=tuple(days),
            presence_days=day_starts if settings.per_agent else (),
            **await read_all(connection, queries),
        )


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


def _site_days(days: Sequence[SiteDay], *, arrays: bool) -> CTE:
    return constants(
        "site_days",
        {
            "site_id": Integer(),
            "day_start": Timestamp,
            "handling_cutoff": Timestamp,
            "response_cutoff": Timestamp,
        },
        [(day.site_id, day.day_start, day.handling_cutoff, day.response_cutoff) for day in days],
        arrays=arrays,
    )


def _current_session(
    agent_id: ColumnElement[int], *, hashed: bool
) -> tuple[NamedFromClause, ColumnElement[bool]]:
    """The session that gives the agent its status, as a table to join and its condition: the
    agent's latest open session (by start, then id); a disconnected agent has none.

    With ``hashed`` (PostgreSQL), the open session that no open session of the same agent
    follows: the open sessions are hashed once for all agents, where a lookup per agent and
    per assignment cost several times more. Elsewhere the latest open session's id is looked
    up per agent through the (agent_id, ended_at, started_at) index: SQLite's statistics make
    the other form read every open session again for each site.
    """
    current = agent_sessions.alias("current")
    if not hashed:
        latest = agent_sessions.alias("latest")
        latest_id = (
            select(latest.c.id)
            .where(latest.c.agent_id == agent_id, latest.c.ended_at.is_(None))
            .order_by(latest.c.started_at.desc(), latest.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        return current, and_(current.c.agent_id == agent_id, current.c.id == latest_id)
    later = agent_sessions.alias("later")
    followed = exists().where(
        later.c.agent_id == current.c.agent_id,
        later.c.ended_at.is_(None),
        or_(
            later.c.started_at > current.c.started_at,
            and_(later.c.started_at == current.c.started_at, later.c.id > current.c.id),
        ),
    )
    return current, and_(current.c.agent_id == agent_id, current.c.ended_at.is_(None), ~followed)


def _load() -> Subquery:
    """In-progress conversations per agent or bot, on all sites."""
    return (
        select(conversations.c.agent_id, func.count().label("active"))
        .where(conversations.c.ended_at.is_(None), conversations.c.agent_id.is_not(None))
        .group_by(conversations.c.agent_id)
        .subquery("load")
    )


def _agents_query(*, names: bool, hashed: bool) -> Select[Any]:
    """Every human agent with its status, slots and load; without ``names``, its id stands
    for its name, which is then never read."""
    load = _load()
    current, is_current = _current_session(agents.c.id, hashed=hashed)
    return (
        select(
            literal(0, Integer).label("scope"),
            agents.c.id.label("agent_id"),
            (agents.c.name if names else cast(agents.c.id, String)).label("name"),
            current.c.status,
            agents.c.max_slots.label("slots"),
            func.coalesce(load.c.active, 0).label("active_all_sites"),
        )
        .select_from(
            agents.outerjoin(load, load.c.agent_id == agents.c.id).outerjoin(current, is_current)
        )
        .where(agents.c.is_bot == false())
    )


def _status_query(site_days: CTE, *, hashed: bool) -> Select[Any]:
    """Connected agents and bots assigned to each site, by status, with their slots."""
    load = _load()
    current, is_current = _current_session(agents.c.id, hashed=hashed)
    assigned = (
        select(
            agent_sites.c.site_id,
            agents.c.is_bot,
            agents.c.max_slots,
            current.c.status,
            func.coalesce(load.c.active, 0).label("active"),
        )
        .select_from(
            agent_sites.join(site_days, site_days.c.site_id == agent_sites.c.site_id)
            .join(agents, agents.c.id == agent_sites.c.agent_id)
            .join(current, is_current)
            .outerjoin(load, load.c.agent_id == agents.c.id)
        )
        .subquery("assigned")
    )
    free = assigned.c.max_slots - assigned.c.active
    return select(
        assigned.c.site_id,
        assigned.c.is_bot,
        assigned.c.status,
        func.count().label("agents"),
        whole(func.sum(assigned.c.max_slots)).label("slots"),
        whole(func.sum(case((free > 0, free), else_=0))).label("free"),
    ).group_by(assigned.c.site_id, assigned.c.is_bot, assigned.c.status)


def _connected_pairs_query(site_days: CTE, *, hashed: bool) -> Select[Any]:
    current, is_current = _current_session(agent_sites.c.agent_id, hashed=hashed)
    return (
        select(agent_sites.c.site_id, agent_sites.c.agent_id)
        .join(site_days, site_days.c.site_id == agent_sites.c.site_id)
        .join(current, is_current)
    )


def _sessions_query(has_reason: bool, *, hashed: bool) -> Select[Any]:
    """The session that gives each connected agent its status, with when it started and its
    reason."""
    current, is_current = _current_session(agents.c.id, hashed=hashed)
    return (
        select(
            agents.c.id.label("agent_id"),
            current.c.started_at.label("status_since"),
            (current.c.reason if has_reason else null()).label("reason"),
        )
        .select_from(agents.join(current, is_current))
        .where(agents.c.is_bot == false())
    )


def _presence_query(
    day_starts: Sequence[datetime], now: ColumnElement[datetime], *, by_status: bool, arrays: bool
) -> Select[Any]:
    """Length of the union of each agent's sessions (of each status, ``by_status``) within
    each distinct day start up to now.

    Sessions are clipped to [day start, now] and sorted by start; each one adds only what
    lies beyond the furthest end of the sessions before it (of the same status).
    """
    days = constants(
        "day_starts",
        {"day": Integer(), "day_start": Timestamp},
        list(enumerate(day_starts)),
        arrays=arrays,
    )
    started, ended = agent_sessions.c.started_at, agent_sessions.c.ended_at
    clipped = (
        select(
            agent_sessions.c.agent_id,
            days.c.day,
            agent_sessions.c.status,
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
    partition = (clipped.c.agent_id, clipped.c.day, *((clipped.c.status,) if by_status else ()))
    ordered = (
        select(
            clipped.c.agent_id,
            clipped.c.day,
            clipped.c.status,
            clipped.c.start_at,
            clipped.c.end_at,
            func.max(clipped.c.end_at)
            .over(
                partition_by=partition,
                order_by=(clipped.c.start_at, clipped.c.end_at),
                rows=(None, -1),
            )
            .label("covered_to"),
        )
        .where(clipped.c.end_at > clipped.c.start_at)
        .subquery("ordered")
    )
    start, end, covered = ordered.c.start_at, ordered.c.end_at, ordered.c.covered_to
    # Each session adds from the later of its start and the end of those before it.
    added_from = case(
        (or_(covered.is_(None), covered <= start), start), (covered < end, covered), else_=end
    )
    group = (ordered.c.agent_id, ordered.c.day, *((ordered.c.status,) if by_status else ()))
    return select(*group, seconds_sum(added_from, end).label("seconds")).group_by(*group)


def _today(site_days: CTE, earliest: datetime) -> Select[Any]:
    """Today's conversations of every site: started at or after the site's day start, read
    from the covering index site by site (for the first id of today; the day's statements
    then read them in id order, ``_today_from``)."""
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


def _today_from(
    first_id: int, days: Sequence[SiteDay], counted: Sequence[int] | None, *, ids_suffice: bool
) -> Select[Any]:
    """Today's conversations of every site, read through the primary key from ``first_id``.

    In id order, so that the database merges them with the sales, ratings and messages of
    recent conversations, which their conversation_id indexes return in the same order,
    instead of hashing 300 000 rows at the largest benchmark size. Each site's day start and
    service-level target are chosen by a CASE over the few distinct values.

    With ``ids_suffice`` the set ``_count_from_query`` counted (the conversations of the
    ``counted`` sites from ``first_id`` on, None: of every site) is exactly today's, in the
    collection's snapshot. Read as it was counted, neither the day start nor the site is
    tested: the rows are the same, and the database no longer multiplies the selectivities
    of two conditions that select the same latest rows, which made PostgreSQL plan for a
    fraction of them.
    """
    site = conversations.c.site_id
    if ids_suffice:
        conditions = _from_first(first_id, counted)
    else:
        conditions = [
            *_from_first(first_id, [day.site_id for day in days]),
            conversations.c.started_at
            >= _by_site(site, {day.site_id: day.day_start for day in days}, timestamp_param),
        ]
    return select(
        conversations.c.id,
        site,
        conversations.c.agent_id,
        conversations.c.started_at,
        conversations.c.ended_at,
        _by_site(
            site,
            {day.site_id: day.service_level_seconds for day in days},
            lambda seconds: literal(seconds, Float),
        ).label("service_level"),
    ).where(*conditions)


def _by_site(
    site: ColumnElement[int],
    values: Mapping[int, T],
    as_sql: Callable[[T], ColumnElement[Any]],
) -> ColumnElement[Any]:
    """The value of each site id, as one CASE branch per distinct value (usually one)."""
    sites_of: dict[T, list[int]] = defaultdict(list)
    for site_id, value in values.items():
        sites_of[value].append(site_id)
    if len(sites_of) == 1:
        return as_sql(next(iter(sites_of)))
    return case(*((site.in_(ids), as_sql(value)) for value, ids in sites_of.items()))


def _first_id_query(today: Select[Any]) -> Select[Any, int]:
    """The lowest id among today's conversations (NULL if there are none), and their count
    (whether ids alone select them: ``_count_from_query``).

    Not needed for the result, but ids grow with time, so ``conversation_id >= first id``
    lets the database read the sales and ratings of recent conversations only, through the
    conversation_id index, instead of the whole history. Read on its own and passed as a
    parameter: as a subquery, SQLite planned it with a temporary index over all rows.
    """
    ids = today.subquery("today_ids")
    return select(func.min(ids.c.id).label("first_id"), func.count().label("today"))


def _count_from_query(first_id: int, site_ids: Sequence[int] | None) -> Select[int]:
    """The conversations of ``site_ids`` (None: of every site) from ``first_id`` on: as many
    as today's exactly when they are all today's (every one of today's has an id from
    ``first_id`` on).

    Every site's, when every site is read: the primary key alone answers, and counting
    conversations of no read site could only make the counts differ (and the day start be
    tested), never agree wrongly.
    """
    return select(func.count()).where(*_from_first(first_id, site_ids))


def _from_first(first_id: int, site_ids: Sequence[int] | None) -> list[ColumnElement[bool]]:
    """The conditions of the conversations of ``site_ids`` (None: of every site) from
    ``first_id`` on, one definition for the set ``_count_from_query`` counts and
    ``_today_from`` reads when ids suffice."""
    return [
        conversations.c.id >= first_id,
        *(() if site_ids is None else (conversations.c.site_id.in_(site_ids),)),
    ]


def _day_query(conversations_today: Select[Any], first_id: int, *, merge: bool) -> Select[Any]:
    """Today's figures per (site, agent).

    The first response of each conversation and whether a bot wrote in it come, with
    ``merge`` (PostgreSQL), from one pass over the recent agents' and bots' messages in the
    order of the (sender, conversation_id, sent_at) index (the first agent message of each
    conversation kept as it comes, ``DISTINCT ON``, rather than aggregated), merged with
    today's conversations in id order: a correlated lookup per conversation costs
    PostgreSQL more, and in the aggregates it would sort 300 000 rows to group them instead
    of hashing. SQLite and MariaDB, which would materialise and index those groups, look
    each conversation up in the same index instead.
    """
    paid = (  # sales per recent conversation; the join below keeps today's
        select(transactions.c.conversation_id, func.count().label("transactions"))
        .where(transactions.c.conversation_id >= first_id)
        .group_by(transactions.c.conversation_id)
        .subquery("paid")
    )
    if merge:
        today = conversations_today.cte("today")
        replies = (
            select(messages.c.conversation_id, messages.c.sent_at.label("first_reply"))
            .ext(distinct_on(messages.c.conversation_id))
            .where(messages.c.sender == "agent", messages.c.conversation_id >= first_id)
            .order_by(messages.c.conversation_id, messages.c.sent_at)
            .subquery("replies")
        )
        bots = (
            select(messages.c.conversation_id)
            .where(messages.c.sender == "bot", messages.c.conversation_id >= first_id)
            .group_by(messages.c.conversation_id)
            .subquery("bots")
        )
        started, reply = today.c.started_at, replies.c.first_reply
        wait: ColumnElement[Any] = _wait(started, reply)
        # Summed exactly (a reply dated before the start waited from itself: 0 s), so that the
        # last digits do not depend on the order of the plan's rows.
        waited: ColumnElement[Any] = seconds_sum(
            case((reply < started, reply), else_=started), reply
        )
        # The wait is NULL exactly when there is no reply: counted without computing it.
        answered: ColumnElement[Any] = reply
        no_bot: ColumnElement[bool] = bots.c.conversation_id.is_(None)
        joined = (
            today.outerjoin(paid, paid.c.conversation_id == today.c.id)
            .outerjoin(replies, replies.c.conversation_id == today.c.id)
            .outerjoin(bots, bots.c.conversation_id == today.c.id)
        )
    else:
        # One lookup per conversation, kept in a materialised table where the database knows
        # the word (SQLite): inlined, each use of the wait below would look it up again.
        first_reply = func.min(messages.c.sent_at)
        lookup = (
            select(_wait(conversations.c.started_at, first_reply))
            .where(messages.c.sender == "agent", messages.c.conversation_id == conversations.c.id)
            .scalar_subquery()
        )
        today = (
            conversations_today.add_columns(lookup.label("wait"))
            .cte("today")
            .prefix_with("MATERIALIZED", dialect="sqlite")
        )
        wait = answered = today.c.wait
        waited = func.sum(wait)
        # Looked up only for the ended conversations no agent answered (CASE short-circuits).
        no_bot = ~exists().where(
            messages.c.sender == "bot", messages.c.conversation_id == today.c.id
        )
        joined = today.outerjoin(paid, paid.c.conversation_id == today.c.id)
    abandoned = and_(today.c.ended_at.is_not(None), answered.is_(None), no_bot)
    return (
        select(
            *with_site_totals(
                (today.c.site_id, today.c.agent_id),
                (today.c.site_id,),
                {  # in the order of Day's fields
                    "conversations": func.count(),
                    "ended": func.count(today.c.ended_at),
                    "handling_seconds": cast(
                        func.coalesce(seconds_sum(today.c.started_at, today.c.ended_at), 0), Float
                    ),
                    "converted": func.count(paid.c.conversation_id),
                    "transactions": whole(func.coalesce(func.sum(paid.c.transactions), 0)),
                    "answered": func.count(answered),
                    "first_response_seconds": cast(func.coalesce(waited, 0), Float),
                    "answered_in_target": whole(
                        func.sum(case((wait <= today.c.service_level, 1), else_=0))
                    ),
                    "abandoned": whole(func.sum(case((abandoned, 1), else_=0))),
                },
            )
        )
        .select_from(joined)
        .group_by(today.c.site_id, today.c.agent_id)
    )


def _wait(started: ColumnElement[datetime], first_reply: ColumnElement[Any]) -> ColumnElement[Any]:
    """Seconds from the start to the first response (NULL: none); an agent's message dated
    before its conversation started is an immediate answer."""
    return case(
        (first_reply < started, 0.0),
        else_=float_seconds_between(started, first_reply),
    )


def _turnover_query(conversations_today: Select[Any], first_id: int) -> Select[Any]:
    today = conversations_today.cte("today")
    return (
        select(
            *with_site_totals(
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
            *with_site_totals(
                (today.c.site_id, today.c.agent_id, satisfaction_ratings.c.criterion),
                (today.c.site_id, satisfaction_ratings.c.criterion),
                {  # in the order of Ratings' fields
                    "score": whole(func.sum(score)),
                    "good": whole(func.sum(case((score >= good_min, 1), else_=0))),
                    "average": whole(
                        func.sum(case((and_(score > poor_max, score < good_min), 1), else_=0))
                    ),
                    "poor": whole(func.sum(case((score <= poor_max, 1), else_=0))),
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
    conversation's messages through the (conversation_id, sent_at) index. PostgreSQL
    materialises the open conversations and then their waits, so that each lookup runs once
    per conversation: inlined, each use of its result repeated the lookup (six instead of
    two at the largest benchmark size).
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
        .cte("open_conversations")
        .prefix_with("MATERIALIZED", dialect="postgresql")
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
    live = (
        select(
            open_.c.id,
            open_.c.site_id,
            open_.c.agent_id,
            open_.c.channel,
            open_.c.started_at,
            first_unanswered.label("waiting_since"),
        )
        .cte("live")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
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
            live.c.agent_id.is_(None).label("waiting"),
            live.c.channel,
            # Per (site, channel), apart for the queue: active, or waiting when agent is NULL.
            whole(
                func.sum(count).over(partition_by=(live.c.site_id, live.c.channel, assigned))
            ).label("site_channel"),
            whole(func.sum(handling_sum).over(partition_by=live.c.site_id)).label("site_handling"),
            whole(func.sum(response_sum).over(partition_by=live.c.site_id)).label("site_response"),
            whole(func.sum(count).over(partition_by=by_agent)).label("agent_active"),
            whole(func.sum(handling_sum).over(partition_by=by_agent)).label("agent_handling"),
            whole(func.sum(response_sum).over(partition_by=by_agent)).label("agent_response"),
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
