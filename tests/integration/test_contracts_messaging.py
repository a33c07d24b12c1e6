"""The same cases against each fake of tests/unit/fakes.py and its real adapter on the emulators.

Every fixture is parametrised over ``fake`` and ``real``: a case that passes on one and fails on the
other means the fake has drifted, and the unit tests built on it would prove nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from google.cloud import spanner

from emulators.provision import provision
from shared.adapters.firestore_db import FirestoreSmsLog
from shared.adapters.spanner_booking import BookingStore
from shared.adapters.spanner_outbox import SpannerOutbox
from shared.adapters.spanner_patients import PATIENT_COLUMNS
from shared.adapters.spanner_points import POINT_COLUMNS, SpannerPointDirectory
from shared.adapters.spanner_readers import SpannerPatientReader, SpannerVisitReader
from shared.bootstrap import Container, build_container
from shared.domain.booking import VisitStatus
from shared.domain.local_time import WARSAW
from shared.domain.patients import PatientRecord
from shared.domain.points import Point
from shared.services.outbox import OutboxStore
from shared.services.ports import PatientReader, PointDirectory, VisitReader
from tests.conftest import isolated_settings
from tests.unit.fakes import FakeOutbox, FakePatientReader, FakePointDirectory, FakeSmsLog, FakeVisitReader
from tests.unit.messaging_data import patient, visit

SIDES = ["fake", "real"]


@pytest.fixture(scope="module")
def spanner_backends(emulator_env: dict[str, str]) -> Iterator[Container]:
    """One provisioned database for the real side of this module's cases (each case uses ids of its own)."""
    container = build_container(isolated_settings())
    provision(container.settings, container.warehouse.client)
    yield container
    container.spanner.database.drop()
    container.warehouse.client.delete_dataset(
        f"{container.settings.project_id}.{container.settings.bigquery_dataset}", delete_contents=True
    )


def real(request: pytest.FixtureRequest) -> Container:
    return request.getfixturevalue("spanner_backends")  # type: ignore[no-any-return]


# --- OutboxStore -------------------------------------------------------------------------------------


class Outbox:
    """An OutboxStore and a way to write events to it (as a committed booking does)."""

    def __init__(self, store: OutboxStore, add: Callable[[list[dict[str, Any]]], None]) -> None:
        self.store, self.add = store, add


@pytest.fixture(params=SIDES)
def outbox(request: pytest.FixtureRequest) -> Outbox:
    if request.param == "fake":
        fake = FakeOutbox()
        return Outbox(fake, fake.add)
    adapter = SpannerOutbox(real(request).spanner)
    return Outbox(adapter, adapter.add)


def new_events(count: int) -> list[dict[str, Any]]:
    return [{"event_id": str(uuid.uuid4()), "event_type": "VisitBooked", "n": n, "ok": True} for n in range(count)]


def by_id(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda e: str(e["event_id"]))


def test_outbox_pending_are_the_oldest_unpublished_before_the_cutoff(outbox: Outbox) -> None:
    later = datetime.now(UTC) + timedelta(minutes=1)
    outbox.store.mark_published([e["event_id"] for e in outbox.store.pending(later, 10_000)])  # other cases'
    before = datetime.now(UTC) - timedelta(seconds=1)
    first, second = new_events(2), new_events(2)
    outbox.add(first)
    outbox.add(second)  # committed after the first two
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert outbox.store.pending(before, 10) == []  # all younger than that cutoff
    assert by_id(outbox.store.pending(later, 100)) == by_id(first + second)  # the payloads as written
    assert by_id(outbox.store.pending(later, 2)) == by_id(first)  # oldest first


def test_outbox_marked_events_are_no_longer_pending(outbox: Outbox) -> None:
    events = new_events(3)
    outbox.add(events)
    later = datetime.now(UTC) + timedelta(minutes=1)
    outbox.store.mark_published([events[0]["event_id"], events[2]["event_id"]])
    outbox.store.mark_published([])
    ids = {e["event_id"] for e in events}
    assert [e for e in outbox.store.pending(later, 1000) if e["event_id"] in ids] == [events[1]]
    outbox.store.mark_published([events[1]["event_id"]])
    assert [e for e in outbox.store.pending(later, 1000) if e["event_id"] in ids] == []


# --- SmsLog --------------------------------------------------------------------------------------------


