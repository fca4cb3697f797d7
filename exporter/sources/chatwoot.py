"""The Chatwoot source: figures from a Chatwoot installation's own PostgreSQL tables, read-only.

A site is an inbox; an agent is a user of the inbox's account, so agent rows are read per inbox
(``SiteDay.scope`` is the inbox id). Live presence is not in SQL but in Redis (see
``chatwoot_presence``); its result enters the statements as arrays, so that every count is
still made by the database. Chatwoot has no created-at index on conversations: one statement
finds the lowest id among today's conversations, and the others read today's rows through
the primary key from there. Definitions: docs/metrics.md, "Definitions on Chatwoot".
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from exporter.database import read_all
from exporter.days import SiteDay, site_day
from exporter.readings import Readings
from exporter.settings import Settings
from exporter.snapshot import DAY_SUMS, RATING_SUMS
from exporter.sources.base import Source, Unavailable
from exporter.sources.chatwoot_presence import read_presence

CRITERION = "overall"
VOICE = "Channel::Voice"
REQUIRED = {
    "inboxes": ("id", "name", "timezone", "account_id", "channel_type", "auto_assignment_config"),
    "inbox_members": ("inbox_id", "user_id"),
    "users": ("id", "name", "display_name"),
    "account_users": ("account_id", "user_id", "availability"),
    "conversations": (
        "id",
        "inbox_id",
        "assignee_id",
        "status",
        "created_at",
        "updated_at",
        "first_reply_created_at",
    ),
    "messages": ("conversation_id", "message_type", "private", "sender_type"),
    "reporting_events": ("id", "name", "value", "conversation_id", "created_at"),
    "csat_survey_responses": ("conversation_id", "rating"),
}

# The sites' day starts, cutoffs and inbox facts, one array per column (see _site_params).
_SITE_DAYS = """site_days AS (
  SELECT * FROM unnest(
    CAST(:site_ids AS int[]), CAST(:account_ids AS int[]), CAST(:channels AS text[]),
    CAST(:inbox_limits AS int[]), CAST(:day_starts AS timestamp[]),
    CAST(:handling_cutoffs AS timestamp[]), CAST(:response_cutoffs AS timestamp[]),
    CAST(:service_levels AS float8[])
  ) AS d(site_id, account_id, channel, inbox_limit, day_start, handling_cutoff, response_cutoff,
         service_level)
)"""

# Connected users per account with their status: from Redis, or the status they chose.
_PRESENCE_FROM_REDIS = """presence AS (
  SELECT * FROM unnest(
    CAST(:presence_accounts AS int[]), CAST(:presence_users AS int[]),
    CAST(:presence_statuses AS text[])
  ) AS p(account_id, user_id, status)
)"""
_PRESENCE_FROM_DATABASE = """presence AS (
  SELECT au.account_id, au.user_id,
         CASE au.availability WHEN 0 THEN 'available' ELSE 'busy' END AS status
  FROM account_users au
  WHERE au.availability IN (0, 2) AND au.account_id = ANY(CAST(:account_ids AS int[]))
)"""

# Open conversations per assignee and inbox, on every inbox of every account.
_LOAD = """load AS (
  SELECT c.inbox_id, c.assignee_id AS user_id, count(*) AS open
  FROM conversations c
  WHERE c.status = 0 AND c.assignee_id IS NOT NULL
  GROUP BY c.inbox_id, c.assignee_id
)"""

_SITES = """
SELECT i.id, i.name, i.timezone, i.account_id, i.channel_type,
       i.auto_assignment_config ->> 'max_assignment_limit' AS max_assignment_limit
FROM inboxes i
WHERE (CAST(:every_account AS boolean) OR i.account_id = ANY(CAST(:accounts AS int[])))
  AND (CAST(:every_site AS boolean) OR i.name = ANY(CAST(:sites AS text[])))
