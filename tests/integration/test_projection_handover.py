"""The availability projection fed with the states each change's transaction wrote (issue 25 item 5),
on the Spanner emulator and a real redis-server: every path that changes slots leaves Redis equal to
Spanner (capacity, booked count and version, the commit timestamp) with no read back, and a change
committed before a suspension and told after it cannot bring the suspended point's slot back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from emulators.seed import demo_programme, pesel_for
from shared.adapters.spanner_availability import SpannerSlotStates
from shared.adapters.spanner_reads import SpannerVisitReader
from shared.adapters.spanner_registry import SpannerPointsStore
from shared.adapters.spanner_transaction import SpannerTransactions
from shared.bootstrap import Container
from shared.domain.availability import Level, SlotQuery, SlotState
from shared.domain.booking import WARSAW, Channel
from shared.domain.identity import Principal, Role
from shared.domain.registry import PointChange, PointStatus
from shared.services.availability import Availability
from shared.services.points import PointService
from shared.services.registry import PointRegistry
from shared.services.visits import BookingRequest, VisitService
from shared.services.walkins import WalkIn, WalkIns
from tests.integration.conftest import NOW, CapturedEvents, add_patient, at
from tests.integration.test_availability import redis_projection
from tests.integration.test_points import ADMIN, add_point, block, day, staff

SlotKey = tuple[str, datetime, str]
REGISTRAR = Principal("s-admin", frozenset({Role.ADMIN}), staff_id="staff-admin")


class CountedStates(SpannerSlotStates):
    """Spanner's slot states, counting the reads by key (what the fast path made before)."""

    reads_by_key = 0

    def of_slots(self, keys: Iterable[SlotKey]) -> list[SlotState]:
        self.reads_by_key += 1
        return super().of_slots(keys)


class Held:
    """A slow fast path: keeps the states it is told, to hand them on later."""

    def __init__(self) -> None:
        self.states: list[SlotState] = []

    def slots_written(self, states: Sequence[SlotState]) -> None:
        self.states += states


def differences(availability: Availability, points: list[str]) -> dict[SlotKey, object]:
    """What Redis holds against what Spanner does (a removed slot is held as no places)."""
    truth = {
        s.slot.key: (s.slot.capacity, s.slot.booked, s.version)
        for point in points
        for s in availability.states.of_point(point)
        if not s.closed
    }
    held = availability.projection.states(points)
    return {
        key: (truth.get(key), held.get(key))
        for key in set(truth) | set(held)
        if truth.get(key) != held.get(key) and (key in truth or held[key][:2] != (0, 0))
    }


