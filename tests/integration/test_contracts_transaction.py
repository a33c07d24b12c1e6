"""The one transaction port of visits and places (``shared.services.transaction``), two
implementations: the in-memory fake the unit tests use and the Spanner adapter behave the same for
every case here, so the unit tests of the services cannot drift from what the real backend does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import pytest

from shared.adapters.spanner_points import POINT_COLUMNS
from shared.adapters.spanner_reads import SpannerVisitReader
from shared.adapters.spanner_transaction import SpannerTransactions
from shared.bootstrap import Container
from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import WARSAW, Channel, Slot, Visit, VisitStatus, new_visit
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Point
from shared.domain.stock import Delivery
from shared.domain.vaccination import Vaccination
from shared.services.idempotency import StoredResult
from shared.services.ports import PatientReader, VisitReader
from shared.services.transaction import Transaction, Transactions
from tests.unit.fakes import FakeStore

NOW = datetime.now(UTC).replace(microsecond=0)
WAW, KRK = ("14", "1465", "1465011"), ("12", "1261", "1261011")


def at(days: int, hour: int) -> datetime:
    day = NOW.astimezone(WARSAW).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)


class Store(Protocol):
    transactions: Transactions
    visits: VisitReader
    patients: PatientReader

    def seed(self, slots: list[Slot], patients: list[tuple[PatientRecord, list[Referral]]]) -> None: ...


class InMemory:
    def __init__(self) -> None:
        self._fake = FakeStore()
        self.transactions: Transactions = self._fake
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
        self.transactions: Transactions = SpannerTransactions(container.spanner)
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
        yield InMemory()
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

    def work(tx: Transaction) -> Any:
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

    def work(tx: Transaction) -> Any:
        tx.save_booked([replace(one, booked=1)])
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

    def work(tx: Transaction) -> None:
        tx.save_booked([replace(one, booked=1)])
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

    def write(tx: Transaction) -> None:
        tx.insert_visits([first, second])
        tx.save_phone(someone.patient_id, "+48601999888")
        tx.store_result(someone.patient_id, "key-1", StoredResult("hash", '{"visits": []}'))

    read(store, write)
    moved = replace(first, starts_at=two.starts_at, status=VisitStatus.CANCELLED)
    read(store, lambda tx: tx.update_visits([moved]))

    def check(tx: Transaction) -> Any:
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


# --- points, stock, vaccinations: a store holding one point and one patient ------------------------

POINT = Point(str(uuid.uuid4()), "Punkt", "14", "1465", "1465011", "Warszawa", "ul. Długa 1", "00-001",
              ["comirnaty"], True)  # fmt: skip
PATIENT = PatientRecord(str(uuid.uuid4()), "80010112345", "Jan", "Nowak", date(1980, 1, 1), None)


def point_slot(days: int, hour: int, capacity: int = 3) -> Slot:
    return Slot(POINT.point_id, at(days, hour), "comirnaty", capacity, 0, "14", "1465", "1465011")


def point_visit(days: int, hour: int) -> Visit:
    return Visit(PATIENT.patient_id, str(uuid.uuid4()), "s1", 1, "comirnaty", POINT.point_id, at(days, hour),
                 VisitStatus.BOOKED, Channel.WEB, "1234")  # fmt: skip


@pytest.fixture(params=["fake", "spanner"])
def office(request: pytest.FixtureRequest) -> Iterator[Transactions]:
    """The port over a store holding one point and one patient."""
    if request.param == "fake":
        fake = FakeStore()
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
    yield SpannerTransactions(container.spanner)


def test_writes_apply_at_commit_and_a_failed_work_leaves_nothing(office: Transactions) -> None:
    def write(tx: Transaction) -> list[Slot]:
        tx.insert_slots([point_slot(1, 9), point_slot(1, 10)])
        return tx.point_slots(POINT.point_id, at(1, 0), at(2, 0))  # its own writes are not read back

    assert office.run(write) == []
    assert [s.starts_at for s in office.read(lambda tx: tx.point_slots(POINT.point_id, at(1, 0), at(2, 0)))] == [
        at(1, 9),
        at(1, 10),
    ]

    def fail(tx: Transaction) -> None:
        tx.delete_slots([point_slot(1, 9)])
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        office.run(fail)
    assert len(office.read(lambda tx: tx.point_slots(POINT.point_id, at(1, 0), at(2, 0)))) == 2


def test_slot_ranges_are_half_open_and_capacity_and_booked_are_written_apart(office: Transactions) -> None:
    office.run(lambda tx: tx.insert_slots([point_slot(1, 9), point_slot(1, 10)]))
    assert len(office.read(lambda tx: tx.point_slots(POINT.point_id, at(1, 9), at(1, 10)))) == 1
    office.run(lambda tx: tx.save_booked([replace(point_slot(1, 9), booked=2)]))
    office.run(lambda tx: tx.set_capacities([replace(point_slot(1, 9), capacity=5, booked=0)]))
    found = office.read(lambda tx: tx.slot(POINT.point_id, at(1, 9), "comirnaty"))
    assert found is not None and (found.capacity, found.booked) == (5, 2)
    office.run(lambda tx: tx.save_booked([replace(point_slot(1, 10), booked=3)]))  # full
    query = SlotQuery(Level.MUNICIPALITY, "1465011", "comirnaty", at(1, 0), at(2, 0), 10)
    nearby = office.read(lambda tx: tx.free_slots(query))
    assert [s.starts_at for s in nearby] == [at(1, 9)]


def set_point(office: Transactions, point_id: str, active: bool) -> None:
    """A point of the office's store, open or suspended (as the registry's change leaves its row)."""
    if isinstance(office, FakeStore):
        office.state.points[point_id] = replace(POINT, point_id=point_id, active=active)
        return
    assert isinstance(office, SpannerTransactions)
    row = (point_id, POINT.name, "14", "1465", "1465011", POINT.city, POINT.street, POINT.postal_code, POINT.vaccines,
           active)  # fmt: skip
    with office.database.batch() as batch:
        batch.insert_or_update("Points", POINT_COLUMNS, [row])


def test_a_change_hands_back_each_slot_it_wrote_as_committed_at_its_commit_s_version(office: Transactions) -> None:
    first, second = point_slot(4, 9), point_slot(4, 10)
    _, inserted = office.run_written(lambda tx: tx.insert_slots([first, replace(second, booked=2)]))
    assert [(s.slot, s.closed) for s in inserted] == [(first, False), (second, False)]  # inserted with 0 booked
    assert len({s.version for s in inserted}) == 1 and inserted[0].version > 0

    def book_grow_and_remove(tx: Transaction) -> str:
        tx.save_booked([replace(first, booked=1)])
        tx.set_capacities([replace(first, capacity=5)])  # capacity and booked count written apart, both kept
        tx.save_booked([second])
        tx.delete_slots([second])  # a cancelled day: freed, then removed
        return "done"

    result, written = office.run_written(book_grow_and_remove)
    assert result == "done"
    assert [(s.slot, s.closed) for s in written] == [(replace(first, capacity=5, booked=1), False), (second, True)]
    assert len({s.version for s in written}) == 1 and written[0].version > inserted[0].version
    stored = office.read(lambda tx: tx.point_slots(POINT.point_id, at(4, 0), at(5, 0)))
    assert stored == [written[0].slot]  # what was handed back is what was committed
    assert office.run_written(lambda tx: tx.slot(*first.key))[1] == []  # nothing written, nothing handed


def test_a_slot_written_at_a_suspended_point_is_handed_back_closed(office: Transactions) -> None:
    elsewhere = str(uuid.uuid4())
    set_point(office, elsewhere, active=True)
    there = Slot(elsewhere, at(4, 9), "comirnaty", 3, 0, "14", "1465", "1465011")
    here = point_slot(4, 9)
    _, opened = office.run_written(lambda tx: tx.insert_slots([there, here]))
    set_point(office, elsewhere, active=False)  # suspended since
    _, states = office.run_written(lambda tx: tx.save_booked([replace(there, booked=1), replace(here, booked=1)]))
    assert [(s.slot.point_id, s.closed) for s in states] == sorted([(elsewhere, True), (POINT.point_id, False)])
    assert not any(s.closed for s in opened) and states[0].version > opened[0].version


def test_stock_vaccinations_and_wrong_codes_round_trip(office: Transactions) -> None:
    booked = point_visit(0, 12)
    delivery = Delivery(POINT.point_id, str(uuid.uuid4()), "comirnaty", 50, "L-1", NOW - timedelta(days=1))
    record = Vaccination(PATIENT.patient_id, booked.visit_id, "s1", 1, "comirnaty", POINT.point_id, "L-1", NOW,
                         "staff-1")  # fmt: skip

    def write(tx: Transaction) -> None:
        tx.insert_visits([booked])
        tx.add_delivery(delivery, "staff-1")
        tx.set_administered(POINT.point_id, "comirnaty", 3)

    office.run(write)

    def more(tx: Transaction) -> None:
        tx.set_wrong_code_attempts(PATIENT.patient_id, booked.visit_id, 2)
        tx.add_vaccination(record)
        tx.update_visits([booked.with_status(VisitStatus.COMPLETED)])

    office.run(more)

    def read_back(tx: Transaction) -> tuple[Any, ...]:
        who = PATIENT.patient_id
        return (
            tx.deliveries(POINT.point_id), tx.administered(POINT.point_id),
            tx.wrong_code_attempts(who, booked.visit_id), tx.vaccination(who, booked.visit_id),
            tx.visit_owner(booked.visit_id),
            [v.status for v in tx.patient_visits(who)],
        )  # fmt: skip

    assert office.read(read_back) == (
        [delivery],
        {"comirnaty": 3},
        2,
        record,
        PATIENT.patient_id,
        [VisitStatus.COMPLETED],
    )


def test_booked_visits_of_past_days_page_in_day_and_id_order(office: Transactions) -> None:
    visits = [point_visit(-3, 9), point_visit(-1, 9), point_visit(-1, 10), point_visit(0, 9), point_visit(2, 9)]
    office.run(lambda tx: tx.insert_visits(visits))
    today = NOW.astimezone(WARSAW).date()
    expected = sorted((v.starts_at.astimezone(WARSAW).date(), v.visit_id, v.patient_id) for v in visits[:3])
    first = office.booked_before(today, None, 2)
    assert first == expected[:2]
    assert office.booked_before(today, first[-1], 2) == expected[2:]