"""

# A lower bound of the ids of today's conversations (exact filters follow); without an index
# on created_at, this is the one pass over the table (docs/performance.md).
_FIRST_ID = """
SELECT min(c.id) FROM conversations c
WHERE c.created_at >= CAST(:earliest AS timestamp) AND c.inbox_id = ANY(CAST(:site_ids AS int[]))
"""


def _slots(capacity: bool) -> str:
    """An agent's limit in an inbox: its capacity policy's, the inbox's, or the default."""
    policy = (
        """(SELECT cl.conversation_limit FROM inbox_capacity_limits cl
            WHERE cl.agent_capacity_policy_id = au.agent_capacity_policy_id
              AND cl.inbox_id = d.site_id),"""
        if capacity
        else ""
    )
    return f"COALESCE({policy} d.inbox_limit, CAST(:default_max_slots AS int))"


def _agents(capacity: bool, presence: str, names: bool) -> str:
    """Users who may be listed on each inbox, if the account knows them: its members, the
    assignees of its open conversations, and those of today's (from the day rows). Without
    ``names``, the user's id stands for its name, and of ``users`` only the id is read."""
    name = "COALESCE(NULLIF(u.display_name, ''), u.name)" if names else "CAST(u.id AS text)"
    return f"""
WITH {_SITE_DAYS}, {presence}, {_LOAD},
candidates AS (
  SELECT m.inbox_id, m.user_id FROM inbox_members m
  JOIN site_days d ON d.site_id = m.inbox_id
  UNION
  SELECT l.inbox_id, l.user_id FROM load l JOIN site_days d ON d.site_id = l.inbox_id
  UNION
  SELECT * FROM unnest(CAST(:today_sites AS int[]), CAST(:today_agents AS int[]))
),
all_sites AS (SELECT user_id, sum(open) AS open FROM load GROUP BY user_id)
SELECT k.inbox_id AS scope, k.user_id AS agent_id, {name} AS name,
       p.status,
       {_slots(capacity)} AS slots,
       CAST(COALESCE(a.open, 0) AS int) AS active_all_sites
FROM candidates k
JOIN site_days d ON d.site_id = k.inbox_id
JOIN account_users au ON au.account_id = d.account_id AND au.user_id = k.user_id
JOIN users u ON u.id = k.user_id
LEFT JOIN presence p ON p.account_id = d.account_id AND p.user_id = k.user_id
LEFT JOIN all_sites a ON a.user_id = k.user_id
"""


def _assigned(capacity: bool, presence: str) -> str:
    """Connected members of each inbox, with their limit and open conversations there."""
    return f"""
WITH {_SITE_DAYS}, {presence}, {_LOAD},
assigned AS (
  SELECT m.inbox_id, m.user_id, p.status, {_slots(capacity)} AS slots,
         COALESCE(l.open, 0) AS open
  FROM inbox_members m
  JOIN site_days d ON d.site_id = m.inbox_id
  JOIN account_users au ON au.account_id = d.account_id AND au.user_id = m.user_id
  JOIN presence p ON p.account_id = d.account_id AND p.user_id = m.user_id
  LEFT JOIN load l ON l.inbox_id = m.inbox_id AND l.user_id = m.user_id
)"""


def _statuses(capacity: bool, presence: str) -> str:
    return f"""{_assigned(capacity, presence)}
SELECT inbox_id AS site_id, false AS is_bot, status, CAST(count(*) AS int) AS agents,
       CAST(sum(slots) AS int) AS slots, CAST(sum(greatest(slots - open, 0)) AS int) AS free
FROM assigned GROUP BY inbox_id, status
"""


def _connected(capacity: bool, presence: str) -> str:
    return f"""{_assigned(capacity, presence)}
SELECT inbox_id AS site_id, user_id AS agent_id FROM assigned
"""


# Today's conversations, through the primary key from the first of them, with how long their
# first response took (an interval; NULL: not answered) and the site's target.
_TODAY = """today AS (
  SELECT c.id, c.inbox_id, c.assignee_id, c.status, c.created_at, c.updated_at,
         CASE WHEN c.first_reply_created_at < c.created_at THEN interval '0'
              ELSE c.first_reply_created_at - c.created_at END AS first_response,
         make_interval(secs => d.service_level) AS service_level
  FROM conversations c JOIN site_days d ON d.site_id = c.inbox_id
  WHERE c.id >= :first_id AND c.created_at >= d.day_start
)"""

