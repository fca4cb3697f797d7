"""Grafana 12.4's backend, as far as the dashboards need it: each panel's queries run on the real
Prometheus or PostgreSQL, and the answers shaped as Grafana's ``/api/ds/query`` returns them, so that
Grafana's own frontend code (tests/grafana-frontend/) turns them into what each panel displays.

Modelled on grafana/grafana v12.4.10 (no Go toolchain runs here, so the Go is ported, small):

- the Prometheus data source's backend, ``pkg/promlib``: ``models/query.go`` (``Parse``: the step
  from ``calculatePrometheusInterval``, ``InterpolateVariables`` for ``$__interval``,
  ``$__rate_interval``, ``$__range``..., ``AlignTimeRange``), ``intervalv2/intervalv2.go``,
  ``client/client.go`` (instant queries at the range's end, range queries aligned to the step),
  ``converter/prom.go`` (one frame per series, labels on the value field; dataplane frame types,
  always on since grafana/grafana#92218), ``querydata/response.go`` (the value field named after
  ``__name__``, ``displayNameFromDS`` from the legend, ``executedQueryString`` and
  ``calculatedMinStep`` on the first frame, and an empty frame when nothing matches);
- ``gtime`` of grafana/grafana-plugin-sdk-go (``GetIntervalFrom``, ``RoundInterval``,
  ``FormatInterval``, ``ParseIntervalStringToTimeDuration``) and its ``data.FrameToJSON``
  encoding (schema and values; NaN and infinities as ``entities``; sub-millisecond times as
  ``nanos``);
- the PostgreSQL data source, ``pkg/tsdb/grafana-postgresql-datasource`` (``sqleng``, pgx): a
  ``table`` query's rows as one frame, every column nullable, typed by its PostgreSQL type.

What the frontend does to a query before sending it is here too, from the packages the harness
runs: the template variables' interpolation (@grafana/prometheus ``escaping.ts``
``interpolateQueryExpr``; the SQL data sources' ``interpolateVariable`` and Grafana's
``sqlstring`` format) and the query interval (@grafana/data ``rangeutil.calculateInterval``).
tests/test_grafana_backend.py holds it to promlib's own test cases and to fixtures of the
project's own modelled on Grafana's golden files.
"""

import asyncio
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from tests.grafana import sqlstring

NS = 1
MS = 1_000_000 * NS
SECOND = 1000 * MS
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# The Prometheus data source's scrape interval (provisioning/datasources/chat.yaml, jsonData.timeInterval).
SCRAPE_INTERVAL = "15s"
# models/query.go: safeResolution.
SAFE_RESOLUTION = 11000
# intervalv2/intervalv2.go: DefaultRes.
DEFAULT_RESOLUTION = 1500
# Grafana's grid (public/app/core/constants.ts): 24 columns, 8 px between panels; the dashboard
# body is padded 16 px on each side, a panel's content 8 px (theme.components.panel.padding).
VIEWPORT = 1920
GRID_COLUMNS = 24
GRID_MARGIN = 8
PAGE_PADDING = 16
PANEL_PADDING = 8
# A variable's "All", as the dashboard JSON stores it.
ALL = "$__all"


@dataclass(frozen=True)
class TimeRange:
    """A dashboard's time range, resolved: Unix milliseconds."""

    start_ms: int
    end_ms: int


def today(zone: str, now_ms: int) -> TimeRange:
    """``now/d`` to ``now`` in ``zone``: the dashboards' default range (timezone "browser")."""
    now = datetime.fromtimestamp(now_ms / 1000, ZoneInfo(zone))
    midnight = datetime.combine(now.date(), time(), now.tzinfo)
    return TimeRange(round(midnight.timestamp() * 1000), now_ms)