@pytest.fixture(params=SIDES)
def sms_log(request: pytest.FixtureRequest) -> FakeSmsLog | FirestoreSmsLog:
    if request.param == "fake":
        return FakeSmsLog()
    return FirestoreSmsLog(real(request).firestore.client)


def test_sms_log_claims_hold_a_lease_and_final_states_are_done(sms_log: FakeSmsLog | FirestoreSmsLog) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    request_id = f"contract-{uuid.uuid4()}"
    details = {"kind": "VisitBooked", "visit_id": "v-1", "encoding": "GSM-7", "segments": 1}
    assert sms_log.claim(request_id, details, now) == "send"
    assert sms_log.claim(request_id, details, now + timedelta(seconds=59)) == "busy"
    assert sms_log.claim(request_id, details, now + timedelta(seconds=61)) == "send"  # the lease ran out
    record = sms_log.get(request_id)
    assert record is not None
    assert (record["status"], record["attempts"], record["kind"], record["segments"]) == (
        "SENDING",
        2,
        "VisitBooked",
        1,
    )
    sms_log.mark(request_id, "RETRYING", now, reason="HTTP 503")
    assert sms_log.claim(request_id, details, now + timedelta(seconds=62)) == "send"  # RETRYING is not final
    sms_log.mark(request_id, "SENT", now, provider_id="p-1")
    for _ in range(2):
        assert sms_log.claim(request_id, details, now + timedelta(hours=1)) == "done"
    record = sms_log.get(request_id)
    assert record is not None and (record["status"], record["provider_id"], record["attempts"]) == ("SENT", "p-1", 3)


@pytest.mark.parametrize("final", ["FAILED", "REJECTED", "DELIVERED"])
def test_sms_log_marks_create_the_record_and_every_final_state_is_done(
    sms_log: FakeSmsLog | FirestoreSmsLog, final: str
) -> None:
    now = datetime.now(UTC)
    request_id = f"contract-{uuid.uuid4()}"
    assert sms_log.get(request_id) is None
    sms_log.mark(request_id, final, now, reason="r")
    record = sms_log.get(request_id)
    assert record is not None and (record["status"], record["reason"]) == (final, "r")
    assert sms_log.claim(request_id, {}, now) == "done"


# --- VisitReader and PatientReader ------------------------------------------------------------------


@dataclass
class Readers:
    visits: VisitReader
    patients: PatientReader
    save: Callable[[list[PatientRecord], list[Any]], None]  # patients, visits


@pytest.fixture(params=SIDES)
def readers(request: pytest.FixtureRequest) -> Readers:
    if request.param == "fake":
        visits, patients = FakeVisitReader(), FakePatientReader()

        def save_fake(new_patients: list[PatientRecord], new_visits: list[Any]) -> None:
            patients.save(new_patients)
            visits.save(new_visits)

        return Readers(visits, patients, save_fake)
    database = real(request).spanner

    def save_real(new_patients: list[PatientRecord], new_visits: list[Any]) -> None:
        with database.batch() as batch:
            if new_patients:
                batch.insert_or_update(
                    "Patients",
                    (*PATIENT_COLUMNS, "CreatedAt", "UpdatedAt"),
                    [(p.patient_id, p.pesel, p.given_name, p.family_name, p.birth_date, p.phone,
                      spanner.COMMIT_TIMESTAMP, spanner.COMMIT_TIMESTAMP) for p in new_patients],
                )  # fmt: skip
            BookingStore().insert_visits(batch, new_visits)

    return Readers(SpannerVisitReader(database), SpannerPatientReader(database), save_real)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WARSAW).astimezone(UTC)


def test_patients_are_read_by_id(readers: Readers) -> None:
    one, two = patient(), patient(phone=None)
    readers.save([one, two], [])
    assert readers.patients.patient(one.patient_id) == one
    assert readers.patients.patient(str(uuid.uuid4())) is None
    assert readers.patients.patients([one.patient_id, two.patient_id, str(uuid.uuid4()), one.patient_id]) == {
        one.patient_id: one,
        two.patient_id: two,
    }
    assert readers.patients.patients([]) == {}


def test_visits_of_a_patient_in_time_order_whatever_their_status(readers: Readers) -> None:
    day = date(2031, 3, 3)
    someone, other = patient(), patient()
    later = visit(someone.patient_id, local(day, 12), dose=2)
    earlier = visit(someone.patient_id, local(day, 9), status=VisitStatus.CANCELLED)
    readers.save([someone, other], [later, earlier, visit(other.patient_id, local(day, 10))])
    assert readers.visits.visits_of_patient(someone.patient_id) == [earlier, later]
    assert readers.visits.visits_of_patient(str(uuid.uuid4())) == []


