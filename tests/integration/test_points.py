"""The points' back office on the Spanner emulator: schedules, stock, vaccinations, no-shows."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from google.cloud.spanner_v1 import param_types
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from emulators.seed import (
    POINT_COLUMNS,
    SLOT_COLUMNS,
    SLOT_HOURS,
    demo_programme,
    generate_points,
    pesel_for,
    seed,
    top_up_today,
)
from shared.adapters.firestore_night_jobs import NIGHT_JOBS, FirestoreCheckpoints
from shared.adapters.spanner_reads import SpannerVisitReader
from shared.adapters.spanner_transaction import SpannerTransactions
from shared.bootstrap import Container, build_container
from shared.domain.booking import WARSAW, Channel, Visit, VisitStatus
from shared.domain.refusals import Refused
from shared.domain.schedule import ScheduleBlock, SlotsHaveVisits, day_bounds
from shared.domain.vaccination import MAX_WRONG_CODES, Actor
from shared.services.night_jobs import NightJobs
from shared.services.no_shows import NightlyNoShows
from shared.services.points import PointService
from shared.services.visits import BookingRequest
from shared.services.walkins import WalkIn, WalkIns
from tests.integration.conftest import NOW, CapturedEvents, add_patient, at, visit_service

STRING = param_types.STRING
ADMIN = Actor("staff-admin", admin=True)


def add_point(container: Container, vaccines: list[str], slots: list[tuple[datetime, str, int]] = ()) -> str:  # type: ignore[assignment]
    point_id = str(uuid.uuid4())
    with container.spanner.batch() as batch:
        batch.insert("Points", columns=POINT_COLUMNS, values=[(point_id, "Punkt", "14", "1465", "1465011", "Warszawa",
                                                                "ul. Długa 1", "00-001", vaccines, True)])  # fmt: skip
        if slots:
            batch.insert("Slots", columns=SLOT_COLUMNS, values=[(point_id, s, v, c, 0, "14", "1465", "1465011", True)
                                                                for s, v, c in slots])  # fmt: skip
    return point_id


def staff(point_id: str) -> Actor:
    return Actor(f"staff-{point_id[:8]}", frozenset({point_id}))


@pytest.fixture
def office(backends: Container) -> PointService:
    programme = demo_programme(NOW)
    return PointService(SpannerTransactions(backends.spanner), lambda: programme, CapturedEvents())


def captured(office: PointService) -> CapturedEvents:
    """What the service published, as the fixture's publisher kept it."""
    events = office.changes.events
    assert isinstance(events, CapturedEvents)
    return events


def day(offset: int) -> date:
    return NOW.astimezone(WARSAW).date() + timedelta(days=offset)


def block(
    offset: int, start: str, end: str, places: int, vaccine: str = "comirnaty", minutes: int = 60
) -> ScheduleBlock:
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return ScheduleBlock(day(offset), h1 * 60 + m1, h2 * 60 + m2, minutes, places, vaccine)


def slots_of(container: Container, point_id: str) -> dict[tuple[datetime, str], tuple[int, int, bool | None]]:
    keys = KeySet(ranges=[KeyRange(start_closed=[point_id], end_closed=[point_id])])
    with container.spanner.snapshot() as snapshot:
        rows = snapshot.read("Slots", ("StartsAt", "Vaccine", "Capacity", "Booked", "FreeMarker"), keys)
        return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def outbox(container: Container, event_type: str) -> list[dict[str, Any]]:
    with container.spanner.snapshot() as snapshot:
        rows = snapshot.execute_sql(
            "SELECT Payload FROM Outbox WHERE EventType = @t", params={"t": event_type}, param_types={"t": STRING}
        )
        return [json.loads(r[0]) for r in rows]


def visits_of(container: Container, patient_id: str) -> dict[int, list[Visit]]:
    found = SpannerVisitReader(container.spanner).visits_of_patient(patient_id)
    by_dose: dict[int, list[Visit]] = {}
    for visit in sorted(found, key=lambda v: v.starts_at):
        by_dose.setdefault(visit.dose, []).append(visit)
    return by_dose


