"""Walk-ins through fakes: the booking is the visit service's own, over the booking fake."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from emulators.seed import demo_programme, pesel_for
from shared.domain.booking import WARSAW, Channel, Slot, Visit, VisitStatus
from shared.domain.identity import Person
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Point
from shared.domain.refusals import Refused
from shared.domain.vaccination import MAX_WRONG_CODES, Actor
from shared.services.visits import VisitService
from shared.services.walkins import WalkIn, WalkIns
from tests.unit.fakes import FakeEventPublisher, FakePointDirectory, FakeStore

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
PROGRAMME = demo_programme(NOW)
POINT = Point(str(uuid.uuid4()), "Punkt", "14", "1465", "1465011", "Warszawa", "ul. Długa 1", "00-001",
              ["comirnaty", "jcovden"], True)  # fmt: skip
STAFF = Actor("staff-1", frozenset({POINT.point_id}))


def at(days: int, hour: int) -> datetime:
    day = NOW.astimezone(WARSAW).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)


class Registry:
    """The patient registry port over the booking fake's patients."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.registered: list[Person] = []

    def lookup(self, pesel: str) -> tuple[PatientRecord | None, list[Referral]]:
        patient = next((p for p in self.store.state.patients.values() if p.pesel == pesel), None)
        return patient, self.store.state.referrals.get(patient.patient_id, []) if patient else []

    def register(
        self, person: Person, now: datetime, issue_referral: bool, referral_valid_days: int, issued_by: str
    ) -> tuple[PatientRecord, Referral | None]:
        self.registered.append(person)
        found, _ = self.lookup(person.pesel)
        patient = found or PatientRecord(str(uuid.uuid4()), person.pesel, person.given_name, person.family_name,
                                         person.birth_date, None)  # fmt: skip
        referral = Referral(patient.patient_id, str(uuid.uuid4()), None, "ACTIVE", now, now + timedelta(days=90))
        self.store.add_patient(patient, [referral] if issue_referral else [])
        return patient, referral


def setup(slots: list[Slot]) -> tuple[WalkIns, FakeStore, Registry]:
    store, office = FakeStore(), FakeStore()
    office.state.points[POINT.point_id] = POINT
    for slot in slots:
        store.add_slot(slot)
        office.state.slots[slot.key] = slot
    visits = VisitService(store, store, store, FakePointDirectory([POINT]), FakeEventPublisher(), lambda: PROGRAMME)
    registry = Registry(store)
    return WalkIns(office, registry, visits, store, lambda: PROGRAMME), store, registry


def slot(days: int, hour: int, vaccine: str = "comirnaty", booked: int = 0) -> Slot:
    return Slot(POINT.point_id, at(days, hour), vaccine, 2, booked, "14", "1465", "1465011")


def test_an_unknown_patient_is_registered_and_booked_at_the_earliest_free_place_from_now() -> None:
    slots = [slot(0, 9), slot(0, 11, booked=2), slot(0, 12, vaccine="jcovden"), slot(0, 13), slot(21, 9)]
    walk_ins, _, registry = setup(slots)
    pesel = pesel_for(date(1970, 1, 1), 5, female=True)
    booked = walk_ins.book(POINT.point_id, WalkIn(pesel, "comirnaty", None, "Ewa", None), STAFF, NOW, "k1")
    assert [(v.dose, v.starts_at, v.channel) for v in booked.visits] == [(1, at(0, 13), Channel.POINT),
                                                                         (2, at(21, 9), Channel.POINT)]  # fmt: skip
    assert [(p.given_name, p.family_name) for p in registry.registered] == [("Ewa", "")]
    assert walk_ins.book(POINT.point_id, WalkIn(pesel, "comirnaty", None, "Ewa", None), STAFF, NOW, "k1").replayed


OTHER = Point(str(uuid.uuid4()), "Punkt Drugi", "14", "1465", "1465011", "Warszawa", "ul. Krótka 2", "00-002",
              ["comirnaty"], True)  # fmt: skip


def known_patient(store: FakeStore, number: int = 6) -> PatientRecord:
    return store.add_patient(
        PatientRecord("p1", pesel_for(date(1970, 1, 1), number, female=False), "Jan", "Nowak", date(1970, 1, 1), None),
        [Referral("p1", "r1", None, "ACTIVE", NOW, NOW + timedelta(days=90))],
    )


def booked_visit(store: FakeStore, point: Point, starts_at: datetime, dose: int = 1) -> Visit:
    visit = Visit("p1", f"v-{point.name}-{dose}", "s0", dose, "comirnaty", point.point_id, starts_at,
                  VisitStatus.BOOKED, Channel.WEB, "1111")  # fmt: skip
    store.state.visits[visit.visit_id] = visit
    store.add_slot(Slot(point.point_id, starts_at, "comirnaty", 2, 1, "14", "1465", "1465011"))
    return visit


