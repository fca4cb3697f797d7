"""The settings of the rules and dashboards: a frozen dataclass whose defaults are the shipped
files.

A deployment changes a field with ``dataclasses.replace(DEFAULTS, ...)`` or, for the job
selector and the runbook's URL, the generators' command-line options. The object checks
itself when built, so that a bad value is one clear error instead of rules that Prometheus
refuses, or worse, accepts and never fires.
"""

import re
from dataclasses import dataclass, fields

RUNBOOK_URL = "https://github.com/chat-supervision-exporter/chat-supervision-exporter/blob/main/docs/runbook.md"

# A PromQL label matcher (label, operator, quoted string), and a list of them.
_MATCHER = r"""\s*[A-Za-z_]\w*\s*(?:=~|!~|!=|=)\s*(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*"""
_MATCHERS = re.compile(rf"(?:{_MATCHER}(?:,{_MATCHER})*)?")

_UNITS = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_UNIT_WORDS = {
    "y": "year",
    "w": "week",
    "d": "day",
    "h": "hour",
    "m": "minute",
    "s": "second",
    "ms": "millisecond",
}
_DURATION_PART = re.compile(r"(\d+)(ms|[ywdhms])")


def _parts(duration: str) -> list[tuple[int, str]]:
    """A Prometheus duration as (number, unit) pairs, units from largest to smallest, each
    once, as Prometheus requires."""
    parts = [(int(number), unit) for number, unit in _DURATION_PART.findall(duration)]
    order = [list(_UNITS).index(unit) for _, unit in parts]
    written = "".join(f"{number}{unit}" for number, unit in parts)
    if not parts or written != duration or order != sorted(set(order)):
        raise ValueError(f"{duration!r} is not a Prometheus duration such as 30s, 5m or 1h30m")
    return parts


def seconds(duration: str) -> float:
    """A Prometheus duration in seconds, as PromQL functions such as predict_linear take it."""
    return sum(number * _UNITS[unit] for number, unit in _parts(duration))


def in_words(duration: str) -> str:
    """A Prometheus duration in words, for the sentences of descriptions and panels."""
    return " ".join(
        f"{number} {_UNIT_WORDS[unit]}{'' if number == 1 else 's'}"
        for number, unit in _parts(duration)
    )


def number(value: float) -> str:
    """A number as PromQL and prose write it: a whole number without a decimal point, and
    never in exponent notation, which Python's own formats would give."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a deployment may change in the rules and dashboards, with the defaults of
    the committed files. Durations are in Prometheus' notation."""

    # The matchers that select the exporter's series in Prometheus: its scrape job. Every
    # series selector of the rules and dashboards carries them, recorded series too, so that
    # another job's series of the same names are never mixed in. Empty: every job.
    job_selector: str = 'job="chat"'
    # The runbook document; each alert links to its own section (#chatexporterdown...).
    runbook_url: str = RUNBOOK_URL

    # Shared by the dashboards and the rules.
    # The service level a site without a service_level objective of its own should reach.
    service_level_objective: float = 0.8
    # Average satisfaction (1 to 5): poor below, good from; ChatSatisfactionPoor fires below.
    satisfaction_poor_below: float = 2.5
    satisfaction_good_from: float = 3.5
    # How far ahead free slots are forecast, from the trend over as long a past.
    slots_forecast: str = "30m"

    # The alerts' thresholds.
    abandon_rate_high: float = 0.1
    # The fewest conversations in the last hour for the service alerts to judge a site.
    service_minimum_conversations: int = 10
    # The fewest ratings of the day for ChatSatisfactionPoor to judge a site.
    satisfaction_minimum_ratings: int = 10
    # How far back the down alerts look for the sites a target served.
    sites_lookback: str = "6h"
    # How long a data alert keeps firing once its series vanish: longer than the down alerts'
    # for, so that in an outage they silence it instead of a "resolved" being sent.
    keep_firing_for: str = "3m"

    # The alerts' for durations.
    exporter_down_for: str = "2m"
    exporter_absent_for: str = "5m"
    database_down_for: str = "1m"
    response_time_for: str = "1m"
    response_time_critical_for: str = "10m"
    handling_duration_for: str = "5m"
    no_agent_available_for: str = "2m"
    slots_exhausted_for: str = "5m"
    slots_running_out_for: str = "10m"
    satisfaction_poor_for: str = "15m"
    service_level_low_for: str = "10m"
    abandon_rate_high_for: str = "10m"

    def __post_init__(self) -> None:
        if not _MATCHERS.fullmatch(self.job_selector):
            raise ValueError(
                f"job selector {self.job_selector!r}: expected label matchers such as "
                'job="chat" or job=~"chat|support", separated by commas'
            )
        for field in fields(self):
            value = getattr(self, field.name)
            if field.type is str and field.name not in ("job_selector", "runbook_url"):
                seconds(value)
        if not 0 < self.service_level_objective <= 1:
            raise ValueError("service_level_objective: a ratio above 0, at most 1")
        if not 1 <= self.satisfaction_poor_below < self.satisfaction_good_from <= 5:
            raise ValueError("satisfaction: 1 <= poor_below < good_from <= 5")
        if not 0 <= self.abandon_rate_high < 1:
            raise ValueError("abandon_rate_high: a ratio from 0, below 1")
        if min(self.service_minimum_conversations, self.satisfaction_minimum_ratings) < 1:
            raise ValueError("the minimum conversations and ratings: at least 1")
        if seconds(self.keep_firing_for) <= max(
            seconds(self.exporter_down_for), seconds(self.database_down_for)
        ):
            raise ValueError(
                "keep_firing_for must be longer than exporter_down_for and database_down_for, "
                "whose alerts silence the data alerts in an outage"
            )
        if seconds(self.response_time_critical_for) <= seconds(self.response_time_for):
            raise ValueError("response_time_critical_for must be longer than response_time_for")

    def selector(self, metric: str, *matchers: str) -> str:
        """``metric`` of the exporter's job, with any further ``matchers``."""
        inside = ", ".join(matcher for matcher in (self.job_selector, *matchers) if matcher)
        return f"{metric}{{{inside}}}" if inside else metric

    def changed(self) -> dict[str, object]:
        """The settings that differ from the defaults, by name."""
        return {
            field.name: getattr(self, field.name)
            for field in fields(self)
            if getattr(self, field.name) != getattr(DEFAULTS, field.name)
        }


DEFAULTS = Settings()
