"""The outbox relay: visit events reach Pub/Sub after their transaction commits, and none is lost.

Right after a commit the events are published at once (the fast path). Whatever that misses (Pub/Sub
or the function down, a timeout) stays pending in the outbox, and a scheduled sweep publishes it.
Publishing twice is harmless: every consumer is idempotent on the event id.

The fast path marks what it published in batches from a background thread (a commit every half
second instead of one per booking): a mark that never lands only means the sweep publishes that
event once more.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.services.ports import MessagePublisher
from shared.topology import VISIT_EVENTS

log = logging.getLogger(__name__)


class OutboxStore(Protocol):
    """The outbox the booking transactions write their events to (as JSON objects)."""

    def pending(self, created_before: datetime, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` events not yet marked published and created before ``created_before``,
        oldest first."""
        ...

    def mark_published(self, event_ids: Sequence[str]) -> None:
        """Mark events published: ``pending`` no longer returns them."""
        ...


class OutboxRelay:
    """Implements the ``EventPublisher`` port (the fast path) and the sweep."""

    def __init__(
        self,
        outbox: OutboxStore,
        bus: MessagePublisher,
        publish_timeout_s: float = 3.0,
        pause_after_failure_s: float = 10.0,
        mark_every_s: float = 0.5,
    ) -> None:
        self.outbox = outbox
        self.bus = bus
        self.publish_timeout_s = publish_timeout_s
        self.pause_after_failure_s = pause_after_failure_s
        self.mark_every_s = mark_every_s
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._to_mark: list[str] = []
        self._marker: threading.Thread | None = None

    def publish(self, events: Sequence[dict[str, Any]]) -> int:
        """Fast path after a commit; never raises (the sweep publishes what this could not)."""
        if not events or time.monotonic() < self._paused_until:
            return 0
        try:
            done = self._publish(events)
        except Exception:
            log.warning("outbox fast path failed; the sweep will publish", exc_info=True)
            self._pause()
            return 0
        with self._lock:
            self._to_mark += done
            if self._marker is None or not self._marker.is_alive():
                self._marker = threading.Thread(target=self._mark_in_background, name="outbox-marker", daemon=True)
                self._marker.start()
        return len(done)

    def flush(self) -> None:
        """Mark now what the fast path published (also called by the background marker)."""
        with self._lock:
            done, self._to_mark = self._to_mark, []
        if done:
            try:
                self._mark(done)
            except Exception:
                log.warning(
                    "could not mark %d published event(s); the sweep will resend them", len(done), exc_info=True
                )

    def _mark_in_background(self) -> None:
        while True:
            time.sleep(self.mark_every_s)
            self.flush()

    def sweep(self, now: datetime, older_than_s: float = 30.0, batch: int = 500) -> int:
        """Publish pending events older than some seconds (younger ones are the fast path's)."""
        cutoff = now - timedelta(seconds=older_than_s)
        published = 0
        while True:
            events = self.outbox.pending(cutoff, batch)
            if not events:
                return published
            done = self._publish(events)
            self._mark(done)
            published += len(done)
            if len(done) < len(events):
                log.warning("outbox sweep stopped: Pub/Sub took %d of %d", len(done), len(events))
                return published

    def _publish(self, events: Sequence[dict[str, Any]]) -> list[str]:
        """Publish; returns the ids Pub/Sub took (and pauses the fast path if it refused any)."""
        messages = [
            (json.dumps(e, default=str).encode(), {"event_id": e["event_id"], "event_type": e["event_type"]})
            for e in events
        ]
        taken = self.bus.publish_many(VISIT_EVENTS, messages, timeout_s=self.publish_timeout_s)
        if not all(taken):
            self._pause()
        return [e["event_id"] for e, ok in zip(events, taken, strict=True) if ok]

    def _mark(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            self.outbox.mark_published(event_ids)

    def _pause(self) -> None:
        with self._lock:
            self._paused_until = time.monotonic() + self.pause_after_failure_s