def test_a_place_taken_meanwhile_is_skipped() -> None:
    walk_ins, store, registry = setup([slot(0, 13), slot(0, 14)])
    store.state.slots[slot(0, 13).key] = replace(slot(0, 13), booked=2)  # taken since the office read it
    patient = known_patient(store)
    booked = walk_ins.book(POINT.point_id, WalkIn(patient.pesel, "comirnaty", None), STAFF, NOW, "k2")
    assert [v.starts_at for v in booked.visits] == [at(0, 14)] and registry.registered == []
    with pytest.raises(Refused) as refused:
        walk_ins.book(POINT.point_id, WalkIn(patient.pesel, "comirnaty", None), Actor("x"), NOW, "k3")
    assert refused.value.code == "not_your_point"


def test_a_visit_at_another_point_is_refused_naming_it_unless_the_code_is_shown_then_it_moves_here() -> None:
    walk_ins, store, _ = setup([slot(0, 13)])
    walk_ins.transactions.state.points[OTHER.point_id] = OTHER  # type: ignore[attr-defined]
    patient = known_patient(store)
    elsewhere = booked_visit(store, OTHER, at(3, 9))

    with pytest.raises(Refused) as refused:
        walk_ins.book(POINT.point_id, WalkIn(patient.pesel, "comirnaty", None), STAFF, NOW, "k1")
    assert (refused.value.code, refused.value.extra) == (
        "booked_elsewhere",
        {"point_id": OTHER.point_id, "point_name": "Punkt Drugi"},
    )
    with pytest.raises(Refused) as wrong:
        walk_ins.book(POINT.point_id, WalkIn(patient.pesel, "comirnaty", None, check_in_code="2222"), STAFF, NOW, "k2")
    assert (wrong.value.code, wrong.value.field) == ("booked_elsewhere", "check_in_code")
    assert store.state.visits[elsewhere.visit_id].point_id == OTHER.point_id

    moved = walk_ins.book(POINT.point_id, WalkIn(patient.pesel, "comirnaty", None, check_in_code="1111"), STAFF, NOW,
                          "k3")  # fmt: skip
    assert [(v.visit_id, v.point_id, v.starts_at) for v in moved.visits] == [
        (elsewhere.visit_id, POINT.point_id, at(0, 13))
    ]
    assert store.booked(Slot(OTHER.point_id, at(3, 9), "comirnaty", 2, 0)) == 0  # the other point's place is free
    assert store.booked(slot(0, 13)) == 1


def test_the_code_of_a_visit_elsewhere_locks_after_a_few_wrong_tries_like_at_the_vaccination() -> None:
    walk_ins, store, _ = setup([slot(0, 13)])
    walk_ins.transactions.state.points[OTHER.point_id] = OTHER  # type: ignore[attr-defined]
    patient = known_patient(store)
    elsewhere = booked_visit(store, OTHER, at(3, 9))
    for n in range(MAX_WRONG_CODES):
        with pytest.raises(Refused) as wrong:
            walk_ins.book(POINT.point_id, WalkIn(patient.pesel, "comirnaty", None, check_in_code=f"{n:04d}"), STAFF,
                          NOW, f"w{n}")  # fmt: skip
        assert (wrong.value.code, wrong.value.field) == ("booked_elsewhere", "check_in_code")
    with pytest.raises(Refused) as locked:  # now even the right code is refused
        walk_ins.book(POINT.point_id, WalkIn(patient.pesel, "comirnaty", None, check_in_code="1111"), STAFF, NOW, "w")
    assert locked.value.code == "check_in_code_locked"
    assert store.state.visits[elsewhere.visit_id].point_id == OTHER.point_id


def test_a_visit_at_this_point_on_another_day_moves_to_today_and_a_retry_changes_nothing() -> None:
    walk_ins, store, _ = setup([slot(0, 13), slot(0, 14)])
    patient = known_patient(store)
    later = booked_visit(store, POINT, at(5, 9))
    walk_in = WalkIn(patient.pesel, "comirnaty", None, "Inne", "Nazwisko")

    first = walk_ins.book(POINT.point_id, walk_in, STAFF, NOW, "k1")
    again = walk_ins.book(POINT.point_id, walk_in, STAFF, NOW, "k2")

    assert [(v.visit_id, v.starts_at) for v in first.visits] == [(later.visit_id, at(0, 13))]
    assert [(v.visit_id, v.starts_at) for v in again.visits] == [(later.visit_id, at(0, 13))]
    assert store.booked(slot(0, 13)) == 1 and store.booked(slot(5, 9)) == 0
    # The registry's names stand.
    assert (store.state.patients["p1"].given_name, store.state.patients["p1"].family_name) == ("Jan", "Nowak")
