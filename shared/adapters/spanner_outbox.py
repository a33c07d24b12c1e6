"""The transactional outbox in Spanner, as the relay reads and marks it (``OutboxStore``).

Pending events are found through the NULL_FILTERED ``PendingOutbox`` index (Pending, CreatedAt,
EventId), which holds only rows not yet published, so a sweep reads no published row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_db import SpannerDatabase


class SpannerOutbox:
    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def pending(self, created_before: datetime, limit: int) -> list[dict[str, Any]]:
        keys = KeySet(ranges=[KeyRange(start_closed=[True], end_open=[True, created_before])])
        with self.database.snapshot() as snapshot:
            ids = [str(r[0]) for r in snapshot.read("Outbox", ("EventId",), keys, index="PendingOutbox", limit=limit)]
        if not ids:
            return []
        with self.database.snapshot() as snapshot:
            rows = snapshot.read("Outbox", ("EventId", "Payload"), KeySet(keys=[[i] for i in ids]))
            payloads = {str(r[0]): r[1] for r in rows}
        return [json.loads(payloads[i]) for i in ids if i in payloads]

    def mark_published(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            with self.database.batch() as batch:
                batch.update(
                    "Outbox",
                    ("EventId", "Pending", "PublishedAt"),
                    [(event_id, None, spanner.COMMIT_TIMESTAMP) for event_id in event_ids],
                )

    def add(self, events: Iterable[dict[str, Any]]) -> None:
        """Write events outside a booking (tools and tests); bookings write theirs in their transaction."""
        values = [
            (e["event_id"], e["event_type"], json.dumps(e, default=str), spanner.COMMIT_TIMESTAMP, True) for e in events
        ]
        if values:
            with self.database.batch() as batch:
                batch.insert("Outbox", ("EventId", "EventType", "Payload", "CreatedAt", "Pending"), values)