# --- schedules and stock --------------------------------------------------------------------------


def test_a_schedule_is_published_changed_and_listed_with_one_event_per_slot(
    backends: Container, office: PointService
) -> None:
    point_id = add_point(backends, ["comirnaty", "jcovden"])
    office.record_delivery(point_id, "comirnaty", 500, "LOT-1", NOW - timedelta(days=1), ADMIN, NOW)
    office.record_delivery(point_id, "jcovden", 500, "J-1", NOW - timedelta(days=1), ADMIN, NOW)
    seen = len(captured(office).events)
    change = office.publish_schedule(
        point_id,
        [block(1, "08:00", "12:00", 5), block(1, "12:00", "13:00", 2, "jcovden", minutes=30)],
        staff(point_id),
        NOW,
    )
    events = captured(office).events[seen:]
    assert (len(change.created), len(change.changed), len(change.removed)) == (6, 0, 0)
    assert len(events) == 6 and {e["event_type"] for e in events} == {"ScheduleChanged"}
    assert {(e["change"], e["capacity"], e["booked"], e["voivodeship"]) for e in events} == {
        ("created", 5, 0, "14"),
        ("created", 2, 0, "14"),
    }
    assert len(outbox(backends, "ScheduleChanged")) == 6

    # The same day again: 10:00 goes, 08:00-10:00 get 7 places, 11:00 stays; jcovden is gone too.
    seen = len(captured(office).events)
    change = office.publish_schedule(
        point_id, [block(1, "08:00", "10:00", 7), block(1, "11:00", "12:00", 5)], staff(point_id), NOW
    )
    events = captured(office).events[seen:]
    assert [s.starts_at for s in change.changed] == [at(1, 8), at(1, 9)]
    assert {(s.starts_at, s.vaccine) for s in change.removed} == {
        (at(1, 10), "comirnaty"),
        (at(1, 12), "jcovden"),
        (at(1, 12) + timedelta(minutes=30), "jcovden"),
    }
    assert change.unchanged == 1 and len(events) == 5
    assert {e["capacity"] for e in events if e["change"] == "removed"} == {0}
    listed = office.schedule(point_id, at(1, 0), at(2, 0), staff(point_id))
    assert [(s.starts_at, s.capacity) for s in listed] == [(at(1, 8), 7), (at(1, 9), 7), (at(1, 11), 5)]


def test_removing_or_shrinking_booked_slots_is_refused_naming_them_and_nothing_changes(
    backends: Container, office: PointService
) -> None:
    point_id = add_point(backends, ["jcovden"], [(at(2, 9), "jcovden", 3), (at(2, 10), "jcovden", 3)])
    office.record_delivery(point_id, "jcovden", 100, "J-1", NOW - timedelta(days=1), ADMIN, NOW)
    for _ in range(2):
        visit_service(backends).book(add_patient(backends), BookingRequest(point_id, at(2, 9), "jcovden", None),
                                     Channel.WEB, NOW)  # fmt: skip
    before = slots_of(backends, point_id)
    for blocks in ([block(2, "10:00", "11:00", 3, "jcovden")], [block(2, "09:00", "11:00", 1, "jcovden")]):
        with pytest.raises(SlotsHaveVisits) as refused:
            office.publish_schedule(point_id, blocks, staff(point_id), NOW)
        assert refused.value.code == "slot_has_visits"
        assert [(s["vaccine"], s["booked"]) for s in refused.value.slots] == [("jcovden", 2)]
        assert refused.value.slots[0]["starts_at"].startswith(day(2).isoformat() + "T09:00")
    assert slots_of(backends, point_id) == before
    assert outbox(backends, "ScheduleChanged") == []
    # Down to exactly what is booked is allowed; the slot is then full and out of the free index.
    office.publish_schedule(point_id, [block(2, "09:00", "11:00", 2, "jcovden")], staff(point_id), NOW)
    assert slots_of(backends, point_id)[(at(2, 9), "jcovden")] == (2, 2, None)


