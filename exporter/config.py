"""The YAML configuration file, read into frozen dataclasses with one-line error messages.

Every key is optional; unknown keys are errors, so that a typo never silently falls back to a
default. Durations take Prometheus' notation (``500ms``, ``10s``, ``1m30s``) or plain seconds.
"""

import math
import re
import reprlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml

from exporter.settings import ChatwootSettings, ConfiguredObjective, Settings, SiteSignals
from exporter.sources import SCHEMAS


class ConfigError(Exception):
    """A configuration problem, worded for the operator in one line."""


# A configuration file is a few kilobytes; reading more is a mistake (a device, a log file).
MAX_FILE_BYTES = 1 << 20
# A secret file (database.url_file, chatwoot.redis_url_file) holds one URL.
MAX_SECRET_BYTES = 64 << 10
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel = 2
_SHOWN.maxdict = _SHOWN.maxlist = _SHOWN.maxset = 4
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlong = 40
_SHOWN_CHARS = 120


def _show(value: object) -> str:
    """A short repr of what the file said: error messages stay one short line whatever the
    value (YAML aliases can make a small file describe an enormous structure)."""
    shown = _SHOWN.repr(value)
    return shown if len(shown) <= _SHOWN_CHARS else f"{shown[: _SHOWN_CHARS - 3]}..."


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def duration(value: object, path: str) -> float:
    """Seconds from a number or a Prometheus duration string; negative values are refused."""
    if isinstance(value, bool):
        raise ConfigError(f"{path}: expected a duration like 10s, got {_show(value)}")
    if isinstance(value, int | float):
        seconds = _float(value)
    elif isinstance(value, str) and value and _DURATION.sub("", value) == "":
        seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION.findall(value))
    else:
        raise ConfigError(f"{path}: expected a duration like 10s, got {_show(value)}")
    if not math.isfinite(seconds):
        # .nan compares false with everything: a deadline or a cache age would never expire.
        raise ConfigError(f"{path}: expected a finite duration, got {_show(value)}")
    if seconds < 0:
        raise ConfigError(f"{path}: must not be negative, got {_show(value)}")
    return seconds


def _positive_duration(value: object, path: str) -> float:
    seconds = duration(value, path)
    if seconds == 0:
        raise ConfigError(f"{path}: must be longer than 0s, got {_show(value)}")
    return seconds


def _positive_int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{path}: expected a whole number of at least 1, got {_show(value)}")
    return value


def _switch(value: object, path: str) -> bool:
    # Only YAML's booleans: a string "false" would be true in Python.
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: expected true or false, got {_show(value)}")
    return value


