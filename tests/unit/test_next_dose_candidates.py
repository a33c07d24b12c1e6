"""Next-dose candidates chosen before the booking transaction and confirmed by key inside it
(issue 10, item 4), on fakes: the projection's copy (``FakeFreeSlots``) may be stale; the booking
store is the authority."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime

from shared.domain.booking import Slot
from shared.services.dose_candidates import NextDoseCandidates
from shared.services.visits import VisitService
from tests.unit.fakes import FakeFreeSlots, FakePointDirectory
from tests.unit.test_visit_service import HERE, NEXT_DOOR, World, at


class BrokenReads(FakeFreeSlots):
    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        raise ConnectionError("projection unreachable and the snapshot failed too")


def with_candidates(world: World, copy: FakeFreeSlots) -> World:
    """The world's service, with candidates read from ``copy`` (what the projection holds)."""
    points = world.service.points
    assert isinstance(points, FakePointDirectory)
    world.service = VisitService(
        world.store, world.store, world.store, points, world.events, lambda: world.programme,
        candidates=NextDoseCandidates(copy, points),
    )  # fmt: skip
    return world


def projection_of(world: World) -> FakeFreeSlots:
    return FakeFreeSlots(world.store.state.slots.values())


def test_a_fresh_candidate_is_booked_with_key_reads_only_in_the_transaction() -> None:
    world = World()
    first = world.slot(HERE, at(2))
    earliest = world.slot(HERE, at(2 + 21, hour=15))
    world.slot(HERE, at(2 + 30))
    with_candidates(world, projection_of(world))

    booked = world.book(world.patient(), first)

    assert [(v.dose, v.starts_at) for v in booked.visits] == [(1, first.starts_at), (2, earliest.starts_at)]
    assert world.store.range_reads == 0  # no range or index read inside the transaction
    assert world.store.key_reads == 1  # the requested slot and the candidates in one read
    assert world.store.booked(earliest) == 1


def test_a_candidate_gone_since_the_projection_saw_it_gives_way_to_the_next_one() -> None:
    world = World()
    first = world.slot(HERE, at(2))
    taken = world.slot(HERE, at(2 + 21))
    nearby = world.slot(NEXT_DOOR, at(2 + 22))
    copy = projection_of(world)
    world.store.state.slots[taken.key] = replace(taken, booked=1)  # booked by someone else meanwhile
    with_candidates(world, copy)

    booked = world.book(world.patient(), first)

    assert [(v.dose, v.point_id, v.starts_at) for v in booked.visits] == [
        (1, HERE, first.starts_at),
        (2, NEXT_DOOR, nearby.starts_at),
    ]
    assert world.store.range_reads == 0
    assert (world.store.booked(taken), world.store.booked(nearby)) == (1, 1)  # not overbooked


def test_when_every_candidate_is_gone_the_transaction_chooses_by_itself() -> None:
    world = World()
    first = world.slot(HERE, at(2))
    gone = world.slot(HERE, at(2 + 21))
    copy = projection_of(world)
    world.store.state.slots[gone.key] = replace(gone, booked=1)
    unseen = world.slot(HERE, at(2 + 25))  # published after the projection was read
    with_candidates(world, copy)

    booked = world.book(world.patient(), first)

    assert [(v.dose, v.starts_at) for v in booked.visits] == [(1, first.starts_at), (2, unseen.starts_at)]
    assert world.store.range_reads >= 1  # the fallback: today's range reads
    assert (world.store.booked(gone), world.store.booked(unseen)) == (1, 1)


def test_when_every_candidate_is_gone_and_nothing_is_free_dose_one_stands_as_before() -> None:
    world = World()
    first = world.slot(HERE, at(2))
    gone = world.slot(HERE, at(2 + 21))
    copy = projection_of(world)
    world.store.state.slots[gone.key] = replace(gone, capacity=0)  # its places withdrawn meanwhile
    with_candidates(world, copy)

    booked = world.book(world.patient(), first)

    assert [v.dose for v in booked.visits] == [1]
    assert booked.next_dose is not None and booked.next_dose.contains(at(2 + 21))
    assert world.store.booked(gone) == 0


def test_unreadable_candidates_cost_nothing_but_the_in_transaction_choice() -> None:
    world = World()
    first = world.slot(HERE, at(2))
    second = world.slot(HERE, at(2 + 21))
    with_candidates(world, BrokenReads())

    booked = world.book(world.patient(), first)

    assert [v.starts_at for v in booked.visits] == [first.starts_at, second.starts_at]
    assert world.store.booked(second) == 1


def test_a_candidate_of_a_removed_slot_is_not_booked() -> None:
    world = World()
    first = world.slot(HERE, at(2))
    removed = world.slot(HERE, at(2 + 21))
    copy = projection_of(world)
    del world.store.state.slots[removed.key]  # taken off the schedule meanwhile
    with_candidates(world, copy)

    booked = world.book(world.patient(), first)

    assert [v.dose for v in booked.visits] == [1]
    assert all(v.starts_at != removed.starts_at for v in world.store.state.visits.values())


def test_a_stale_projection_never_overbooks() -> None:
    """Many bookings against a projection that is never updated: every slot it shows as free fills up,
    and what it still offers afterwards costs key reads and the fallback, never a place too many."""
    rng = random.Random(10)
    world = World()
    firsts = [world.slot(HERE, at(2, hour=8 + h), capacity=3) for h in range(8)]
    seconds = [
        world.slot(point, at(2 + 21 + d, hour=9 + h), capacity=rng.randint(1, 2))
        for point in (HERE, NEXT_DOOR)
        for d in range(2)
        for h in range(2)
    ]
    with_candidates(world, projection_of(world))  # the copy stays as it was at the start

    for n in range(24):
        world.book(world.patient(), firsts[n % len(firsts)])

    slots = world.store.state.slots.values()
    seconds = [world.store.state.slots[s.key] for s in seconds]
    assert all(s.booked <= s.capacity for s in slots)
    active = [v for v in world.store.state.visits.values() if v.is_active]
    assert sum(s.booked for s in slots) == len(active)
    assert sum(s.booked for s in seconds) == sum(1 for v in active if v.dose == 2)
    assert sum(s.capacity for s in seconds) == sum(s.booked for s in seconds)  # every dose-2 place was used
