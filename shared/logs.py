"""Structured JSON logs that Cloud Logging understands.

One JSON object per line on stdout with ``severity``, ``message``, the request's trace and any
extra fields passed as ``extra={"fields": {...}}``. Personal data never belongs in a log; as a last
line of defence the formatter masks anything shaped like a PESEL, a phone number or a bearer token.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)

_MASKS = [
    (re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), "Bearer [redacted]"),
    # A session token (see shared.services.identity) with or without "Bearer", and any JWT.
    (re.compile(r"[0-9a-f]{64}\.[A-Za-z0-9_-]{43}"), "[session-token]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"(?<![0-9])[0-9]{11}(?![0-9])"), "[pesel]"),
    (re.compile(r"(?<![\w.])\+?48[ -]?[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{3}(?![0-9])"), "[phone]"),
    (re.compile(r"(?<![\w.])[0-9]{3}[ -][0-9]{3}[ -][0-9]{3}(?![0-9])"), "[phone]"),
    # A bare 9-digit Polish mobile (they start with 4-8); a longer or shorter number is left alone.
    (re.compile(r"(?<![0-9])[4-8][0-9]{8}(?![0-9])"), "[phone]"),
]


def scrub(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def scrub_value(value: Any) -> Any:
    """``scrub`` applied to every string inside ``value``, however deeply nested (keys included)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_value(k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_value(v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub(str(value))


def set_trace(project_id: str, header: str | None) -> None:
    """Remember the trace of the request being served (``X-Cloud-Trace-Context``)."""
    if not header:
        _trace.set(None)
        return
    trace_id = header.split("/", 1)[0]
    _trace.set(f"projects/{project_id}/traces/{trace_id}" if trace_id else None)


class CloudLoggingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": scrub(record.getMessage()),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(scrub_value(fields))
        trace = _trace.get()
        if trace:
            entry["logging.googleapis.com/trace"] = trace
        if record.exc_info:
            entry["stack_trace"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, CloudLoggingFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "google", "grpc", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