# Today's conversations resolved with neither a first reply nor any public outgoing message of
# a user, an agent bot or a Captain assistant, per (inbox, assignee). Read apart from the pass
# over today's conversations, where a subquery would keep PostgreSQL from hashing the groups
# (a sort instead: about 30 ms more at the benchmark's size M); these conversations are few,
# and each is looked up in messages through its conversation_id index.
_ABANDONED = """abandoned AS (
  SELECT c.inbox_id AS site_id, c.assignee_id AS agent_id, count(*) AS abandoned
  FROM conversations c JOIN site_days d ON d.site_id = c.inbox_id
  WHERE c.id >= :first_id AND c.created_at >= d.day_start
    AND c.status = 1 AND c.first_reply_created_at IS NULL
    AND NOT EXISTS (
      SELECT 1 FROM messages m
      WHERE m.conversation_id = c.id AND m.message_type = 1 AND NOT m.private
        AND m.sender_type IN ('User', 'AgentBot', 'Captain::Assistant')
    )
  GROUP BY c.inbox_id, c.assignee_id
)"""


def _kind(name: str) -> str:
    return "float8" if name.endswith("_seconds") else "int"


def _with_site_totals(names: Sequence[str]) -> str:
    """Each sum as its type, and its total over the site as ``site_<name>``."""
    return ", ".join(
        [
            *(f"CAST({name} AS {_kind(name)}) AS {name}" for name in names),
            *(
                f"CAST(sum({name}) OVER (PARTITION BY site_id) AS {_kind(name)}) AS site_{name}"
                for name in names
            ),
        ]
    )


# Today's figures and ratings per (inbox, assignee), in one pass over today's conversations,
# with the abandoned ones counted apart (_ABANDONED).
# A resolution is recorded after its conversation was created, so the resolutions of today's
# conversations are among the events recorded since the earliest day start: Chatwoot's
# (account_id, name, created_at) index reads just those.
_DAYS = f"""
WITH {_SITE_DAYS}, {_TODAY},
resolved AS (
  SELECT DISTINCT ON (e.conversation_id) e.conversation_id, e.value
  FROM reporting_events e
  WHERE e.account_id = ANY(CAST(:account_ids AS int[])) AND e.name = 'conversation_resolved'
    AND e.created_at >= CAST(:earliest AS timestamp)
  ORDER BY e.conversation_id, e.created_at DESC, e.id DESC
),
rated AS (
  SELECT r.conversation_id, sum(r.rating) AS score,
         count(*) FILTER (WHERE r.rating >= :good_min) AS good,
         count(*) FILTER (WHERE r.rating > :poor_max AND r.rating < :good_min) AS average,
         count(*) FILTER (WHERE r.rating <= :poor_max) AS poor
  FROM csat_survey_responses r
  WHERE r.conversation_id >= :first_id
  GROUP BY r.conversation_id
),
sums AS (
  SELECT t.inbox_id AS site_id, t.assignee_id AS agent_id,
         count(*) AS conversations,
         count(*) FILTER (WHERE t.status = 1) AS ended,
         COALESCE(sum(COALESCE(e.value, EXTRACT(EPOCH FROM t.updated_at - t.created_at)))
                  FILTER (WHERE t.status = 1), 0) AS handling_seconds,
         0 AS converted, 0 AS transactions,
         count(t.first_response) AS answered,
         COALESCE(date_part('epoch', sum(t.first_response)), 0) AS first_response_seconds,
         count(*) FILTER (WHERE t.first_response <= t.service_level) AS answered_in_target,
         COALESCE(sum(q.score), 0) AS score, COALESCE(sum(q.good), 0) AS good,
         COALESCE(sum(q.average), 0) AS average, COALESCE(sum(q.poor), 0) AS poor
  FROM today t
  LEFT JOIN resolved e ON e.conversation_id = t.id
  LEFT JOIN rated q ON q.conversation_id = t.id
  GROUP BY t.inbox_id, t.assignee_id
),
{_ABANDONED},
figures AS (
  SELECT s.*, COALESCE(a.abandoned, 0) AS abandoned
  FROM sums s
  LEFT JOIN abandoned a ON a.site_id = s.site_id AND a.agent_id IS NOT DISTINCT FROM s.agent_id
)
SELECT site_id, agent_id, '{CRITERION}' AS criterion,
       {_with_site_totals((*DAY_SUMS, *RATING_SUMS))}
FROM figures
"""


