"""The YAML configuration file, read into frozen dataclasses with one-line error messages.

Every key is optional; unknown keys are errors, so that a typo never silently falls back to a
default. Durations take Prometheus' notation (``500ms``, ``10s``, ``1m30s``) or plain seconds.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from exporter.settings import Settings
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
class SignalsConfig:
    """Thresholds used for sites whose own columns are NULL."""

    handling_duration: float = _parse(duration, 1200.0)
    response_time: float = _parse(duration, 60.0)


@dataclass(frozen=True)
class SatisfactionConfig:
    """Bucket bounds: good is score >= good_min, poor is score <= poor_max, average between."""

    good_min: int = _parse(_score, 4)
    poor_max: int = _parse(_score, 2)


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

    def settings(self) -> Settings:
        """The part of the configuration that defines the figures."""
        return Settings(
            handling_seconds=self.signals.handling_duration,
            response_seconds=self.signals.response_time,
            good_min=self.satisfaction.good_min,
            poor_max=self.satisfaction.poor_max,
            sites=self.sites,
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
        key: known[key].metadata["parse"](value, f"{prefix}{key}") for key, value in raw.items()
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
