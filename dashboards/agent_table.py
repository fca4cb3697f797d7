"""The agent table of the supervision dashboard: one row per connected agent and site.

Each column is an instant query in table format, reduced to exactly the labels site,
agent_id and agent, so that Grafana's ``merge`` transformation joins the results into one
row per (site, agent): it joins on the fields every result has, and a field only one result
has, such as the status reason's label, fills that column of the row. ``organize`` then
names and orders the columns, and ``filterByValue`` keeps the connected agents: those with a
status (an agent listed only for today's conversations has no status series).

Where a schema keeps no status history (Chatwoot), the time in status comes from Prometheus'
own record of ``chat_agent_status``: each such column is ``exact or recorded``, so that the
exporter's figure wins wherever it is published.
"""

from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import (
    BLUE,
    CLOCK,
    LIVE_CONVERSATIONS_URL,
    PROMETHEUS,
    RED,
    STATUS_COLOURS,
    TRANSPARENT,
    by_thresholds,
    coloured_background,
    data_link,
    organize,
    prop,
    satisfaction_thresholds,
    selector,
    table_target,
    thresholds,
    value_mappings,
)
from mixin.settings import Settings

TITLE = "Agents"
MIN_COLUMN_WIDTH = 80
LABELS = "site, agent_id, agent"
# The status as a number, so that it merges like the other columns; shown through mappings.
STATUS_CODES = {
    1: ("Available", STATUS_COLOURS["available"]),
    2: ("Busy", STATUS_COLOURS["busy"]),
    3: ("Unavailable", STATUS_COLOURS["unavailable"]),
    0: ("Other", BLUE),
}
DRILL_DOWN_URL = (
    LIVE_CONVERSATIONS_URL
    + "?var-site=${__data.fields.site}&var-agent=${__data.fields.agent_id}&${__url_time_range}"
)


@dataclass(frozen=True)
class Column:
    """One column: its query's refId, display name, PromQL and field overrides.

    A column shows its query's value, or with ``label`` that label of the query's series
    (its value field then dropped, unless another column of the same query shows it).
    """

    ref_id: str
    name: str
    expr: str
    properties: tuple[model.DynamicConfigValue, ...] = ()
    label: str = ""

    @property
    def value(self) -> str:
        """The name Grafana gives the value field of this query's table."""
        return f"Value #{self.ref_id}"

    @property
    def field(self) -> str:
        """The field shown in the column."""
        return self.label or self.value


def per_agent(expr: str, aggregation: str = "max", labels: str = LABELS) -> str:
    """``expr`` with exactly the labels site, agent_id and agent (or ``labels``), so that rows
    merge."""
    return f"{aggregation} by ({labels}) ({expr})"


def status_code(settings: Settings) -> str:
    """The agent's status as 1, 2 or 3 (0 for a status outside the contract)."""
    codes = " or ".join(
        "(" + selector(settings, "chat_agent_status", f'status="{status}"') + f" * {code})"
        for code, status in enumerate(STATUS_COLOURS, start=1)
    )
    return per_agent(codes)


def turnover(settings: Settings) -> str:
    """The agent's turnover and its currency, only when all of today's sales are in one
    currency."""
    amounts = selector(settings, "chat_agent_turnover_today")
    return (
        f"{per_agent(amounts, 'sum', f'{LABELS}, currency')} and on (site, agent_id) "
        f"(count by (site, agent_id) ({amounts}) == 1)"
    )


def _raw(settings: Settings, metric: str) -> str:
    return per_agent(selector(settings, metric))


def in_status_for(settings: Settings) -> str:
    """Seconds since the current status started: the exporter's time, else the time
    Prometheus first saw that status (a recording rule, within a scrape and an evaluation)."""
    exact = per_agent("time() - " + selector(settings, "chat_agent_status_since_timestamp_seconds"))
    seen = per_agent(
        "time() - " + selector(settings, "site_agent_status:chat_agent_status_since:timestamp")
    )
    return f"{exact} or {seen}"


def status_today(settings: Settings, status: str) -> str:
    """Seconds in ``status`` today: the exporter's figure, else the minutes Prometheus
    recorded the agent in that status over the dashboard's time range (today by default),
    times 60."""
    exact = per_agent(selector(settings, "chat_agent_status_seconds_today", f'status="{status}"'))
    recorded = selector(settings, "chat_agent_status", f'status="{status}"') + "[$__range:1m]"
    return f"{exact} or {per_agent(f'sum_over_time({recorded}) * 60')}"