def test_slots_that_have_started_are_kept_and_past_days_are_refused(backends: Container, office: PointService) -> None:
    point_id = add_point(backends, ["jcovden"], [(at(1, 9), "jcovden", 3)])
    office.record_delivery(point_id, "jcovden", 100, "J-1", NOW - timedelta(days=1), ADMIN, NOW)
    later = at(1, 9) + timedelta(minutes=30)  # "now" half an hour after the 09:00 slot started
    change = office.publish_schedule(point_id, [block(1, "08:00", "11:00", 4, "jcovden")], staff(point_id), later)
    assert change.past_kept == 2 and [s.starts_at for s in change.created] == [at(1, 10)]
    assert slots_of(backends, point_id)[(at(1, 9), "jcovden")][0] == 3
    with pytest.raises(Refused) as refused:
        office.publish_schedule(point_id, [block(-1, "08:00", "11:00", 4, "jcovden")], staff(point_id), NOW)
    assert refused.value.code == "day_in_past"


def test_places_never_exceed_the_stock_for_their_period(backends: Container, office: PointService) -> None:
    point_id = add_point(backends, ["comirnaty"])
    with pytest.raises(Refused) as refused:
        office.publish_schedule(point_id, [block(1, "08:00", "10:00", 5)], staff(point_id), NOW)
    assert (refused.value.code, refused.value.kind) == ("exceeds_stock", "rule")
    office.record_delivery(point_id, "comirnaty", 10, "C-1", NOW, staff(point_id), NOW)
    # Day 3 needs a delivery that only arrives on day 3 at noon: its morning is not covered.
    _, level = office.record_delivery(point_id, "comirnaty", 10, "C-2", at(3, 12), staff(point_id), NOW)
    assert (level.delivered, level.expected) == (10, 10)
    office.publish_schedule(point_id, [block(1, "08:00", "10:00", 5)], staff(point_id), NOW)
    with pytest.raises(Refused) as refused:
        office.publish_schedule(point_id, [block(3, "08:00", "09:00", 10)], staff(point_id), NOW)
    assert refused.value.code == "exceeds_stock"
    office.publish_schedule(point_id, [block(3, "13:00", "14:00", 10)], staff(point_id), NOW)
    levels = {lvl.vaccine: lvl for lvl in office.stock(point_id, staff(point_id), NOW)}
    assert (levels["comirnaty"].on_hand, levels["comirnaty"].published_places) == (10, 20)


def test_point_staff_act_only_on_their_points(backends: Container, office: PointService) -> None:
    mine, other = add_point(backends, ["comirnaty"]), add_point(backends, ["comirnaty"])
    for act in (
        lambda: office.schedule(other, at(1, 0), at(2, 0), staff(mine)),
        lambda: office.publish_schedule(other, [block(1, "08:00", "09:00", 1)], staff(mine), NOW),
        lambda: office.record_delivery(other, "comirnaty", 5, "L", NOW, staff(mine), NOW),
    ):
        with pytest.raises(Refused) as refused:
            act()
        assert (refused.value.kind, refused.value.code) == ("forbidden", "not_your_point")
    with pytest.raises(Refused) as refused:
        office.record_delivery(mine, "jcovden", 5, "L", NOW, staff(mine), NOW)
    assert refused.value.code == "vaccine_not_at_point"


def test_a_schedule_edit_racing_bookings_never_overbooks(backends: Container) -> None:
    point_id = add_point(backends, ["jcovden"], [(at(2, 9), "jcovden", 6)])
    patients = [add_patient(backends) for _ in range(8)]
    containers = [build_container(backends.settings) for _ in range(3)]
    programme = demo_programme(NOW)
    office = PointService(SpannerTransactions(containers[0].spanner), lambda: programme, CapturedEvents())
    office.record_delivery(point_id, "jcovden", 100, "J-1", NOW - timedelta(days=1), ADMIN, NOW)
    start = threading.Barrier(len(patients) + 1)
    outcomes: list[str] = []

    def book(index: int) -> None:
        start.wait()
        try:
            visit_service(containers[1 + index % 2]).book(
                patients[index], BookingRequest(point_id, at(2, 9), "jcovden", None), Channel.WEB, NOW
            )
            outcomes.append("booked")
        except Refused as refusal:
            outcomes.append(refusal.code)

    def shrink() -> None:
        start.wait()
        try:
            office.publish_schedule(point_id, [block(2, "09:00", "10:00", 3, "jcovden")], ADMIN, NOW)
            outcomes.append("shrunk")
        except Refused as refusal:
            outcomes.append(refusal.code)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(patients))]
    threads.append(threading.Thread(target=shrink))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    capacity, booked, free = slots_of(backends, point_id)[(at(2, 9), "jcovden")]
    assert booked == outcomes.count("booked") <= capacity
    assert free == (True if booked < capacity else None)
    assert capacity == (3 if "shrunk" in outcomes else 6)


