"""Sources read one schema flavour each; a new platform is a new module here and a line below.

``SCHEMAS`` maps the configuration's ``database.schema`` to the source's class.
"""

from exporter.sources.base import Source, Unavailable
from exporter.sources.chatwoot import ChatwootSource
from exporter.sources.reference import ReferenceSource

SCHEMAS: dict[str, type[Source]] = {"reference": ReferenceSource, "chatwoot": ChatwootSource}

__all__ = ["SCHEMAS", "Source", "Unavailable"]