def test_every_change_hands_redis_what_spanner_committed_without_reading_it_back(
    backends: Container, emulator_env: dict[str, str]
) -> None:
    soon = (NOW + timedelta(hours=1)).replace(minute=0, second=0)
    if soon.astimezone(WARSAW).date() != NOW.astimezone(WARSAW).date():
        soon = NOW + timedelta(minutes=1)  # late in the day: a slot still today
    here = add_point(backends, ["comirnaty", "jcovden"],
                     [(soon, "comirnaty", 5), (soon, "jcovden", 5), (at(3, 9), "comirnaty", 3),
                      (at(4, 10), "comirnaty", 3), (at(4, 11), "comirnaty", 3)]
                     + [(at(d, 9), "comirnaty", 5) for d in (22, 25, 26)])  # fmt: skip
    states = CountedStates(backends.spanner)
    availability = Availability(redis_projection(emulator_env["EREG_REDIS_URL"]), states)
    availability.reconcile([here])
    programme = demo_programme(NOW)
    transactions = SpannerTransactions(backends.spanner)
    visits = VisitService(transactions, SpannerVisitReader(backends.spanner), backends.patients, backends.points,
                          CapturedEvents(), lambda: programme, availability)  # fmt: skip
    office = PointService(transactions, lambda: programme, CapturedEvents(), availability)
    office.record_delivery(here, "comirnaty", 100, "C-LOT", NOW - timedelta(days=1), ADMIN, NOW)
    walk_ins = WalkIns(transactions, backends.patients, visits, SpannerVisitReader(backends.spanner), lambda: programme)
    reads_before = states.reads_by_key

    def same(step: str) -> None:
        assert differences(availability, [here]) == {}, step
        assert states.reads_by_key == reads_before, f"{step}: the fast path read Spanner back"

    patient = add_patient(backends)
    booked = visits.book(patient, BookingRequest(here, at(3, 9), "comirnaty", None), Channel.WEB, NOW, "k1")
    assert len(booked.visits) == 2  # dose 2 in its window: two slots written
    same("book")
    visits.move(booked.visits[0].visit_id, here, at(4, 10), patient, NOW)
    same("move")
    visits.cancel(booked.visits[0].visit_id, patient, NOW)
    same("cancel")

    walk_in = WalkIn(pesel_for(date(1971, 4, 4), 907, female=True), "comirnaty", None, "Ewa", "Nowa")
    walked = walk_ins.book(here, walk_in, staff(here), NOW, "walk-1")
    same("walk-in")
    visits.cancel(walked.visits[1].visit_id, walked.visits[1].patient_id, NOW)  # the vaccination books it again
    first = walked.visits[0]
    recorded = office.record_vaccination(first.visit_id, "C-LOT", first.check_in_code, staff(here), NOW)
    assert [v.dose for v in recorded.series if v.is_active] == [2]
    same("vaccination's next dose")

    office.publish_schedule(here, [block(30, "08:00", "10:00", 2)], ADMIN, NOW)
    same("schedule published")
    office.publish_schedule(here, [block(30, "08:00", "09:00", 4)], ADMIN, NOW)  # one slot grows, one goes
    same("schedule changed")

    other = add_patient(backends)
    visits.book(other, BookingRequest(here, at(4, 11), "comirnaty", None), Channel.WEB, NOW, "k2")
    cancelled = office.cancel_day(here, day(4), "brak dostawy", None, ADMIN, NOW)
    assert (cancelled.cancelled, cancelled.slots_removed) == (1, 2)
    same("cancel day")
    found = availability.projection.free_slots(SlotQuery(Level.POINT, here, "comirnaty", at(4, 0), at(5, 0), 10))
    assert found == []  # the day's slots are out of search


def test_a_change_committed_before_a_suspension_and_told_after_it_never_brings_the_slot_back(
    backends: Container, emulator_env: dict[str, str]
) -> None:
    there = add_point(backends, ["jcovden"], [(at(5, 9), "jcovden", 3)])
    availability = Availability(redis_projection(emulator_env["EREG_REDIS_URL"]), SpannerSlotStates(backends.spanner))
    availability.reconcile([there])
    programme = demo_programme(NOW)
    late = Held()
    visits = VisitService(SpannerTransactions(backends.spanner), SpannerVisitReader(backends.spanner),
                          backends.patients, backends.points, CapturedEvents(), lambda: programme, late)  # fmt: skip
    patient = add_patient(backends)
    booked = visits.book(patient, BookingRequest(there, at(5, 9), "jcovden", None), Channel.WEB, NOW, "k")
    availability.slots_written(late.states)
    late.states.clear()
    visits.cancel(booked.visits[0].visit_id, patient, NOW)  # committed; its fast path is slow
    [freed] = late.states
    assert (freed.slot.booked, freed.closed) == (0, False)

    registry = PointRegistry(SpannerPointsStore(backends.spanner), lambda: programme, availability)
    registry.change(there, PointChange(status=PointStatus.SUSPENDED), 1, REGISTRAR, NOW)
    availability.slots_written([freed])  # told after the suspension's removal

    query = SlotQuery(Level.POINT, there, "jcovden", at(0, 0), at(9, 0), 10)
    assert availability.projection.free_slots(query) == []
    [(capacity, booked_count, version)] = availability.projection.states([there]).values()
    assert (capacity, booked_count) == (0, 0) and version > freed.version  # held at the suspension's commit
    assert differences(availability, [there]) == {} and availability.reconcile([there]).repaired == 0