def _live(waiting_since: bool) -> str:
    """Open and pending conversations per (inbox, assignee, queue or not): pending ones are a
    bot's, in progress for the site but nobody's; open ones without an assignee wait."""
    since = "c.waiting_since" if waiting_since else "CAST(NULL AS timestamp)"
    return f"""
WITH {_SITE_DAYS},
live AS (
  SELECT c.inbox_id AS site_id, CASE WHEN c.status = 0 THEN c.assignee_id END AS agent_id,
         c.status = 0 AND c.assignee_id IS NULL AS waiting, d.channel,
         c.created_at, {since} AS waiting_since,
         CASE WHEN (c.status = 2 OR c.assignee_id IS NOT NULL)
                   AND c.created_at < d.handling_cutoff THEN 1 ELSE 0 END AS handling,
         CASE WHEN c.status = 0 AND c.assignee_id IS NOT NULL
                   AND {since} < d.response_cutoff THEN 1 ELSE 0 END AS response
  FROM conversations c JOIN site_days d ON d.site_id = c.inbox_id
  WHERE c.status IN (0, 2)
)
SELECT site_id, agent_id, waiting, channel,
  CAST(sum(count(*)) OVER (PARTITION BY site_id, channel, waiting) AS int) AS site_channel,
  CAST(sum(sum(handling)) OVER (PARTITION BY site_id) AS int) AS site_handling,
  CAST(sum(sum(response)) OVER (PARTITION BY site_id) AS int) AS site_response,
  CAST(count(*) AS int) AS agent_active,
  CAST(sum(handling) AS int) AS agent_handling,
  CAST(sum(response) AS int) AS agent_response,
  CAST(EXTRACT(EPOCH FROM CAST(:now AS timestamp) - min(COALESCE(waiting_since, created_at)))
       AS float8) AS oldest_seconds
FROM live
GROUP BY site_id, agent_id, waiting, channel
"""


# Columns and tables that older Chatwoot releases lack (or that the role may not read).
_OPTIONAL = """
SELECT
  EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('conversations')
          AND attname = 'waiting_since' AND NOT attisdropped) AS waiting_since,
  EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('account_users')
          AND attname = 'agent_capacity_policy_id' AND NOT attisdropped)
    AND COALESCE(has_table_privilege(to_regclass('inbox_capacity_limits'), 'SELECT'), false)
    AS capacity
"""


