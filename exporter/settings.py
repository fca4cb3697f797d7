"""What a source needs besides a connection and the time: the configured rules of the figures."""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SiteSignals:
    """A site's own thresholds from the configuration (signals and service-level target);
    None falls back to the default."""

    handling_seconds: float | None = None
    response_seconds: float | None = None
    service_level_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class ConfiguredObjective:
    """An objective from the configuration: every site when ``site`` is None, the site as a
    whole when ``agent_id`` is None."""

    name: str
    metric: str
    target: float
    site: str | None = None
    agent_id: int | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class ChatwootSettings:
    """How the Chatwoot source finds live presence (Redis) and fills what Chatwoot leaves open."""

    redis_url: str | None = None
    redis_key_prefix: str = "alfred:"
    presence_seconds: float = 60.0
    default_max_slots: int = 3
    accounts: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    """Signal thresholds, service-level target, satisfaction buckets, allow-list, objectives,
    what is read about each agent, and per-schema options.

    ``agent_names`` false: sources read each agent's id as its name, so that names never
    leave the database. ``per_agent`` false: sources skip the statements only per-agent
    figures need, and the snapshot holds site figures only.
    """

    handling_seconds: float = 1200.0
    response_seconds: float = 60.0
    service_level_seconds: float = 60.0
    good_min: int = 4
    poor_max: int = 2
    sites: tuple[str, ...] = ()
    site_signals: Mapping[str, SiteSignals] = field(default_factory=dict)
    objectives: tuple[ConfiguredObjective, ...] = ()
    agent_names: bool = True
    per_agent: bool = True
    chatwoot: ChatwootSettings = ChatwootSettings()
