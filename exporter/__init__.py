"""chat-supervision-exporter: real-time contact-centre supervision figures for Prometheus."""

__version__ = "0.1.0"