class ChatwootSource(Source):
    """A Chatwoot database (release 4.x), and optionally its Redis for live presence.

    Chatwoot records no sales and no history of agents' statuses: those families are not
    published. Its CSAT has one criterion, ``overall``.
    """

    capabilities = frozenset()
    criteria = (CRITERION,)
    required = REQUIRED
    hint = "is this a Chatwoot database? see README.md, Supervising Chatwoot"

    async def read(self, connection: AsyncConnection, now: datetime) -> Readings:
        settings = self.settings
        chatwoot = settings.chatwoot
        selection = {
            "every_account": not chatwoot.accounts,
            "accounts": list(chatwoot.accounts),
            "every_site": not settings.sites,
            "sites": list(settings.sites),
        }
        inboxes = (await connection.execute(text(_SITES), selection)).all()
        if not inboxes:
            return Readings(taken_at=now, sites=())
        sites = _site_days(inboxes, now, settings)
        optional = (await connection.execute(text(_OPTIONAL))).one()
        params: dict[str, Any] = {
            **_site_params(sites, inboxes),
            "now": now.astimezone(UTC).replace(tzinfo=None),
            "earliest": min(day.day_start for day in sites),
            "default_max_slots": chatwoot.default_max_slots,
            "good_min": settings.good_min,
            "poor_max": settings.poor_max,
        }
        presence = _PRESENCE_FROM_DATABASE
        if chatwoot.redis_url is not None:
            accounts = sorted({row.account_id for row in inboxes})
            params.update(_presence_params(await read_presence(chatwoot, accounts, now)))
            presence = _PRESENCE_FROM_REDIS
        params["first_id"] = await connection.scalar(text(_FIRST_ID), params)
        queries = {"days": text(_DAYS)} if params["first_id"] is not None else {}
        queries["live"] = text(_live(optional.waiting_since))
        queries["statuses"] = text(_statuses(optional.capacity, presence))
        site_rows = await read_all(connection, queries, params)
        days = site_rows.get("days", ())
        site_readings = Readings(
            taken_at=now,
            sites=sites,
            statuses=site_rows["statuses"],
            days=days,
            # The same rows: one criterion, and a row without ratings adds only zeros.
            ratings=days,
            live=site_rows["live"],
        )
        if not settings.per_agent:
            return site_readings
        # The agents' statement adds the agents of today's rows, read first.
        assigned_today = [row for row in days if row.agent_id is not None]
        params["today_sites"] = [row.site_id for row in assigned_today]
        params["today_agents"] = [row.agent_id for row in assigned_today]
        agent_queries = {
            "agents": text(_agents(optional.capacity, presence, settings.agent_names)),
            "connected": text(_connected(optional.capacity, presence)),
        }
        agent_rows = await read_all(connection, agent_queries, params)
        return replace(
            site_readings, agents=agent_rows["agents"], connected=agent_rows["connected"]
        )

    async def missing(self, connection: AsyncConnection) -> list[str]:
        lacking = await super().missing(connection)
        chatwoot = self.settings.chatwoot
        if lacking or chatwoot.redis_url is None:
            return lacking
        accounts = await connection.scalars(text("SELECT DISTINCT account_id FROM inboxes"))
        try:
            await read_presence(chatwoot, list(accounts), datetime.now(UTC))
        except Unavailable as error:
            return [str(error)]
        return []


def _site_days(
    inboxes: Sequence[Row[Any]], now: datetime, settings: Settings
) -> tuple[SiteDay, ...]:
    """One SiteDay per inbox; inboxes sharing a name are told apart by their id."""
    names = Counter(row.name for row in inboxes)
    return tuple(
        site_day(
            row.id,
            row.name if names[row.name] == 1 else f"{row.name} #{row.id}",
            row.timezone,
            now,
            settings,
            scope=row.id,
        )
        for row in inboxes
    )


def _inbox_limit(value: str | None) -> int | None:
    """``max_assignment_limit`` when it is a positive whole number, else None."""
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    return int(value) or None


def _site_params(days: Sequence[SiteDay], inboxes: Sequence[Row[Any]]) -> dict[str, list[Any]]:
    by_id = {row.id: row for row in inboxes}
    return {
        "site_ids": [day.site_id for day in days],
        "account_ids": [by_id[day.site_id].account_id for day in days],
        "channels": [
            "call" if by_id[day.site_id].channel_type == VOICE else "chat" for day in days
        ],
        "inbox_limits": [_inbox_limit(by_id[day.site_id].max_assignment_limit) for day in days],
        "day_starts": [day.day_start for day in days],
        "handling_cutoffs": [day.handling_cutoff for day in days],
        "response_cutoffs": [day.response_cutoff for day in days],
        "service_levels": [day.service_level_seconds for day in days],
    }


def _presence_params(presence: Mapping[tuple[int, int], str]) -> dict[str, list[Any]]:
    keys = sorted(presence)
    return {
        "presence_accounts": [account for account, _user in keys],
        "presence_users": [user for _account, user in keys],
        "presence_statuses": [presence[key] for key in keys],
    }
