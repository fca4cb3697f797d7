"""What the Prometheus rules and the Grafana dashboards share, in one place.

The monitoring-mixin convention (the ``_config`` of kubernetes-mixin and Mimir's mixin): one
settings object, read by both generators, holds what a deployment may change (the selector of
the exporter's Prometheus job, the alerts' thresholds and ``for`` durations, the runbook's
URL) and the thresholds the dashboards colour by and the rules judge by, so that the two can
never disagree. The committed files are the defaults' rendering; ``python -m alerts`` and
``python -m dashboards`` render them for another deployment.
"""

from mixin.settings import DEFAULTS, Settings, in_words, number, seconds

__all__ = ["DEFAULTS", "Settings", "in_words", "number", "seconds"]
