"""In-memory registry of who works where (``shared.services.identity.StaffRegistry``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from shared.domain.identity import StaffGrants
from shared.domain.points import Point
from shared.domain.registry import RegisteredPoint, StaffGrant
from shared.services.identity import RegistryUnavailable

T = TypeVar("T")


class FakeStaffRegistry:
    def __init__(self) -> None:
        self.grants: dict[str, StaffGrants] = {}
        self.down = False
        self.reads = 0

    def grants_of(self, staff_id: str) -> StaffGrants:
        self.reads += 1
        if self.down:
            raise RegistryUnavailable("down")
        return self.grants.get(staff_id, StaffGrants())


class FakePointsStore:
    """``PointsStore`` and its transaction in memory: a failed transaction leaves nothing behind."""

    def __init__(self) -> None:
        self.points: dict[str, RegisteredPoint] = {}
        self.visits: dict[str, int] = {}  # point_id -> future booked visits
        self.slots: dict[str, list[tuple[str, datetime, str]]] = {}
        self.closed: set[str] = set()
        self.audit: list[tuple[str, str, str, dict[str, Any]]] = []

    # --- transaction ---
    def point(self, point_id: str) -> RegisteredPoint | None:
        return self.points.get(point_id)

    def future_visits(self, point_id: str, now: datetime) -> int:
        return self.visits.get(point_id, 0)

    def insert(self, point: Point) -> None:
        self.points[point.point_id] = RegisteredPoint(point, 1)

    def save(self, point: Point, version: int) -> None:
        self.points[point.point_id] = RegisteredPoint(point, version)

    def mark_slots(self, point_id: str, now: datetime, open_: bool) -> list[tuple[str, datetime, str]]:
        (self.closed.discard if open_ else self.closed.add)(point_id)
        return self.slots.get(point_id, [])

    def audit_entry(self, point_id: str, staff_id: str, action: str, changes: dict[str, Any], now: datetime) -> None:
        self.audit.append((point_id, staff_id, action, changes))

    # --- store ---
    def run(self, work: Callable[[Any], T]) -> T:
        saved = (dict(self.points), set(self.closed), list(self.audit))
        try:
            return work(_Tx(self))
        except Exception:
            self.points, self.closed, self.audit = dict(saved[0]), set(saved[1]), list(saved[2])
            raise

    def get(self, point_id: str) -> RegisteredPoint | None:
        return self.points.get(point_id)

    def page(self, voivodeship: str | None, after: str | None, limit: int) -> list[RegisteredPoint]:
        ids = sorted(p for p, r in self.points.items() if voivodeship in (None, r.point.voivodeship))
        return [self.points[p] for p in ids if after is None or p > after][:limit]


class _Tx:
    def __init__(self, store: FakePointsStore) -> None:
        self.point = store.point
        self.future_visits = store.future_visits
        self.insert = store.insert
        self.save = store.save
        self.mark_slots = store.mark_slots
        self.audit = store.audit_entry


class FakeStaffStore:
    def __init__(self) -> None:
        self.grants: dict[tuple[str, str], StaffGrant] = {}
        self.coordinators: dict[str, str] = {}
        self.audit: list[tuple[str, str]] = []

    def grants_of(self, staff_id: str) -> StaffGrants:
        points = {p: g.role for (p, s), g in self.grants.items() if s == staff_id}
        return StaffGrants(points, self.coordinators.get(staff_id))

    def grant(self, grant: StaffGrant, voivodeship: str, by: str, now: datetime) -> None:
        self.grants[(grant.point_id, grant.staff_ref)] = grant
        self.audit.append(("grant", by))

    def revoke(self, point_id: str, staff_ref: str, by: str, now: datetime) -> bool:
        if self.grants.pop((point_id, staff_ref), None) is None:
            return False
        self.audit.append(("revoke", by))
        return True

    def staff_of(self, point_id: str) -> list[StaffGrant]:
        return [g for (p, _), g in self.grants.items() if p == point_id]

    def make_coordinator(self, staff_id: str, voivodeship: str, by: str, now: datetime) -> None:
        self.coordinators[staff_id] = voivodeship
        self.audit.append(("coordinator", by))

    def end_coordinator(self, staff_id: str, by: str, now: datetime) -> bool:
        if self.coordinators.pop(staff_id, None) is None:
            return False
        self.audit.append(("end_coordinator", by))
        return True


class FakeProjectionSync:
    def __init__(self) -> None:
        self.reconciled: list[list[str]] = []

    def reconcile(self, point_ids: list[str]) -> object:
        self.reconciled.append(list(point_ids))
        return None
