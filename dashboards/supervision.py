"""The "Chat supervision" dashboard: the supervision page, live, for the selected sites.

Seven rows: online agents, service, satisfaction, objectives, visitors in chat or call,
signals and the agent table. Averages, rates and ratios come from the project's recording rules
(alerts/recording.rules.yml), so Prometheus must load them, as a monitoring mixin expects;
everything else reads the exporter's ``chat_*`` gauges directly. Every query filters on the
``site`` variable and carries the settings' job selector (mixin/settings.py), as the rules do,
and the thresholds the rules judge by colour the panels. Figures of several sites together are
computed from their summed counts: a ratio of sums, never an average of the sites' ratios.
"""

import re

from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards import agent_table
from dashboards.panels import (
    BLUE,
    GREEN,
    LIVE_CONVERSATIONS_URL,
    ORANGE,
    PROMETHEUS,
    PROMETHEUS_UID,
    RED,
    STATUS_COLOURS,
    SUPERVISION_UID,
    TEXT,
    by_thresholds,
    colour_props,
    dashboard_base,
    dashboard_link,
    dashed_overlay,
    fixed_colour,
    last_value,
    legend,
    one_colour,
    organize,
    palette,
    progress_thresholds,
    prop,
    readable_names,
    readable_values,
    satisfaction_thresholds,
    selector,
    table_target,
    target,
    thresholds,
)
from mixin.settings import Settings, in_words, number, seconds

TITLE = "Chat supervision"
LAST_WEEK = "same time last week"
SELECTED = "All selected"


def _stat(title: str, description: str, unit: str, width: int, height: int) -> stat.Panel:
    """A stat panel showing the value now of each series, coloured by thresholds."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .span(width)
        .height(height)
        .reduce_options(last_value())
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.VALUE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .justify_mode(common.BigValueJustifyMode.AUTO)
        .orientation(common.VizOrientation.AUTO)
        .color_scheme(by_thresholds())
    )


def _sum_stat(
    settings: Settings,
    title: str,
    description: str,
    metric: str,
    labels: str,
    *,
    legend_format: str,
    width: int,
    height: int,
) -> stat.Panel:
    """A count now, summed over the selected sites by ``labels``."""
    expr = f"sum by ({labels}) (" + selector(settings, metric) + ")"
    return _stat(title, description, "short", width, height).with_target(
        target("A", expr, legend_format, instant=True)
    )


def _timeseries(
    title: str, description: str, unit: str, width: int, height: int
) -> timeseries.Panel:
    """A time series panel of the day so far, one line per series, legend below."""
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .span(width)
        .height(height)
        .legend(legend())
        .tooltip(
            common_builders.VizTooltipOptions()
            .mode(common.TooltipDisplayMode.MULTI)
            .sort(common.SortOrder.DESCENDING)
        )
        .line_width(2)
        .fill_opacity(10)
        .show_points(common.VisibilityMode.NEVER)
        .color_scheme(palette())
    )


def _status_overrides(panel: stat.Panel | timeseries.Panel) -> None:
    """Fixed colours and capitalised names for the documented statuses."""
    for status, colour in STATUS_COLOURS.items():
        panel.override_by_name(status, colour_props(colour, status.capitalize()))


# 1. Online agents


def agents_by_status(settings: Settings) -> stat.Panel:
    panel = (
        _stat(
            "Agents by status",
            "Connected agents assigned to the selected sites, by current status. An agent "
            "serving a site it is not assigned to is not counted here.",
            "short",
            8,
            7,
        )
        .with_target(
            target(
                "A",
                "sum by (status) (" + selector(settings, "chat_agents") + ")",
                "{{status}}",
                instant=True,
            )
        )
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .color_scheme(palette())
    )
    _status_overrides(panel)
    return panel


def agents_through_the_day(settings: Settings) -> timeseries.Panel:
    panel = (
        _timeseries(
            "Agents online through the day",
            "Connected agents of the selected sites through the day, stacked by status; the "
            "dashed line is the total at the same time last week.",
            "short",
            16,
            7,
        )
        .with_target(
            target("A", "sum by (status) (" + selector(settings, "chat_agents") + ")", "{{status}}")
        )
        .with_target(
            target(
                "B", "sum(" + selector(settings, "chat_agents") + " offset 1w)", f"All, {LAST_WEEK}"
            )
        )
        .stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
        .fill_opacity(40)
        .line_interpolation(common.LineInterpolation.STEP_AFTER)
        .override_by_query("B", dashed_overlay())
    )
    _status_overrides(panel)
    return panel


# 2. Service


def _sum(settings: Settings, metric: str) -> str:
    return "sum(" + selector(settings, metric) + ")"


def _all_selected(
    settings: Settings, numerator: str, denominator: str, counted: str
) -> prometheus.Dataquery:
    """Query B: ``numerator`` / ``denominator``, both sums over the selected sites: a ratio
    of sums, not a mean of the sites' ratios. Only when ``counted`` has several sites: for
    one, it would repeat that site's figure."""
    sites = "count(count by (site) (" + selector(settings, counted) + "))"
    expr = f"{numerator} / ({denominator} > 0) and on () ({sites} > 1)"
    return target("B", expr, SELECTED, instant=True)


