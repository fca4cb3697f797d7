"""The demo: a simulated contact centre living in a real database, next to the exporter."""

from exporter.demo.simulator import simulation

__all__ = ["simulation"]
