"""The back-office port, two implementations: the in-memory fake of the unit tests and the Spanner
adapter behave the same for every case here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.adapters.spanner_backoffice import SpannerBackOffice
from shared.adapters.spanner_points import POINT_COLUMNS
from shared.bootstrap import Container
from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import WARSAW, Channel, Slot, Visit, VisitStatus
from shared.domain.patients import PatientRecord
from shared.domain.points import Point
from shared.domain.stock import Delivery
from shared.domain.vaccination import Vaccination
from shared.services.points import BackOffice, BackOfficeTx
from tests.unit.fakes_points import FakeBackOffice

NOW = datetime.now(UTC).replace(microsecond=0)
POINT = Point(str(uuid.uuid4()), "Punkt", "14", "1465", "1465011", "Warszawa", "ul. Długa 1", "00-001",
              ["comirnaty"], True)  # fmt: skip
PATIENT = PatientRecord(str(uuid.uuid4()), "80010112345", "Jan", "Nowak", date(1980, 1, 1), None)


def at(days: int, hour: int) -> datetime:
    day = NOW.astimezone(WARSAW).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)


def slot(days: int, hour: int, capacity: int = 3) -> Slot:
    return Slot(POINT.point_id, at(days, hour), "comirnaty", capacity, 0, "14", "1465", "1465011")


def visit(days: int, hour: int) -> Visit:
    return Visit(PATIENT.patient_id, str(uuid.uuid4()), "s1", 1, "comirnaty", POINT.point_id, at(days, hour),
                 VisitStatus.BOOKED, Channel.WEB, "1234")  # fmt: skip


@pytest.fixture(params=["fake", "spanner"])
def office(request: pytest.FixtureRequest) -> Iterator[BackOffice]:
    if request.param == "fake":
        fake = FakeBackOffice()
        fake.state.points[POINT.point_id] = POINT
        fake.state.patients[PATIENT.patient_id] = PATIENT
        yield fake
        return
    container: Container = request.getfixturevalue("backends")
    with container.spanner.batch() as batch:
        batch.insert("Points", POINT_COLUMNS, [(POINT.point_id, POINT.name, "14", "1465", "1465011", POINT.city,
                                                POINT.street, POINT.postal_code, POINT.vaccines, True)])  # fmt: skip
        batch.insert("Patients", ("PatientId", "Pesel", "GivenName", "FamilyName", "BirthDate", "CreatedAt",
                                  "UpdatedAt"),
                     [(PATIENT.patient_id, PATIENT.pesel, "Jan", "Nowak", PATIENT.birth_date, NOW, NOW)])  # fmt: skip
    yield SpannerBackOffice(container.spanner)


def test_writes_apply_at_commit_and_a_failed_work_leaves_nothing(office: BackOffice) -> None:
    def write(tx: BackOfficeTx) -> list[Slot]:
        tx.insert_slots([slot(1, 9), slot(1, 10)])
        return tx.slots(POINT.point_id, at(1, 0), at(2, 0))  # its own writes are not read back

    assert office.transaction(write) == []
    assert [s.starts_at for s in office.read(lambda tx: tx.slots(POINT.point_id, at(1, 0), at(2, 0)))] == [
        at(1, 9),
        at(1, 10),
    ]

    def fail(tx: BackOfficeTx) -> None:
        tx.delete_slots([slot(1, 9)])
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        office.transaction(fail)
    assert len(office.read(lambda tx: tx.slots(POINT.point_id, at(1, 0), at(2, 0)))) == 2


def test_slot_ranges_are_half_open_and_capacity_and_booked_are_written_apart(office: BackOffice) -> None:
    office.transaction(lambda tx: tx.insert_slots([slot(1, 9), slot(1, 10)]))
    assert len(office.read(lambda tx: tx.slots(POINT.point_id, at(1, 9), at(1, 10)))) == 1
    office.transaction(lambda tx: tx.save_booked([replace(slot(1, 9), booked=2)]))
    office.transaction(lambda tx: tx.set_capacities([replace(slot(1, 9), capacity=5, booked=0)]))
    found = office.read(lambda tx: tx.slot(POINT.point_id, at(1, 9), "comirnaty"))
    assert found is not None and (found.capacity, found.booked) == (5, 2)
    office.transaction(lambda tx: tx.save_booked([replace(slot(1, 10), booked=3)]))  # full
    query = SlotQuery(Level.MUNICIPALITY, "1465011", "comirnaty", at(1, 0), at(2, 0), 10)
    nearby = office.read(lambda tx: tx.free_slots(query))
    assert [s.starts_at for s in nearby] == [at(1, 9)]


def test_stock_vaccinations_and_wrong_codes_round_trip(office: BackOffice) -> None:
    booked = visit(0, 12)
    delivery = Delivery(POINT.point_id, str(uuid.uuid4()), "comirnaty", 50, "L-1", NOW - timedelta(days=1))
    record = Vaccination(PATIENT.patient_id, booked.visit_id, "s1", 1, "comirnaty", POINT.point_id, "L-1", NOW,
                         "staff-1")  # fmt: skip

    def write(tx: BackOfficeTx) -> None:
        tx.insert_visits([booked])
        tx.add_delivery(delivery, "staff-1")
        tx.set_administered(POINT.point_id, "comirnaty", 3)

    office.transaction(write)

    def more(tx: BackOfficeTx) -> None:
        tx.set_wrong_code_attempts(PATIENT.patient_id, booked.visit_id, 2)
        tx.add_vaccination(record)
        tx.update_visits([booked.with_status(VisitStatus.COMPLETED)])

    office.transaction(more)

    def read(tx: BackOfficeTx) -> tuple[Any, ...]:
        who = PATIENT.patient_id
        return (
            tx.deliveries(POINT.point_id), tx.administered(POINT.point_id),
            tx.wrong_code_attempts(who, booked.visit_id), tx.vaccination(who, booked.visit_id),
            tx.visit_owner(booked.visit_id),
            [v.status for v in tx.patient_visits(who)],
        )  # fmt: skip

    assert office.read(read) == ([delivery], {"comirnaty": 3}, 2, record, PATIENT.patient_id, [VisitStatus.COMPLETED])


def test_booked_visits_of_past_days_page_in_day_and_id_order(office: BackOffice) -> None:
    visits = [visit(-3, 9), visit(-1, 9), visit(-1, 10), visit(0, 9), visit(2, 9)]
    office.transaction(lambda tx: tx.insert_visits(visits))
    today = NOW.astimezone(WARSAW).date()
    expected = sorted((v.starts_at.astimezone(WARSAW).date(), v.visit_id, v.patient_id) for v in visits[:3])
    first = office.booked_before(today, None, 2)
    assert first == expected[:2]
    assert office.booked_before(today, first[-1], 2) == expected[2:]
