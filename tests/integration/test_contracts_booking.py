"""One contract, two implementations: the in-memory fakes the unit tests use and the Spanner
adapters behave the same for every case here, so the unit tests of the services cannot drift from
what the real backend does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import pytest

from shared.adapters.spanner_booking import SpannerBookingTransactions, SpannerVisitReader
from shared.bootstrap import Container
from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import WARSAW, Channel, Slot, VisitStatus, new_visit
from shared.domain.patients import PatientRecord, Referral
from shared.services.ports import PatientReader, VisitReader
from shared.services.visits import BookingTransaction, BookingTransactions, StoredResult
from tests.unit.fakes import FakeBookingStore

NOW = datetime.now(UTC).replace(microsecond=0)
WAW, KRK = ("14", "1465", "1465011"), ("12", "1261", "1261011")


def at(days: int, hour: int) -> datetime:
    day = NOW.astimezone(WARSAW).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)


class Store(Protocol):
    transactions: BookingTransactions
    visits: VisitReader
    patients: PatientReader

    def seed(self, slots: list[Slot], patients: list[tuple[PatientRecord, list[Referral]]]) -> None: ...


class FakeStore:
    def __init__(self) -> None:
        self._fake = FakeBookingStore()
        self.transactions: BookingTransactions = self._fake
        self.visits: VisitReader = self._fake
        self.patients: PatientReader = self._fake

    def seed(self, slots: list[Slot], patients: list[tuple[PatientRecord, list[Referral]]]) -> None:
        for slot in slots:
            self._fake.add_slot(slot)
        for patient, referrals in patients:
            self._fake.add_patient(patient, referrals)


class SpannerStore:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.transactions: BookingTransactions = SpannerBookingTransactions(container.spanner)
        self.visits: VisitReader = SpannerVisitReader(container.spanner)
        self.patients: PatientReader = container.patients

    def seed(self, slots: list[Slot], patients: list[tuple[PatientRecord, list[Referral]]]) -> None:
        with self.container.spanner.batch() as batch:
            for point_id in {s.point_id for s in slots}:
                first = next(s for s in slots if s.point_id == point_id)
                batch.insert(
                    "Points",
                    ("PointId", "Name", "Voivodeship", "County", "Municipality", "City", "Street", "PostalCode",
                     "Vaccines", "Active"),
                    [(point_id, "Punkt", first.voivodeship, first.county, first.municipality, "Miasto", "ul. A 1",
                      "00-001", ["comirnaty"], True)],
                )  # fmt: skip
            batch.insert(
                "Slots",
                ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked", "Voivodeship", "County", "Municipality",
                 "FreeMarker"),
                [(s.point_id, s.starts_at, s.vaccine, s.capacity, s.booked, s.voivodeship, s.county, s.municipality,
                  True if s.free_places > 0 else None) for s in slots],
            )  # fmt: skip
            for patient, referrals in patients:
                batch.insert(
                    "Patients",
                    ("PatientId", "Pesel", "GivenName", "FamilyName", "BirthDate", "Phone", "CreatedAt", "UpdatedAt"),
                    [(patient.patient_id, patient.pesel, patient.given_name, patient.family_name, patient.birth_date,
                      patient.phone, NOW, NOW)],
                )  # fmt: skip
                if referrals:
                    batch.insert(
                        "Referrals",
                        ("PatientId", "ReferralId", "Vaccine", "Status", "IssuedAt", "ValidUntil", "IssuedBy"),
                        [(r.patient_id, r.referral_id, r.vaccine, r.status, r.issued_at, r.valid_until, "t")
                         for r in referrals],
                    )  # fmt: skip


@pytest.fixture(params=["fake", "spanner"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "fake":
        yield FakeStore()
    else:
        yield SpannerStore(request.getfixturevalue("backends"))


def slot(point_id: str, starts_at: datetime, vaccine: str = "comirnaty", capacity: int = 2, booked: int = 0,
         region: tuple[str, str, str] = WAW) -> Slot:  # fmt: skip
    return Slot(point_id, starts_at, vaccine, capacity, booked, *region)


def patient(pesel_serial: int = 1) -> tuple[PatientRecord, list[Referral]]:
    patient_id = str(uuid.uuid4())
    record = PatientRecord(patient_id, f"8001011{pesel_serial:04d}", "Jan", "Testowy", date(1980, 1, 1), "+48601234567")
    referral = Referral(patient_id, str(uuid.uuid4()), None, "ACTIVE", NOW, NOW + timedelta(days=30))
    return record, [referral]


def counts(slots: list[Slot]) -> list[tuple[str, datetime, str, int, int]]:
    """What both implementations must agree on (index reads carry no region codes)."""
    return [(s.point_id, s.starts_at, s.vaccine, s.capacity, s.booked) for s in slots]


def read(store: Store, work: Any) -> Any:
    return store.transactions.run(work)


def test_slots_are_read_by_key_and_by_point_range_in_start_order(store: Store) -> None:
    here = str(uuid.uuid4())
    laid = [slot(here, at(3, 9)), slot(here, at(1, 9), "jcovden"), slot(here, at(1, 9)), slot(here, at(9, 9))]
    store.seed(laid, [])

    def work(tx: BookingTransaction) -> Any:
        return (
            tx.slot(here, at(1, 9), "jcovden"),
            tx.slot(here, at(2, 9), "jcovden"),
            tx.point_slots(here, at(1, 0), at(3, 23)),
        )

    by_key, missing, ranged = read(store, work)
    assert by_key == laid[1] and missing is None
    assert counts(ranged) == counts([laid[2], laid[1], laid[0]])  # (start, vaccine) order; day 9 outside


def test_free_slots_of_a_region_skip_full_ones_and_come_earliest_first(store: Store) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    full = slot(a, at(1, 8), capacity=1, booked=1)
    laid = [full, slot(b, at(2, 9)), slot(a, at(2, 9)), slot(a, at(1, 10)), slot(a, at(1, 7), "jcovden"),
            slot(b, at(1, 9), region=KRK)]  # fmt: skip
    store.seed(laid, [])

    in_municipality = SlotQuery(Level.MUNICIPALITY, WAW[2], "comirnaty", at(0, 0), at(5, 0), 10)
    in_voivodeship = SlotQuery(Level.VOIVODESHIP, WAW[0], "comirnaty", at(0, 0), at(5, 0), 2)
    found = read(store, lambda tx: tx.free_slots(in_municipality))
    limited = read(store, lambda tx: tx.free_slots(in_voivodeship))

    in_order = sorted([laid[1], laid[2], laid[3]], key=lambda s: (s.starts_at, s.point_id))
    assert counts(found) == counts(in_order)
    assert counts(limited) == counts(in_order[:2])


def test_writes_apply_at_commit_and_a_transaction_does_not_read_its_own_writes(store: Store) -> None:
    here = str(uuid.uuid4())
    one = slot(here, at(2, 9), capacity=3)
    someone, referrals = patient()
    store.seed([one], [(someone, referrals)])

    def work(tx: BookingTransaction) -> Any:
        tx.save_slots([replace(one, booked=1)])
        return tx.slot(*one.key)

    seen_inside = read(store, work)
    assert seen_inside is not None and seen_inside.booked == 0
    after = read(store, lambda tx: tx.slot(*one.key))
    assert after is not None and after.booked == 1


def test_a_failed_transaction_writes_nothing(store: Store) -> None:
    here = str(uuid.uuid4())
    one = slot(here, at(2, 9), capacity=3)
    someone, referrals = patient()
    store.seed([one], [(someone, referrals)])
    visit = new_visit(someone.patient_id, str(uuid.uuid4()), 1, one, Channel.WEB)

    def work(tx: BookingTransaction) -> None:
        tx.save_slots([replace(one, booked=1)])
        tx.insert_visits([visit])
        tx.add_to_outbox([{"event_id": str(uuid.uuid4()), "event_type": "VisitBooked"}])
        raise RuntimeError("a rule refused it after the writes were staged")

    with pytest.raises(RuntimeError):
        read(store, work)
    unchanged = read(store, lambda tx: tx.slot(*one.key))
    assert unchanged is not None and unchanged.booked == 0
    assert read(store, lambda tx: tx.patient_visits(someone.patient_id)) == []


def test_visits_patients_referrals_and_stored_results_round_trip(store: Store) -> None:
    here = str(uuid.uuid4())
    one, two = slot(here, at(2, 9)), slot(here, at(2, 11))
    someone, referrals = patient(1)
    other, other_referrals = patient(2)
    store.seed([one, two], [(someone, referrals), (other, other_referrals)])
    first = new_visit(someone.patient_id, str(uuid.uuid4()), 1, one, Channel.WEB)
    second = new_visit(other.patient_id, str(uuid.uuid4()), 1, two, Channel.POINT)

    def write(tx: BookingTransaction) -> None:
        tx.insert_visits([first, second])
        tx.save_phone(someone.patient_id, "+48601999888")
        tx.store_result(someone.patient_id, "key-1", StoredResult("hash", '{"visits": []}'))

    read(store, write)
    moved = replace(first, starts_at=two.starts_at, status=VisitStatus.CANCELLED)
    read(store, lambda tx: tx.update_visits([moved]))

    def check(tx: BookingTransaction) -> Any:
        return (
            tx.patient_visits(someone.patient_id), tx.visit_owner(second.visit_id), tx.visit_owner(str(uuid.uuid4())),
            tx.patient(someone.patient_id), tx.referrals(someone.patient_id),
            tx.stored_result(someone.patient_id, "key-1"), tx.stored_result(someone.patient_id, "key-2"),
        )  # fmt: skip

    visits, owner, nobody, record, found_referrals, stored, not_stored = read(store, check)
    assert visits == [moved]
    assert (owner, nobody) == (other.patient_id, None)
    assert record == replace(someone, phone="+48601999888")
    assert found_referrals == referrals
    assert (stored, not_stored) == (StoredResult("hash", '{"visits": []}'), None)


def test_the_readers_list_a_patients_visits_a_points_visits_and_a_days_booked_visits(store: Store) -> None:
    here, there = str(uuid.uuid4()), str(uuid.uuid4())
    morning, evening, next_day = slot(here, at(2, 8)), slot(here, at(2, 20)), slot(here, at(3, 8))
    elsewhere = slot(there, at(2, 9))
    people = [patient(n) for n in range(4)]
    store.seed([morning, evening, next_day, elsewhere], people)
    ids = [p.patient_id for p, _ in people]
    visits = [
        new_visit(ids[0], "s0", 1, morning, Channel.WEB),
        new_visit(ids[1], "s1", 1, evening, Channel.WEB).with_status(VisitStatus.CANCELLED),
        new_visit(ids[2], "s2", 1, next_day, Channel.WEB),
        new_visit(ids[3], "s3", 1, elsewhere, Channel.WEB),
    ]
    read(store, lambda tx: tx.insert_visits(visits))
    day = at(2, 12).astimezone(WARSAW).date()

    assert store.visits.visits_of_patient(ids[0]) == [visits[0]]
    at_point = store.visits.visits_at_point(here, at(2, 0), at(3, 0))
    assert sorted(v.visit_id for v in at_point) == sorted([visits[0].visit_id, visits[1].visit_id])
    booked = store.visits.booked_on_day(day, None, 10)
    assert sorted(v.visit_id for v in booked) == sorted([visits[0].visit_id, visits[3].visit_id])
    first_page = store.visits.booked_on_day(day, None, 1)
    rest = store.visits.booked_on_day(day, first_page[0].visit_id, 10)
    assert [v.visit_id for v in first_page + rest] == sorted(v.visit_id for v in booked)
    assert store.patients.patient(ids[1]) == people[1][0]
    assert store.patients.patients([ids[0], ids[2], str(uuid.uuid4())]) == {ids[0]: people[0][0], ids[2]: people[2][0]}