def _service_stat(title: str, description: str, unit: str) -> stat.Panel:
    """Each site's figure, then that of all the selected sites together."""
    return _stat(
        title,
        description + " With several sites selected, All selected is their figure together, "
        "from their summed counts.",
        unit,
        8,
        6,
    )


def service_level(settings: Settings) -> stat.Panel:
    """A site's figure is green at or above its own objective and red below: two queries,
    one per side, each with its colour, since Grafana's thresholds are the same for every
    site of a panel. All selected is coloured against the default objective."""
    answered = _sum(settings, "chat_conversations_answered_today")
    abandoned = _sum(settings, "chat_conversations_abandoned_today")
    level = selector(settings, "site:chat_service_level:ratio_today")
    objective = selector(settings, "site:chat_service_level_objective:ratio")
    return (
        _service_stat(
            "Service level",
            "Share of today's conversations first answered by an agent within the site's "
            "target (shown under Speed of answer), out of those answered or abandoned. Green "
            "at or above the site's objective (in blue: its own service_level objective, else "
            f"{settings.service_level_objective:.0%}), red below.",
            "percentunit",
        )
        .decimals(0)
        .thresholds(thresholds(RED, (settings.service_level_objective, GREEN)))
        # Each site's figure, then all selected, then the objectives: Grafana shows them in
        # the order of the queries.
        .with_target(target("A", f"{level} >= {objective}", "{{site}}", instant=True))
        .with_target(target("D", f"{level} < {objective}", "{{site}}", instant=True))
        .with_target(
            _all_selected(
                settings,
                _sum(settings, "chat_conversations_answered_in_target_today"),
                f"({answered} + {abandoned})",
                "chat_conversations_answered_today",
            )
        )
        .with_target(
            target(
                "C",
                selector(settings, "site:chat_service_level_objective:ratio"),
                "{{site}} · objective",
                instant=True,
            )
        )
        .override_by_query("A", [prop("color", fixed_colour(GREEN))])
        .override_by_query("C", [prop("color", fixed_colour(BLUE))])
        .override_by_query("D", [prop("color", fixed_colour(RED))])
    )


def speed_of_answer(settings: Settings) -> stat.Panel:
    return (
        _service_stat(
            "Speed of answer",
            "Average wait of today's answered conversations for their first response from an "
            "agent; in blue each site's service-level target.",
            "s",
        )
        .color_scheme(one_colour(TEXT))
        .with_target(
            target(
                "A",
                selector(settings, "site:chat_first_response_seconds:avg_today"),
                "{{site}}",
                instant=True,
            )
        )
        .with_target(
            _all_selected(
                settings,
                _sum(settings, "chat_first_response_seconds_today"),
                _sum(settings, "chat_conversations_answered_today"),
                "chat_conversations_answered_today",
            )
        )
        .with_target(
            target(
                "C",
                selector(settings, "chat_service_level_target_seconds"),
                "{{site}} · target",
                instant=True,
            )
        )
        .override_by_query("C", [prop("color", fixed_colour(BLUE))])
    )


def abandon_rate(settings: Settings) -> stat.Panel:
    return (
        _service_stat(
            "Abandon rate",
            "Share of today's ended conversations that ended with no reply from any agent or bot.",
            "percentunit",
        )
        .decimals(0)
        .color_scheme(one_colour(TEXT))
        .with_target(
            target(
                "A", selector(settings, "site:chat_abandon:ratio_today"), "{{site}}", instant=True
            )
        )
        .with_target(
            _all_selected(
                settings,
                _sum(settings, "chat_conversations_abandoned_today"),
                _sum(settings, "chat_conversations_ended_today"),
                "chat_conversations_ended_today",
            )
        )
    )