def test_visits_at_a_point_in_a_half_open_range_in_time_order(readers: Readers) -> None:
    day = date(2031, 4, 4)
    point = Point(str(uuid.uuid4()), "P", "14", "1465", "1465011", "Warszawa", "ul. A 1", "00-001", ["x"], True)
    elsewhere = Point(str(uuid.uuid4()), "Q", "14", "1465", "1465011", "Warszawa", "ul. B 1", "00-001", ["x"], True)
    people = [patient() for _ in range(5)]
    at_start = visit(people[0].patient_id, local(day, 0), point=point)
    cancelled = visit(people[1].patient_id, local(day, 11), point=point, status=VisitStatus.CANCELLED)
    last = visit(people[2].patient_id, local(day, 23, 59), point=point)
    next_day = visit(people[3].patient_id, local(day + timedelta(days=1), 0), point=point)
    other_point = visit(people[4].patient_id, local(day, 11), point=elsewhere)
    readers.save(people, [last, next_day, cancelled, other_point, at_start])
    found = readers.visits.visits_at_point(point.point_id, local(day, 0), local(day + timedelta(days=1), 0))
    assert found == [at_start, cancelled, last]


def test_booked_on_day_pages_through_booked_visits_in_visit_id_order(readers: Readers) -> None:
    day = date(2031, 5, 5)
    people = [patient() for _ in range(6)]
    booked = [visit(p.patient_id, local(day, 8 + i)) for i, p in enumerate(people[:4])]
    cancelled = visit(people[4].patient_id, local(day, 15), status=VisitStatus.CANCELLED)
    other_day = visit(people[5].patient_id, local(day + timedelta(days=1), 8))
    readers.save(people, [*booked, cancelled, other_day])
    expected = sorted(booked, key=lambda v: v.visit_id)
    assert readers.visits.booked_on_day(day, None, 100) == expected
    first_page = readers.visits.booked_on_day(day, None, 3)
    assert first_page == expected[:3]
    assert readers.visits.booked_on_day(day, first_page[-1].visit_id, 3) == expected[3:]
    assert readers.visits.booked_on_day(day, expected[-1].visit_id, 3) == []
    assert readers.visits.booked_on_day(date(2031, 5, 4), None, 3) == []


# --- PointDirectory --------------------------------------------------------------------------------


@dataclass
class Points:
    directory: PointDirectory
    save: Callable[[Iterable[Point]], None]


@pytest.fixture(params=SIDES)
def points(request: pytest.FixtureRequest) -> Points:
    if request.param == "fake":
        fake = FakePointDirectory()
        return Points(fake, fake.add)
    database = real(request).spanner

    def save_real(new_points: Iterable[Point]) -> None:
        with database.batch() as batch:
            batch.insert(
                "Points",
                POINT_COLUMNS,
                [(p.point_id, p.name, p.voivodeship, p.county, p.municipality, p.city, p.street, p.postal_code,
                  p.vaccines, p.active) for p in new_points],
            )  # fmt: skip

    return Points(SpannerPointDirectory(database), save_real)


def test_points_by_id_and_by_region(points: Points) -> None:
    region = f"{uuid.uuid4().int % 90 + 10}"  # a voivodeship code of this case's own
    county, other_county = f"{region}01", f"{region}02"

    def point(name: str, county: str, municipality: str, active: bool = True) -> Point:
        return Point(str(uuid.uuid4()), name, region, county, municipality, "Miasto", "ul. Krótka 2", "00-002",
                     ["comirnaty", "jcovden"], active)  # fmt: skip

    b = point("B", county, f"{county}011")
    a = point("A", county, f"{county}011")
    c = point("C", county, f"{county}022")
    closed = point("Z", county, f"{county}011", active=False)
    far = point("F", other_county, f"{other_county}011")
    points.save([a, b, c, closed, far])
    unknown = str(uuid.uuid4())
    assert points.directory.get_many([a.point_id, closed.point_id, unknown]) == {a.point_id: a, closed.point_id: closed}
    assert points.directory.get_many([]) == {}
    assert points.directory.in_region(region, None, None) == [a, b, c, far]
    assert points.directory.in_region(region, county, None) == [a, b, c]
    assert points.directory.in_region(region, county, f"{county}011") == [a, b]
    assert points.directory.in_region(region, other_county, f"{county}011") == []