# --- vaccinations and no-shows --------------------------------------------------------------------


@pytest.fixture
def today_point(backends: Container, office: PointService) -> Iterator[tuple[str, datetime]]:
    """A point with a slot later today (Jcovden: one dose; Comirnaty: two) and stock for both."""
    soon = (NOW + timedelta(hours=1)).replace(minute=0, second=0)
    if soon.astimezone(WARSAW).date() != NOW.astimezone(WARSAW).date():
        soon = NOW + timedelta(minutes=1)  # late in the day: a slot still today
    point_id = add_point(backends, ["comirnaty", "jcovden"],
                         [(soon, "comirnaty", 5), (soon, "jcovden", 5)]
                         + [(at(d, 9), "comirnaty", 5) for d in (21, 22)])  # fmt: skip
    office.record_delivery(point_id, "comirnaty", 100, "C-LOT", NOW - timedelta(days=1), ADMIN, NOW)
    office.record_delivery(point_id, "jcovden", 100, "J-LOT", NOW - timedelta(days=1), ADMIN, NOW)
    yield point_id, soon


def test_a_vaccination_completes_the_visit_books_dose_two_and_cancels_orphans(
    backends: Container, office: PointService, today_point: tuple[str, datetime]
) -> None:
    point_id, soon = today_point
    elsewhere = add_point(backends, ["comirnaty"], [(at(3, 9), "comirnaty", 5), (at(26, 9), "comirnaty", 5)])
    patient = add_patient(backends)
    booking = visit_service(backends).book(
        patient, BookingRequest(point_id, soon, "comirnaty", None), Channel.WEB, NOW - timedelta(hours=1)
    )
    # Dose 2 of this series is dropped by hand so that the vaccination has to book it.
    first = booking.visits[0]
    visit_service(backends).cancel(booking.visits[1].visit_id, patient, NOW - timedelta(hours=1))
    # An orphan: an open dose-1 visit elsewhere, holding its place (as 2021's double bookings did).
    orphan_id = str(uuid.uuid4())
    with backends.spanner.batch() as batch:
        batch.insert("Visits", ("PatientId", "VisitId", "SeriesId", "Dose", "Vaccine", "PointId", "StartsAt",
                                "Status", "Channel", "CheckInCode", "BookedDay", "CreatedAt", "ChangedAt"),
                     [(patient, orphan_id, str(uuid.uuid4()), 1, "comirnaty", elsewhere, at(3, 9), "BOOKED",
                       "WEB", "1111", day(3), NOW, NOW)])  # fmt: skip
        batch.update("Slots", ("PointId", "StartsAt", "Vaccine", "Booked"), [(elsewhere, at(3, 9), "comirnaty", 1)])

    seen = len(captured(office).events)
    outcome = office.record_vaccination(first.visit_id, "C-LOT", first.check_in_code, staff(point_id), NOW)
    written = captured(office).events[seen:]
    record = outcome.vaccination.as_json()
    assert (record["dose"], record["lot"], record["point_id"], record["staff_id"]) == (
        1,
        "C-LOT",
        point_id,
        staff(point_id).staff_id,
    )
    visits = visits_of(backends, patient)
    assert [v.status for v in visits[1]] == [VisitStatus.COMPLETED, VisitStatus.CANCELLED]
    dose_two = [v for v in visits[2] if v.is_active]
    assert len(dose_two) == 1 and dose_two[0].starts_at == at(21, 9) and dose_two[0].point_id == point_id
    assert dose_two[0].channel == Channel.POINT
    assert outcome.cancelled == [orphan_id] and visits[1][1].visit_id == orphan_id
    assert slots_of(backends, elsewhere)[(at(3, 9), "comirnaty")][1] == 0  # the orphan's place is free again
    levels = {lvl.vaccine: lvl for lvl in office.stock(point_id, ADMIN, NOW)}
    assert (levels["comirnaty"].administered, levels["comirnaty"].on_hand) == (1, 99)
    types = sorted(e["event_type"] for e in written)
    assert types == ["VisitBooked", "VisitCancelled", "VisitCompleted"]
    assert next(e for e in written if e["event_type"] == "VisitCompleted")["lot"] == "C-LOT"
    # The same request again (a retry) answers the record again and changes nothing.
    again = office.record_vaccination(first.visit_id, "C-LOT", first.check_in_code, staff(point_id), NOW)
    assert again.vaccination.as_json() == record and captured(office).events[seen:] == written


