"""The registry's ports, two implementations each: the in-memory fakes of the unit tests and the
Spanner and Firestore adapters behave the same for every case here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.firestore_registry import FirestoreStaffStore
from shared.adapters.spanner_registry import SpannerPointsStore
from shared.bootstrap import Container
from shared.domain.identity import Role
from shared.domain.points import Point
from shared.domain.registry import RegisteredPoint, StaffGrant
from shared.services.registry import PointsStore, PointsTransaction, StaffStore
from tests.unit.fakes_registry import FakePointsStore, FakeStaffStore

NOW = datetime.now(UTC).replace(microsecond=0)


def point(voivodeship: str = "14", name: str = "Punkt") -> Point:
    return Point(str(uuid.uuid4()), name, voivodeship, f"{voivodeship}65", f"{voivodeship}65011", "Warszawa",
                 "ul. Długa 1", "00-001", ["comirnaty"], True)  # fmt: skip


@pytest.fixture(params=["fake", "spanner"])
def points(request: pytest.FixtureRequest) -> Iterator[PointsStore]:
    if request.param == "fake":
        yield FakePointsStore()
        return
    container: Container = request.getfixturevalue("backends")
    yield SpannerPointsStore(container.spanner)


@pytest.fixture(params=["fake", "firestore"])
def staff(request: pytest.FixtureRequest) -> Iterator[StaffStore]:
    if request.param == "fake":
        yield FakeStaffStore()
        return
    container: Container = request.getfixturevalue("backends")
    yield FirestoreStaffStore(container.firestore.client)


def test_points_are_stored_versioned_and_paged_in_id_order(points: PointsStore) -> None:
    created = [point("14") for _ in range(3)] + [point("12")]

    def insert(tx: PointsTransaction) -> None:
        for p in created:
            tx.insert(p)
            tx.audit(p.point_id, "staff-a", "create", {"name": [None, p.name]}, NOW)

    points.run(insert)
    first = points.get(created[0].point_id)
    assert first == RegisteredPoint(created[0], 1)

    points.run(lambda tx: tx.save(replace(created[0], name="Nowa", active=False), 2))
    assert points.get(created[0].point_id) == RegisteredPoint(replace(created[0], name="Nowa", active=False), 2)
    assert points.get(str(uuid.uuid4())) is None

    in_14 = sorted(p.point_id for p in created if p.voivodeship == "14")
    assert [p.point.point_id for p in points.page("14", None, 2)] == in_14[:2]
    assert [p.point.point_id for p in points.page("14", in_14[1], 2)] == in_14[2:]
    everywhere = [p.point.point_id for p in points.page(None, None, 10_000)]
    assert set(everywhere) >= {p.point_id for p in created} and everywhere == sorted(everywhere)


def test_a_failed_change_leaves_the_point_as_it_was(points: PointsStore) -> None:
    p = point()
    points.run(lambda tx: tx.insert(p))

    def fail(tx: PointsTransaction) -> None:
        tx.save(replace(p, name="Zmieniona"), 2)
        raise RuntimeError("refused in the middle")

    with pytest.raises(RuntimeError):
        points.run(fail)
    assert points.get(p.point_id) == RegisteredPoint(p, 1)
    assert points.run(lambda tx: tx.future_visits(p.point_id, NOW)) == 0


def test_grants_revocations_and_coordinators(staff: StaffStore) -> None:
    point_a, point_b, who = str(uuid.uuid4()), str(uuid.uuid4()), f"staff-{uuid.uuid4().hex[:24]}"
    assert staff.grants_of(who).points == {} and staff.grants_of(who).coordinator_of is None
    staff.grant(StaffGrant(point_a, who, Role.POINT_MANAGER, "Anna", "Nowak", NOW), "14", "staff-admin", NOW)
    staff.grant(StaffGrant(point_b, who, Role.POINT_STAFF, None, None, NOW), "14", "staff-admin", NOW)
    assert staff.grants_of(who).points == {point_a: Role.POINT_MANAGER, point_b: Role.POINT_STAFF}
    listed = staff.staff_of(point_a)
    assert [(g.staff_ref, g.role, g.given_name, g.family_name) for g in listed] == [
        (who, Role.POINT_MANAGER, "Anna", "Nowak")
    ]
    assert abs(listed[0].granted_at - NOW) < timedelta(seconds=1)
    # A second grant at the same point replaces the role.
    staff.grant(StaffGrant(point_a, who, Role.POINT_STAFF, "Anna", "Nowak", NOW), "14", "staff-admin", NOW)
    assert staff.grants_of(who).points[point_a] == Role.POINT_STAFF and len(staff.staff_of(point_a)) == 1

    assert staff.revoke(point_a, who, "staff-admin", NOW)
    assert not staff.revoke(point_a, who, "staff-admin", NOW)
    assert staff.grants_of(who).points == {point_b: Role.POINT_STAFF} and staff.staff_of(point_a) == []

    staff.make_coordinator(who, "12", "staff-admin", NOW)
    assert staff.grants_of(who).coordinator_of == "12"
    assert staff.grants_of(who).points == {point_b: Role.POINT_STAFF}
    assert staff.end_coordinator(who, "staff-admin", NOW)
    assert not staff.end_coordinator(who, "staff-admin", NOW)
    assert staff.grants_of(who).coordinator_of is None and staff.grants_of(who).points == {point_b: Role.POINT_STAFF}
