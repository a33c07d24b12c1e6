"""The points' back office through in-memory fakes: schedule, stock, vaccination and no-show rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, cast

import pytest

from emulators.seed import demo_programme
from shared.domain.availability import SlotState
from shared.domain.booking import WARSAW, Channel, Slot, Visit, VisitStatus, check_may_book
from shared.domain.events import VISIT_COMPLETED, VISIT_NO_SHOW, visit_events
from shared.domain.identity import eligibility
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Point
from shared.domain.refusals import Refused
from shared.domain.schedule import ScheduleBlock, SlotsHaveVisits, plan_schedule
from shared.domain.series import pending_dose
from shared.domain.stock import Delivery, first_shortfall
from shared.domain.vaccination import MAX_WRONG_CODES, Actor, local_day, orphans
from shared.services.night_jobs import NightJobs
from shared.services.no_shows import NightlyNoShows
from shared.services.notifications import Notifier
from shared.services.points import PointService
from shared.services.reporting_feed import EventStreamer
from shared.services.transaction import BookedRef
from tests.unit.fakes import FakeBus, FakePointDirectory, FakeStore, FakeWarehouse
from tests.unit.fakes_night_jobs import Crash, FakeCheckpoints, SteppingClock
from tests.unit.fakes_points import Published

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)  # 10:30 in Warsaw
PROGRAMME = demo_programme(NOW)
POINT = Point(str(uuid.uuid4()), "Punkt", "14", "1465", "1465011", "Warszawa", "ul. Długa 1", "00-001",
              ["comirnaty", "jcovden"], True)  # fmt: skip
T = TypeVar("T")
STAFF = Actor("staff-1", frozenset({POINT.point_id}))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WARSAW).astimezone(UTC)


TODAY = NOW.astimezone(WARSAW).date()


def slot(starts_at: datetime, capacity: int = 5, booked: int = 0, vaccine: str = "comirnaty") -> Slot:
    return Slot(POINT.point_id, starts_at, vaccine, capacity, booked, "14", "1465", "1465011")


def block(day: date, start: int, end: int, places: int, vaccine: str = "comirnaty", minutes: int = 60) -> ScheduleBlock:
    return ScheduleBlock(day, start * 60, end * 60, minutes, places, vaccine)


@pytest.fixture
def office() -> tuple[PointService, FakeStore, Published]:
    fake = FakeStore()
    fake.state.points[POINT.point_id] = POINT
    published = Published()
    return PointService(fake, lambda: PROGRAMME, published), fake, published


# --- domain ------------------------------------------------------------------------------------------


def test_blocks_make_slots_in_local_time_and_skip_the_hour_that_does_not_exist() -> None:
    spring = ScheduleBlock(date(2027, 3, 28), 60, 4 * 60, 60, 3, "comirnaty")  # clocks go 02:00 -> 03:00
    assert [s.astimezone(WARSAW).hour for s in spring.starts()] == [1, 3]
    midnight = ScheduleBlock(date(2026, 12, 1), 23 * 60, 24 * 60, 30, 3, "comirnaty")
    assert [s.astimezone(WARSAW).strftime("%H:%M") for s in midnight.starts()] == ["23:00", "23:30"]


def test_a_plan_keeps_started_slots_and_refuses_to_take_booked_places() -> None:
    tomorrow = TODAY + timedelta(days=1)
    existing = [slot(local(TODAY, 9), booked=5), slot(local(tomorrow, 9), booked=2), slot(local(tomorrow, 10))]
    change = plan_schedule(POINT, [block(TODAY, 8, 12, 7), block(tomorrow, 9, 10, 2)], [*existing], NOW)
    assert change.past_kept == 3  # 08:00, 09:00 (booked, started) and 10:00 today had started
    assert [s.starts_at for s in change.created] == [local(TODAY, 11)]
    assert [s.starts_at for s in change.removed] == [local(tomorrow, 10)]
    assert (change.unchanged, [s.capacity for s in change.changed]) == (0, [2])
    with pytest.raises(SlotsHaveVisits) as refused:
        plan_schedule(POINT, [block(tomorrow, 9, 10, 1)], existing, NOW)
    assert [s["booked"] for s in refused.value.slots] == [2]


def test_the_stock_covers_places_only_from_the_delivery_on() -> None:
    later = TODAY + timedelta(days=2)
    deliveries = [Delivery(POINT.point_id, "d1", "comirnaty", 10, "L1", NOW - timedelta(days=1)),
                  Delivery(POINT.point_id, "d2", "comirnaty", 10, "L2", local(later, 12))]  # fmt: skip
    fits = [slot(local(later, 9), capacity=8), slot(local(later, 13), capacity=12)]
    assert first_shortfall("comirnaty", deliveries, 0, fits, NOW) is None
    assert first_shortfall("comirnaty", deliveries, 3, fits, NOW) is not None  # three doses given already
    too_early = [slot(local(later, 9), capacity=12)]
    shortfall = first_shortfall("comirnaty", deliveries, 0, too_early, NOW)
    assert shortfall is not None and shortfall[1:] == (12, 10)


def visit(dose: int, status: VisitStatus, series: str = "s1", days: int = 0, vaccine: str = "comirnaty") -> Visit:
    return Visit("p1", str(uuid.uuid4()), series, dose, vaccine, POINT.point_id, NOW + timedelta(days=days), status,
                 Channel.WEB, "1234")  # fmt: skip


def test_a_pending_dose_is_the_next_one_after_the_last_given_when_none_is_booked() -> None:
    given = visit(1, VisitStatus.COMPLETED, days=-30)
    assert pending_dose([given], PROGRAMME) is not None
    assert pending_dose([given, visit(2, VisitStatus.NO_SHOW, days=-5)], PROGRAMME).dose == 2  # type: ignore[union-attr]
    assert pending_dose([given, visit(2, VisitStatus.BOOKED, days=5)], PROGRAMME) is None
    assert pending_dose([given, visit(2, VisitStatus.COMPLETED, days=-1)], PROGRAMME) is None
    assert pending_dose([visit(1, VisitStatus.COMPLETED, vaccine="jcovden")], PROGRAMME) is None  # one dose only


@pytest.mark.parametrize("status", [VisitStatus.NO_SHOW, VisitStatus.CANCELLED])
def test_dose_one_may_be_booked_again_after_a_no_show_or_a_cancellation(status: VisitStatus) -> None:
    birth = date(1980, 1, 1)
    referral = Referral("p1", "r1", None, "ACTIVE", NOW, NOW + timedelta(days=100))
    vaccine = check_may_book(
        vaccine=PROGRAMME.vaccine("comirnaty"), eligibility=eligibility(PROGRAMME, birth, NOW), referral=referral,
        birth_date=birth, visits=[visit(1, status, days=-1)], slot_starts_at=NOW + timedelta(days=1), now=NOW,
    )  # fmt: skip
    assert vaccine.code == "comirnaty"


# --- service -----------------------------------------------------------------------------------------


def deliver(service: PointService, doses: int = 100) -> None:
    for vaccine in ("comirnaty", "jcovden"):
        service.record_delivery(POINT.point_id, vaccine, doses, f"LOT-{vaccine}", NOW - timedelta(days=1), STAFF, NOW)


def test_publishing_over_the_stock_changes_nothing(office: tuple[PointService, FakeStore, Published]) -> None:
    service, fake, published = office
    service.record_delivery(POINT.point_id, "comirnaty", 4, "L", NOW, STAFF, NOW)
    with pytest.raises(Refused) as refused:
        service.publish_schedule(POINT.point_id, [block(TODAY + timedelta(days=1), 8, 10, 3)], STAFF, NOW)
    assert refused.value.code == "exceeds_stock"
    assert fake.state.slots == {} and published.events == []
    service.publish_schedule(POINT.point_id, [block(TODAY + timedelta(days=1), 8, 10, 2)], STAFF, NOW)
    assert len(fake.state.slots) == 2 and [e["event_type"] for e in published.events] == ["ScheduleChanged"] * 2


class ToldSearch:
    """A SlotChangeListener keeping the states it was told."""

    def __init__(self) -> None:
        self.states: list[SlotState] = []

    def slots_written(self, states: Sequence[SlotState]) -> None:
        self.states.extend(states)

    @property
    def keys(self) -> list[tuple[str, datetime, str]]:
        return [s.slot.key for s in self.states]


def test_a_published_schedule_tells_search_of_every_slot_it_created(
    office: tuple[PointService, FakeStore, Published],
) -> None:
    service, fake, _ = office
    service.changes.availability = told = ToldSearch()
    deliver(service)
    service.publish_schedule(POINT.point_id, [block(TODAY + timedelta(days=1), 8, 10, 2)], STAFF, NOW)
    assert sorted(told.keys) == sorted(fake.state.slots) and len(told.keys) == 2
    # Handed as committed (no read back): capacity, nothing booked, the commit's version, open.
    assert all(s.slot == fake.state.slots[s.slot.key] for s in told.states)
    assert {(s.version, s.closed) for s in told.states} == {(fake.version, False)}


def test_a_suspended_point_publishes_no_schedule_and_nothing_changes(
    office: tuple[PointService, FakeStore, Published],
) -> None:
    service, fake, published = office
    deliver(service)
    fake.state.points[POINT.point_id] = replace(POINT, active=False)
    with pytest.raises(Refused) as refused:
        service.publish_schedule(POINT.point_id, [block(TODAY + timedelta(days=1), 8, 10, 2)], STAFF, NOW)
    assert refused.value.code == "point_suspended" and not fake.state.slots and not published.events


def add_visit(fake: FakeStore, starts_at: datetime, dose: int = 1, series: str = "s1", patient_id: str = "p1") -> Visit:
    fake.state.patients[patient_id] = PatientRecord(patient_id, "80010112345", "Jan", "Nowak", date(1980, 1, 1), None)
    key = (POINT.point_id, starts_at, "comirnaty")
    current = fake.state.slots.get(key) or slot(starts_at, booked=0)
    fake.state.slots[key] = Slot(*key, current.capacity, current.booked + 1, "14", "1465", "1465011")
    booked = Visit(patient_id, str(uuid.uuid4()), series, dose, "comirnaty", POINT.point_id, starts_at,
                   VisitStatus.BOOKED, Channel.WEB, "4321")  # fmt: skip
    fake.state.visits[booked.visit_id] = booked
    return booked


def test_wrong_codes_count_even_though_they_are_refused_and_then_lock(
    office: tuple[PointService, FakeStore, Published],
) -> None:
    service, fake, _ = office
    deliver(service)
    booked = add_visit(fake, local(TODAY, 12))
    for attempt in range(1, MAX_WRONG_CODES + 1):
        with pytest.raises(Refused) as refused:
            service.record_vaccination(booked.visit_id, "LOT-comirnaty", "0000", STAFF, NOW)
        assert refused.value.code == "wrong_check_in_code" and fake.state.wrong_codes[booked.visit_id] == attempt
    with pytest.raises(Refused) as refused:
        service.record_vaccination(booked.visit_id, "LOT-comirnaty", "4321", STAFF, NOW)
    assert refused.value.code == "check_in_code_locked"
    assert fake.state.visits[booked.visit_id].status == VisitStatus.BOOKED


def test_a_vaccination_books_dose_two_lowers_the_stock_and_publishes_after_commit(
    office: tuple[PointService, FakeStore, Published],
) -> None:
    service, fake, published = office
    deliver(service)
    for days in (20, 25, 30):
        fake.state.slots[(POINT.point_id, local(TODAY + timedelta(days=days), 9), "comirnaty")] = slot(
            local(TODAY + timedelta(days=days), 9)
        )
    booked = add_visit(fake, local(TODAY, 12))
    service.changes.availability = told = ToldSearch()
    outcome = service.record_vaccination(booked.visit_id, "LOT-comirnaty", "4321", STAFF, NOW)
    assert fake.state.visits[booked.visit_id].status == VisitStatus.COMPLETED
    dose_two = [v for v in fake.state.visits.values() if v.dose == 2]
    assert [v.starts_at for v in dose_two] == [local(TODAY + timedelta(days=25), 9)]  # 21 days on: not day 20
    assert told.keys == [(POINT.point_id, dose_two[0].starts_at, "comirnaty")]  # the one slot whose places moved
    assert told.states[0].slot.booked == 1 and told.states[0].version == fake.version
    assert fake.state.administered[(POINT.point_id, "comirnaty")] == 1
    assert fake.state.vaccinations[booked.visit_id].staff_id == "staff-1"
    assert outcome.vaccination == fake.state.vaccinations[booked.visit_id] and outcome.cancelled == []
    assert [e["event_type"] for e in published.events] == ["VisitCompleted", "VisitBooked"]
    assert published.events == fake.state.outbox
    with pytest.raises(Refused) as refused:
        service.record_vaccination(booked.visit_id, "LOT-comirnaty", "4321", Actor("staff-2", frozenset({"x"})), NOW)
    assert refused.value.code == "visit_of_other_point"


def test_the_nightly_job_pages_and_a_second_run_finds_nothing(
    office: tuple[PointService, FakeStore, Published],
) -> None:
    service, fake, _ = office
    past = [add_visit(fake, local(TODAY - timedelta(days=d), 9), series=f"s{d}") for d in (1, 1, 2, 3, 5)]
    later = add_visit(fake, local(TODAY - timedelta(days=1), 9) + timedelta(days=23), dose=2, series="s1")
    assert service.mark_past_no_shows(TODAY, NOW, page=2) == 5
    assert {fake.state.visits[v.visit_id].status for v in past} == {VisitStatus.NO_SHOW}
    assert fake.state.visits[later.visit_id].status == VisitStatus.CANCELLED
    assert fake.state.slots[(POINT.point_id, later.starts_at, "comirnaty")].booked == 0
    runs = fake.transactions_run
    assert service.mark_past_no_shows(TODAY, NOW, page=2) == 0 and fake.transactions_run == runs


class DyingOffice(FakeStore):
    """Commits ``commits`` transactions, then the process dies in the next one (nothing of it written)."""

    def __init__(self, commits: int) -> None:
        super().__init__()
        self.commits = commits
        self.pages_asked: list[BookedRef | None] = []

    def run_written(self, work: Callable[[Any], T]) -> tuple[T, list[SlotState]]:
        if self.commits <= 0:
            raise Crash("killed mid-way")
        self.commits -= 1
        return super().run_written(work)

    def booked_before(self, day: date, after: BookedRef | None, limit: int) -> list[BookedRef]:
        self.pages_asked.append(after)
        return super().booked_before(day, after, limit)


def test_the_nightly_no_shows_killed_mid_way_resume_after_their_checkpoint() -> None:
    fake = DyingOffice(commits=2)
    fake.state.points[POINT.point_id] = POINT
    published = Published()
    checkpoints, bus = FakeCheckpoints(), FakeBus()
    jobs = NightJobs(checkpoints, bus, SteppingClock(0.0), budget_s=100.0)
    nightly = NightlyNoShows(fake, PointService(fake, lambda: PROGRAMME, published), jobs, page=2)
    past = [
        add_visit(fake, local(TODAY - timedelta(days=d), 9), series=f"s{n}")
        for n, d in enumerate((1, 1, 2, 3, 5, 6, 8))
    ]
    with pytest.raises(Crash):
        nightly.run(TODAY, NOW)
    [saved] = checkpoints.saved.values()
    assert (saved.done, saved.pages, saved.finished) == (4, 2, False)

    fake.commits, fake.pages_asked = 100, []  # the retried delivery
    run = nightly.run(TODAY, NOW)
    assert saved.cursor is not None and fake.pages_asked[0] == (date.fromisoformat(saved.cursor[0]), *saved.cursor[1:])
    assert (run.done, run.total, run.finished) == (3, 7, True)
    assert {fake.state.visits[v.visit_id].status for v in past} == {VisitStatus.NO_SHOW}
    no_shows = [e["visit_id"] for e in published.events if e["event_type"] == VISIT_NO_SHOW]
    assert sorted(no_shows) == sorted(v.visit_id for v in past)  # each once
    asked = len(fake.pages_asked)
    assert nightly.run(TODAY, NOW).done == 0  # a repeated tick: nothing left to mark, one page read
    assert len(fake.pages_asked) == asked + 1 and fake.pages_asked[-1] is None
    late = add_visit(fake, local(TODAY - timedelta(days=1), 11), series="late")  # e.g. a dose voided since
    assert nightly.run(TODAY, NOW).done == 1 and fake.state.visits[late.visit_id].status == VisitStatus.NO_SHOW


# --- consumers ---------------------------------------------------------------------------------------


def test_the_sms_consumer_ignores_what_it_need_not_text_and_the_stream_stores_it() -> None:
    bus = FakeBus()
    # Readers that would answer are not needed: these events send no SMS before anything is read.
    notifier = Notifier(cast(Any, None), cast(Any, None), FakePointDirectory(), lambda: None, bus, True)
    visit = Visit("p1", str(uuid.uuid4()), "s1", 1, "comirnaty", POINT.point_id, NOW, VisitStatus.COMPLETED,
                  Channel.POINT, "1234")  # fmt: skip
    region = Slot(POINT.point_id, NOW, "comirnaty", 5, 1, "14", "1465", "1465011")
    completed = visit_events(VISIT_COMPLETED, [visit], {POINT.point_id: region}, date(1980, 1, 1), [visit], NOW)
    missed = visit_events(VISIT_NO_SHOW, [visit], {POINT.point_id: region}, date(1980, 1, 1), [visit], NOW)
    schedule = {"event_id": str(uuid.uuid4()), "event_type": "ScheduleChanged", "schema_version": 1,
                "occurred_at": NOW.isoformat(), "change": "created", "point_id": POINT.point_id, "voivodeship": "14",
                "county": "1465", "municipality": "1465011", "starts_at": NOW.isoformat(), "vaccine": "comirnaty",
                "capacity": 5, "booked": 0, "actor": "staff-1"}  # fmt: skip
    assert [notifier.handle(e) for e in (*completed, *missed, schedule)] == [None, None, None]
    assert bus.messages == []
    warehouse = FakeWarehouse()
    streamer = EventStreamer(warehouse)
    streamer.handle(schedule, NOW)
    streamer.handle(completed[0] | {"lot": "FK1234"}, NOW)
    [(_, row)] = warehouse.rows["schedule_events"]
    assert (row["capacity"], row["change"], "actor" in row) == (5, "created", False)
    [(_, visit_row)] = warehouse.rows["visit_events"]
    assert (visit_row["event_type"], visit_row["status"], visit_row["lot"]) == ("VisitCompleted", "COMPLETED", "FK1234")


def test_a_dose_given_at_a_walk_in_frees_the_same_dose_booked_elsewhere_in_its_series() -> None:
    given = visit(1, VisitStatus.COMPLETED, days=-30)
    booked_elsewhere = visit(2, VisitStatus.BOOKED, days=3)
    walk_in = visit(2, VisitStatus.BOOKED)
    third = visit(3, VisitStatus.BOOKED, days=60)
    other_series = [
        visit(2, VisitStatus.BOOKED, series="s2", days=5),
        visit(3, VisitStatus.BOOKED, series="s2", days=70),
    ]
    found = orphans(walk_in, [given, booked_elsewhere, walk_in, third, *other_series])
    # The same dose elsewhere in its own series, and the other series' dose with its later one; the
    # series' own dose 3 follows the walk-in and stays.
    assert {v.visit_id for v in found} == {booked_elsewhere.visit_id, *(v.visit_id for v in other_series)}


def test_a_manager_acts_on_and_manages_their_point_while_staff_only_act() -> None:
    manager = Actor("staff-9", managed_point_ids=frozenset({POINT.point_id}))
    assert manager.acts_on(POINT.point_id) and manager.manages(POINT.point_id)
    assert STAFF.acts_on(POINT.point_id) and not STAFF.manages(POINT.point_id)
    assert not manager.acts_on("elsewhere") and not manager.manages("elsewhere")


def visit_of(fake: FakeStore, patient_id: str, starts_at: datetime) -> Visit:
    """A booked dose-1 visit of a patient of its own (one per patient, so none is another's orphan)."""
    return add_visit(fake, starts_at, series=f"s-{patient_id}", patient_id=patient_id)


def test_an_identity_check_stands_in_for_the_code_and_is_limited_per_staff_member_and_day(
    office: tuple[PointService, FakeStore, Published],
) -> None:
    service, fake, _ = office
    service.identity_checks_per_day = 2
    deliver(service)
    visits = [visit_of(fake, f"p{n}", local(TODAY, 12)) for n in range(4)]

    for visit in visits[:2]:
        outcome = service.record_vaccination(visit.visit_id, "LOT-comirnaty", None, STAFF, NOW, "landline only")
        assert outcome.identity_checked is True
    with pytest.raises(Refused) as refused:
        service.record_vaccination(visits[2].visit_id, "LOT-comirnaty", None, STAFF, NOW, "lost the SMS")

    assert refused.value.code == "identity_check_limit"
    assert fake.state.visits[visits[2].visit_id].status == VisitStatus.BOOKED
    assert sorted(fake.state.identity_checks.values()) == [(POINT.point_id, "landline only")] * 2
    # Another staff member, or the same one with the code, still may.
    other = Actor("staff-2", frozenset({POINT.point_id}))
    service.record_vaccination(visits[2].visit_id, "LOT-comirnaty", None, other, NOW, "lost the SMS")
    service.record_vaccination(visits[3].visit_id, "LOT-comirnaty", "4321", STAFF, NOW)
    assert {fake.state.visits[v.visit_id].status for v in visits} == {VisitStatus.COMPLETED}
    # The next day the count starts again.
    tomorrow = visit_of(fake, "p9", local(TODAY + timedelta(days=1), 12))
    service.record_vaccination(tomorrow.visit_id, "LOT-comirnaty", None, STAFF, NOW + timedelta(days=1), "lost")


def test_a_manager_voids_a_dose_within_24_hours_and_the_series_is_as_before(
    office: tuple[PointService, FakeStore, Published],
) -> None:
    service, fake, published = office
    deliver(service)
    fake.state.slots[(POINT.point_id, local(TODAY + timedelta(days=25), 9), "comirnaty")] = slot(
        local(TODAY + timedelta(days=25), 9)
    )
    booked = add_visit(fake, local(TODAY, 12))
    service.record_vaccination(booked.visit_id, "LOT-comirnaty", "4321", STAFF, NOW)
    [dose_two] = [v for v in fake.state.visits.values() if v.dose == 2]
    manager = Actor("manager-1", frozenset(), managed_point_ids=frozenset({POINT.point_id}))

    with pytest.raises(Refused) as by_staff:
        service.void_vaccination(booked.visit_id, "wrong patient", STAFF, NOW)
    with pytest.raises(Refused) as too_late:
        service.void_vaccination(booked.visit_id, "wrong patient", manager, NOW + timedelta(hours=24, seconds=1))
    outcome = service.void_vaccination(booked.visit_id, "wrong patient", manager, NOW + timedelta(hours=1))

    assert (by_staff.value.code, too_late.value.code) == ("not_point_manager", "void_too_late")
    assert fake.state.visits[booked.visit_id].status == VisitStatus.BOOKED
    assert fake.state.visits[dose_two.visit_id].status == VisitStatus.BOOKED  # the later dose stays
    assert fake.state.administered[(POINT.point_id, "comirnaty")] == 0
    assert fake.state.voids[booked.visit_id] == (NOW + timedelta(hours=1), "manager-1", "wrong patient")
    [voided] = [e for e in published.events if e["event_type"] == "VaccinationVoided"]
    assert voided == fake.state.outbox[-1] and (outcome.visit.status, outcome.reason) == (
        VisitStatus.BOOKED,
        "wrong patient",
    )
    assert set(voided) == {"event_type", "event_id", "schema_version", "occurred_at", "visit_id", "patient_id",
                           "point_id", "dose", "vaccine", "voided_at", "reason"}  # fmt: skip
    with pytest.raises(Refused) as again:
        service.void_vaccination(booked.visit_id, "wrong patient", manager, NOW + timedelta(hours=1))
    assert again.value.code == "not_vaccinated"
    # The dose may be recorded again the same day (the right lot this time); no second dose 2 is booked.
    service.record_vaccination(booked.visit_id, "LOT-comirnaty", "4321", STAFF, NOW + timedelta(hours=2))
    assert fake.state.visits[booked.visit_id].status == VisitStatus.COMPLETED
    assert [v.visit_id for v in fake.state.visits.values() if v.dose == 2] == [dose_two.visit_id]


MANAGER = Actor("manager-1", frozenset(), managed_point_ids=frozenset({POINT.point_id}))


def cancelled_day(fake: FakeStore, target_places: int) -> tuple[date, date, list[Visit]]:
    """Tomorrow: two patients at 9:00 and 11:00 (the first with dose 2 booked); the day after, places at
    10:00 and 11:30."""
    day, move_to = TODAY + timedelta(days=1), TODAY + timedelta(days=2)
    first = add_visit(fake, local(day, 9), series="s-p1", patient_id="p1")
    later = add_visit(fake, local(day + timedelta(days=25), 9), dose=2, series="s-p1", patient_id="p1")
    second = add_visit(fake, local(day, 11), series="s-p2", patient_id="p2")
    fake.state.slots[(POINT.point_id, local(day, 10), "comirnaty")] = slot(local(day, 10))  # empty
    for hour, minute in ((10, 0), (11, 30)):
        fake.state.slots[(POINT.point_id, local(move_to, hour, minute), "comirnaty")] = slot(
            local(move_to, hour, minute), capacity=target_places
        )
    return day, move_to, [first, later, second]


def test_a_manager_cancels_a_day_one_sms_each_later_doses_follow_and_places_add_up(
    office: tuple[PointService, FakeStore, Published],
) -> None:
    service, fake, published = office
    day, _, (first, later, second) = cancelled_day(fake, 1)
    with pytest.raises(Refused) as by_staff:
        service.cancel_day(POINT.point_id, day, "no delivery", None, STAFF, NOW)

    outcome = service.cancel_day(POINT.point_id, day, "no delivery", None, MANAGER, NOW)

    assert by_staff.value.code == "not_point_manager"
    assert (outcome.cancelled, outcome.moved, outcome.slots_removed) == (2, 0, 3)
    assert {fake.state.visits[v.visit_id].status for v in (first, later, second)} == {VisitStatus.CANCELLED}
    assert not [key for key in fake.state.slots if local_day(key[1]) == day]
    assert fake.state.slots[(POINT.point_id, later.starts_at, "comirnaty")].booked == 0
    speaking = [e for e in published.events if e["event_type"] == "VisitCancelled" and e["visit_id"] == e["changed"][0]]
    assert sorted(e["patient_ref"] for e in speaking) == ["p1", "p2"]  # one SMS each


def test_a_cancelled_day_moves_to_another_day_nearest_the_hour_or_changes_nothing(
    office: tuple[PointService, FakeStore, Published],
) -> None:
    service, fake, _ = office
    day, move_to, (first, later, second) = cancelled_day(fake, 1)
    fake.state.slots[(POINT.point_id, local(move_to, 11, 30), "comirnaty")] = slot(
        local(move_to, 11, 30), capacity=1, booked=1
    )  # only one place left for two patients
    before = dict(fake.state.slots)
    with pytest.raises(Refused) as short:
        service.cancel_day(POINT.point_id, day, "no delivery", move_to, MANAGER, NOW)
    assert short.value.code == "no_place_on_move_to" and fake.state.slots == before

    fake.state.slots[(POINT.point_id, local(move_to, 11, 30), "comirnaty")] = slot(local(move_to, 11, 30), capacity=1)
    outcome = service.cancel_day(POINT.point_id, day, "no delivery", move_to, MANAGER, NOW)

    assert (outcome.cancelled, outcome.moved) == (0, 2)
    assert fake.state.visits[first.visit_id].starts_at == local(move_to, 10)
    assert fake.state.visits[second.visit_id].starts_at == local(move_to, 11, 30)
    assert fake.state.visits[later.visit_id] == later  # dose 2 still fits its window: it stays
    assert sum(s.booked for k, s in fake.state.slots.items() if local_day(k[1]) == move_to) == 2