def answered_and_abandoned(settings: Settings) -> timeseries.Panel:
    return (
        _timeseries(
            "Answered and abandoned through the day",
            "Today's conversations of the selected sites answered by an agent, and abandoned "
            "with no reply, so far at each moment.",
            "short",
            12,
            8,
        )
        .with_target(target("A", _sum(settings, "chat_conversations_answered_today"), "Answered"))
        .with_target(target("B", _sum(settings, "chat_conversations_abandoned_today"), "Abandoned"))
        .line_interpolation(common.LineInterpolation.STEP_AFTER)
        .override_by_query("A", [prop("color", fixed_colour(GREEN))])
        .override_by_query("B", [prop("color", fixed_colour(RED))])
    )


def conversations_per_hour(settings: Settings) -> timeseries.Panel:
    started = selector(settings, "site:chat_conversations:last_hour")
    return (
        _timeseries(
            "Conversations per hour",
            "At each moment, the conversations started on the selected sites in the hour "
            "before (in the first hour of a site's day, those since its midnight); the dashed "
            "line is the same figure at the same time last week.",
            "short",
            12,
            8,
        )
        .with_target(target("A", "sum(" + started + ")", "Started in the last hour"))
        .with_target(
            target("B", "sum(" + started + " offset 1w)", f"Started in the last hour, {LAST_WEEK}")
        )
        .override_by_query("B", dashed_overlay())
    )


# 3. Satisfaction


def _satisfaction_bands(settings: Settings) -> str:
    poor, good = number(settings.satisfaction_poor_below), number(settings.satisfaction_good_from)
    return f"Red below {poor} (poor), orange below {good} (average), green from {good} (good)."


def _satisfaction_stat(settings: Settings, title: str, description: str, width: int) -> stat.Panel:
    return (
        _stat(title, description, "none", width, 6)
        .decimals(2)
        .min(1)
        .max(5)
        .thresholds(satisfaction_thresholds(settings))
    )


def average_satisfaction(settings: Settings) -> stat.Panel:
    return _satisfaction_stat(
        settings,
        "Average satisfaction",
        "Average score (1 to 5) of today's ratings of each site's conversations, all criteria "
        "together. " + _satisfaction_bands(settings),
        6,
    ).with_target(
        target(
            "A",
            selector(settings, "site:chat_satisfaction_score:avg_today"),
            "{{site}}",
            instant=True,
        )
    )


def satisfaction_by_criterion(settings: Settings) -> stat.Panel:
    return (
        _satisfaction_stat(
            settings,
            "Satisfaction by criterion",
            "Average score (1 to 5) of today's ratings of each site's conversations for each "
            "criterion (welcome, response time, quality; on Chatwoot a single one, overall). "
            + _satisfaction_bands(settings),
            12,
        )
        .with_target(
            target(
                "A",
                selector(settings, "site_criterion:chat_satisfaction_score:avg_today"),
                "{{site}} · {{criterion}}",
                instant=True,
            )
        )
        .transformations(readable_names())
    )


def share_of_good_ratings(settings: Settings) -> stat.Panel:
    return (
        _stat(
            "Share of good ratings",
            "Share of today's ratings of each site's conversations that are good (a score of 4 "
            "or 5), all criteria together.",
            "percentunit",
            6,
            6,
        )
        .decimals(0)
        .color_scheme(one_colour(BLUE))
        .with_target(
            target(
                "A",
                selector(settings, "site:chat_satisfaction_good:ratio_today"),
                "{{site}}",
                instant=True,
            )
        )
    )


def satisfaction_through_the_day(settings: Settings) -> timeseries.Panel:
    return (
        _timeseries(
            "Satisfaction through the day",
            "Average score (1 to 5) of the day's ratings so far, overall (thick lines) and by "
            "criterion, per site. The background bands: " + _satisfaction_bands(settings),
            "none",
            24,
            8,
        )
        .with_target(
            target(
                "A",
                selector(settings, "site:chat_satisfaction_score:avg_today"),
                "{{site}} · overall",
            )
        )
        .with_target(
            target(
                "B",
                selector(settings, "site_criterion:chat_satisfaction_score:avg_today"),
                "{{site}} · {{criterion}}",
            )
        )
        .transformations(readable_names())
        .decimals(2)
        .min(1)
        .max(5)
        .thresholds(satisfaction_thresholds(settings))
        # Bands only: threshold lines would be drawn in the colours of the series.
        .thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.AREA)
        )
        .fill_opacity(0)
        .override_by_query("A", [prop("custom.lineWidth", 4)])
    )


