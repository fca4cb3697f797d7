"""Shared pieces of the dashboards: data sources, targets, colours, thresholds and overrides.

Everything is built with grafana-foundation-sdk's typed builders and models, so that a
misspelt option is a Python error rather than a key Grafana silently ignores. The few
places that go around the typed API (a PostgreSQL target, field data links) say why.
"""

from collections.abc import Mapping, Sequence

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard, prometheus
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from mixin.settings import Settings

# Data source uids provisioned by provisioning/datasources/chat.yaml.
PROMETHEUS_UID = "chat-prometheus"
POSTGRESQL_UID = "chat-database"
POSTGRESQL_TYPE = "grafana-postgresql-datasource"

# Every Prometheus panel and target reads the dashboard's data source variable.
PROMETHEUS = common.DataSourceRef(type_val="prometheus", uid="${datasource}")
DATABASE = common.DataSourceRef(type_val=POSTGRESQL_TYPE, uid=POSTGRESQL_UID)

SUPERVISION_UID = "chat-supervision"
LIVE_CONVERSATIONS_UID = "chat-live-conversations"
SUPERVISION_URL = f"/d/{SUPERVISION_UID}/chat-supervision"
LIVE_CONVERSATIONS_URL = f"/d/{LIVE_CONVERSATIONS_UID}/live-conversations"

REFRESH = "30s"
REFRESH_INTERVALS = ["30s", "1m", "5m", "15m", "1h"]

GREEN = "green"
ORANGE = "orange"
RED = "red"
BLUE = "blue"
TEXT = "text"  # the theme's text colour
TRANSPARENT = "transparent"

# Colour of each documented agent status, everywhere it appears.
STATUS_COLOURS = {"available": GREEN, "busy": ORANGE, "unavailable": RED}

# How a duration in seconds reads in a table cell: 01:33:36, exact to the second and as narrow
# at 5 min as at 5 h (the unit "s" shows "1.56 hours" or "5.67 mins").
CLOCK = "dthms"

# The words a supervisor reads for the label values that are identifiers: the signals and the
# satisfaction criteria.
WORDS = {"handling_duration": "handling time", "response_time": "response time"}


def dashboard_base(uid: str, title: str, description: str) -> dashboard.Dashboard:
    """The settings both dashboards share: read-only, today so far, refreshed every 30 s.

    The time zone is the browser's: supervisors read the clock of their own desk, while the
    exporter's "today" figures already follow each site's own time zone.
    """
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["chat"])
        .readonly()
        .refresh(REFRESH)
        .time("now/d", "now")
        .timezone("browser")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .timepicker(dashboard.TimePicker().refresh_intervals(REFRESH_INTERVALS))
    )


def dashboard_link(title: str, url: str, tooltip: str) -> dashboard.DashboardLink:
    """A link in the dashboard's header that keeps the time range and the selected sites."""
    return (
        dashboard.DashboardLink(title)
        .type(model.DashboardLinkType.LINK)
        .url(url)
        .tooltip(tooltip)
        .icon("dashboard")
        .keep_time(True)
        .include_vars(True)
    )


def selector(settings: Settings, metric: str, *matchers: str) -> str:
    """``metric`` of the exporter's job, restricted to the selected sites (and any further
    ``matchers``): every Prometheus query of the dashboards goes through here."""
    return settings.selector(metric, 'site=~"$site"', *matchers)


def target(
    ref_id: str, expr: str, legend: str = "", *, instant: bool = False
) -> prometheus.Dataquery:
    """A Prometheus query on the dashboard's data source: a range query unless ``instant``."""
    query = prometheus.Dataquery().ref_id(ref_id).expr(expr).datasource(PROMETHEUS)
    if legend:
        query = query.legend_format(legend)
    return query.instant() if instant else query.range()


def table_target(ref_id: str, expr: str) -> prometheus.Dataquery:
    """An instant query in table format: one row per series, one column per label."""
    return target(ref_id, expr, instant=True).format(PromQueryFormat.TABLE)


class SqlQuery(cogbuilder.Builder[cogvariants.Dataquery]):
    """A raw-SQL target for Grafana's PostgreSQL data source.

    grafana-foundation-sdk 0.0.21 has no PostgreSQL query type; its runtime keeps queries of
    unknown types in ``UnknownDataquery``, which encodes exactly the keys it was given. The
    keys below are those the SQL query editor saves in code mode.
    """

    def __init__(self, ref_id: str, sql: str) -> None:
        self._query = cogruntime.UnknownDataquery(
            {
                "datasource": DATABASE.to_json(),
                "editorMode": "code",
                "format": "table",
                "rawQuery": True,
                "rawSql": sql,
                "refId": ref_id,
            }
        )

    def build(self) -> cogvariants.Dataquery:
        return self._query


def thresholds(base: str, *steps: tuple[float, str]) -> dashboard.ThresholdsConfig:
    """Absolute thresholds: ``base`` below the first step, then each (value, colour)."""
    return (
        dashboard.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps(
            [model.Threshold(value=None, color=base)]
            + [model.Threshold(value=value, color=colour) for value, colour in steps]
        )
    )


