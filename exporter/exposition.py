"""The exporter's gauge families in Prometheus text format 0.0.4 or OpenMetrics 1.0.0.

prometheus-client chooses the format (``choose_encoder``) and encodes the process metrics;
the chat families are encoded here because at a few thousand agents a scrape holds a few
hundred thousand samples, and the generic encoder spends about 15 µs on each while this one,
reusing each agent's label text, spends about 1 µs (docs/performance.md). Both formats are
the same for gauges but for the escaping of HELP and OpenMetrics' final ``# EOF``, which the
caller appends with the process metrics.
"""

import math
from collections.abc import Iterable

from exporter.collector import Family


def _number(number: float) -> str:
    """Integers without a fraction, others as Python's shortest repr, special values by name."""
    if number.__class__ is int:  # most samples are counts: the quick way
        return str(number)
    value = float(number)
    if math.isfinite(value):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def _help(text: str, openmetrics: bool) -> str:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    return escaped.replace('"', '\\"') if openmetrics else escaped


def encode(families: Iterable[Family], openmetrics: bool) -> bytes:
    """The families as exposition text, without OpenMetrics' ``# EOF``."""
    lines: list[str] = []
    for family in families:
        name = family.name
        lines.append(f"# HELP {name} {_help(family.help, openmetrics)}\n# TYPE {name} gauge\n")
        lines.extend(
            f"{name}{{{labels}}} {_number(value)}\n" if labels else f"{name} {_number(value)}\n"
            for labels, value in family.samples
        )
    return "".join(lines).encode()