# --- Go's time.Duration and the SDK's gtime -------------------------------------------------------


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String()``: 1m0s, 1h0m0s, 30s, 1.5s, 500ms."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < SECOND:
        for unit, size in (("ms", MS), ("µs", 1000), ("ns", 1)):
            if ns >= size:
                return sign + _decimal(ns, size) + unit
    hours, rest = divmod(ns, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    text = _decimal(rest, SECOND) + "s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _decimal(value: int, unit: int) -> str:
    whole, fraction = divmod(value, unit)
    if not fraction:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{fraction:0{digits}d}".rstrip("0")


def format_interval(ns: int) -> str:
    """gtime.FormatInterval: the largest whole unit, e.g. 15s, 2m, 1h."""
    for unit, size in (("y", 365 * DAY), ("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", SECOND)):
        if ns >= size:
            return f"{ns // size}{unit}"
    return f"{ns // MS}ms" if ns >= MS else "1ms"


# gtime.RoundInterval: (upper bound, rounded interval), in milliseconds.
ROUNDING = [
    (10, 1),
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1500, 1000),
    (3500, 2000),
    (7500, 5000),
    (12500, 10000),
    (17500, 15000),
    (25000, 20000),
    (45000, 30000),
    (90000, 60000),
    (210000, 120000),
    (450000, 300000),
    (750000, 600000),
    (1050000, 900000),
    (1500000, 1200000),
    (2700000, 1800000),
    (5400000, 3600000),
    (9000000, 7200000),
    (16200000, 10800000),
    (32400000, 21600000),
    (86400000, 43200000),
    (172800000, 86400000),
    (604800000, 86400000),
    (1814400000, 604800000),
]


def round_interval(ns: int) -> int:
    """gtime.RoundInterval: a predetermined, lower and rounder duration."""
    for bound, rounded in ROUNDING:
        if ns <= bound * MS:
            return rounded * MS
    return (2592000000 if ns < 3628800000 * MS else 31536000000) * MS


GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
GO_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "ms": MS, "s": SECOND, "m": MINUTE, "h": HOUR}
DATE_UNIT = re.compile(r"^(\d+)([dwMy])$")
YEAR = int(DAY * 365.25)
DATE_UNITS = {"d": DAY, "w": 7 * DAY, "M": YEAR // 12, "y": YEAR}


def parse_interval(text: str) -> int:
    """gtime.ParseIntervalStringToTimeDuration: "15s", "1m30s", "1d", "<10s"; a bare number is
    seconds. A malformed one raises ValueError, as Go's parser returns an error."""
    text = text.replace("<", "", 1).replace(">", "", 1)
    if text.isdigit():
        text += "s"
    date_unit = DATE_UNIT.match(text)
    if date_unit:
        return int(date_unit[1]) * DATE_UNITS[date_unit[2]]
    parts = GO_DURATION.findall(text)
    if not text or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"invalid duration {text!r}")
    return sum(round(float(number) * GO_UNITS[unit]) for number, unit in parts)


def interval_from(
    ds_interval: str, query_interval: str, query_interval_ms: int, default: int
) -> int:
    """gtime.GetIntervalFrom: the query's minimum interval."""
    interval = "" if query_interval == "0s" else query_interval
    if not interval and query_interval_ms:
        return query_interval_ms * MS
    interval = interval or ds_interval
    return parse_interval(interval) if interval else default


# --- pkg/promlib/models/query.go ------------------------------------------------------------------

INTERVAL_VARIABLES = ("$__interval", "${__interval}", "$__interval_ms", "${__interval_ms}")
RATE_INTERVAL_VARIABLES = (
    "$__rate_interval",
    "${__rate_interval}",
    "$__rate_interval_ms",
    "${__rate_interval_ms}",
)


def calculate(range_ns: int, min_interval: int, max_data_points: int) -> int:
    """intervalv2 Calculate: the range over the data points, rounded, at least ``min_interval``."""
    calculated = range_ns // (max_data_points or DEFAULT_RESOLUTION)
    return min_interval if calculated < min_interval else round_interval(calculated)


def rate_interval(query_interval: int, requested_min_step: str) -> int:
    """calculateRateInterval: the interval plus a scrape interval, at least four scrapes."""
    try:
        scrape = parse_interval(requested_min_step or "15s")
    except ValueError:
        return 0
    return max(query_interval + scrape, 4 * scrape)


