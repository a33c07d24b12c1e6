"""The outbox relay: visit events reach Pub/Sub after their transaction commits, and none is lost.

Right after a commit the events are published at once (the fast path). Whatever that misses (Pub/Sub
or the function down, a timeout) stays pending in the outbox, and a scheduled sweep publishes it.
Publishing twice is harmless: every consumer is idempotent on the event id.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.pubsub_bus import MessageBus
from shared.adapters.spanner_db import SpannerDatabase
from shared.topology import VISIT_EVENTS

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        database: SpannerDatabase,
        bus: MessageBus,
        publish_timeout_s: float = 3.0,
        pause_after_failure_s: float = 10.0,
    ) -> None:
        self.database = database
        self.bus = bus
        self.publish_timeout_s = publish_timeout_s
        self.pause_after_failure_s = pause_after_failure_s
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def publish(self, events: Sequence[dict[str, Any]]) -> int:
        """Fast path after a commit; never raises (the sweep publishes what this could not)."""
        if not events or time.monotonic() < self._paused_until:
            return 0
        try:
            return self._publish(events)
        except Exception:
            log.warning("outbox fast path failed; the sweep will publish", exc_info=True)
            self._pause()
            return 0

    def sweep(self, now: datetime, older_than_s: float = 5.0, batch: int = 500) -> int:
        """Publish pending events older than a few seconds (younger ones are the fast path's)."""
        cutoff = now - timedelta(seconds=older_than_s)
        published = 0
        while True:
            keys = KeySet(ranges=[KeyRange(start_closed=[True], end_closed=[True, cutoff])])
            with self.database.snapshot() as snapshot:
                rows = list(snapshot.read("Outbox", ("EventId",), keys, index="PendingOutbox", limit=batch))
            if not rows:
                return published
            with self.database.snapshot() as snapshot:
                payloads = [r[0] for r in snapshot.read("Outbox", ("Payload",), KeySet(keys=[[r[0]] for r in rows]))]
            count = self._publish([json.loads(p) for p in payloads])
            published += count
            if count < len(rows):
                log.warning("outbox sweep stopped: Pub/Sub took %d of %d", count, len(rows))
                return published

    def _publish(self, events: Sequence[dict[str, Any]]) -> int:
        messages = [
            (json.dumps(e, default=str).encode(), {"event_id": e["event_id"], "event_type": e["event_type"]})
            for e in events
        ]
        taken = self.bus.publish_many(VISIT_EVENTS, messages, timeout_s=self.publish_timeout_s)
        done = [e["event_id"] for e, ok in zip(events, taken, strict=True) if ok]
        if done:
            with self.database.batch() as batch:
                batch.update(
                    "Outbox",
                    ("EventId", "Pending", "PublishedAt"),
                    [(event_id, None, spanner.COMMIT_TIMESTAMP) for event_id in done],
                )
        if len(done) < len(events):
            self._pause()
        return len(done)

    def _pause(self) -> None:
        with self._lock:
            self._paused_until = time.monotonic() + self.pause_after_failure_s
