"""The one transaction port of visits and places: what booking, the points' back office, walk-ins
and the hotline read and write inside one Spanner transaction (or, for reads, one snapshot).

One Spanner adapter (``shared/adapters/spanner_transaction.py``) and one in-memory fake
(``tests/unit/fakes.py``) implement it; ``tests/integration/test_contracts_transaction.py`` runs
the same cases against both. Writes apply at commit, all or nothing: a transaction does not read
its own writes. Time ranges are half-open: [start, end).

A change run with ``run_written`` hands back, with its result, the state after the commit of every
slot it wrote, versioned by the commit's timestamp (``SlotWrites`` keeps them in each adapter): the
availability projection takes them as they are, with no read back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

from shared.domain.availability import SlotQuery, SlotState
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

    def run_written(self, work: Callable[[Transaction], T]) -> tuple[T, list[SlotState]]:
        """``run``, and the state right after the commit of each slot the work wrote, in key order:
        versioned by the commit's timestamp (the slot's ``ChangedAt``), ``closed`` if deleted or if its
        point is suspended (read inside the transaction, so as of the commit)."""
        ...

    def read(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` over reads only (each may see a slightly different moment; no writes)."""
        ...

    def booked_before(self, day: date, after: BookedRef | None, limit: int) -> list[BookedRef]:
        """BOOKED visits of local days before ``day``, in that order, starting after ``after``."""
        ...


class SlotWrites:
    """The slots one transaction writes, each as it will be once committed (capacity and booked
    count written apart, as the adapters do), or deleted. Kept by the adapters of this port."""

    def __init__(self) -> None:
        self._after: dict[SlotKey, tuple[Slot, bool]] = {}  # key -> (state, deleted)

    def inserted(self, slots: Iterable[Slot]) -> None:
        for slot in slots:
            self._after[slot.key] = (replace(slot, booked=0), False)

    def capacities(self, slots: Iterable[Slot]) -> None:
        for slot in slots:
            self._after[slot.key] = (replace(self._current(slot), capacity=slot.capacity), False)

    def booked(self, slots: Iterable[Slot]) -> None:
        for slot in slots:
            self._after[slot.key] = (replace(self._current(slot), booked=slot.booked), False)

    def deleted(self, slots: Iterable[Slot]) -> None:
        for slot in slots:
            self._after[slot.key] = (slot, True)

    def _current(self, slot: Slot) -> Slot:
        written = self._after.get(slot.key)
        return written[0] if written is not None and not written[1] else slot

    def point_ids(self) -> set[str]:
        return {key[0] for key in self._after}

    def states(self, closed_points: set[str], version: int) -> list[SlotState]:
        """The states at the commit of ``version``; those deleted or at a closed point are closed."""
        return [
            SlotState(slot, version, deleted or key[0] in closed_points)
            for key, (slot, deleted) in sorted(self._after.items())
        ]


@dataclass(frozen=True)
class Committed(Generic[R]):
    """What a change's transaction hands back: its result and the events it wrote to the outbox."""

    result: R
    events: list[dict[str, Any]] = field(default_factory=list)


class Changes:
    """Runs a change; right after its commit hands search the states of the slots it wrote and
    publishes the events it wrote (neither raises: the events and the outbox sweep cover a miss)."""

    def __init__(
        self, transactions: Transactions, events: EventPublisher, availability: SlotChangeListener | None
    ) -> None:
        self.transactions = transactions
        self.events = events
        self.availability = availability

    def commit(self, work: Callable[[Transaction], Committed[R]]) -> R:
        committed, written = self.transactions.run_written(work)
        if self.availability is not None:
            self.availability.slots_written(written)  # search shows it at once
        self.events.publish(committed.events)
        return committed.result
