"""OutboxRelay: the fast path after a commit and the sweep, through fakes of the outbox and the bus."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from shared.services.outbox import OutboxRelay
from shared.topology import VISIT_EVENTS
from tests.unit.fakes import FakeBus, FakeOutbox
from tests.unit.messaging_data import NOW


def some_events(count: int) -> list[dict[str, Any]]:
    return [{"event_id": str(uuid.uuid4()), "event_type": "VisitBooked", "n": n} for n in range(count)]


def test_the_fast_path_publishes_at_once_and_marks_in_one_batch() -> None:
    outbox, bus = FakeOutbox(), FakeBus()
    first, second = some_events(3), some_events(2)
    outbox.add(first + second, created_at=NOW)
    relay = OutboxRelay(outbox, bus, mark_every_s=3600)
    assert relay.publish(first) == 3
    assert relay.publish(second) == 2
    attributes = [{"event_id": e["event_id"], "event_type": "VisitBooked"} for e in first + second]
    assert [m[2] for m in bus.messages] == attributes
    assert bus.json(VISIT_EVENTS) == first + second
    assert outbox.marks == []  # marked later, together
    relay.flush()
    assert outbox.marks == [[e["event_id"] for e in first + second]]
    assert outbox.pending(NOW + timedelta(days=1), 100) == []
    relay.flush()
    assert len(outbox.marks) == 1  # nothing more to mark


def test_a_failed_fast_path_leaves_the_events_pending_and_pauses_for_a_while() -> None:
    outbox, bus = FakeOutbox(), FakeBus(takes=0)
    events = some_events(2)
    outbox.add(events, created_at=NOW)
    relay = OutboxRelay(outbox, bus, pause_after_failure_s=3600, mark_every_s=3600)
    assert relay.publish(events) == 0
    assert bus.attempts == 2
    bus.takes = None  # Pub/Sub is back, but the fast path does not try again before its pause ends
    assert relay.publish(some_events(1)) == 0
    assert bus.attempts == 2
    relay.flush()
    assert len(outbox.pending(NOW + timedelta(days=1), 100)) == 2  # the sweep's to publish


def test_the_fast_path_never_raises() -> None:
    class BrokenBus(FakeBus):
        def publish_many(
            self, topic: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout_s: float = 10.0
        ) -> list[bool]:
            raise ConnectionError("no route to Pub/Sub")

    relay = OutboxRelay(FakeOutbox(), BrokenBus(), pause_after_failure_s=0, mark_every_s=3600)
    assert relay.publish(some_events(1)) == 0
    assert relay.publish([]) == 0


def test_the_sweep_publishes_what_is_pending_and_older_than_the_cutoff_in_batches() -> None:
    outbox, bus = FakeOutbox(), FakeBus()
    old, young = some_events(5), some_events(2)
    outbox.add(old, created_at=NOW - timedelta(minutes=5))
    outbox.add(young, created_at=NOW - timedelta(seconds=10))  # the fast path's, still
    relay = OutboxRelay(outbox, bus)
    assert relay.sweep(NOW, older_than_s=30, batch=2) == 5
    assert {e["event_id"] for e in bus.json(VISIT_EVENTS)} == {e["event_id"] for e in old}
    assert [len(m) for m in outbox.marks] == [2, 2, 1]
    left = outbox.pending(NOW + timedelta(days=1), 100)
    assert sorted(e["event_id"] for e in left) == sorted(e["event_id"] for e in young)
    assert relay.sweep(NOW, older_than_s=30, batch=2) == 0


def test_the_sweep_stops_when_pubsub_takes_only_part_of_a_batch() -> None:
    outbox, bus = FakeOutbox(), FakeBus(takes=3)
    events = some_events(6)
    for minute, event in enumerate(events):
        outbox.add([event], created_at=NOW - timedelta(minutes=10 - minute))
    relay = OutboxRelay(outbox, bus)
    assert relay.sweep(NOW, older_than_s=30, batch=2) == 3
    assert bus.attempts == 4  # two batches tried; the second was taken in part, and the sweep stopped there
    left = [e["event_id"] for e in outbox.pending(NOW, 100)]
    assert left == [events[3]["event_id"], events[4]["event_id"], events[5]["event_id"]]
