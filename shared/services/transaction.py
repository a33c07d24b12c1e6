"""The one transaction port of visits and places: what booking, the points' back office, walk-ins
and the hotline read and write inside one Spanner transaction (or, for reads, one snapshot).

One Spanner adapter (``shared/adapters/spanner_transaction.py``) and one in-memory fake
(``tests/unit/fakes.py``) implement it; ``tests/integration/test_contracts_transaction.py`` runs
the same cases against both. Writes apply at commit, all or nothing: a transaction does not read
its own writes. Time ranges are half-open: [start, end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

from shared.domain.availability import SlotQuery
from shared.domain.booking import Slot, Visit
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Point
from shared.domain.stock import Delivery
from shared.domain.vaccination import Vaccination
from shared.services.idempotency import StoredResult
from shared.services.ports import EventPublisher, SlotChangeListener

T = TypeVar("T")
R = TypeVar("R")
SlotKey = tuple[str, datetime, str]
BookedRef = tuple[date, str, str]  # a BOOKED visit: (its local day, visit id, patient id)


class SlotsInTransaction(Protocol):
    """Points, their slots and their stock."""

    def point(self, point_id: str) -> Point | None: ...

    def slot(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None: ...

    def slots_by_key(self, keys: Sequence[SlotKey]) -> list[Slot]:
        """The slots of these keys that exist, in one read."""
        ...

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        """Every slot of a point starting in [start, end), in key order (start, vaccine)."""
        ...

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        """Slots with free places of a region (not a point: ``point_slots``), earliest first."""
        ...

    def deliveries(self, point_id: str) -> list[Delivery]: ...

    def administered(self, point_id: str) -> dict[str, int]: ...

    def insert_slots(self, slots: Sequence[Slot]) -> None: ...

    def set_capacities(self, slots: Sequence[Slot]) -> None: ...

    def delete_slots(self, slots: Sequence[Slot]) -> None: ...

    def save_booked(self, slots: Iterable[Slot]) -> None:
        """Store the slots' booked counters (only the slot ledger's changes write them)."""
        ...

    def add_delivery(self, delivery: Delivery, staff_id: str) -> None: ...

    def set_administered(self, point_id: str, vaccine: str, administered: int) -> None: ...


class VisitsInTransaction(Protocol):
    """Patients, their visits and vaccinations, idempotency records and the outbox."""

    def patient(self, patient_id: str) -> PatientRecord | None: ...

    def patients(self, patient_ids: Sequence[str]) -> dict[str, PatientRecord]:
        """Several patients in one read."""
        ...

    def referrals(self, patient_id: str) -> list[Referral]: ...

    def visit_owner(self, visit_id: str) -> str | None: ...

    def patient_visits(self, patient_id: str) -> list[Visit]: ...

    def visits_of(self, patient_ids: Sequence[str]) -> dict[str, list[Visit]]:
        """Each patient's visits, in one read."""
        ...

    def day_visit_patients(self, point_id: str, start: datetime, end: datetime) -> list[str]:
        """The patients with a visit (of any status) at the point starting in [start, end)."""
        ...

    def insert_visits(self, visits: Iterable[Visit]) -> None: ...

    def update_visits(self, visits: Iterable[Visit]) -> None:
        """Store the visits' point, start and status."""
        ...

    def save_phone(self, patient_id: str, phone: str, previous: str | None = None) -> None:
        """Store the patient's mobile, keeping ``previous`` (the number it replaces) for the PhoneChanged SMS."""
        ...

    def wrong_code_attempts(self, patient_id: str, visit_id: str) -> int: ...

    def set_wrong_code_attempts(self, patient_id: str, visit_id: str, attempts: int) -> None: ...

    def vaccination(self, patient_id: str, visit_id: str) -> Vaccination | None: ...

    def add_vaccination(self, vaccination: Vaccination) -> None: ...

    def void_vaccination(self, vaccination: Vaccination, voided_at: datetime, staff_id: str, reason: str) -> None: ...

    def identity_checks_made(self, staff_id: str, day: date) -> int: ...

    def add_identity_check(self, staff_id: str, day: date, visit_id: str, point_id: str, reason: str) -> None: ...

    def stored_result(self, scope: str, key: str) -> StoredResult | None: ...

    def store_result(self, scope: str, key: str, result: StoredResult) -> None: ...

    def add_to_outbox(self, events: Iterable[dict[str, Any]]) -> None: ...


class Transaction(SlotsInTransaction, VisitsInTransaction, Protocol):
    """Reads and writes of one transaction (writes apply at commit, all or nothing)."""


class Transactions(Protocol):
    def run(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in a read-write transaction and commit; ``work`` may run more than once
        (the backend retries aborted transactions), so it must not act outside the transaction."""
        ...

    def read(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` over reads only (each may see a slightly different moment; no writes)."""
        ...

    def booked_before(self, day: date, after: BookedRef | None, limit: int) -> list[BookedRef]:
        """BOOKED visits of local days before ``day``, in that order, starting after ``after``."""
        ...


@dataclass(frozen=True)
class Committed(Generic[R]):
    """What a change's transaction hands back: its result, the events it wrote to the outbox and the
    slots whose places (or capacity) it changed."""

    result: R
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: list[SlotKey] = field(default_factory=list)


class Changes:
    """Runs a change; right after its commit tells search which slots it changed and publishes the
    events it wrote (neither raises: the events and the outbox sweep cover a miss of either)."""

    def __init__(
        self, transactions: Transactions, events: EventPublisher, availability: SlotChangeListener | None
    ) -> None:
        self.transactions = transactions
        self.events = events
        self.availability = availability

    def commit(self, work: Callable[[Transaction], Committed[R]]) -> R:
        committed = self.transactions.run(work)
        if self.availability is not None:
            self.availability.slots_changed(committed.slots)  # search shows it at once
        self.events.publish(committed.events)
        return committed.result
