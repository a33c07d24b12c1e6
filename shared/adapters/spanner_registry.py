"""The registry of points in Spanner: key and key-range reads, mutations, the audit in the same commit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_points import POINT_COLUMNS
from shared.domain.booking import VisitStatus
from shared.domain.points import Point
from shared.domain.registry import RegisteredPoint

T = TypeVar("T")
REGISTRY_COLUMNS = (*POINT_COLUMNS, "Version")


def _registered(row: list[Any]) -> RegisteredPoint:
    values = list(row[: len(POINT_COLUMNS)])
    values[8] = list(values[8])
    return RegisteredPoint(Point(*values), int(row[len(POINT_COLUMNS)] or 1))


def _point_values(point: Point) -> tuple[Any, ...]:
    return (point.point_id, point.name, point.voivodeship, point.county, point.municipality, point.city,
            point.street, point.postal_code, point.vaccines, point.active)  # fmt: skip


class SpannerPointsTransaction:
    """``shared.services.registry.PointsTransaction`` in one read-write transaction."""

    def __init__(self, transaction: Any) -> None:
        self.transaction = transaction

    def point(self, point_id: str) -> RegisteredPoint | None:
        rows = list(self.transaction.read("Points", REGISTRY_COLUMNS, KeySet(keys=[[point_id]])))
        return _registered(rows[0]) if rows else None

    def future_visits(self, point_id: str, now: datetime) -> int:
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, now], end_closed=[point_id])])
        rows = self.transaction.read("Visits", ("PointId", "StartsAt", "Status"), keys, index="VisitsByPoint")
        return sum(1 for row in rows if row[2] == VisitStatus.BOOKED)

    def insert(self, point: Point) -> None:
        self.transaction.insert("Points", REGISTRY_COLUMNS, [(*_point_values(point), 1)])

    def save(self, point: Point, version: int) -> None:
        self.transaction.update("Points", REGISTRY_COLUMNS, [(*_point_values(point), version)])

    def mark_slots(self, point_id: str, now: datetime, open_: bool) -> list[tuple[str, datetime, str]]:
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, now], end_closed=[point_id])])
        rows = list(self.transaction.read("Slots", ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked"), keys))
        # A new ChangedAt: the projection takes the slots back (or drops them) as a newer state.
        values = [(r[0], r[1], r[2], True if open_ and r[3] > r[4] else None, spanner.COMMIT_TIMESTAMP) for r in rows]
        if values:
            self.transaction.update("Slots", ("PointId", "StartsAt", "Vaccine", "FreeMarker", "ChangedAt"), values)
        return [(r[0], r[1], r[2]) for r in rows]

    def audit(self, point_id: str, staff_id: str, action: str, changes: dict[str, Any], now: datetime) -> None:
        self.transaction.insert(
            "PointAudit",
            ("PointId", "ChangedAt", "EntryId", "StaffId", "Action", "Changes"),
            [(point_id, spanner.COMMIT_TIMESTAMP, str(uuid.uuid4()), staff_id, action,
              json.dumps(changes, ensure_ascii=False, default=str))],
        )  # fmt: skip


class SpannerPointsStore:
    """``shared.services.registry.PointsStore``."""

    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def run(self, work: Callable[[SpannerPointsTransaction], T]) -> T:
        return self.database.run_in_transaction(lambda transaction: work(SpannerPointsTransaction(transaction)))

    def get(self, point_id: str) -> RegisteredPoint | None:
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("Points", REGISTRY_COLUMNS, KeySet(keys=[[point_id]])))
        return _registered(rows[0]) if rows else None

    def page(self, voivodeship: str | None, after: str | None, limit: int) -> list[RegisteredPoint]:
        if voivodeship is None:
            keys = KeySet(ranges=[KeyRange(start_open=[after])]) if after else KeySet(all_=True)
            with self.database.snapshot() as snapshot:
                return [_registered(r) for r in snapshot.read("Points", REGISTRY_COLUMNS, keys, limit=limit)]
        region = KeySet(ranges=[KeyRange(start_closed=[voivodeship], end_closed=[voivodeship])])
        with self.database.snapshot() as snapshot:
            ids = sorted(str(r[0]) for r in snapshot.read("Points", ("PointId",), region, index="PointsByMunicipality"))
        wanted = [p for p in ids if after is None or p > after][:limit]
        if not wanted:
            return []
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("Points", REGISTRY_COLUMNS, KeySet(keys=[[p] for p in wanted])))
        return sorted((_registered(r) for r in rows), key=lambda p: p.point.point_id)

    def audit_of(self, point_id: str) -> list[dict[str, Any]]:
        columns = ("PointId", "ChangedAt", "EntryId", "StaffId", "Action", "Changes")
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id], end_closed=[point_id])])
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("PointAudit", columns, keys))
        return [{"at": r[1], "staff_id": r[3], "action": r[4], "changes": json.loads(r[5])} for r in rows]
