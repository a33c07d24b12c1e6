"""The registry of points (create, change, suspend; versioned and audited) and of who works where.

A suspended point leaves search in the same request: its slots drop out of Spanner's free-slot
indexes in the transaction that suspends it, and out of the availability projection right after
(the projection's reads of Spanner return a suspended point's slots closed at the suspension's commit,
so neither a reconcile nor a change committed before it and told after it brings them back).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from shared.domain.identity import POINT_ROLES, Principal, Role, StaffGrants, staff_id_for
from shared.domain.points import Point
from shared.domain.programme import Programme
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.registry import (
    Address,
    PointChange,
    PointHasVisits,
    PointStatus,
    RegisteredPoint,
    StaffGrant,
    changed,
    check_manages_staff,
    check_region,
    check_vaccines,
    check_version,
    may_run_region,
    new_point,
)

T = TypeVar("T")


class PointsTransaction(Protocol):
    def point(self, point_id: str) -> RegisteredPoint | None: ...

    def future_visits(self, point_id: str, now: datetime) -> int:
        """Booked visits at the point from ``now`` on."""
        ...

    def insert(self, point: Point) -> None: ...

    def save(self, point: Point, version: int) -> None: ...

    def mark_slots(self, point_id: str, now: datetime, open_: bool) -> list[tuple[str, datetime, str]]:
        """Take the point's slots from ``now`` on out of (or back into) the free-slot indexes; their keys."""
        ...

    def audit(self, point_id: str, staff_id: str, action: str, changes: dict[str, Any], now: datetime) -> None:
        """Append an audit entry (in the same transaction as the change)."""
        ...


class PointsStore(Protocol):
    def run(self, work: Callable[[PointsTransaction], T]) -> T: ...

    def get(self, point_id: str) -> RegisteredPoint | None: ...

    def page(self, voivodeship: str | None, after: str | None, limit: int) -> list[RegisteredPoint]:
        """Points in id order after ``after`` (of one voivodeship if given)."""
        ...


class StaffStore(Protocol):
    def grants_of(self, staff_id: str) -> StaffGrants: ...

    def grant(self, grant: StaffGrant, voivodeship: str, by: str, now: datetime) -> None: ...

    def revoke(self, point_id: str, staff_ref: str, by: str, now: datetime) -> bool: ...

    def staff_of(self, point_id: str) -> list[StaffGrant]: ...

    def make_coordinator(self, staff_id: str, voivodeship: str, by: str, now: datetime) -> None: ...

    def end_coordinator(self, staff_id: str, by: str, now: datetime) -> bool:
        """False when the person coordinates no voivodeship."""
        ...


class ProjectionSync(Protocol):
    def reconcile(self, point_ids: list[str]) -> object: ...


@dataclass(frozen=True)
class PointPage:
    points: list[RegisteredPoint]
    next_token: str | None


def _actor(principal: Principal) -> str:
    if principal.staff_id is None:
        raise Refused(RefusalKind.FORBIDDEN, "forbidden_role", "Brak uprawnień do tej operacji")
    return principal.staff_id