def satisfaction_thresholds(settings: Settings) -> dashboard.ThresholdsConfig:
    """Average satisfaction (1 to 5): poor below one threshold (it rounds to 2 or less), good
    from the other (it rounds to 4 or more), the bands ChatSatisfactionPoor judges by."""
    return thresholds(
        RED, (settings.satisfaction_poor_below, ORANGE), (settings.satisfaction_good_from, GREEN)
    )


def progress_thresholds() -> dashboard.ThresholdsConfig:
    """Objective progress: red under half way, orange until reached, green from 100 %."""
    return thresholds(RED, (0.5, ORANGE), (1, GREEN))


def by_thresholds() -> dashboard.FieldColor:
    return dashboard.FieldColor().mode(model.FieldColorModeId.THRESHOLDS)


def palette() -> dashboard.FieldColor:
    return dashboard.FieldColor().mode(model.FieldColorModeId.PALETTE_CLASSIC)


def one_colour(colour: str) -> dashboard.FieldColor:
    return dashboard.FieldColor().mode(model.FieldColorModeId.FIXED).fixed_color(colour)


def fixed_colour(colour: str) -> model.FieldColor:
    """One colour, as the value of a ``color`` override."""
    return one_colour(colour).build()


def prop(option: str, value: object) -> model.DynamicConfigValue:
    """One property of a field override, e.g. ``prop("unit", "s")``."""
    return model.DynamicConfigValue(id_val=option, value=value)


def colour_props(colour: str, display_name: str) -> list[model.DynamicConfigValue]:
    return [prop("color", fixed_colour(colour)), prop("displayName", display_name)]


def value_mappings(texts: Mapping[int, tuple[str, str]]) -> list[model.ValueMapping]:
    """One value mapping: each number shown as a text in a colour, in the given order."""
    return [
        model.ValueMap(
            options={
                str(value): model.ValueMappingResult(text=text, color=colour, index=index)
                for index, (value, (text, colour)) in enumerate(texts.items())
            }
        )
    ]


def dashed_overlay(colour: str = TEXT) -> list[model.DynamicConfigValue]:
    """A comparison or forecast series: dashed, unfilled, not stacked, in ``colour``."""
    dashed = common_builders.LineStyle().fill("dash").dash([10, 10])
    unstacked = common_builders.StackingConfig().mode(common.StackingMode.NONE)
    return [
        prop("custom.lineStyle", dashed.build()),
        prop("custom.fillOpacity", 0),
        prop("custom.stacking", unstacked.build()),
        prop("color", fixed_colour(colour)),
    ]


def coloured_background(*, apply_to_row: bool = False) -> common.TableColoredBackgroundCellOptions:
    """A table cell filled with its colour; with ``apply_to_row``, the whole row is."""
    return common.TableColoredBackgroundCellOptions(
        mode=common.TableCellBackgroundDisplayMode.BASIC, apply_to_row=apply_to_row
    )


def legend(
    placement: common.LegendPlacement = common.LegendPlacement.BOTTOM,
) -> common_builders.VizLegendOptions:
    """A visible legend listing the series (the SDK's default hides it)."""
    return (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .display_mode(common.LegendDisplayMode.LIST)
        .placement(placement)
    )


def last_value(fields: str = "") -> common_builders.ReduceDataOptions:
    """Reduce every series to its last non-null value (the figure "now")."""
    options = common_builders.ReduceDataOptions().values(False).calcs(["lastNotNull"])
    return options.fields(fields) if fields else options


def data_link(title: str, url: str) -> dict[str, object]:
    """A field data link, as Grafana stores it: title, url, same tab.

    Written as a plain object because the SDK types field links as dashboard links, whose
    extra keys (type, tags, asDropdown, ...) a data link does not have.
    """
    return {"targetBlank": False, "title": title, "url": url}


def organize(
    columns: Sequence[tuple[str, str]],
    excluded: Sequence[str] = ("Time",),
    kept: Sequence[str] = (),
) -> model.DataTransformerConfig:
    """Exclude fields, put the columns in order and give them readable names.

    ``columns`` lists (field name, display name) in display order; ``kept`` are fields left
    under their own name after them (hidden by an override, still usable by data links).
    """
    order = [name for name, _ in columns] + list(kept)
    return model.DataTransformerConfig(
        id_val="organize",
        options={
            "excludeByName": dict.fromkeys(excluded, True),
            "includeByName": {},
            "indexByName": {name: index for index, name in enumerate(order)},
            "renameByName": dict(columns),
        },
    )


def readable_names() -> list[model.DataTransformerConfig]:
    """Series named after a signal or a criterion, renamed in ``WORDS`` (renameByRegex: the
    whole name must match)."""
    return [
        model.DataTransformerConfig(
            id_val="renameByRegex",
            options={"regex": f"(.*){identifier}(.*)", "renamePattern": f"$1{words}$2"},
        )
        for identifier, words in WORDS.items()
    ]


def readable_values() -> list[model.ValueMapping]:
    """A label column's identifiers shown in ``WORDS``."""
    return [
        model.ValueMap(
            options={
                identifier: model.ValueMappingResult(text=words, index=index)
                for index, (identifier, words) in enumerate(WORDS.items())
            }
        )
    ]
