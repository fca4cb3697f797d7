"""Log lines in logfmt, one event per line, as Prometheus components write them."""

import logging
import sys
from datetime import UTC, datetime

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


def _quote(value: str) -> str:
    if value and not any(c in value for c in ' "=\\\n'):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class LogfmtFormatter(logging.Formatter):
    """``ts=… level=… logger=… msg=…`` with an ``err=`` field for exceptions."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        level = {"WARNING": "warn"}.get(record.levelname, record.levelname.lower())
        fields = [
            f"ts={ts.replace('+00:00', 'Z')}",
            f"level={level}",
            f"logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        if record.exc_info:
            fields.append(f"err={_quote(self.formatException(record.exc_info))}")
        return " ".join(fields)


def setup(level: str) -> None:
    """Log to standard error at ``level`` (debug, info, warn or error)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS[level])
    # One access-log line per scrape is noise unless debugging.
    logging.getLogger("aiohttp.access").setLevel(
        LEVELS[level] if level == "debug" else logging.WARNING
    )
