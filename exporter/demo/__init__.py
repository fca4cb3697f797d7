"""The demo: a simulated contact centre living in a real database, next to the exporter."""

from exporter.demo.chatwoot import chatwoot_simulation
from exporter.demo.simulator import simulation

__all__ = ["chatwoot_simulation", "simulation"]
