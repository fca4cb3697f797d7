"""The rows a source reads for one collection: the contract between sources and assembly.

A source only reads; ``exporter.assembly`` turns these rows into the Snapshot, the same way for
every schema. Rows are read by column name; each field below lists its columns. Sums come
with their site totals (``site_<name>``) computed by the database, and no row set holds more
than one row per (site, agent, label value).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from exporter.days import SiteDay

Rows = Sequence[Row[Any]]


@dataclass(frozen=True, slots=True)
class Readings:
    """One collection's rows.

    - ``sites``: the sites to publish, with their day and thresholds.
    - ``agents``: ``scope, agent_id, name, status, slots, active_all_sites``, one row per agent
      of a scope (``SiteDay.scope``): the reference schema has one scope for all sites,
      Chatwoot one per inbox. ``status`` is NULL for a disconnected agent. Bots are not here.
    - ``statuses``: ``site_id, is_bot, status, agents, slots, free``: connected agents and bots
      assigned to the site, by status, with the capacity and free slots of each group.
    - ``connected``: ``site_id, agent_id``: connected agents assigned to the site.
    - ``presence``: ``agent_id, day, seconds``: presence within the day starting at
      ``presence_days[day]``.
    - ``status_times``: ``agent_id, day, status, seconds``: the same, per status.
    - ``sessions``: ``agent_id, status_since, reason``: when the current status of each
      connected agent started (naive UTC) and its reason (NULL: none given).
    - ``days``: ``site_id, agent_id, conversations, ended, handling_seconds, converted,
      transactions, answered, first_response_seconds, answered_in_target, abandoned`` and
      ``site_`` + each: today's figures per agent (NULL: nobody's).
    - ``turnover``: ``site_id, agent_id, currency, amount, site_amount``.
    - ``ratings``: ``site_id, agent_id, criterion, score, good, average, poor`` and ``site_`` +
      each.
    - ``live``: ``site_id, agent_id, waiting, channel, site_channel, site_handling,
      site_response, agent_active, agent_handling, agent_response, oldest_seconds``: open
      conversations per (site, agent, queue or not, channel). ``site_channel`` counts the
      site's rows of the same channel and kind (queue or in progress); ``oldest_seconds`` is
      the longest wait of the site's queue, on queue rows.
    - ``objectives``: ``name, site_id, agent_id, metric, target, currency`` (site_id NULL: every
      site); the configured objectives are added by assembly.

    With ``privacy.agent_names`` false, ``agents.name`` holds the agent's id as text; with
    ``privacy.per_agent`` false, ``agents``, ``connected``, ``presence``, ``status_times`` and
    ``sessions`` stay empty (their statements are not run).
    """

    taken_at: datetime
    sites: tuple[SiteDay, ...]
    agents: Rows = ()
    statuses: Rows = ()
    connected: Rows = ()
    presence_days: tuple[datetime, ...] = ()
    presence: Rows = ()
    status_times: Rows = ()
    sessions: Rows = ()
    days: Rows = ()
    turnover: Rows = ()
    ratings: Rows = ()
    live: Rows = ()
    objectives: Rows = ()