def test_wrong_codes_are_counted_and_lock_the_visit(
    backends: Container, office: PointService, today_point: tuple[str, datetime]
) -> None:
    point_id, soon = today_point
    patient = add_patient(backends)
    visit = (
        visit_service(backends)
        .book(patient, BookingRequest(point_id, soon, "jcovden", None), Channel.WEB, NOW - timedelta(hours=1))
        .visits[0]
    )
    wrong = f"{(int(visit.check_in_code) + 1) % 10_000:04d}"
    for _ in range(MAX_WRONG_CODES):
        with pytest.raises(Refused) as refused:
            office.record_vaccination(visit.visit_id, "J-LOT", wrong, staff(point_id), NOW)
        assert (refused.value.code, refused.value.kind, refused.value.field) == (
            "wrong_check_in_code",
            "rule",
            "check_in_code",
        )
    with pytest.raises(Refused) as refused:
        office.record_vaccination(visit.visit_id, "J-LOT", visit.check_in_code, staff(point_id), NOW)
    assert refused.value.code == "check_in_code_locked"
    assert visits_of(backends, patient)[1][0].status == VisitStatus.BOOKED


def test_vaccinations_are_refused_at_another_point_another_day_or_with_an_unknown_lot(
    backends: Container, office: PointService, today_point: tuple[str, datetime]
) -> None:
    point_id, soon = today_point
    patient = add_patient(backends)
    today = (
        visit_service(backends)
        .book(patient, BookingRequest(point_id, soon, "jcovden", None), Channel.WEB, NOW - timedelta(hours=1))
        .visits[0]
    )
    code = today.check_in_code
    other_point = add_point(backends, ["jcovden"])
    cases = [
        (staff(other_point), "J-LOT", "forbidden", "visit_of_other_point"),
        (staff(point_id), "NO-SUCH-LOT", "rule", "unknown_lot"),
    ]
    for actor, lot, kind, code_name in cases:
        with pytest.raises(Refused) as refused:
            office.record_vaccination(today.visit_id, lot, code, actor, NOW)
        assert (refused.value.kind, refused.value.code) == (kind, code_name)
    with pytest.raises(Refused) as refused:
        office.record_vaccination(today.visit_id, "J-LOT", code, staff(point_id), NOW - timedelta(days=1))
    assert (refused.value.kind, refused.value.code) == ("conflict", "visit_not_today")
    with pytest.raises(Refused) as refused:
        office.record_vaccination(str(uuid.uuid4()), "J-LOT", code, staff(point_id), NOW)
    assert refused.value.code == "visit_not_found"


