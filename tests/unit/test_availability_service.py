"""The availability projection's rules on fakes: newer wins, refresh, reconcile, rebuild, fallback."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.domain.availability import Level, SlotQuery, SlotState, version_of
from shared.domain.booking import Slot
from shared.services.availability import Availability, ProjectedFreeSlots
from tests.unit.fakes import FakeFreeSlots, FakeProjection, FakeSlotStates

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
WAW = ("14", "1465", "1465011")
POINT = str(uuid.uuid4())


def state(hour: int, booked: int, version: int, capacity: int = 3, point: str = POINT) -> SlotState:
    return SlotState(Slot(point, T0 + timedelta(hours=hour), "comirnaty", capacity, booked, *WAW), version)


def free_now(projection: FakeProjection) -> list[tuple[datetime, int]]:
    slots = projection.free_slots(SlotQuery(Level.COUNTY, "1465", "comirnaty", T0, T0 + timedelta(days=1), 50))
    return [(s.starts_at, s.free_places) for s in slots]


def test_a_late_older_change_never_overwrites_a_newer_one() -> None:
    projection = FakeProjection()
    assert projection.apply([state(1, booked=2, version=20)]) == 1
    assert projection.apply([state(1, booked=1, version=10)]) == 0  # reordered: older, arrives late
    assert projection.apply([state(1, booked=2, version=20)]) == 0  # redelivered
    assert free_now(projection) == [(T0 + timedelta(hours=1), 1)]


def test_a_full_slot_leaves_search_and_comes_back_when_a_place_frees() -> None:
    projection = FakeProjection()
    projection.apply([state(1, booked=3, version=1)])
    assert free_now(projection) == []
    projection.apply([state(1, booked=2, version=2)])
    assert free_now(projection) == [(T0 + timedelta(hours=1), 1)]


def test_refresh_reads_the_slots_again_from_the_authority() -> None:
    truth = FakeSlotStates([state(1, booked=1, version=5), state(2, booked=0, version=5)])
    projection = FakeProjection()
    availability = Availability(projection, truth)
    assert availability.refresh([state(1, 0, 0).slot.key]) == 1
    assert free_now(projection) == [(T0 + timedelta(hours=1), 2)]


def test_reconcile_loads_an_empty_projection_marks_it_ready_then_repairs_only_what_differs() -> None:
    other = str(uuid.uuid4())
    truth = FakeSlotStates([state(1, 0, 1), state(2, 1, 1), state(1, 2, 1, point=other)])
    projection = FakeProjection()
    availability = Availability(projection, truth, parallel=2)

    first = availability.reconcile()
    assert (first.points, first.slots, first.repaired) == (2, 3, 3)
    assert projection.ready

    truth.set(state(2, 3, 7))  # a booking whose fast path and event were both lost
    second = availability.reconcile()
    assert (second.slots, second.repaired) == (3, 1)
    assert projection.held[state(2, 0, 0).slot.key].version == 7


def test_a_slot_removed_from_the_schedule_leaves_search_and_only_a_newer_state_brings_it_back() -> None:
    kept, removed = state(1, 0, 5), state(2, 1, 5)
    truth = FakeSlotStates([kept, removed])
    projection = FakeProjection()
    availability = Availability(projection, truth)
    availability.reconcile()
    truth.drop(removed.slot.key)
    assert availability.refresh([removed.slot.key, kept.slot.key]) == 1  # the removal; the other is unchanged
    assert free_now(projection) == [(T0 + timedelta(hours=1), 3)]
    projection.apply([state(2, 0, 4)])  # an older change arriving late
    assert free_now(projection) == [(T0 + timedelta(hours=1), 3)]
    projection.apply([state(2, 0, 9)])  # the slot created again, by a later commit
    assert len(free_now(projection)) == 2


def test_the_reconcile_takes_out_what_spanner_no_longer_has() -> None:
    kept, removed = state(1, 0, 5), state(2, 1, 5)
    truth = FakeSlotStates([kept, removed])
    projection = FakeProjection()
    availability = Availability(projection, truth)
    availability.reconcile()
    truth.drop(removed.slot.key)
    assert availability.reconcile().repaired == 1
    assert free_now(projection) == [(T0 + timedelta(hours=1), 3)]
    assert availability.reconcile().repaired == 0


def test_rebuild_drops_the_projection_and_loads_it_again() -> None:
    truth = FakeSlotStates([state(1, 0, 1)])
    projection = FakeProjection()
    projection.apply([state(5, 0, 99)])  # a slot Spanner no longer has
    result = Availability(projection, truth).rebuild()
    assert result.repaired == 1 and projection.ready
    assert set(projection.held) == {state(1, 0, 0).slot.key}


def test_the_fast_path_takes_the_committed_states_without_reading_and_never_fails_the_change() -> None:
    projection = FakeProjection()
    truth = FakeSlotStates()  # the authority is never asked: the states come from the transaction
    availability = Availability(projection, truth)
    availability.slots_written([state(1, 1, 5), state(2, 0, 5)])
    assert free_now(projection) == [(T0 + timedelta(hours=1), 2), (T0 + timedelta(hours=2), 3)]
    projection.down = True
    availability.slots_written([state(1, 2, 6)])  # no exception
    projection.down = False
    assert free_now(projection)[0] == (T0 + timedelta(hours=1), 2)  # the reconcile or the event repairs it


def test_a_closed_state_takes_the_slot_out_and_no_older_state_brings_it_back() -> None:
    projection = FakeProjection()
    availability = Availability(projection, FakeSlotStates())
    availability.slots_written([state(1, 1, 5)])
    availability.slots_written([replace(state(1, 1, 9), closed=True)])  # deleted, or its point suspended
    assert free_now(projection) == [] and projection.states([POINT]) == {state(1, 0, 0).slot.key: (0, 0, 9)}
    availability.slots_written([state(1, 0, 7)])  # committed before the removal, arriving after it
    assert free_now(projection) == []
    availability.slots_written([replace(state(2, 0, 8), closed=True)])  # never held: a tombstone
    availability.slots_written([state(2, 0, 6)])
    assert free_now(projection) == []
    availability.slots_written([state(1, 0, 10)])  # a later commit (the slot created again)
    assert free_now(projection) == [(T0 + timedelta(hours=1), 3)]
    availability.slots_written([replace(state(1, 0, 9), closed=True)])  # an older removal: the newer state stays
    assert free_now(projection) == [(T0 + timedelta(hours=1), 3)]


def test_a_suspension_s_reconcile_outlasts_a_change_committed_before_it_and_told_after() -> None:
    truth = FakeSlotStates([state(1, 0, 5), state(2, 1, 5)])
    projection = FakeProjection()
    availability = Availability(projection, truth)
    availability.reconcile()
    late = state(2, 0, 6)  # a cancellation committed at 6; its fast path is slow
    truth.set(late)
    truth.suspend(POINT, 8)  # the point suspended at 8 (its slots still to come: ChangedAt 8)
    availability.reconcile([POINT])
    assert free_now(projection) == []
    availability.slots_written([late])
    assert free_now(projection) == []  # the removal at 8 is newer than the change at 6
    assert availability.reconcile().repaired == 0  # and the periodic reconcile agrees


def test_search_reads_spanner_until_the_projection_is_ready_and_while_redis_is_down() -> None:
    now = [0.0]
    projection = FakeProjection()
    projection.apply([state(1, booked=2, version=1)])
    spanner = FakeFreeSlots([state(1, booked=0, version=0).slot])
    reads = ProjectedFreeSlots(projection, spanner, recheck_s=5, clock=lambda: now[0])

    def free() -> int:
        [slot] = reads.free_slots(SlotQuery(Level.COUNTY, "1465", "comirnaty", T0, T0 + timedelta(days=1), 10))
        return slot.free_places

    assert free() == 3  # not ready: Spanner
    projection.ready = True
    assert free() == 3  # readiness is checked again only after recheck_s
    now[0] = 6
    assert free() == 1  # the projection
    projection.down = True
    assert free() == 3 and spanner.reads == 3  # Redis down: Spanner, at once
    projection.down = False
    assert free() == 3  # still Spanner until the recheck
    now[0] = 12
    assert free() == 1


def test_versions_are_commit_timestamps_in_microseconds() -> None:
    assert version_of(None) == 0
    assert version_of(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)) == 1_000_005
    assert version_of(T0 + timedelta(microseconds=1)) == version_of(T0) + 1
