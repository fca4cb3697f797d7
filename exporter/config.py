"""The YAML configuration file, read into frozen dataclasses with one-line error messages.

Every key is optional; unknown keys are errors, so that a typo never silently falls back to a
default. Durations take Prometheus' notation (``500ms``, ``10s``, ``1m30s``) or plain seconds.
"""

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from exporter.settings import ChatwootSettings, ConfiguredObjective, Settings, SiteSignals
from exporter.sources import SCHEMAS


class ConfigError(Exception):
    """A configuration problem, worded for the operator in one line."""


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def duration(value: object, path: str) -> float:
    """Seconds from a number or a Prometheus duration string; negative values are refused."""
    if isinstance(value, bool):
        raise ConfigError(f"{path}: expected a duration like 10s, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value and _DURATION.sub("", value) == "":
        seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION.findall(value))
    else:
        raise ConfigError(f"{path}: expected a duration like 10s, got {value!r}")
    if seconds < 0:
        raise ConfigError(f"{path}: must not be negative, got {value!r}")
    return seconds


def _positive_duration(value: object, path: str) -> float:
    seconds = duration(value, path)
    if seconds == 0:
        raise ConfigError(f"{path}: must be longer than 0s, got {value!r}")
    return seconds


def _positive_int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{path}: expected a whole number of at least 1, got {value!r}")
    return value


