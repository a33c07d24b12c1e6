"""Fakes the points' back office tests use beside the one store fake (``tests.unit.fakes.FakeStore``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class Published:
    """An EventPublisher that keeps what it was handed."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, events: Sequence[dict[str, Any]]) -> int:
        self.events += events
        return len(events)