def _score(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ConfigError(f"{path}: expected a score from 1 to 5, got {_show(value)}")
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: expected a non-empty string, got {_show(value)}")
    return value


def _prefix(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{path}: expected a string, got {_show(value)}")
    return value


def _redis_url(value: object, path: str) -> str:
    url = _text(value, path)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{path}: expected a redis://, rediss:// or unix:// URL")
    return url


def _float(value: int | float) -> float:
    """``value`` as a float; a whole number too large for one is infinite."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{path}: expected a finite number, got {_show(value)}")
    number = _float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{path}: expected a finite number, got {_show(value)}")
    return number


def _id(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"{path}: expected an id (a whole number of at least 1), got {_show(value)}"
        )
    return value


def _ids(value: object, path: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: expected a list of ids, got {_show(value)}")
    return tuple(_id(item, f"{path}[{index}]") for index, item in enumerate(value))


def _currency(value: object, path: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise ConfigError(f"{path}: expected an ISO 4217 code like EUR, got {_show(value)}")
    return value


OBJECTIVE_METRICS = (
    "conversations",
    "transactions",
    "turnover",
    "conversion_rate",
    "satisfaction",
    "handling_time",
    "conversations_per_hour",
    "service_level",
    "first_response_time",
    "abandon_rate",
)


def _metric(value: object, path: str) -> str:
    if value not in OBJECTIVE_METRICS:
        raise ConfigError(
            f"{path}: unknown metric {_show(value)} (known: {', '.join(OBJECTIVE_METRICS)})"
        )
    return str(value)


def _schema(value: object, path: str) -> str:
    name = _text(value, path)
    if name not in SCHEMAS:
        raise ConfigError(
            f"{path}: unknown schema {_show(name)} (known: {', '.join(sorted(SCHEMAS))})"
        )
    return name


def _names(value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: expected a list of site names, got {_show(value)}")
    return tuple(_text(item, f"{path}[{index}]") for index, item in enumerate(value))


def _parse(parser: Callable[[object, str], Any], default: Any) -> Any:
    if isinstance(default, Mapping):  # unhashable: a fresh empty copy for each instance
        return field(default_factory=lambda: dict(default), metadata={"parse": parser})
    return field(default=default, metadata={"parse": parser})


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the chat database is and how hard the exporter may lean on it."""

    url: str | None = _parse(_text, None)
    url_file: str | None = _parse(_text, None)
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
    """One site's signal thresholds and service-level target; a key left out falls back to
    the default."""

    handling_duration: float | None = _parse(_positive_duration, None)
    response_time: float | None = _parse(_positive_duration, None)
    service_level: float | None = _parse(_positive_duration, None)


def _per_site(value: object, path: str) -> dict[str, SiteSignalsConfig]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: expected a mapping of site names, got {_show(value)}")
    return {
        _text(name, path): _build(SiteSignalsConfig, thresholds, f"{path}.{_key(name)}.")
        for name, thresholds in value.items()
    }


@dataclass(frozen=True)
class SignalsConfig:
    """Default thresholds, and per-site ones; a site's own columns (reference schema) win."""

    handling_duration: float = _parse(duration, 1200.0)
    response_time: float = _parse(duration, 60.0)
    sites: Mapping[str, SiteSignalsConfig] = _parse(_per_site, {})


@dataclass(frozen=True)
class ServiceLevelConfig:
    """The wait for a first response within which a conversation counts as answered in
    target; ``signals.sites.<site>.service_level`` overrides it for one site."""

    target: float = _parse(_positive_duration, 60.0)


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
        raise ConfigError(f"{path}: expected a list of objectives, got {_show(value)}")
    result: list[ConfiguredObjective] = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        goal = _build(ObjectiveConfig, item, f"{where}.")
        if goal.name is None or goal.metric is None or goal.target is None:
            raise ConfigError(f"{where}: name, metric and target are required")
        if goal.currency is not None and goal.metric != "turnover":
            raise ConfigError(f"{where}.currency: only a turnover objective has a currency")
        for other, earlier in enumerate(result):
            # Both would be published with the same labels (site, objective, metric, agent)
            # on a site they share: a duplicate series with two values.
            same = (earlier.name, earlier.metric, earlier.agent_id) == (
                goal.name,
                goal.metric,
                goal.agent_id,
            )
            if same and (None in (earlier.site, goal.site) or earlier.site == goal.site):
                raise ConfigError(
                    f"{where}: same name, metric and agent as {path}[{other}] on a site they "
                    "share; give it another name"
                )
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
    redis_url_file: str | None = _parse(_text, None)
    redis_key_prefix: str = _parse(_prefix, "alfred:")
    presence_seconds: float = _parse(_positive_duration, 60.0)
    default_max_slots: int = _parse(_positive_int, 3)
    accounts: tuple[int, ...] = _parse(_ids, ())


@dataclass(frozen=True)
class PrivacyConfig:
    """What the exporter publishes about each agent: its figures at all (``per_agent``), and
    its name or only its id in the ``agent`` label (``agent_names``)."""

    agent_names: bool = _parse(_switch, True)
    per_agent: bool = _parse(_switch, True)


T = TypeVar("T")


def _section(cls: type[T]) -> Callable[[object, str], T]:
    return lambda value, path: _build(cls, value, f"{path}.")


@dataclass(frozen=True)
class Config:
    """The whole configuration; every part has a default except the database URL."""

    database: DatabaseConfig = _parse(_section(DatabaseConfig), DatabaseConfig())
    collection: CollectionConfig = _parse(_section(CollectionConfig), CollectionConfig())
    signals: SignalsConfig = _parse(_section(SignalsConfig), SignalsConfig())
    service_level: ServiceLevelConfig = _parse(_section(ServiceLevelConfig), ServiceLevelConfig())
    satisfaction: SatisfactionConfig = _parse(_section(SatisfactionConfig), SatisfactionConfig())
    sites: tuple[str, ...] = _parse(_names, ())
    objectives: tuple[ConfiguredObjective, ...] = _parse(_objectives, ())
    chatwoot: ChatwootConfig = _parse(_section(ChatwootConfig), ChatwootConfig())
    privacy: PrivacyConfig = _parse(_section(PrivacyConfig), PrivacyConfig())

    def settings(self) -> Settings:
        """The part of the configuration that defines the figures."""
        chatwoot = self.chatwoot
        return Settings(
            handling_seconds=self.signals.handling_duration,
            response_seconds=self.signals.response_time,
            service_level_seconds=self.service_level.target,
            good_min=self.satisfaction.good_min,
            poor_max=self.satisfaction.poor_max,
            sites=self.sites,
            site_signals={
                name: SiteSignals(site.handling_duration, site.response_time, site.service_level)
                for name, site in self.signals.sites.items()
            },
            objectives=self.objectives,
            agent_names=self.privacy.agent_names,
            per_agent=self.privacy.per_agent,
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
        raise ConfigError(f"{where}: expected a mapping of keys, got {_show(raw)}")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"{prefix}{_key(key)}: unknown key in {where} (known: {', '.join(known)})"
            )
    values = {
        # null is accepted where it is the default: the key's "none" (a URL, a scope).
        key: None
        if value is None and known[key].default is None
        else known[key].metadata["parse"](value, f"{prefix}{key}")
        for key, value in raw.items()
    }
    for one, other in _EXCLUSIVE:
        if values.get(one) is not None and values.get(other) is not None:
            raise ConfigError(f"{prefix}{one} and {prefix}{other}: give one or the other")
    return cls(**values)


# Keys of one section that say the same thing two ways.
_EXCLUSIVE = (("url", "url_file"), ("redis_url", "redis_url_file"))


def _key(key: object) -> str:
    """A key as a path names it: quoted when it is long, or not printable on one line."""
    return key if isinstance(key, str) and len(key) <= 60 and key.isprintable() else _show(key)


def parse_config(text: str, origin: str = "config") -> Config:
    """Parse and validate the YAML text of a configuration file."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or getattr(error, "reason", None)
        raise ConfigError(f"{origin}: {_line(problem or 'invalid YAML')}{where}") from error
    except RecursionError as error:
        raise ConfigError(f"{origin}: nested too deeply to be a configuration") from error
    except (ValueError, OverflowError) as error:  # e.g. a timestamp 2026-13-01
        raise ConfigError(f"{origin}: invalid YAML value: {_line(str(error))}") from error
    try:
        config = _build(Config, raw, "")
    except ConfigError as error:
        raise ConfigError(f"{origin}: {error}") from error
    if config.satisfaction.poor_max >= config.satisfaction.good_min:
        raise ConfigError(
            f"{origin}: satisfaction.poor_max ({config.satisfaction.poor_max}) must be below "
            f"satisfaction.good_min ({config.satisfaction.good_min})"
        )
    if not config.privacy.per_agent:
        for index, goal in enumerate(config.objectives):
            if goal.agent_id is not None:
                raise ConfigError(
                    f"{origin}: objectives[{index}].agent_id: privacy.per_agent is false, "
                    "so no agent objective is published"
                )
    return config


def _line(text: str) -> str:
    """``text`` on one short line: YAML's and Python's messages may quote the input."""
    line = " ".join(text.split())
    return line if len(line) <= _SHOWN_CHARS else f"{line[: _SHOWN_CHARS - 3]}..."


def read_at_most(path: Path, limit: int) -> bytes:
    """The first ``limit`` + 1 bytes of ``path``: more than ``limit`` means too large, and
    ``/dev/zero`` or a log file given by mistake is never read to its end. OSError as
    opening or reading raises it."""
    with path.open("rb") as file:
        return file.read(limit + 1)


def _read(path: Path, limit: int, what: str) -> str:
    """The UTF-8 text of ``path``, refused beyond ``limit`` bytes."""
    try:
        data = read_at_most(path, limit)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    if len(data) > limit:
        raise ConfigError(f"{path}: larger than {limit // 1024} KiB, not {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start})") from error


def read_secret(path: Path) -> str:
    """The URL kept in ``path`` (``database.url_file`` and the like), without the final
    newline editors add."""
    text = _read(path, MAX_SECRET_BYTES, "a file holding one URL")
    secret = text.removesuffix("\n").removesuffix("\r")
    if not secret:
        raise ConfigError(f"{path}: empty, expected a URL")
    return secret


def load_config(path: Path | None) -> Config:
    """Read the configuration file, or return the defaults when no file is given.

    Relative ``*_file`` paths are taken from the file's directory, as Prometheus does.
    """
    if path is None:
        return Config()
    config = parse_config(_read(path, MAX_FILE_BYTES, "a configuration file"), str(path))
    database, chatwoot = config.database, config.chatwoot
    return replace(
        config,
        database=replace(database, url_file=_beside(path, database.url_file)),
        chatwoot=replace(chatwoot, redis_url_file=_beside(path, chatwoot.redis_url_file)),
    )


def _beside(config_file: Path, name: str | None) -> str | None:
    return None if name is None else str(config_file.parent / name)


def database_url(
    config: Config, *, flag: str | None, flag_file: Path | None, environment: str | None
) -> str | None:
    """The database URL: the flags' (``--database.url`` or ``--database.url-file``), else the
    environment's, else the file's (``database.url`` or ``database.url_file``)."""
    if flag and flag_file:
        raise ConfigError("--database.url and --database.url-file: give one or the other")
    if flag:
        return flag
    if flag_file:
        return read_secret(flag_file)
    if environment:
        return environment
    if config.database.url_file:
        return read_secret(Path(config.database.url_file))
    return config.database.url


def with_redis_url(config: Config, flag_file: Path | None) -> Config:
    """``config`` with Chatwoot's Redis URL read from ``--chatwoot.redis-url-file``, else from
    ``chatwoot.redis_url_file``, if either is given."""
    file = flag_file or (
        Path(config.chatwoot.redis_url_file) if config.chatwoot.redis_url_file else None
    )
    if file is None:
        return config
    url = _redis_url(read_secret(file), str(file))
    return replace(config, chatwoot=replace(config.chatwoot, redis_url=url, redis_url_file=None))
