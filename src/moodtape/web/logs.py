"""Server log lines: plain text (the default) or one JSON object a line, each with the request id.

``MOODTAPE_LOG_FORMAT=json`` suits log collectors: every line has ``time``, ``level``, ``logger``,
``message`` and, inside a request, ``request_id`` (the one sent back in ``X-Request-ID``), so a
client's complaint can be matched to the server's lines across instances.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Final

LOG_FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "moodtape: %(levelname)s: %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from moodtape.web.ops import request_id

        record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send log records to stderr as ``text`` or ``json`` (replaces the root logger's handlers).

    Raises:
        ValueError: an unknown format.
    """
    log_format = log_format.strip().lower() or "text"
    if log_format not in LOG_FORMATS:
        raise ValueError(f"MOODTAPE_LOG_FORMAT must be text or json, got {log_format!r}")
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