def test_a_no_show_frees_the_later_doses_and_the_patient_can_book_again(
    backends: Container, office: PointService, today_point: tuple[str, datetime]
) -> None:
    point_id, soon = today_point
    patient = add_patient(backends)
    first, second = (
        visit_service(backends)
        .book(patient, BookingRequest(point_id, soon, "comirnaty", None), Channel.WEB, NOW - timedelta(hours=1))
        .visits
    )
    with pytest.raises(Refused) as refused:
        office.mark_no_show(first.visit_id, staff(point_id), NOW)
    assert refused.value.code == "visit_not_started"
    with pytest.raises(Refused) as refused:
        office.mark_no_show(first.visit_id, staff(add_point(backends, ["jcovden"])), soon + timedelta(minutes=5))
    assert refused.value.code == "visit_of_other_point"
    seen = len(captured(office).events)
    outcome = office.mark_no_show(first.visit_id, staff(point_id), soon + timedelta(minutes=5))
    assert outcome.cancelled == [second.visit_id]
    assert sorted(e["event_type"] for e in captured(office).events[seen:]) == ["VisitCancelled", "VisitNoShow"]
    statuses = {v.visit_id: v.status for vs in visits_of(backends, patient).values() for v in vs}
    assert statuses == {first.visit_id: VisitStatus.NO_SHOW, second.visit_id: VisitStatus.CANCELLED}
    assert slots_of(backends, point_id)[(at(21, 9), "comirnaty")][1] == 0
    # Dose 1 again, in a new series.
    again = visit_service(backends).book(patient, BookingRequest(point_id, soon, "comirnaty", None), Channel.WEB, NOW)
    assert [v.dose for v in again.visits] == [1, 2]


def test_the_nightly_no_shows_killed_mid_way_resume_after_the_checkpoint_and_mark_each_once(
    backends: Container, office: PointService
) -> None:
    yesterday = at(-1, 9)
    point_id = add_point(backends, ["comirnaty"], [(yesterday, "comirnaty", 9), (at(21, 9), "comirnaty", 9),
                                                   (at(1, 9), "comirnaty", 9)])  # fmt: skip
    patients = [add_patient(backends) for _ in range(3)]
    for patient in patients:
        visit_service(backends).book(patient, BookingRequest(point_id, yesterday, "comirnaty", None), Channel.WEB,
                                     yesterday - timedelta(days=1))  # fmt: skip
    tomorrow = add_patient(backends)
    visit_service(backends).book(tomorrow, BookingRequest(point_id, at(1, 9), "comirnaty", None), Channel.WEB, NOW)
    today = NOW.astimezone(WARSAW).date()
    checkpoints = FirestoreCheckpoints(backends.firestore.client)
    checkpoints.client.collection(NIGHT_JOBS).document(f"no-shows-before-{today.isoformat()}").delete()
    jobs = NightJobs(checkpoints, backends.bus, time.monotonic, budget_s=60.0)
    dying = DyingBackOffice(SpannerTransactions(backends.spanner), commits=1)
    programme = demo_programme(NOW)
    nightly = NightlyNoShows(dying, PointService(dying, lambda: programme, CapturedEvents()), jobs, page=2)
    with pytest.raises(KilledMidWay):  # the first page (two visits) commits, the process dies in the second
        nightly.run(today, NOW)
    saved = checkpoints.load(f"no-shows-before-{today.isoformat()}")
    assert saved is not None and (saved.done, saved.pages, saved.finished) == (2, 1, False)
    dying.commits = 100  # the retried delivery goes on after the checkpoint
    resumed = nightly.run(today, NOW)
    assert (resumed.done, resumed.total, resumed.finished, resumed.resumed_after) == (1, 3, True, saved.cursor)
    assert nightly.run(today, NOW).done == 0  # a repeated tick: the job is done
    assert office.mark_past_no_shows(today, NOW, page=2) == 0  # and nothing was left to mark
    for patient in patients:
        visits = visits_of(backends, patient)
        assert (visits[1][0].status, visits[2][0].status) == (VisitStatus.NO_SHOW, VisitStatus.CANCELLED)
    assert visits_of(backends, tomorrow)[1][0].status == VisitStatus.BOOKED
    assert len(outbox(backends, "VisitNoShow")) == 3
    assert slots_of(backends, point_id)[(at(21, 9), "comirnaty")][1] == 0  # their dose-2 places came free


class KilledMidWay(Exception):
    pass


