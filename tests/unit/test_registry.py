"""The registry's services on in-memory fakes: points (versions, regions, suspension) and staff grants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from emulators.seed import demo_programme, pesel_for
from shared.domain.identity import Principal, Role, staff_id_for
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.registry import Address, PointChange, PointHasVisits, PointStatus, RegisteredPoint
from shared.services.registry import PointRegistry, StaffRegistry
from tests.unit.fakes_registry import FakePointsStore, FakeProjectionSync, FakeStaffStore

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
ADDRESS = Address("ul. Długa 1", "00-001", "Warszawa")
ADMIN = Principal("s-admin", frozenset({Role.ADMIN}), staff_id="staff-admin")
COORDINATOR_14 = Principal("s-c", frozenset({Role.COORDINATOR}), staff_id="staff-c14", voivodeship="14")
PESEL = pesel_for(date(1980, 5, 17), 7, female=False)


class World:
    def __init__(self) -> None:
        self.store, self.staff, self.projection = FakePointsStore(), FakeStaffStore(), FakeProjectionSync()
        programme = demo_programme(NOW)
        self.points = PointRegistry(self.store, lambda: programme, self.projection)
        names = {PESEL: ("Anna", "Nowak")}
        self.registry = StaffRegistry(self.staff, self.store, lambda pesel, _: names.get(pesel), "unit-key")

    def point(self, principal: Principal = ADMIN, municipality: str = "1465011") -> str:
        return self.points.create("Punkt", ADDRESS, municipality, ["comirnaty"], principal, NOW).point.point_id


def test_a_point_is_created_in_its_voivodeship_and_audited() -> None:
    world = World()
    created = world.points.create("Punkt", ADDRESS, "1465011", ["comirnaty"], COORDINATOR_14, NOW)
    assert (created.version, created.status, created.point.voivodeship, created.point.county) == (
        1, PointStatus.ACTIVE, "14", "1465")  # fmt: skip
    assert world.store.audit[0][1:3] == ("staff-c14", "create")


@pytest.mark.parametrize(
    ("municipality", "vaccines", "code", "field"),
    [("9965011", ["comirnaty"], "invalid_municipality", "municipality"),
     ("1465011", ["comirnaty", "nope"], "unknown_vaccine", "vaccines.1")],
)  # fmt: skip
def test_a_bad_point_is_refused_with_its_field(municipality: str, vaccines: list[str], code: str, field: str) -> None:
    world = World()
    with pytest.raises(Refused) as refused:
        world.points.create("Punkt", ADDRESS, municipality, vaccines, ADMIN, NOW)
    assert (refused.value.code, refused.value.field) == (code, field) and not world.store.points


def test_a_coordinator_acts_only_in_their_voivodeship() -> None:
    world = World()
    with pytest.raises(Refused) as refused:
        world.points.create("Punkt", ADDRESS, "1261011", ["comirnaty"], COORDINATOR_14, NOW)
    assert refused.value.code == "forbidden_region"
    elsewhere = world.point(municipality="1261011")
    with pytest.raises(Refused) as hidden:
        world.points.change(elsewhere, PointChange(name="X"), 1, COORDINATOR_14, NOW)
    assert hidden.value.kind == RefusalKind.NOT_FOUND
    mine = world.point(municipality="1465011")
    assert [p.point.point_id for p in world.points.page(COORDINATOR_14, None, None, None, 10).points] == [mine]


def test_a_change_needs_the_current_version() -> None:
    world = World()
    point_id = world.point()
    changed = world.points.change(point_id, PointChange(name="Nowa"), 1, ADMIN, NOW)
    assert (changed.version, changed.point.name) == (2, "Nowa")
    with pytest.raises(Refused) as stale:
        world.points.change(point_id, PointChange(name="Inna"), 1, ADMIN, NOW)
    assert stale.value.kind == RefusalKind.STALE and world.store.points[point_id].point.name == "Nowa"
    assert [entry[2] for entry in world.store.audit] == ["create", "change"]
    assert world.store.audit[1][3] == {"name": ["Punkt", "Nowa"]}


def test_suspending_is_refused_while_visits_wait_and_otherwise_takes_the_point_out_of_the_projection() -> None:
    world = World()
    point_id = world.point()
    world.store.slots[point_id] = [(point_id, NOW, "comirnaty")]
    world.store.visits[point_id] = 3
    with pytest.raises(PointHasVisits) as refused:
        world.points.change(point_id, PointChange(status=PointStatus.SUSPENDED), 1, ADMIN, NOW)
    assert refused.value.count == 3 and world.store.points[point_id].point.active and not world.projection.reconciled
    world.store.visits[point_id] = 0
    suspended = world.points.change(point_id, PointChange(status=PointStatus.SUSPENDED), 1, ADMIN, NOW)
    assert suspended.status == PointStatus.SUSPENDED and point_id in world.store.closed
    assert world.projection.reconciled == [[point_id]]
    world.points.change(point_id, PointChange(status=PointStatus.ACTIVE), 2, ADMIN, NOW)
    assert point_id not in world.store.closed and world.projection.reconciled == [[point_id], [point_id]]


def test_managers_grant_at_their_own_point_only_and_grants_are_named_by_keyed_id() -> None:
    world = World()
    point_id, other = world.point(), world.point()
    manager = Principal("s-m", frozenset({Role.POINT_MANAGER}), staff_id="staff-m", point_ids=frozenset({point_id}),
                        managed_point_ids=frozenset({point_id}))  # fmt: skip
    grant = world.registry.grant(point_id, PESEL, Role.POINT_STAFF, manager, NOW)
    assert grant.staff_ref == staff_id_for(PESEL, "unit-key") and (grant.given_name, grant.family_name) == (
        "Anna", "Nowak")  # fmt: skip
    assert world.staff.grants_of(grant.staff_ref).points == {point_id: Role.POINT_STAFF}
    with pytest.raises(Refused) as refused:
        world.registry.grant(other, PESEL, Role.POINT_STAFF, manager, NOW)
    assert refused.value.code == "forbidden_point"
    nurse = Principal("s-n", frozenset({Role.POINT_STAFF}), staff_id="staff-n", point_ids=frozenset({point_id}),
                      managed_point_ids=frozenset())  # fmt: skip
    with pytest.raises(Refused):
        world.registry.grant(point_id, PESEL, Role.POINT_MANAGER, nurse, NOW)
    world.registry.revoke(point_id, grant.staff_ref, manager, NOW)
    assert world.staff.grants_of(grant.staff_ref).points == {}
    with pytest.raises(Refused) as gone:
        world.registry.revoke(point_id, grant.staff_ref, manager, NOW)
    assert gone.value.code == "staff_not_found"
    assert world.staff.audit == [("grant", "staff-m"), ("revoke", "staff-m")]


def test_only_admins_make_coordinators() -> None:
    world = World()
    with pytest.raises(Refused):
        world.registry.make_coordinator(PESEL, "14", COORDINATOR_14, NOW)
    staff_ref = world.registry.make_coordinator(PESEL, "14", ADMIN, NOW)
    assert world.staff.grants_of(staff_ref).coordinator_of == "14"
    assert world.staff.grants_of(staff_ref).roles == {Role.COORDINATOR}


def test_pages_of_points_follow_each_other_whatever_the_status_filter() -> None:
    world = World()
    created = sorted(world.point() for _ in range(450))
    for point_id in created[::3]:
        world.store.points[point_id] = RegisteredPoint(
            replace(world.store.points[point_id].point, active=False), world.store.points[point_id].version
        )
    for status, expected in ((None, created), (PointStatus.SUSPENDED, created[::3])):
        seen: list[str] = []
        token: str | None = None
        while True:
            page = world.points.page(ADMIN, None, status, token, 40)
            seen += [p.point.point_id for p in page.points]
            token = page.next_token
            if token is None:
                break
        assert seen == expected
