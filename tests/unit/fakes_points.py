"""An in-memory fake of the points' back office port (``shared.services.points.BackOffice``).

Same semantics as the Spanner adapter: a transaction reads what was committed when it started, its
writes apply at commit, all or none (it does not read its own writes), and an exception inside the
work leaves the store as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from shared.domain.availability import SlotQuery
from shared.domain.booking import WARSAW, Slot, Visit
from shared.domain.patients import PatientRecord
from shared.domain.points import Point
from shared.domain.stock import Delivery
from shared.domain.vaccination import Vaccination
from shared.services.points import BookedRef
from tests.unit.fakes import free_slots

T = TypeVar("T")


@dataclass
class OfficeState:
    points: dict[str, Point] = field(default_factory=dict)
    slots: dict[tuple[str, datetime, str], Slot] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    administered: dict[tuple[str, str], int] = field(default_factory=dict)
    patients: dict[str, PatientRecord] = field(default_factory=dict)
    visits: dict[str, Visit] = field(default_factory=dict)
    wrong_codes: dict[str, int] = field(default_factory=dict)
    vaccinations: dict[str, Vaccination] = field(default_factory=dict)
    identity_checks: dict[tuple[str, date, str], tuple[str, str]] = field(default_factory=dict)
    voids: dict[str, tuple[datetime, str, str]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)


class FakeOfficeTx:
    def __init__(self, committed: OfficeState) -> None:
        self._read = committed
        self._writes: list[Callable[[OfficeState], None]] = []

    def _write(self, change: Callable[[OfficeState], None]) -> None:
        self._writes.append(change)

    def commit(self, state: OfficeState) -> None:
        for change in self._writes:
            change(state)

    # --- reads --------------------------------------------------------------------------------------

    def point(self, point_id: str) -> Point | None:
        return self._read.points.get(point_id)

    def slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        found = [s for s in self._read.slots.values() if s.point_id == point_id and start <= s.starts_at < end]
        return sorted(found, key=lambda s: (s.starts_at, s.vaccine))

    def slot(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None:
        return self._read.slots.get((point_id, starts_at, vaccine))

    def slots_by_key(self, keys: Sequence[tuple[str, datetime, str]]) -> list[Slot]:
        return [self._read.slots[key] for key in keys if key in self._read.slots]

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        return free_slots(self._read.slots.values(), query)

    def deliveries(self, point_id: str) -> list[Delivery]:
        return [d for d in self._read.deliveries if d.point_id == point_id]

    def administered(self, point_id: str) -> dict[str, int]:
        return {vaccine: n for (point, vaccine), n in self._read.administered.items() if point == point_id}

    def visit_owner(self, visit_id: str) -> str | None:
        visit = self._read.visits.get(visit_id)
        return visit.patient_id if visit else None

    def patient(self, patient_id: str) -> PatientRecord | None:
        return self._read.patients.get(patient_id)

    def patient_visits(self, patient_id: str) -> list[Visit]:
        return [v for v in self._read.visits.values() if v.patient_id == patient_id]

    def patients(self, patient_ids: Sequence[str]) -> dict[str, PatientRecord]:
        return {p: self._read.patients[p] for p in patient_ids if p in self._read.patients}

    def visits_of(self, patient_ids: Sequence[str]) -> dict[str, list[Visit]]:
        return {p: self.patient_visits(p) for p in patient_ids}

    def wrong_code_attempts(self, patient_id: str, visit_id: str) -> int:
        return self._read.wrong_codes.get(visit_id, 0)

    def vaccination(self, patient_id: str, visit_id: str) -> Vaccination | None:
        return self._read.vaccinations.get(visit_id)

    def day_visit_patients(self, point_id: str, start: datetime, end: datetime) -> list[str]:
        found = [v for v in self._read.visits.values() if v.point_id == point_id and start <= v.starts_at < end]
        return list(dict.fromkeys(v.patient_id for v in sorted(found, key=lambda v: (v.starts_at, v.visit_id))))

    def identity_checks_made(self, staff_id: str, day: date) -> int:
        return sum(1 for staff, on, _ in self._read.identity_checks if (staff, on) == (staff_id, day))

    # --- writes (at commit) ----------------------------------------------------------------------------

    def insert_slots(self, slots: Sequence[Slot]) -> None:
        def write(state: OfficeState) -> None:
            for slot in slots:
                assert slot.key not in state.slots, "insert of an existing slot"
                state.slots[slot.key] = replace(slot, booked=0)

        self._write(write)

    def set_capacities(self, slots: Sequence[Slot]) -> None:
        def write(state: OfficeState) -> None:
            for slot in slots:
                state.slots[slot.key] = replace(state.slots[slot.key], capacity=slot.capacity)

        self._write(write)

    def delete_slots(self, slots: Sequence[Slot]) -> None:
        def write(state: OfficeState) -> None:
            for slot in slots:
                del state.slots[slot.key]

        self._write(write)

    def save_booked(self, slots: Sequence[Slot]) -> None:
        def write(state: OfficeState) -> None:
            for slot in slots:
                state.slots[slot.key] = replace(state.slots[slot.key], booked=slot.booked)

        self._write(write)

    def add_delivery(self, delivery: Delivery, staff_id: str) -> None:
        self._write(lambda state: state.deliveries.append(delivery))

    def set_administered(self, point_id: str, vaccine: str, administered: int) -> None:
        self._write(lambda state: state.administered.__setitem__((point_id, vaccine), administered))

    def set_wrong_code_attempts(self, patient_id: str, visit_id: str, attempts: int) -> None:
        self._write(lambda state: state.wrong_codes.__setitem__(visit_id, attempts))

    def insert_visits(self, visits: Sequence[Visit]) -> None:
        self._write(lambda state: state.visits.update({v.visit_id: v for v in visits}))

    def update_visits(self, visits: Sequence[Visit]) -> None:
        self._write(lambda state: state.visits.update({v.visit_id: v for v in visits}))

    def add_vaccination(self, vaccination: Vaccination) -> None:
        self._write(lambda state: state.vaccinations.__setitem__(vaccination.visit_id, vaccination))

    def void_vaccination(self, vaccination: Vaccination, voided_at: datetime, staff_id: str, reason: str) -> None:
        self._write(lambda state: state.voids.__setitem__(vaccination.visit_id, (voided_at, staff_id, reason)))

    def add_identity_check(self, staff_id: str, day: date, visit_id: str, point_id: str, reason: str) -> None:
        self._write(lambda state: state.identity_checks.__setitem__((staff_id, day, visit_id), (point_id, reason)))

    def add_to_outbox(self, events: Sequence[dict[str, Any]]) -> None:
        self._write(lambda state: state.outbox.extend(events))


class FakeBackOffice:
    def __init__(self) -> None:
        self.state = OfficeState()
        self.transactions_run = 0

    def transaction(self, work: Callable[[Any], T]) -> T:
        tx = FakeOfficeTx(copy.deepcopy(self.state))
        result = work(tx)
        tx.commit(self.state)
        self.transactions_run += 1
        return result

    def read(self, work: Callable[[Any], T]) -> T:
        return work(FakeOfficeTx(copy.deepcopy(self.state)))

    def booked_before(self, day: date, after: BookedRef | None, limit: int) -> list[BookedRef]:
        refs = sorted(
            (v.starts_at.astimezone(WARSAW).date(), v.visit_id, v.patient_id)
            for v in self.state.visits.values()
            if v.is_active and v.starts_at.astimezone(WARSAW).date() < day
        )
        return [r for r in refs if after is None or r[:2] > after[:2]][:limit]


class Published:
    """An EventPublisher that keeps what it was handed."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, events: Sequence[dict[str, Any]]) -> int:
        self.events += events
        return len(events)