class PointRegistry:
    def __init__(
        self,
        store: PointsStore,
        programme: Callable[[], Programme | None],
        projection: ProjectionSync | None,
        on_change: Callable[[str], None] = lambda point_id: None,
    ) -> None:
        self.store = store
        self.programme = programme
        self.projection = projection
        self.on_change = on_change

    def _known_vaccines(self) -> frozenset[str]:
        programme = self.programme()
        return frozenset(v.code for v in programme.vaccines) if programme else frozenset()

    def create(
        self, name: str, address: Address, municipality: str, vaccines: list[str], principal: Principal, now: datetime
    ) -> RegisteredPoint:
        check_vaccines(vaccines, self._known_vaccines())
        point = new_point(str(uuid.uuid4()), name, address, municipality, vaccines)
        check_region(principal, point.voivodeship)
        by = _actor(principal)

        def work(tx: PointsTransaction) -> RegisteredPoint:
            tx.insert(point)
            tx.audit(point.point_id, by, "create", {k: [None, v] for k, v in point.__dict__.items()}, now)
            return RegisteredPoint(point, 1)

        return self.store.run(work)

    def get(self, point_id: str, principal: Principal) -> RegisteredPoint:
        found = self.store.get(point_id)
        if found is None or not may_run_region(principal, found.point.voivodeship):
            raise Refused(RefusalKind.NOT_FOUND, "point_not_found", "Nie ma takiego punktu szczepień")
        return found

    def page(
        self, principal: Principal, voivodeship: str | None, status: PointStatus | None, after: str | None, limit: int
    ) -> PointPage:
        if Role.ADMIN not in principal.roles:
            if voivodeship not in (None, principal.voivodeship):
                raise Refused(RefusalKind.FORBIDDEN, "forbidden_region", "Brak uprawnień w tym województwie",
                              field="voivodeship")  # fmt: skip
            check_region(principal, principal.voivodeship or "")
            voivodeship = principal.voivodeship
        found: list[RegisteredPoint] = []
        cursor = after
        size = max(limit, 200)  # a status filter may skip many: read in larger steps
        while len(found) < limit:
            batch = self.store.page(voivodeship, cursor, size)
            found += [p for p in batch if status is None or p.status == status]
            if len(batch) < size:
                break  # the last points
            cursor = batch[-1].point.point_id
        page = found[:limit]
        return PointPage(page, page[-1].point.point_id if len(found) > limit or len(batch) == size else None)

    def change(
        self, point_id: str, change: PointChange, based_on: int, principal: Principal, now: datetime
    ) -> RegisteredPoint:
        if change.vaccines is not None:
            check_vaccines(change.vaccines, self._known_vaccines())
        by = _actor(principal)
        touched: list[tuple[str, datetime, str]] = []

        def work(tx: PointsTransaction) -> RegisteredPoint:
            current = tx.point(point_id)
            if current is None or not may_run_region(principal, current.point.voivodeship):
                raise Refused(RefusalKind.NOT_FOUND, "point_not_found", "Nie ma takiego punktu szczepień")
            check_version(current.version, based_on)
            after, diff = changed(current.point, change)
            if not diff:
                return current
            touched.clear()
            if current.point.active and not after.active:
                waiting = tx.future_visits(point_id, now)
                if waiting:
                    raise PointHasVisits(waiting)
                touched.extend(tx.mark_slots(point_id, now, open_=False))
            elif after.active and not current.point.active:
                touched.extend(tx.mark_slots(point_id, now, open_=True))
            tx.save(after, current.version + 1)
            tx.audit(point_id, by, "change", diff, now)
            return RegisteredPoint(after, current.version + 1)

        result = self.store.run(work)
        self.on_change(point_id)
        if touched and self.projection is not None:
            # In the request: the projection drops (or takes back) the point's slots before the answer.
            self.projection.reconcile([point_id])
        return result


class StaffRegistry:
    """Who works where: grants and revocations at a point, coordinators of a voivodeship."""

    def __init__(
        self,
        store: StaffStore,
        points: PointsStore,
        names: Callable[[str, str], tuple[str, str] | None],
        staff_key: str,
    ) -> None:
        self.store = store
        self.points = points
        self.names = names
        self.staff_key = staff_key

    def _point(self, point_id: str, principal: Principal) -> Point:
        found = self.points.get(point_id)
        if found is None:
            raise Refused(RefusalKind.NOT_FOUND, "point_not_found", "Nie ma takiego punktu szczepień")
        check_manages_staff(principal, found.point)
        return found.point

    def grant(self, point_id: str, pesel: str, role: Role, principal: Principal, now: datetime) -> StaffGrant:
        if role not in POINT_ROLES:
            raise Refused(RefusalKind.INVALID, "invalid_role", "Nieznana rola w punkcie", field="role")
        point = self._point(point_id, principal)
        staff_ref = staff_id_for(pesel, self.staff_key)
        names = self.names(pesel, staff_ref)
        grant = StaffGrant(point_id, staff_ref, role, names[0] if names else None, names[1] if names else None, now)
        self.store.grant(grant, point.voivodeship, _actor(principal), now)
        return grant

    def revoke(self, point_id: str, staff_ref: str, principal: Principal, now: datetime) -> None:
        self._point(point_id, principal)
        if not self.store.revoke(point_id, staff_ref, _actor(principal), now):
            raise Refused(RefusalKind.NOT_FOUND, "staff_not_found", "Ta osoba nie pracuje w tym punkcie")

    def staff_of(self, point_id: str, principal: Principal) -> list[StaffGrant]:
        self._point(point_id, principal)
        return sorted(self.store.staff_of(point_id), key=lambda g: (g.family_name or "", g.given_name or ""))

    def make_coordinator(self, pesel: str, voivodeship: str, principal: Principal, now: datetime) -> str:
        if Role.ADMIN not in principal.roles:
            raise Refused(RefusalKind.FORBIDDEN, "forbidden_role", "Brak uprawnień do tej operacji")
        staff_ref = staff_id_for(pesel, self.staff_key)
        self.store.make_coordinator(staff_ref, voivodeship, _actor(principal), now)
        return staff_ref

    def end_coordinator(self, staff_ref: str, principal: Principal, now: datetime) -> None:
        """The person coordinates no voivodeship from their next request on (roles are read per request)."""
        if Role.ADMIN not in principal.roles:
            raise Refused(RefusalKind.FORBIDDEN, "forbidden_role", "Brak uprawnień do tej operacji")
        if not self.store.end_coordinator(staff_ref, _actor(principal), now):
            raise Refused(RefusalKind.NOT_FOUND, "coordinator_not_found", "Ta osoba nie jest koordynatorem")
