"""The "Live conversations" drill-down: the conversations in progress, read from the database.

Prometheus holds counts; which conversation is late, and with whom, is only in the chat
database. This dashboard reads it through the provisioned read-only PostgreSQL data source.
Variables reach the SQL only through Grafana's ``sqlstring`` format (each value quoted, quotes
doubled, values joined by commas), never raw. The dashboard is built once per database schema
the exporter reads (a ``Flavour``: the reference schema, Chatwoot's), the same but for its SQL
and the notes that depend on it. The SQL is kept here as constants so that the tests run it
against a real PostgreSQL server.
"""

from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard, stat, table
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import (
    BLUE,
    CLOCK,
    DATABASE,
    LIVE_CONVERSATIONS_UID,
    RED,
    SUPERVISION_URL,
    TRANSPARENT,
    SqlQuery,
    by_thresholds,
    coloured_background,
    dashboard_base,
    dashboard_link,
    last_value,
    one_colour,
    organize,
    prop,
    thresholds,
    value_mappings,
)

TITLE = "Live conversations"

# The exporter's default thresholds (signals.handling_duration and signals.response_time),
# used when a site has none of its own.
DEFAULT_MAX_HANDLING_SECONDS = 1200
DEFAULT_MAX_RESPONSE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Flavour:
    """What differs between database schemas: the three SQL texts, and the notes of the
    descriptions that depend on them (how bots' conversations and thresholds are seen)."""

    sites_sql: str
    agents_sql: str
    conversations_sql: str
    agents_note: str
    count_note: str
    table_note: str
    thresholds_note: str


def _signaled(conversation: str) -> str:
    """The end of both flavours' conversations SQL: each conversation in progress (a row of
    ``in_progress`` with its thresholds) with its signals, shown by ``conversation``."""
    return f"""\
signaled AS (
  SELECT
    in_progress.*,
    CASE WHEN duration > max_handling THEN 1 ELSE 0 END AS handling_signal,
    CASE WHEN wait > max_response THEN 1 ELSE 0 END AS response_signal
  FROM in_progress
)
SELECT
  {conversation} AS conversation,
  site,
  agent,
  channel,
  started_at,
  CAST(FLOOR(EXTRACT(EPOCH FROM duration)) AS integer) AS duration_seconds,
  CAST(FLOOR(EXTRACT(EPOCH FROM wait)) AS integer) AS wait_seconds,
  handling_signal,
  response_signal
FROM signaled
ORDER BY handling_signal + response_signal DESC, wait DESC NULLS LAST, duration DESC, id
"""


# Conversations in progress (an agent, not ended) of the selected sites and agents. Timestamps
# are naive UTC, so "now" is the database's clock in UTC. The wait for a reply runs from the
# earliest visitor message that no agent or bot message answered (one sent at the same instant
# or later); none means answered. Signals follow the exporter's definitions: strictly longer
# than the site's threshold, or the default threshold when the site has none.
_REFERENCE_CONVERSATIONS = f"""\
WITH clock AS (
  SELECT now() AT TIME ZONE 'UTC' AS now_utc
),
in_progress AS (
  SELECT
    c.id,
    s.name AS site,
    a.name AS agent,
    c.channel,
    c.started_at,
    clock.now_utc - c.started_at AS duration,
    clock.now_utc - (
      SELECT MIN(m.sent_at)
      FROM messages m
      WHERE m.conversation_id = c.id
        AND m.sender = 'visitor'
        AND NOT EXISTS (
          SELECT 1
          FROM messages r
          WHERE r.conversation_id = c.id
            AND r.sender IN ('agent', 'bot')
            AND r.sent_at >= m.sent_at
        )
    ) AS wait,
    COALESCE(s.max_handling_seconds, {DEFAULT_MAX_HANDLING_SECONDS}) * INTERVAL '1 second'
      AS max_handling,
    COALESCE(s.max_response_seconds, {DEFAULT_MAX_RESPONSE_SECONDS}) * INTERVAL '1 second'
      AS max_response
  FROM conversations c
  JOIN sites s ON s.id = c.site_id
  JOIN agents a ON a.id = c.agent_id
  CROSS JOIN clock
  WHERE c.agent_id IS NOT NULL
    AND c.ended_at IS NULL
    AND s.name IN (${{site:sqlstring}})
    AND CAST(c.agent_id AS text) IN (${{agent:sqlstring}})
),
{_signaled("id")}"""