def prometheus_interval(
    query_interval: str,
    ds_scrape_interval: str,
    *,
    interval_ms: int,
    interval_factor: int,
    range_ns: int,
    max_data_points: int,
) -> int:
    """calculatePrometheusInterval: the step of a query, in nanoseconds."""
    minimum = interval_from(
        ds_scrape_interval,
        "" if query_interval in INTERVAL_VARIABLES + RATE_INTERVAL_VARIABLES else query_interval,
        interval_ms,
        15 * SECOND,
    )
    adjusted = max(
        calculate(range_ns, minimum, max_data_points), round_interval(range_ns // SAFE_RESOLUTION)
    )
    if query_interval in RATE_INTERVAL_VARIABLES:
        return rate_interval(adjusted, ds_scrape_interval)
    if query_interval and query_interval not in INTERVAL_VARIABLES:
        try:
            return parse_interval(query_interval)
        except ValueError:
            pass
    return adjusted * (interval_factor or 1)


def interpolate_variables(
    expr: str,
    *,
    query_interval: int,
    step: int,
    requested_min_step: str,
    ds_scrape_interval: str,
    range_ns: int,
) -> str:
    """InterpolateVariables: $__interval, $__range, $__rate_interval and their _ms/_s forms."""
    range_ms = range_ns // MS
    range_s = math.floor(range_ms / 1000 + 0.5)  # Go's math.Round, for a positive range
    if requested_min_step in RATE_INTERVAL_VARIABLES[:2]:
        rate = step
    else:
        if requested_min_step in INTERVAL_VARIABLES[:2]:
            requested_min_step = go_duration(step)
        rate = rate_interval(query_interval, requested_min_step or ds_scrape_interval)
    replacements = [
        ("__interval_ms", str(step // MS)),
        ("__interval", format_interval(step)),
        ("__range_ms", str(range_ms)),
        ("__range_s", str(range_s)),
        ("__range", f"{range_s}s"),
        ("__rate_interval_ms", str(rate // MS)),
        ("__rate_interval", go_duration(rate)),
    ]
    for name, value in replacements:
        expr = expr.replace(f"${name}", value).replace(f"${{{name}}}", value)
    return expr


def align_time_range(t_ns: int, step: int, offset_s: int) -> int:
    """AlignTimeRange: ``t`` rounded down to a multiple of the step, in the zone of the offset
    (float arithmetic, as Go does it)."""
    offset = float(offset_s * 1e9)
    return int(math.floor((t_ns + offset) / step) * step - offset)


@dataclass(frozen=True)
class PromQuery:
    """models.Query: one target, parsed, with its step."""

    ref_id: str
    expr: str
    step: int
    legend_format: str
    start: int  # ns
    end: int  # ns
    instant: bool
    range: bool
    utc_offset_s: int = 0

    def aligned(self) -> tuple[int, int]:
        """TimeRange(): start and end aligned to the step."""
        return (
            align_time_range(self.start, self.step, self.utc_offset_s),
            align_time_range(self.end, self.step, self.utc_offset_s),
        )


def parse_query(
    model: Mapping[str, Any],
    ref_id: str,
    *,
    start_ns: int,
    end_ns: int,
    interval_ns: int,
    max_data_points: int,
    ds_scrape_interval: str = SCRAPE_INTERVAL,
) -> PromQuery:
    """models.Parse: ``model`` is the query the frontend sent (expr, interval, intervalMs,
    intervalFactor, legendFormat, instant, range, utcOffsetSec); ``interval_ns`` is the
    request's interval (DataQuery.Interval)."""
    interval = str(model.get("interval", ""))
    range_ns = end_ns - start_ns
    step = prometheus_interval(
        interval,
        ds_scrape_interval,
        interval_ms=int(model.get("intervalMs", 0)),
        interval_factor=int(model.get("intervalFactor", 0)),
        range_ns=range_ns,
        max_data_points=max_data_points,
    )
    expr = interpolate_variables(
        str(model["expr"]),
        query_interval=interval_ns,
        step=step,
        requested_min_step=interval,
        ds_scrape_interval=ds_scrape_interval,
        range_ns=range_ns,
    )
    instant, ranged = bool(model.get("instant")), bool(model.get("range"))
    return PromQuery(
        ref_id=ref_id,
        expr=expr,
        step=step,
        legend_format=str(model.get("legendFormat", "")),
        start=start_ns,
        end=end_ns,
        instant=instant,
        # Older dashboards set neither: they ran as range queries.
        range=ranged or not instant,
        utc_offset_s=int(model.get("utcOffsetSec", 0)),
    )


# --- Data frames and data.FrameToJSON -------------------------------------------------------------


@dataclass
class Field:
    """A data.Field: ``kind`` is its FieldType ("time", "number", "string", "boolean"), ``frame``
    its Go type; times are held in nanoseconds."""

    name: str
    kind: str
    frame: str
    values: list[Any]
    nullable: bool = False
    labels: dict[str, str] | None = None
    config: dict[str, Any] | None = None


@dataclass
class Frame:
    """A data.Frame; ``meta`` None when the frame has none."""

    fields: list[Field]
    meta: dict[str, Any] | None = None
    name: str = ""


def frame_meta(**values: Any) -> dict[str, Any]:
    """A data.FrameMeta: typeVersion is always written, the other keys when set."""
    return {"typeVersion": [0, 0], **values}


# FrameMeta's JSON keys in the order data.FrameMeta declares them.
META_KEYS = ("type", "typeVersion", "custom", "executedQueryString", "notices")


def frame_to_json(frame: Frame) -> dict[str, Any]:
    """data.FrameToJSON: {schema: {name, meta, fields}, data: {values, entities, nanos}}."""
    schema: dict[str, Any] = {}
    if frame.name:
        schema["name"] = frame.name
    if frame.meta is not None:
        schema["meta"] = {key: frame.meta[key] for key in META_KEYS if key in frame.meta}
    schema["fields"] = [_field_schema(column) for column in frame.fields]
    data: dict[str, Any] = {"values": [_json_values(column) for column in frame.fields]}
    entities = [_entities(column) for column in frame.fields]
    if any(entities):
        data["entities"] = entities
    nanos = [_nanos(column) for column in frame.fields]
    if any(nanos):
        data["nanos"] = nanos
    return {"schema": schema, "data": data}


def _field_schema(column: Field) -> dict[str, Any]:
    type_info: dict[str, Any] = {"frame": column.frame}
    if column.nullable:
        type_info["nullable"] = True
    schema: dict[str, Any] = {"name": column.name, "type": column.kind, "typeInfo": type_info}
    if column.labels is not None:
        schema["labels"] = column.labels
    if column.config is not None:
        schema["config"] = column.config
    return schema


def _json_values(column: Field) -> list[Any]:
    if column.kind == "time":
        return [None if value is None else value // MS for value in column.values]
    return [
        None if isinstance(value, float) and not math.isfinite(value) else value
        for value in column.values
    ]


def _entities(column: Field) -> dict[str, list[int]] | None:
    """Where a float field holds NaN, +Inf or -Inf, which JSON cannot."""
    found: dict[str, list[int]] = {}
    for index, value in enumerate(column.values):
        if isinstance(value, float) and not math.isfinite(value):
            name = "NaN" if math.isnan(value) else ("Inf" if value > 0 else "NegInf")
            found.setdefault(name, []).append(index)
    return found or None


def _nanos(column: Field) -> list[int] | None:
    """The nanoseconds of a time field's values beyond the millisecond, when any."""
    if column.kind != "time":
        return None
    nanos = [0 if value is None else value % MS for value in column.values]
    return nanos if any(nanos) else None


def data_response(
    frames: Sequence[Frame], status: int = 200, error: str | None = None
) -> dict[str, Any]:
    """backend.DataResponse as /api/ds/query writes it."""
    response: dict[str, Any] = {}
    if error is not None:
        response["error"] = error
        response["errorSource"] = "downstream"
    response["status"] = status
    response["frames"] = [frame_to_json(frame) for frame in frames]
    return response


# --- pkg/promlib/converter/prom.go ----------------------------------------------------------------


def _sample(pair: Sequence[Any]) -> tuple[int, float]:
    """readTimeValuePair: [1435781451.781, "1"] -> (ns, 1.0); timeFromFloat truncates to ms."""
    return int(float(pair[0]) * 1000.0) * MS, float(pair[1])


def read_prometheus_result(body: Mapping[str, Any]) -> tuple[list[Frame], str | None]:
    """ReadPrometheusStyleResult for matrices, vectors and scalars: (frames, error)."""
    if body.get("status") == "error":
        return [], f"{body.get('errorType', '')}: {body.get('error', '')}"
    result_type = body["data"]["resultType"]
    result = body["data"]["result"]
    if result_type == "scalar":
        when, value = _sample(result)
        return [_series_frame({}, [(when, value)], "numeric-multi", "scalar")], None
    if result_type not in ("matrix", "vector"):
        raise NotImplementedError(f"result type {result_type}")
    frame_type = "numeric-multi" if result_type == "vector" else "timeseries-multi"
    frames = []
    for series in result:
        samples = [_sample(pair) for pair in series["values"]] if "values" in series else []
        if "value" in series:
            samples.append(_sample(series["value"]))
        frames.append(_series_frame(series["metric"], samples, frame_type, result_type))
    return frames, None


def _series_frame(
    labels: Mapping[str, str], samples: list[tuple[int, float]], frame_type: str, result_type: str
) -> Frame:
    return Frame(
        fields=[
            Field("Time", "time", "time.Time", [when for when, _ in samples]),
            Field(
                "Value", "number", "float64", [value for _, value in samples], labels=dict(labels)
            ),
        ],
        meta={"type": frame_type, "typeVersion": [0, 1], "custom": {"resultType": result_type}},
    )


# --- pkg/promlib/querydata/response.go ------------------------------------------------------------

LEGEND = re.compile(r"\{\{\s*(.+?)\s*\}\}")


def _go_quote(value: str) -> str:
    """Go's %q for a label value (printable text: a JSON string)."""
    return json.dumps(value, ensure_ascii=False)


def metric_name(labels: Mapping[str, str]) -> str:
    """metricNameFromLabels: name{label="value", ...}, the labels sorted; {} when none."""
    name = labels.get("__name__", "")
    pairs = sorted(
        f"{key}={_go_quote(value)}" for key, value in labels.items() if key != "__name__"
    )
    if not pairs:
        return name or "{}"
    return f"{name}{{{', '.join(pairs)}}}"


def series_name(query: PromQuery, labels: Mapping[str, str]) -> str:
    """getName: the legend format with the series' labels, or its metric name."""
    legend = metric_name(labels)
    if query.legend_format == "__auto":
        if labels:
            legend = ""
    elif query.legend_format:
        legend = LEGEND.sub(lambda match: labels.get(match[1], ""), query.legend_format)
    return query.expr if legend == "{}" else legend


def parse_response(
    query: PromQuery, status: int, body: Mapping[str, Any]
) -> tuple[list[Frame], str | None]:
    """parseResponse: the converter's frames with the query's metadata."""
    frames, error = read_prometheus_result(body)
    if not frames:
        frames = [Frame(fields=[])]
    for index, frame in enumerate(frames):
        _add_metadata(query, frame)
        if index == 0:
            assert frame.meta is not None
            frame.meta["executedQueryString"] = (
                f"Expr: {query.expr}\nStep: {go_duration(query.step)}"
            )
            frame.meta.setdefault("custom", {})["calculatedMinStep"] = query.step // MS
    return frames, error


def _add_metadata(query: PromQuery, frame: Frame) -> None:
    """addMetadataToMultiFrame."""
    if frame.meta is None:
        frame.meta = frame_meta()
    if len(frame.fields) < 2:
        return
    frame.fields[0].config = {"interval": query.step // MS}
    value = frame.fields[1]
    labels = value.labels or {}
    name = series_name(query, labels)
    if name:
        value.config = {"displayNameFromDS": name}
    if "__name__" in labels:
        value.name = labels["__name__"]


# --- pkg/promlib/client/client.go and querydata/request.go -----------------------------------------


def _format_time(ns: int) -> str:
    """client.formatTime: seconds, as few digits as needed."""
    seconds = float(ns // SECOND) + float(ns % SECOND) / 1e9
    return str(int(seconds)) if seconds.is_integer() else repr(seconds)


def _post(url: str, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """A form POST (the data source's httpMethod): (status, JSON body)."""
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def run_prometheus_query(prometheus_url: str, query: PromQuery) -> dict[str, Any]:
    """fetch: the instant and/or range query's DataResponse."""
    frames: list[Frame] = []
    errors: list[str] = []
    status = 200
    requests: list[tuple[str, dict[str, str]]] = []
    if query.instant:
        requests.append(("query", {"query": query.expr, "time": _format_time(query.end)}))
    if query.range:
        start, end = query.aligned()
        step = _decimal(query.step, SECOND)
        form = {
            "query": query.expr,
            "start": _format_time(start),
            "end": _format_time(end),
            "step": step,
        }
        requests.append(("query_range", form))
    for endpoint, form in requests:
        code, body = _post(f"{prometheus_url}/api/v1/{endpoint}", form)
        shaped, error = parse_response(query, code, body)
        frames += shaped
        if error is not None:
            errors.append(error)
            status = code
    return data_response(frames, status, " ".join(errors) if errors else None)


# --- The frontend: template variables and the query interval --------------------------------------

VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}"
)


def _regex_escape(value: str) -> str:
    """prometheusSpecialRegexEscape (prometheusSpecialCharsInLabelValues off, its default)."""
    value = value.replace("\\", "\\\\\\\\")
    return re.sub(r"[$^*{}\[\]+?.()|]", lambda match: "\\\\" + match[0], value)


def _regular_escape(value: str) -> str:
    """prometheusRegularEscape."""
    return value.replace("\\", "\\\\").replace("'", "\\\\'")


def interpolate_query_expr(values: list[str], variable: Mapping[str, Any]) -> str:
    """@grafana/prometheus escaping.ts interpolateQueryExpr."""
    if not variable.get("multi") and not variable.get("includeAll"):
        return _regular_escape(values[0])
    escaped = [_regex_escape(value) for value in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate_sql(values: list[str], variable: Mapping[str, Any]) -> str:
    """The SQL data sources' interpolateVariable (@grafana/sql SqlDatasource)."""
    if len(values) == 1 and not variable.get("multi") and not variable.get("includeAll"):
        return values[0].replace("'", "''")
    return ",".join("'" + value.replace("'", "''") + "'" for value in values)


Formatter = Callable[[list[str], Mapping[str, Any]], str]
FORMATS: dict[str, Callable[[list[str]], str]] = {"sqlstring": sqlstring}


def interpolate(
    text: str,
    selected: Mapping[str, list[str]],
    templating: Sequence[Mapping[str, Any]],
    default_format: Formatter,
    all_values: Callable[[Mapping[str, Any]], list[str]],
) -> str:
    """Grafana's template interpolation of ``text`` for the dashboard's variables: an "All"
    with an allValue is that value, unformatted; otherwise every option (``all_values``). A
    variable the dashboard does not define ($__interval...) is left for the backend."""
    variables = {variable["name"]: variable for variable in templating}

    def replace(match: re.Match[str]) -> str:
        name = match[1] or match[2] or match[4]
        form = match[3] or match[6]
        if name not in variables:
            return match[0]
        variable = variables[name]
        values = selected[name]
        if values == [ALL]:
            if variable.get("allValue"):
                return str(variable["allValue"])
            values = all_values(variable)
        if form is None:
            return default_format(values, variable)
        if form not in FORMATS:
            raise NotImplementedError(f"variable format {form} in {text}")
        return FORMATS[form](values)

    return VARIABLE.sub(replace, text)


def round_frontend_interval(ms: float) -> int:
    """@grafana/data rangeutil.roundInterval (bounds exclusive, unlike the backend's)."""
    for bound, rounded in ROUNDING[:-1]:
        if ms < bound:
            return rounded
    if ms < 1814400000:
        return 604800000
    return 2592000000 if ms < 3628800000 else 31536000000


def frontend_interval_ms(time_range: TimeRange, max_data_points: int, low_limit: str) -> int:
    """rangeutil.calculateInterval: the request's intervalMs (at least the data source's
    scrape interval, its lower limit)."""
    interval = round_frontend_interval((time_range.end_ms - time_range.start_ms) / max_data_points)
    return max(interval, parse_interval(low_limit) // MS)


def max_data_points(panel: Mapping[str, Any], viewport: int = VIEWPORT) -> int:
    """The panel's content width in pixels on the grid: Scenes asks for one point per pixel."""
    container = viewport - 2 * PAGE_PADDING
    column = (container - GRID_MARGIN * (GRID_COLUMNS - 1)) / GRID_COLUMNS
    width = panel["gridPos"]["w"]
    return int(column * width + GRID_MARGIN * (width - 1) - 2 * PANEL_PADDING)


def utc_offset_s(zone: str, time_range: TimeRange) -> int:
    """processTargetV2's utcOffsetSec: the browser zone's offset at the range's end."""
    offset = datetime.fromtimestamp(time_range.end_ms / 1000, ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


# --- The Prometheus panel -------------------------------------------------------------------------


def prometheus_response(
    prometheus_url: str,
    panel: Mapping[str, Any],
    variables: Mapping[str, list[str]],
    time_range: TimeRange,
    *,
    templating: Sequence[Mapping[str, Any]],
    time_zone: str,
    scrape_interval: str = SCRAPE_INTERVAL,
) -> dict[str, Any]:
    """The /api/ds/query body for every target of a Prometheus panel."""
    points = max_data_points(panel)
    interval_ms = frontend_interval_ms(time_range, points, scrape_interval)
    start, end = time_range.start_ms * MS, time_range.end_ms * MS

    def every_option(variable: Mapping[str, Any]) -> list[str]:
        raise NotImplementedError(f"All of {variable['name']} without an allValue")

    results = {}
    for target in panel["targets"]:
        if target.get("hide"):
            continue
        model = {
            **target,
            "expr": interpolate(
                target["expr"], variables, templating, interpolate_query_expr, every_option
            ),
            "intervalMs": interval_ms,
            "maxDataPoints": points,
            "utcOffsetSec": utc_offset_s(time_zone, time_range),
        }
        query = parse_query(
            model,
            target["refId"],
            start_ns=start,
            end_ns=end,
            interval_ns=interval_ms * MS,
            max_data_points=points,
            ds_scrape_interval=scrape_interval,
        )
        results[target["refId"]] = run_prometheus_query(prometheus_url, query)
    return {"results": results}


# --- The PostgreSQL panel (sqleng, pgx) -----------------------------------------------------------

# A PostgreSQL type's data.FieldType and Go type, as the pgx path of sqleng frames it.
PG_TYPES = {
    "int2": ("number", "int16"),
    "int4": ("number", "int32"),
    "int8": ("number", "int64"),
    "numeric": ("number", "float64"),
    "float4": ("number", "float64"),
    "float8": ("number", "float64"),
    "bool": ("boolean", "bool"),
    "text": ("string", "string"),
    "varchar": ("string", "string"),
    "bpchar": ("string", "string"),
    "name": ("string", "string"),
    "time": ("string", "string"),
    "timetz": ("string", "string"),
    "interval": ("string", "string"),
    "timestamp": ("time", "time.Time"),
    "timestamptz": ("time", "time.Time"),
    "date": ("time", "time.Time"),
}
# Types whose values Grafana shows as PostgreSQL writes them: read as text.
AS_TEXT = ("time", "timetz", "interval")


def _time_ns(value: datetime | date) -> int:
    """A timestamp (one without a zone is UTC, as pgx reads it) or date, in nanoseconds."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * SECOND + delta.microseconds * 1000


def _column(name: str, pg_type: str, values: Iterable[Any]) -> Field:
    if pg_type not in PG_TYPES:
        raise NotImplementedError(f"PostgreSQL type {pg_type} of column {name}")
    kind, go_type = PG_TYPES[pg_type]
    converted: list[Any]
    if kind == "time":
        converted = [None if value is None else _time_ns(value) for value in values]
    elif go_type == "float64":
        converted = [None if value is None else float(value) for value in values]
    else:
        converted = list(values)
    return Field(name, kind, go_type, converted, nullable=True)


async def _select(database_url: str, sql: str, setup: str = "") -> Frame:
    connection = await asyncpg.connect(database_url)
    try:
        for type_name in AS_TEXT:
            await connection.set_type_codec(
                type_name, schema="pg_catalog", encoder=str, decoder=str, format="text"
            )
        if setup:
            await connection.execute(setup)
        statement = await connection.prepare(sql)
        rows = await statement.fetch()
        columns = [
            _column(attribute.name, attribute.type.name, [row[index] for row in rows])
            for index, attribute in enumerate(statement.get_attributes())
        ]
    finally:
        await connection.close()
    return Frame(fields=columns, meta=frame_meta(executedQueryString=sql))


def table_frame(database_url: str, sql: str, setup: str = "") -> Frame:
    """A ``table`` query's frame: its rows, every column nullable, as sqleng returns them;
    ``setup`` runs first on the same connection (a temporary table, say)."""
    return asyncio.run(_select(database_url, sql, setup))


def _options(database_url: str, variable: Mapping[str, Any]) -> list[str]:
    """A query variable's values, as Grafana refreshes it: its __value column, or its first."""
    frame = table_frame(database_url, str(variable["query"]))
    column = next((c for c in frame.fields if c.name == "__value"), frame.fields[0])
    return [str(value) for value in column.values]


def sql_response(
    database_url: str,
    panel: Mapping[str, Any],
    variables: Mapping[str, list[str]],
    time_range: TimeRange,
    *,
    templating: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The /api/ds/query body for every ``table`` target of a PostgreSQL panel; the time range
    matters only to Grafana's $__time macros, which the dashboards do not use."""
    del time_range
    results = {}
    for target in panel["targets"]:
        if target.get("hide"):
            continue
        if target.get("format") != "table":
            raise NotImplementedError(f"SQL format {target.get('format')}")
        sql = interpolate(
            target["rawSql"],
            variables,
            templating,
            interpolate_sql,
            lambda variable: _options(database_url, variable),
        )
        if "$__" in sql:
            raise NotImplementedError(f"Grafana's SQL macros in {sql}")
        results[target["refId"]] = data_response([table_frame(database_url, sql)])
    return {"results": results}


# --- A dashboard ----------------------------------------------------------------------------------


def panels(dashboard: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every panel but rows, collapsed rows' panels included."""
    found: list[Mapping[str, Any]] = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            found += panel.get("panels", [])
        else:
            found.append(panel)
    return found


def board_input(
    name: str,
    dashboard: Mapping[str, Any],
    variables: Mapping[str, list[str]],
    time_range: TimeRange,
    *,
    prometheus_url: str,
    database_url: str,
    time_zone: str,
) -> dict[str, Any]:
    """The BoardInput of tests/grafana-frontend/src/types.ts: the dashboard, its variables and
    time range, and the backend's answer to each panel's queries (by panel id)."""
    templating = dashboard["templating"]["list"]
    responses = {}
    for panel in panels(dashboard):
        kinds = {
            target.get("datasource", panel["datasource"])["type"] for target in panel["targets"]
        }
        if kinds == {"prometheus"}:
            response = prometheus_response(
                prometheus_url,
                panel,
                variables,
                time_range,
                templating=templating,
                time_zone=time_zone,
            )
        elif kinds == {"grafana-postgresql-datasource"}:
            response = sql_response(
                database_url, panel, variables, time_range, templating=templating
            )
        else:
            raise NotImplementedError(f"data sources {kinds} of panel {panel['title']}")
        responses[str(panel["id"])] = response
    return {
        "name": name,
        "dashboard": dashboard,
        "variables": dict(variables),
        "timeRange": {"from": time_range.start_ms, "to": time_range.end_ms},
        "timeZone": time_zone,
        "responses": responses,
    }