def _score(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ConfigError(f"{path}: expected a score from 1 to 5, got {value!r}")
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: expected a non-empty string, got {value!r}")
    return value


def _prefix(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{path}: expected a string, got {value!r}")
    return value


def _redis_url(value: object, path: str) -> str:
    url = _text(value, path)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{path}: expected a redis://, rediss:// or unix:// URL")
    return url


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{path}: expected a finite number, got {value!r}")
    return float(value)


def _id(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{path}: expected an id (a whole number of at least 1), got {value!r}")
    return value


def _ids(value: object, path: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: expected a list of ids, got {value!r}")
    return tuple(_id(item, f"{path}[{index}]") for index, item in enumerate(value))


def _currency(value: object, path: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise ConfigError(f"{path}: expected an ISO 4217 code like EUR, got {value!r}")
    return value


OBJECTIVE_METRICS = (
    "conversations",
    "transactions",
    "turnover",
    "conversion_rate",
    "satisfaction",
    "handling_time",
    "conversations_per_hour",
)


def _metric(value: object, path: str) -> str:
    if value not in OBJECTIVE_METRICS:
        raise ConfigError(
            f"{path}: unknown metric {value!r} (known: {', '.join(OBJECTIVE_METRICS)})"
        )
    return str(value)


def _schema(value: object, path: str) -> str:
    name = _text(value, path)
    if name not in SCHEMAS:
        raise ConfigError(f"{path}: unknown schema {name!r} (known: {', '.join(sorted(SCHEMAS))})")
    return name


def _names(value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: expected a list of site names, got {value!r}")
    return tuple(_text(item, f"{path}[{index}]") for index, item in enumerate(value))


def _parse(parser: Callable[[object, str], Any], default: Any) -> Any:
    if isinstance(default, Mapping):  # unhashable: a fresh empty copy for each instance
        return field(default_factory=lambda: dict(default), metadata={"parse": parser})
    return field(default=default, metadata={"parse": parser})


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the chat database is and how hard the exporter may lean on it."""

    url: str | None = _parse(_text, None)
    schema: str = _parse(_schema, "reference")
    pool_size: int = _parse(_positive_int, 2)
    statement_timeout: float = _parse(_positive_duration, 10.0)


@dataclass(frozen=True)
class CollectionConfig:
    """Bounds of one collection; see docs/configuration in README.md."""

    timeout: float = _parse(_positive_duration, 10.0)
    scrape_timeout_offset: float = _parse(duration, 0.5)
    min_interval: float = _parse(duration, 0.0)


@dataclass(frozen=True)
class SiteSignalsConfig:
    """One site's thresholds; a key left out falls back to the default."""

    handling_duration: float | None = _parse(_positive_duration, None)
    response_time: float | None = _parse(_positive_duration, None)


def _per_site(value: object, path: str) -> dict[str, SiteSignalsConfig]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: expected a mapping of site names, got {value!r}")
    return {
        _text(name, path): _build(SiteSignalsConfig, thresholds, f"{path}.{name}.")
        for name, thresholds in value.items()
    }


@dataclass(frozen=True)
class SignalsConfig:
    """Default thresholds, and per-site ones; a site's own columns (reference schema) win."""

    handling_duration: float = _parse(duration, 1200.0)
    response_time: float = _parse(duration, 60.0)
    sites: Mapping[str, SiteSignalsConfig] = _parse(_per_site, {})


@dataclass(frozen=True)
class SatisfactionConfig:
    """Bucket bounds: good is score >= good_min, poor is score <= poor_max, average between."""

    good_min: int = _parse(_score, 4)
    poor_max: int = _parse(_score, 2)


@dataclass(frozen=True)
class ObjectiveConfig:
    """An objective added to the database's own: every site without ``site``, the site as a
    whole without ``agent_id``."""

    name: str | None = _parse(_text, None)
    metric: str | None = _parse(_metric, None)
    target: float | None = _parse(_number, None)
    site: str | None = _parse(_text, None)
    agent_id: int | None = _parse(_id, None)
    currency: str | None = _parse(_currency, None)


def _objectives(value: object, path: str) -> tuple[ConfiguredObjective, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: expected a list of objectives, got {value!r}")
    result = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        goal = _build(ObjectiveConfig, item, f"{where}.")
        if goal.name is None or goal.metric is None or goal.target is None:
            raise ConfigError(f"{where}: name, metric and target are required")
        if goal.currency is not None and goal.metric != "turnover":
            raise ConfigError(f"{where}.currency: only a turnover objective has a currency")
        result.append(
            ConfiguredObjective(
                goal.name, goal.metric, goal.target, goal.site, goal.agent_id, goal.currency
            )
        )
    return tuple(result)


@dataclass(frozen=True)
class ChatwootConfig:
    """Where the Chatwoot source reads live presence, and what it assumes where Chatwoot is
    silent; see README.md, "Supervising Chatwoot"."""

    redis_url: str | None = _parse(_redis_url, None)
    redis_key_prefix: str = _parse(_prefix, "alfred:")
    presence_seconds: float = _parse(_positive_duration, 60.0)
    default_max_slots: int = _parse(_positive_int, 3)
    accounts: tuple[int, ...] = _parse(_ids, ())


T = TypeVar("T")


def _section(cls: type[T]) -> Callable[[object, str], T]:
    return lambda value, path: _build(cls, value, f"{path}.")


@dataclass(frozen=True)
class Config:
    """The whole configuration; every part has a default except the database URL."""

    database: DatabaseConfig = _parse(_section(DatabaseConfig), DatabaseConfig())
    collection: CollectionConfig = _parse(_section(CollectionConfig), CollectionConfig())
    signals: SignalsConfig = _parse(_section(SignalsConfig), SignalsConfig())
    satisfaction: SatisfactionConfig = _parse(_section(SatisfactionConfig), SatisfactionConfig())
    sites: tuple[str, ...] = _parse(_names, ())
    objectives: tuple[ConfiguredObjective, ...] = _parse(_objectives, ())
    chatwoot: ChatwootConfig = _parse(_section(ChatwootConfig), ChatwootConfig())

    def settings(self) -> Settings:
        """The part of the configuration that defines the figures."""
        chatwoot = self.chatwoot
        return Settings(
            handling_seconds=self.signals.handling_duration,
            response_seconds=self.signals.response_time,
            good_min=self.satisfaction.good_min,
            poor_max=self.satisfaction.poor_max,
            sites=self.sites,
            site_signals={
                name: SiteSignals(site.handling_duration, site.response_time)
                for name, site in self.signals.sites.items()
            },
            objectives=self.objectives,
            chatwoot=ChatwootSettings(
                redis_url=chatwoot.redis_url,
                redis_key_prefix=chatwoot.redis_key_prefix,
                presence_seconds=chatwoot.presence_seconds,
                default_max_slots=chatwoot.default_max_slots,
                accounts=chatwoot.accounts,
            ),
        )


def _build(cls: type[T], raw: object, prefix: str) -> T:
    if raw is None:
        raw = {}
    where = prefix.rstrip(".") or "top level"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping of keys, got {raw!r}")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    for key in raw:
        if key not in known:
            raise ConfigError(f"{prefix}{key}: unknown key in {where} (known: {', '.join(known)})")
    values = {
        # null is accepted where it is the default: the key's "none" (a URL, a scope).
        key: None
        if value is None and known[key].default is None
        else known[key].metadata["parse"](value, f"{prefix}{key}")
        for key, value in raw.items()
    }
    return cls(**values)


def parse_config(text: str, origin: str = "config") -> Config:
    """Parse and validate the YAML text of a configuration file."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ConfigError(f"{origin}: {problem}{where}") from error
    try:
        config = _build(Config, raw, "")
    except ConfigError as error:
        raise ConfigError(f"{origin}: {error}") from error
    if config.satisfaction.poor_max >= config.satisfaction.good_min:
        raise ConfigError(
            f"{origin}: satisfaction.poor_max ({config.satisfaction.poor_max}) must be below "
            f"satisfaction.good_min ({config.satisfaction.good_min})"
        )
    return config


def load_config(path: Path | None) -> Config:
    """Read the configuration file, or return the defaults when no file is given."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    return parse_config(text, str(path))