REFERENCE = Flavour(
    sites_sql="SELECT name FROM sites ORDER BY name",
    agents_sql=(
        "SELECT name AS __text, CAST(id AS text) AS __value FROM agents WHERE NOT is_bot "
        "ORDER BY name"
    ),
    conversations_sql=_REFERENCE_CONVERSATIONS,
    agents_note="bots are not agents",
    count_note="bots' conversations are not counted",
    table_note="bots' conversations are not listed",
    thresholds_note=(
        "Signals use each site's own thresholds, or the exporter's defaults (handling "
        f"{DEFAULT_MAX_HANDLING_SECONDS // 60} min, response {DEFAULT_MAX_RESPONSE_SECONDS} s) "
        "when it has none; a different signals setting in the exporter's configuration is not "
        "visible here."
    ),
)

# Chatwoot (docs/metrics.md, "Definitions on Chatwoot"). Each inbox under the exporter's site
# label: its name, or "name #id" when inboxes share the name. The exporter counts the shared
# names among the inboxes it reads, which Grafana cannot know: with chatwoot.accounts or a
# sites allow-list, a name shared only with an inbox left out is plain there, "name #id" here.
_CHATWOOT_SITES = """\
sites AS (
  SELECT
    i.id,
    i.channel_type,
    CASE WHEN count(*) OVER (PARTITION BY i.name) > 1 THEN i.name || ' #' || i.id ELSE i.name END
      AS name
  FROM inboxes i
)"""

# The agent value standing for pending conversations: they are a bot's, nobody's as an agent.
# Users' values are their ids, so it cannot clash with one.
CHATWOOT_BOT = "bot"
CHATWOOT_BOT_TEXT = "Bot (pending)"

# Inbox members, and the assignees of open conversations: with "All" selected, Grafana puts
# every option in the SQL, so an assignee missing from the options would hide conversations.
_CHATWOOT_AGENTS = f"""\
SELECT __text, __value FROM (
  SELECT
    COALESCE(NULLIF(u.display_name, ''), u.name) AS __text,
    CAST(u.id AS text) AS __value,
    0 AS last
  FROM users u
  WHERE u.id IN (SELECT m.user_id FROM inbox_members m)
    OR u.id IN (SELECT c.assignee_id FROM conversations c WHERE c.status = 0)
  UNION ALL
  SELECT '{CHATWOOT_BOT_TEXT}', '{CHATWOOT_BOT}', 1
) options
ORDER BY last, __text, __value
"""

# In progress: open (0) with an assignee, the assignee's, or pending (2), a bot's whatever its
# assignee. The wait for a reply runs from waiting_since (set by a visitor message, cleared by
# a reply: Chatwoot's next-response rule; every 4.x release has the column), on open
# conversations only. Chatwoot holds no thresholds: the signals use the exporter's defaults,
# strictly exceeded. A conversation is shown by its number in Chatwoot's pages (display_id,
# numbered per account: the site tells the account).
_CHATWOOT_CONVERSATIONS = f"""\
WITH clock AS (
  SELECT now() AT TIME ZONE 'UTC' AS now_utc
),
{_CHATWOOT_SITES},
in_progress AS (
  SELECT
    c.id,
    c.display_id,
    s.name AS site,
    CASE WHEN c.status = 0 THEN COALESCE(NULLIF(u.display_name, ''), u.name) END AS agent,
    CASE WHEN s.channel_type = 'Channel::Voice' THEN 'call' ELSE 'chat' END AS channel,
    c.created_at AS started_at,
    clock.now_utc - c.created_at AS duration,
    CASE WHEN c.status = 0 THEN clock.now_utc - c.waiting_since END AS wait,
    {DEFAULT_MAX_HANDLING_SECONDS} * INTERVAL '1 second' AS max_handling,
    {DEFAULT_MAX_RESPONSE_SECONDS} * INTERVAL '1 second' AS max_response
  FROM conversations c
  JOIN sites s ON s.id = c.inbox_id
  LEFT JOIN users u ON u.id = c.assignee_id
  CROSS JOIN clock
  WHERE c.status IN (0, 2)
    AND (c.status = 2 OR c.assignee_id IS NOT NULL)
    AND s.name IN (${{site:sqlstring}})
    AND CASE WHEN c.status = 2 THEN '{CHATWOOT_BOT}' ELSE CAST(c.assignee_id AS text) END
      IN (${{agent:sqlstring}})
),
{_signaled("display_id")}"""

