"""Ports that several services share: what they need from the outside world, as Protocols.

Adapters in ``shared/adapters`` implement them against the real backends, the fakes in
``tests/unit/fakes.py`` in memory; ``shared/bootstrap.py`` wires one to each service. A port that
only one service needs is declared beside that service.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from shared.domain.availability import SlotState
from shared.domain.booking import Visit
from shared.domain.patients import PatientRecord
from shared.domain.points import Point


class PointDirectory(Protocol):
    """Vaccination points by id and by region (they change rarely; adapters may cache them)."""

    def get_many(self, point_ids: Iterable[str]) -> dict[str, Point]: ...

    def in_region(self, voivodeship: str, county: str | None, municipality: str | None) -> list[Point]: ...


class PatientReader(Protocol):
    """Patients read outside any transaction (what notifications and lists need)."""

    def patient(self, patient_id: str) -> PatientRecord | None: ...

    def patients(self, patient_ids: Iterable[str]) -> dict[str, PatientRecord]: ...


class VisitReader(Protocol):
    """Visits read outside any transaction (single-use reads: the data may be a moment old)."""

    def visits_of_patient(self, patient_id: str) -> list[Visit]: ...

    def visits_at_point(self, point_id: str, start: datetime, end: datetime) -> list[Visit]:
        """Every visit at a point that starts in [start, end), whatever its status."""
        ...

    def booked_on_day(self, day: date, after_visit_id: str | None, limit: int) -> list[Visit]:
        """A page of the visits still BOOKED on a local day, in visit id order after ``after_visit_id``."""
        ...


class MessagePublisher(Protocol):
    """Publishing to the project's Pub/Sub topics (by their short names, see shared/topology.py)."""

    def publish(self, topic: str, data: bytes, timeout_s: float = 10.0, **attributes: str) -> str:
        """Publish one message and wait for its id; raises if the bus did not take it."""
        ...

    def publish_many(
        self, topic: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout_s: float = 10.0
    ) -> list[bool]:
        """Publish several messages; for each, whether the bus took it within the timeout."""
        ...


class EventPublisher(Protocol):
    """Publishes the events a change wrote to the outbox, right after its commit; never raises
    (what it could not publish stays pending and the outbox sweep publishes it)."""

    def publish(self, events: Sequence[dict[str, Any]]) -> int: ...


class SlotChangeListener(Protocol):
    """Told right after a commit the state of each slot it wrote, versioned by the commit (closed:
    deleted, or at a suspended point); never raises."""

    def slots_written(self, states: Sequence[SlotState]) -> None: ...
