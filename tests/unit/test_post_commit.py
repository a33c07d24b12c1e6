"""The post-commit hand-off never holds the caller longer than its wait, and never raises."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from shared.services.post_commit import PostCommitHandOff


class HungPublisher:
    def __init__(self) -> None:
        self.thaw = threading.Event()
        self.published: list[str] = []

    def publish(self, events: Sequence[dict[str, Any]]) -> int:
        self.thaw.wait(10)
        self.published += [e["event_id"] for e in events]
        return len(events)


class FailingPublisher:
    def publish(self, events: Sequence[dict[str, Any]]) -> int:
        raise RuntimeError("boom")


def test_a_quick_publisher_is_waited_for() -> None:
    publisher = HungPublisher()
    publisher.thaw.set()
    assert PostCommitHandOff(publisher, wait_s=5).publish([{"event_id": "a"}]) == 1
    assert publisher.published == ["a"]


def test_a_hung_publisher_does_not_hold_the_caller_and_finishes_later() -> None:
    publisher = HungPublisher()
    handoff = PostCommitHandOff(publisher, wait_s=0.05)
    started = time.monotonic()
    assert handoff.publish([{"event_id": "a"}, {"event_id": "b"}]) == 0
    assert time.monotonic() - started < 1
    publisher.thaw.set()
    deadline = time.monotonic() + 5
    while publisher.published != ["a", "b"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert publisher.published == ["a", "b"]


def test_when_too_much_is_waiting_events_are_left_to_the_sweep() -> None:
    publisher = HungPublisher()
    handoff = PostCommitHandOff(publisher, wait_s=0.01, max_pending=2, threads=1)
    for n in range(5):
        handoff.publish([{"event_id": str(n)}])
    assert handoff._pending == 2  # the other three were refused at once, left to the sweep
    publisher.thaw.set()
    deadline = time.monotonic() + 5
    while handoff._pending and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(publisher.published) == ["0", "1"]


def test_a_failing_publisher_never_raises_to_the_caller() -> None:
    assert PostCommitHandOff(FailingPublisher(), wait_s=1).publish([{"event_id": "a"}]) == 0
    assert PostCommitHandOff(FailingPublisher(), wait_s=1).publish([]) == 0