class DyingBackOffice:
    """The Spanner back office for ``commits`` transactions; the process "dies" in the next one."""

    def __init__(self, office: SpannerTransactions, commits: int) -> None:
        self.office, self.commits = office, commits

    def run(self, work: Any) -> Any:
        return self.run_written(work)[0]

    def run_written(self, work: Any) -> Any:
        if self.commits <= 0:
            raise KilledMidWay()
        self.commits -= 1
        return self.office.run_written(work)

    def read(self, work: Any) -> Any:
        return self.office.read(work)

    def booked_before(self, day: date, after: Any, limit: int) -> Any:
        return self.office.booked_before(day, after, limit)


# --- walk-ins and next doses ----------------------------------------------------------------------


def walk_ins(container: Container) -> WalkIns:
    programme = demo_programme(NOW)
    return WalkIns(
        SpannerTransactions(container.spanner), container.patients, visit_service(container),
        SpannerVisitReader(container.spanner), lambda: programme,
    )  # fmt: skip


def test_a_walk_in_unknown_to_the_registry_is_registered_and_booked_at_the_earliest_place(
    backends: Container, today_point: tuple[str, datetime]
) -> None:
    point_id, soon = today_point
    pesel = pesel_for(date(1970, 3, 3), 901, female=True)
    walk_in = WalkIn(pesel, "comirnaty", None, "Ewa", "Nowa")
    booked = walk_ins(backends).book(point_id, walk_in, staff(point_id), NOW, "walk-1")
    assert [(v.dose, v.starts_at, v.channel) for v in booked.visits] == [
        (1, soon, Channel.POINT),
        (2, at(21, 9), Channel.POINT),
    ]
    patient, referrals = backends.patients.lookup(pesel)
    assert patient is not None and (patient.given_name, patient.phone) == ("Ewa", None)
    assert any(r.is_valid(NOW) for r in referrals)
    again = walk_ins(backends).book(point_id, walk_in, staff(point_id), NOW, "walk-1")
    assert again.replayed and [v.visit_id for v in again.visits] == [v.visit_id for v in booked.visits]
    with pytest.raises(Refused) as refused:
        walk_ins(backends).book(point_id, walk_in, staff(add_point(backends, ["comirnaty"])), NOW, "walk-2")
    assert refused.value.code == "not_your_point"


def test_a_walk_in_skips_full_slots_and_says_when_nothing_is_free(backends: Container) -> None:
    point_id = add_point(backends, ["jcovden"], [(at(1, 8), "jcovden", 1), (at(1, 9), "jcovden", 1)])
    first = add_patient(backends)
    visit_service(backends).book(first, BookingRequest(point_id, at(1, 8), "jcovden", None), Channel.WEB, NOW)
    pesel = pesel_for(date(1981, 4, 4), 902, female=False)
    booked = walk_ins(backends).book(point_id, WalkIn(pesel, "jcovden", "+48601000902"), staff(point_id), NOW, "w1")
    assert [v.starts_at for v in booked.visits] == [at(1, 9)]
    with pytest.raises(Refused) as refused:
        walk_ins(backends).book(
            point_id, WalkIn(pesel_for(date(1982, 5, 5), 903, female=False), "jcovden", None), staff(point_id), NOW,
            "w2",
        )  # fmt: skip
    assert (refused.value.kind, refused.value.code) == ("conflict", "no_free_place")


def test_a_pending_next_dose_is_booked_in_its_series_and_not_before_its_interval(
    backends: Container, office: PointService, today_point: tuple[str, datetime]
) -> None:
    point_id, soon = today_point
    patient = add_patient(backends)
    first, second = (
        visit_service(backends)
        .book(patient, BookingRequest(point_id, soon, "comirnaty", None), Channel.WEB, NOW - timedelta(hours=1))
        .visits
    )
    office.record_vaccination(first.visit_id, "C-LOT", first.check_in_code, staff(point_id), NOW)
    visit_service(backends).cancel(second.visit_id, patient, NOW)  # dose 2 is pending now
    service = visit_service(backends)
    with pytest.raises(Refused) as refused:
        service.book(patient, BookingRequest(point_id, soon, "jcovden", None), Channel.WEB, NOW)
    assert refused.value.code == "other_vaccine_in_series"
    add_point_slot(backends, point_id, at(5, 9), "comirnaty")
    with pytest.raises(Refused) as refused:
        service.book(patient, BookingRequest(point_id, at(5, 9), "comirnaty", None), Channel.WEB, NOW)
    assert (refused.value.code, refused.value.field) == ("too_early_for_next_dose", "starts_at")
    booked = service.book(patient, BookingRequest(point_id, at(22, 9), "comirnaty", None), Channel.WEB, NOW)
    assert [(v.dose, v.series_id) for v in booked.visits] == [(2, first.series_id)]
    # With dose 2 booked nothing is pending any more.
    with pytest.raises(Refused) as refused:
        service.book(patient, BookingRequest(point_id, at(21, 9), "comirnaty", None), Channel.WEB, NOW)
    assert refused.value.code == "already_booked"


