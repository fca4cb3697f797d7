"""What a source needs besides a connection and the time: the configured rules of the figures."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    """Signal thresholds for sites without their own, satisfaction buckets, site allow-list."""

    handling_seconds: float = 1200.0
    response_seconds: float = 60.0
    good_min: int = 4
    poor_max: int = 2
    sites: tuple[str, ...] = ()
