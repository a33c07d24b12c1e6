"""Induced failures of a local stand-in: the next N calls, or every call for a while (an outage)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: list[int] = []
        self._until = 0.0  # time.monotonic() before which every call fails
        self._until_status = 503
        self.attempts = 0

    def configure(self, body: dict[str, Any]) -> None:
        """``{count, status}``: fail the next ``count`` calls; ``{seconds, status}`` or ``{until, status}``
        (an ISO 8601 instant with its offset): every call until then, an outage."""
        status = int(body.get("status", 503))
        if "until" in body:
            body = {**body, "seconds": (datetime.fromisoformat(body["until"]) - datetime.now(UTC)).total_seconds()}
        with self._lock:
            if "seconds" in body:
                self._until = time.monotonic() + float(body["seconds"])
                self._until_status = status
            else:
                self._next += [status] * int(body.get("count", 1))

    def next_call(self) -> int | None:
        """Count a call; the status it must fail with, or None."""
        with self._lock:
            self.attempts += 1
            if self._next:
                return self._next.pop(0)
            return self._until_status if time.monotonic() < self._until else None

    def clear(self) -> None:
        with self._lock:
            self._next.clear()
            self._until = 0.0
            self.attempts = 0