def add_point_slot(container: Container, point_id: str, starts_at: datetime, vaccine: str) -> None:
    with container.spanner.batch() as batch:
        batch.insert("Slots", columns=SLOT_COLUMNS,
                     values=[(point_id, starts_at, vaccine, 5, 0, "14", "1465", "1465011", True)])  # fmt: skip


def test_the_demo_data_has_slots_today_at_every_point_and_the_stock_for_them(
    backends: Container, office: PointService
) -> None:
    seed(backends.spanner, backends.firestore, points=6, days=2, second_dose_days=1, patients=0, today=True, now=NOW)
    today = NOW.astimezone(WARSAW).date()
    for point in generate_points(6):
        start, end = day_bounds(today)
        assert office.schedule(point.point_id, start, end, ADMIN), point.point_id
        for level in office.stock(point.point_id, ADMIN, NOW):
            assert level.on_hand >= level.published_places > 0
    assert top_up_today(backends.spanner, 6, now=NOW) == 0
    fresh = generate_points(7)[6]  # data of an earlier day gets today's slots added
    seed(backends.spanner, backends.firestore, points=7, days=1, second_dose_days=0, patients=0, now=NOW)
    added = top_up_today(backends.spanner, 7, now=NOW)
    assert added == len(SLOT_HOURS) and office.schedule(fresh.point_id, *day_bounds(today), ADMIN)


def test_a_walk_in_of_a_patient_booked_elsewhere_needs_that_visits_code_and_then_moves_it_here(
    backends: Container, office: PointService, today_point: tuple[str, datetime]
) -> None:
    point_id, soon = today_point
    elsewhere = add_point(backends, ["comirnaty"], [(at(3, 9), "comirnaty", 5), (at(25, 9), "comirnaty", 5)])
    patient = add_patient(backends)
    online = visit_service(backends).book(patient, BookingRequest(elsewhere, at(3, 9), "comirnaty", None),
                                          Channel.WEB, NOW).visits  # fmt: skip
    pesel = backends.patients.patient(patient).pesel  # type: ignore[union-attr]
    with pytest.raises(Refused) as refused:
        walk_ins(backends).book(point_id, WalkIn(pesel, "comirnaty", None), staff(point_id), NOW, "w-elsewhere")
    assert (refused.value.code, refused.value.extra["point_id"]) == ("booked_elsewhere", elsewhere)
    assert slots_of(backends, elsewhere)[(at(3, 9), "comirnaty")][1] == 1  # nothing taken over

    shown = WalkIn(pesel, "comirnaty", None, check_in_code=online[0].check_in_code)
    walked = walk_ins(backends).book(point_id, shown, staff(point_id), NOW, "w-elsewhere-code")
    dose_one = walked.visits[0]
    assert (dose_one.visit_id, dose_one.point_id, dose_one.starts_at) == (online[0].visit_id, point_id, soon)
    assert slots_of(backends, elsewhere)[(at(3, 9), "comirnaty")][1] == 0  # the other point's place is freed
    outcome = office.record_vaccination(dose_one.visit_id, "C-LOT", dose_one.check_in_code, staff(point_id), NOW)
    assert outcome.cancelled == []  # nothing left open elsewhere: dose 2 still fits its window
    assert slots_of(backends, elsewhere)[(at(25, 9), "comirnaty")][1] == 1