def columns(settings: Settings) -> tuple[Column, ...]:
    """The columns in display order, after Site and Agent."""
    return (
        Column(
            "A",
            "Status",
            status_code(settings),
            (
                prop("unit", "none"),
                prop("mappings", value_mappings(STATUS_CODES)),
                prop("custom.cellOptions", coloured_background()),
            ),
        ),
        Column(
            "M",
            "Reason",
            per_agent(selector(settings, "chat_agent_status_reason"), labels=f"{LABELS}, reason"),
            label="reason",
        ),
        Column("N", "In status for", in_status_for(settings), (prop("unit", CLOCK),)),
        Column(
            "B",
            "Presence",
            _raw(settings, "chat_agent_presence_seconds_today"),
            (prop("unit", CLOCK),),
        ),
        Column("O", "Available today", status_today(settings, "available"), (prop("unit", CLOCK),)),
        Column("P", "Busy today", status_today(settings, "busy"), (prop("unit", CLOCK),)),
        Column("C", "Contacts", _raw(settings, "chat_agent_conversations_today")),
        Column(
            "D",
            "AHT",
            _raw(settings, "site_agent:chat_handling_time_seconds:avg_today"),
            (prop("unit", CLOCK),),
        ),
        Column(
            "E",
            "Contacts/H",
            _raw(settings, "site_agent:chat_conversations_per_hour:today"),
            (prop("decimals", 1),),
        ),
        # An amount of money: every digit and the cents ("short" would show 1.23 K), then
        # the currency, which may differ from site to site.
        Column("F", "T/O", turnover(settings), (prop("unit", "none"), prop("decimals", 2))),
        Column("F", "Currency", turnover(settings), label="currency"),
        Column(
            "G",
            "Conv. rate",
            _raw(settings, "site_agent:chat_conversion:ratio_today"),
            (prop("unit", "percentunit"), prop("decimals", 0)),
        ),
        Column("H", "Transactions", _raw(settings, "chat_agent_transactions_today")),
        Column(
            "I",
            "Satisfaction",
            _raw(settings, "site_agent:chat_satisfaction_score:avg_today"),
            (
                prop("unit", "none"),
                prop("decimals", 2),
                prop("min", 1),
                prop("max", 5),
                prop("thresholds", satisfaction_thresholds(settings).build()),
                prop("color", by_thresholds().build()),
                # Its own background, not coloured text: on a row turned red by a signal,
                # green or orange text on red could not be read.
                prop("custom.cellOptions", coloured_background()),
            ),
        ),
        Column("J", "In progress (this site)", _raw(settings, "chat_agent_conversations_active")),
        Column("K", "All sites", _raw(settings, "chat_agent_conversations_active_all_sites")),
        Column(
            "L",
            "Signals",
            per_agent(selector(settings, "chat_agent_signals"), "sum"),
            (
                prop("thresholds", thresholds(TRANSPARENT, (1, RED)).build()),
                prop("color", by_thresholds().build()),
                prop("custom.cellOptions", coloured_background(apply_to_row=True)),
            ),
        ),
    )


DESCRIPTION = (
    "One row per connected agent and site: the status, its reason (break, lunch...) and for "
    "how long the agent has been in it; then today's figures on that site: presence and the "
    "time available and busy within it, "
    "contacts, average handling time (AHT), contacts per hour of presence, turnover (T/O, in "
    "the site's currency; blank when the agent sold in several currencies), conversion rate, "
    "transactions and average satisfaction (1 to 5, coloured like the satisfaction panels); "
    "then conversations in progress on this site and on all sites, and conversations with a "
    "triggered signal (the row turns red). Click an agent to see its live conversations. "
    "On Chatwoot, which records no sales, presence nor status history, those columns stay "
    "empty, but for the time in status, taken from Prometheus' own record: In status for "
    "counts from when Prometheus first saw the status (within about 30 s); Available today "
    "and Busy today are the minutes Prometheus saw the agent in each status over the "
    "dashboard's time range (today by default), accurate to about a minute per change of "
    "status."
)


def panel(settings: Settings) -> table.Panel:
    shown = columns(settings)
    agents = (
        table.Panel()
        .title(TITLE)
        .description(DESCRIPTION)
        .datasource(PROMETHEUS)
        .unit("short")
        # Grafana gives a column 150 px at least: the 19 columns would need 2 850 px and
        # scroll out of sight on a 1 920 px wallboard; at 80 px they fit in 1 520.
        .min_width(MIN_COLUMN_WIDTH)
        .span(24)
        .height(12)
        .cell_height(common.TableCellHeight.SM)
        .sort_by([common_builders.TableSortByFieldState().display_name("Signals").desc(True)])
    )
    queries = {column.ref_id: column.expr for column in shown}
    for ref_id, expr in queries.items():
        agents = agents.with_target(table_target(ref_id, expr))
    label_only = {column.value for column in shown if column.label} - {
        column.value for column in shown if not column.label
    }
    agents = (
        agents.with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(
            organize(
                [("site", "Site"), ("agent", "Agent")]
                + [(column.field, column.name) for column in shown],
                excluded=["Time", *sorted(label_only)],
                kept=["agent_id"],
            )
        )
        .with_transformation(
            model.DataTransformerConfig(
                id_val="filterByValue",
                options={
                    "filters": [
                        {"config": {"id": "isNotNull", "options": {}}, "fieldName": "Status"}
                    ],
                    "match": "all",
                    "type": "include",
                },
            )
        )
        # Hidden, not excluded: the agent's data link reads it. "Hide in table" of Grafana
        # 12's table panel (the older custom.hidden only works through a migration).
        .override_by_name("agent_id", [prop("custom.hideFrom.viz", True)])
        .override_by_name(
            "Agent",
            [
                prop(
                    "links",
                    [data_link("Live conversations of ${__data.fields.agent}", DRILL_DOWN_URL)],
                )
            ],
        )
    )
    for column in shown:
        if column.properties:
            agents = agents.override_by_name(column.name, list(column.properties))
    # Headers on two lines where they need to: at 80 to 100 px, "Available today" or "In
    # progress (this site)" would lose their first letters.
    return agents.override_by_regexp(".*", [prop("custom.wrapHeaderText", True)])