# 4. Objectives

OBJECTIVE_BAR_HEIGHT = 32
OBJECTIVE_COLOURS = (
    "Red below 50 %, orange below 100 %, green when reached. For handling time, where lower "
    "is better, progress is inverted: target / value."
)


def _objectives(
    settings: Settings, title: str, description: str, matcher: str, legend_format: str
) -> bargauge.Panel:
    return (
        bargauge.Panel()
        .title(title)
        .description(description + " " + OBJECTIVE_COLOURS)
        .datasource(PROMETHEUS)
        .unit("percentunit")
        .decimals(0)
        .min(0)
        .max(1)
        .span(12)
        .height(8)
        .thresholds(progress_thresholds())
        .color_scheme(by_thresholds())
        .reduce_options(last_value())
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.BASIC)
        .value_mode(common.BarGaugeValueMode.COLOR)
        .show_unfilled(True)
        # Bars of a fixed height, however few the objectives (auto sizing stretches one bar
        # over the whole panel).
        .sizing(common.BarGaugeSizing.MANUAL)
        .min_viz_height(OBJECTIVE_BAR_HEIGHT)
        .max_viz_height(OBJECTIVE_BAR_HEIGHT)
        # A lone bar keeps its name: Grafana drops it unless the panel names its fields.
        .display_name(re.sub(r"\{\{(\w+)\}\}", r"${__field.labels.\1}", legend_format))
        .with_target(
            target(
                "A",
                selector(settings, "objective:chat_objective_progress:ratio", matcher),
                legend_format,
                instant=True,
            )
        )
    )


def site_objectives(settings: Settings) -> bargauge.Panel:
    return _objectives(
        settings,
        "Site objectives",
        "Progress of each site objective today: the site's value divided by the target.",
        'agent=""',
        "{{site}} · {{objective}}",
    )


def agent_objectives(settings: Settings) -> bargauge.Panel:
    return _objectives(
        settings,
        "Agent objectives",
        "Progress of each agent objective today on each site: the agent's value divided by the "
        "target.",
        'agent!=""',
        "{{agent}} ({{site}}) · {{objective}}",
    )


# 5. Visitors in chat or call


def in_progress(settings: Settings) -> stat.Panel:
    return _sum_stat(
        settings,
        "In progress",
        "Conversations in progress with an agent or a bot on the selected sites, by channel.",
        "chat_conversations_active",
        "channel",
        legend_format="{{channel}}",
        width=5,
        height=5,
    ).color_scheme(one_colour(BLUE))


def waiting(settings: Settings) -> stat.Panel:
    return _sum_stat(
        settings,
        "Waiting",
        "Visitors waiting in the queue of the selected sites (no agent yet), by channel.",
        "chat_conversations_waiting",
        "channel",
        legend_format="{{channel}}",
        width=5,
        height=5,
    ).thresholds(thresholds(GREEN, (1, ORANGE)))


def oldest_waiting(settings: Settings) -> stat.Panel:
    return (
        _stat(
            "Oldest waiting",
            "How long the longest-waiting visitor in the queue of the selected sites has waited. "
            "Orange from 1 min, red from 5 min: fixed bands, since each site has its own "
            "response threshold.",
            "s",
            4,
            5,
        )
        .thresholds(thresholds(GREEN, (60, ORANGE), (300, RED)))
        .with_target(
            target(
                "A",
                "max(" + selector(settings, "chat_oldest_waiting_seconds") + ")",
                "Oldest",
                instant=True,
            )
        )
    )


def _signal_stat(
    settings: Settings,
    title: str,
    description: str,
    labels: str,
    *,
    legend_format: str,
    width: int,
    height: int,
) -> stat.Panel:
    """Conversations with a triggered signal now, by ``labels``: green at 0, red from 1."""
    return (
        _sum_stat(
            settings,
            title,
            description,
            "chat_conversations_signaled",
            labels,
            legend_format=legend_format,
            width=width,
            height=height,
        )
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .thresholds(thresholds(GREEN, (1, RED)))
        .transformations(readable_names())
    )