CHATWOOT = Flavour(
    sites_sql=f"WITH {_CHATWOOT_SITES}\nSELECT name FROM sites ORDER BY name\n",
    agents_sql=_CHATWOOT_AGENTS,
    conversations_sql=_CHATWOOT_CONVERSATIONS,
    agents_note=f'the agent "{CHATWOOT_BOT_TEXT}" stands for the pending conversations, a bot\'s',
    count_note=f'pending conversations, a bot\'s, count under the agent "{CHATWOOT_BOT_TEXT}"',
    table_note="pending conversations, a bot's, have no agent",
    thresholds_note=(
        "Signals use the exporter's default thresholds (handling "
        f"{DEFAULT_MAX_HANDLING_SECONDS // 60} min, response {DEFAULT_MAX_RESPONSE_SECONDS} s): "
        "thresholds set in the exporter's configuration, for every site or per site, are not "
        "visible here."
    ),
)


# Column of the query, display name, unit, in display order (a timestamp column is shown as
# a date in the dashboard's time zone whatever its unit).
COLUMNS = (
    ("conversation", "Conversation", "none"),
    ("site", "Site", "none"),
    ("agent", "Agent", "none"),
    ("channel", "Channel", "none"),
    ("started_at", "Started at", "none"),
    ("duration_seconds", "Duration", CLOCK),
    ("wait_seconds", "Wait for reply", CLOCK),
    ("handling_signal", "Handling signal", "none"),
    ("response_signal", "Response signal", "none"),
)
SIGNAL_COLUMNS = ("Handling signal", "Response signal")
SIGNAL_MAPPING = {1: ("Triggered", RED), 0: ("No", TRANSPARENT)}


def site_variable(flavour: Flavour) -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable("site")
        .label("Site")
        .description("The sites whose conversations are listed.")
        .datasource(DATABASE)
        .query(flavour.sites_sql)
        .definition(flavour.sites_sql)
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .multi(True)
        .include_all(True)
        .current(model.VariableOption(text=["All"], value=["$__all"]))
    )


def agent_variable(flavour: Flavour) -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable("agent")
        .label("Agent")
        .description(f"The agents whose conversations are listed ({flavour.agents_note}).")
        .datasource(DATABASE)
        .query(flavour.agents_sql)
        .definition(flavour.agents_sql)
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .multi(True)
        .include_all(True)
        .current(model.VariableOption(text=["All"], value=["$__all"]))
    )


def count_panel(flavour: Flavour) -> stat.Panel:
    return (
        stat.Panel()
        .title("In progress now")
        .description(
            "How many conversations of the selected sites and agents are in progress now "
            f"({flavour.count_note})."
        )
        .datasource(DATABASE)
        .unit("short")
        .span(4)
        .height(10)
        .no_value("0")
        .color_scheme(one_colour(BLUE))
        .reduce_options(last_value("/^conversation$/").calcs(["count"]))
        .graph_mode(common.BigValueGraphMode.NONE)
        .with_target(SqlQuery("A", flavour.conversations_sql))
    )


def conversations_table(flavour: Flavour) -> table.Panel:
    panel = (
        table.Panel()
        .title("Conversations in progress")
        .description(
            f"The conversations in progress of the selected sites and agents ({flavour.table_note}"
            "), those with a triggered signal first: how long each has lasted, how long the "
            "visitor has waited for a reply (blank when answered), and its signals. "
            + flavour.thresholds_note
        )
        .datasource(DATABASE)
        .unit("none")
        .span(20)
        .height(10)
        .with_target(SqlQuery("A", flavour.conversations_sql))
        .with_transformation(organize([(name, title) for name, title, _ in COLUMNS], excluded=()))
    )
    for _, title, unit in COLUMNS:
        if unit != "none":
            panel = panel.override_by_name(title, [prop("unit", unit)])
    for title in SIGNAL_COLUMNS:
        panel = panel.override_by_name(
            title,
            [
                prop("mappings", value_mappings(SIGNAL_MAPPING)),
                prop("thresholds", thresholds(TRANSPARENT, (1, RED)).build()),
                prop("color", by_thresholds().build()),
                prop("custom.cellOptions", coloured_background()),
            ],
        )
    return panel


def build(flavour: Flavour = REFERENCE) -> dashboard.Dashboard:
    """The drill-down, reading a database of ``flavour``'s schema."""
    return (
        dashboard_base(
            LIVE_CONVERSATIONS_UID,
            TITLE,
            "The conversations in progress, read from the chat database: duration, wait for "
            "a reply and signals, per site and agent.",
        )
        .link(
            dashboard_link(
                "Chat supervision",
                SUPERVISION_URL,
                "The supervision of the sites: agents, satisfaction, objectives, visitors.",
            )
        )
        .with_variable(site_variable(flavour))
        .with_variable(agent_variable(flavour))
        .with_panel(count_panel(flavour))
        .with_panel(conversations_table(flavour))
    )
