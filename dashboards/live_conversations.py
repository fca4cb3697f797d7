"""The "Live conversations" drill-down: the conversations in progress, read from the database.

Prometheus holds counts; which conversation is late, and with whom, is only in the chat
database. This dashboard reads it through the provisioned read-only PostgreSQL data source.
Variables reach the SQL only through Grafana's ``sqlstring`` format (each value quoted, quotes
doubled, values joined by commas), never raw. The SQL is kept here as constants so that the
tests run it against a real PostgreSQL server.
"""

from grafana_foundation_sdk.builders import dashboard, stat, table
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import (
    BLUE,
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

SITES_SQL = "SELECT name FROM sites ORDER BY name"
AGENTS_SQL = (
    "SELECT name AS __text, CAST(id AS text) AS __value FROM agents WHERE NOT is_bot ORDER BY name"
)

# Conversations in progress (an agent, not ended) of the selected sites and agents. Timestamps
# are naive UTC, so "now" is the database's clock in UTC. The wait for a reply runs from the
# earliest visitor message that no agent or bot message answered (one sent at the same instant
# or later); none means answered. Signals follow the exporter's definitions: strictly longer
# than the site's threshold, or the default threshold when the site has none.
CONVERSATIONS_SQL = f"""\
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
signaled AS (
  SELECT
    in_progress.*,
    CASE WHEN duration > max_handling THEN 1 ELSE 0 END AS handling_signal,
    CASE WHEN wait > max_response THEN 1 ELSE 0 END AS response_signal
  FROM in_progress
)
SELECT
  id AS conversation,
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

# Column of the query, display name, unit, in display order (a timestamp column is shown as
# a date in the dashboard's time zone whatever its unit).
COLUMNS = (
    ("conversation", "Conversation", "none"),
    ("site", "Site", "none"),
    ("agent", "Agent", "none"),
    ("channel", "Channel", "none"),
    ("started_at", "Started at", "none"),
    ("duration_seconds", "Duration", "s"),
    ("wait_seconds", "Wait for reply", "s"),
    ("handling_signal", "Handling signal", "none"),
    ("response_signal", "Response signal", "none"),
)
SIGNAL_COLUMNS = ("Handling signal", "Response signal")
SIGNAL_MAPPING = {1: ("Triggered", RED), 0: ("No", TRANSPARENT)}

THRESHOLDS_NOTE = (
    "Signals use each site's own thresholds, or the exporter's defaults (handling "
    f"{DEFAULT_MAX_HANDLING_SECONDS // 60} min, response {DEFAULT_MAX_RESPONSE_SECONDS} s) when it "
    "has none; a different signals setting in the exporter's configuration is not visible here."
)


def site_variable() -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable("site")
        .label("Site")
        .description("The sites whose conversations are listed.")
        .datasource(DATABASE)
        .query(SITES_SQL)
        .definition(SITES_SQL)
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .multi(True)
        .include_all(True)
        .current(model.VariableOption(text=["All"], value=["$__all"]))
    )


def agent_variable() -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable("agent")
        .label("Agent")
        .description("The agents whose conversations are listed (bots are not agents).")
        .datasource(DATABASE)
        .query(AGENTS_SQL)
        .definition(AGENTS_SQL)
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .multi(True)
        .include_all(True)
        .current(model.VariableOption(text=["All"], value=["$__all"]))
    )


def count_panel() -> stat.Panel:
    return (
        stat.Panel()
        .title("In progress now")
        .description(
            "How many conversations of the selected sites and agents are in progress now "
            "(bots' conversations are not counted)."
        )
        .datasource(DATABASE)
        .unit("short")
        .span(4)
        .height(10)
        .no_value("0")
        .color_scheme(one_colour(BLUE))
        .reduce_options(last_value("/^conversation$/").calcs(["count"]))
        .graph_mode(common.BigValueGraphMode.NONE)
        .with_target(SqlQuery("A", CONVERSATIONS_SQL))
    )


def conversations_table() -> table.Panel:
    panel = (
        table.Panel()
        .title("Conversations in progress")
        .description(
            "The conversations in progress of the selected sites and agents (bots' conversations "
            "are not listed), those with a triggered signal first: how long each has lasted, how "
            "long the visitor has waited for a reply (blank when answered), and its signals. "
            + THRESHOLDS_NOTE
        )
        .datasource(DATABASE)
        .unit("none")
        .span(20)
        .height(10)
        .with_target(SqlQuery("A", CONVERSATIONS_SQL))
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


def build() -> dashboard.Dashboard:
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
        .with_variable(site_variable())
        .with_variable(agent_variable())
        .with_panel(count_panel())
        .with_panel(conversations_table())
    )