def with_a_signal(settings: Settings) -> stat.Panel:
    return _signal_stat(
        settings,
        "With a signal",
        "Conversations in progress on the selected sites whose signal is triggered: handled "
        "for too long, or a visitor waiting too long for a reply. Red from 1.",
        "signal",
        legend_format="{{signal}}",
        width=5,
        height=5,
    )


def free_slots_and_capacity(settings: Settings) -> stat.Panel:
    return (
        _stat(
            "Free slots / capacity",
            "Free conversation slots of the available agents and bots of the selected sites, "
            "next to their total capacity. Free slots turn red at 0.",
            "short",
            5,
            5,
        )
        .thresholds(thresholds(RED, (1, GREEN)))
        .with_target(
            target(
                "A",
                "sum(" + selector(settings, "site:chat_slots_available:sum") + ")",
                "Free",
                instant=True,
            )
        )
        .with_target(
            target(
                "B",
                "sum(" + selector(settings, "site:chat_slots:sum") + ")",
                "Capacity",
                instant=True,
            )
        )
        .override_by_query("B", [prop("color", fixed_colour(BLUE))])
    )


def conversations_through_the_day(settings: Settings) -> timeseries.Panel:
    def by_channel(metric: str, offset: str = "") -> str:
        return "sum by (channel) (" + selector(settings, metric) + offset + ")"

    return (
        _timeseries(
            "Conversations through the day",
            "Conversations in progress and visitors waiting on the selected sites, by channel; "
            "the dashed lines are the same figures at the same time last week.",
            "short",
            12,
            8,
        )
        .with_target(
            target("A", by_channel("chat_conversations_active"), "In progress · {{channel}}")
        )
        .with_target(target("B", by_channel("chat_conversations_waiting"), "Waiting · {{channel}}"))
        .with_target(
            target(
                "C",
                by_channel("chat_conversations_active", " offset 1w"),
                f"In progress · {{{{channel}}}}, {LAST_WEEK}",
            )
        )
        .with_target(
            target(
                "D",
                by_channel("chat_conversations_waiting", " offset 1w"),
                f"Waiting · {{{{channel}}}}, {LAST_WEEK}",
            )
        )
        .line_interpolation(common.LineInterpolation.STEP_AFTER)
        .override_by_query("C", dashed_overlay())
        .override_by_query("D", dashed_overlay())
    )


def free_slots_and_forecast(settings: Settings) -> timeseries.Panel:
    """The forecast is the one ChatSlotsRunningOut judges: as far ahead as it looks back."""
    free = selector(settings, "site:chat_slots_available:sum")
    ahead = settings.slots_forecast
    forecast = f"sum(predict_linear({free}[{ahead}], {number(seconds(ahead))}))"
    return (
        _timeseries(
            "Free slots and forecast",
            "Free slots and capacity of the selected sites through the day. The dashed line is, "
            f"at each moment, the free slots forecast {in_words(ahead)} later from the trend of "
            f"the last {in_words(ahead)}: below 0, slots run out.",
            "short",
            12,
            8,
        )
        .with_target(target("A", "sum(" + free + ")", "Free slots"))
        .with_target(
            target("B", "sum(" + selector(settings, "site:chat_slots:sum") + ")", "Capacity")
        )
        .with_target(target("C", forecast, f"Forecast in {in_words(ahead)}"))
        .line_interpolation(common.LineInterpolation.STEP_AFTER)
        .override_by_query("A", [prop("color", fixed_colour(GREEN))])
        .override_by_query("B", [prop("color", fixed_colour(BLUE)), prop("custom.fillOpacity", 0)])
        .override_by_query("C", dashed_overlay(ORANGE))
    )


# 6. Signals

SIGNALS = (
    "Handling time: a conversation handled for longer than the site's threshold; "
    "response time: a visitor waiting longer than the site's threshold for a reply."
)


def signals_now(settings: Settings) -> stat.Panel:
    return _signal_stat(
        settings,
        "Signals now",
        "Conversations in progress whose signal is triggered, per site and signal. " + SIGNALS,
        "site, signal",
        legend_format="{{site}} · {{signal}}",
        width=6,
        height=8,
    )


def signals_through_the_day(settings: Settings) -> timeseries.Panel:
    return (
        _timeseries(
            "Signals through the day",
            "Conversations in progress with a triggered signal through the day, per site and "
            "signal. " + SIGNALS,
            "short",
            12,
            8,
        )
        .with_target(
            target(
                "A",
                "sum by (site, signal) (" + selector(settings, "chat_conversations_signaled") + ")",
                "{{site}} · {{signal}}",
            )
        )
        .transformations(readable_names())
        .line_interpolation(common.LineInterpolation.STEP_AFTER)
    )


def signal_thresholds(settings: Settings) -> table.Panel:
    return (
        table.Panel()
        .title("Signal thresholds")
        .description(
            "The threshold beyond which each site's conversations trigger each signal: the "
            "site's own setting, or the exporter's default."
        )
        .datasource(PROMETHEUS)
        .unit("s")
        # Three columns of Grafana's 150 px would overflow the panel by a pixel or two.
        .min_width(agent_table.MIN_COLUMN_WIDTH)
        .span(6)
        .height(8)
        .with_target(
            table_target(
                "A",
                "max by (site, signal) ("
                + selector(settings, "chat_signal_threshold_seconds")
                + ")",
            )
        )
        .with_transformation(
            # A single query's value field is "Value" in current Grafana, "Value #A" in
            # versions that count series rather than queries: both are renamed.
            organize(
                [
                    ("site", "Site"),
                    ("signal", "Signal"),
                    ("Value", "Threshold"),
                    ("Value #A", "Threshold"),
                ]
            )
        )
        .override_by_name("Signal", [prop("mappings", readable_values())])
    )


# The dashboard


def datasource_variable() -> dashboard.DatasourceVariable:
    return (
        dashboard.DatasourceVariable("datasource")
        .label("Data source")
        .type("prometheus")
        .current(model.VariableOption(text="Prometheus", value=PROMETHEUS_UID))
    )


def site_variable(settings: Settings) -> dashboard.QueryVariable:
    site_query = f"label_values({settings.selector('chat_conversations_today')}, site)"
    return (
        dashboard.QueryVariable("site")
        .label("Site")
        .description("The sites whose figures are shown.")
        .datasource(PROMETHEUS)
        .query(site_query)
        .definition(site_query)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".+")
        .current(model.VariableOption(text=["All"], value=["$__all"]))
    )


def rows(settings: Settings) -> list[tuple[str, list[cogbuilder.Builder[model.Panel]]]]:
    """The rows in order, each with its panels (laid out left to right, 24 columns wide)."""
    return [
        ("Online agents", [agents_by_status(settings), agents_through_the_day(settings)]),
        (
            "Service",
            [
                service_level(settings),
                speed_of_answer(settings),
                abandon_rate(settings),
                answered_and_abandoned(settings),
                conversations_per_hour(settings),
            ],
        ),
        (
            "Satisfaction",
            [
                average_satisfaction(settings),
                satisfaction_by_criterion(settings),
                share_of_good_ratings(settings),
                satisfaction_through_the_day(settings),
            ],
        ),
        ("Objectives", [site_objectives(settings), agent_objectives(settings)]),
        (
            "Visitors in chat or call",
            [
                in_progress(settings),
                waiting(settings),
                oldest_waiting(settings),
                with_a_signal(settings),
                free_slots_and_capacity(settings),
                conversations_through_the_day(settings),
                free_slots_and_forecast(settings),
            ],
        ),
        (
            "Signals",
            [signals_now(settings), signals_through_the_day(settings), signal_thresholds(settings)],
        ),
        ("Agents", [agent_table.panel(settings)]),
    ]


def build(settings: Settings) -> dashboard.Dashboard:
    """The dashboard for the job and thresholds of ``settings``."""
    board = (
        dashboard_base(
            SUPERVISION_UID,
            TITLE,
            "Live supervision of the chat and call sites: agents, service level, "
            "satisfaction, objectives, visitors, signals and the agent table.",
        )
        .link(
            dashboard_link(
                "Live conversations",
                LIVE_CONVERSATIONS_URL,
                "The conversations in progress, with their duration, wait and signals.",
            )
        )
        .with_variable(datasource_variable())
        .with_variable(site_variable(settings))
    )
    for title, panels in rows(settings):
        board = board.with_row(dashboard.Row(title))
        for panel in panels:
            board = board.with_panel(panel)
    return board
