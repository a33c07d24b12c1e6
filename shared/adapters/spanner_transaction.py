"""The transaction port (``shared.services.transaction``) in Spanner: points, slots and stock,
patients, visits and vaccinations, idempotency records and the outbox.

Hot paths read by key or key range through the Read API and write with mutations: on the emulator
any SQL statement scans its whole table, and in production it is the cheaper path anyway. Slot
capacity changes write Capacity and FreeMarker only; the booked counter is written by the changes
that take or free places (``save_booked``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_patients import read_patients, read_referrals
from shared.adapters.spanner_points import suspended_points
from shared.adapters.spanner_reads import (
    SLOT_COLUMNS,
    VISIT_COLUMNS,
    read_free_slots,
    read_patient_visits,
    slot_from_row,
    visit_from_row,
)
from shared.domain.availability import SlotQuery, SlotState, version_of
from shared.domain.booking import Slot, Visit
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Point
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.stock import Delivery
from shared.domain.vaccination import Vaccination
from shared.services.idempotency import StoredResult
from shared.services.transaction import BookedRef, SlotKey, SlotWrites, Transaction

T = TypeVar("T")

POINT_COLUMNS = ("PointId", "Name", "Voivodeship", "County", "Municipality", "City", "Street", "PostalCode",
                 "Vaccines", "Active")  # fmt: skip
NEW_SLOT_COLUMNS = (*SLOT_COLUMNS, "FreeMarker", "ChangedAt")
DELIVERY_COLUMNS = ("PointId", "DeliveryId", "Vaccine", "Doses", "Lot", "DeliveredAt")
VACCINATION_COLUMNS = ("PatientId", "VisitId", "SeriesId", "Dose", "Vaccine", "PointId", "Lot", "VaccinatedAt",
                       "StaffId")  # fmt: skip


def _prefix(*key: Any) -> KeySet:
    return KeySet(ranges=[KeyRange(start_closed=list(key), end_closed=list(key))])


def _free_marker(slot: Slot) -> bool | None:
    # NULL_FILTERED search indexes hold the slots whose marker is set: those with free places.
    return True if slot.free_places > 0 else None


class SpannerSlots:
    """Points, slots and stock of one transaction (``reader``: the transaction, or single-use reads)."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self._suspended: dict[str, bool] = {}
        self.written = SlotWrites()

    def _open_points(self, point_ids: Iterable[str]) -> set[str]:
        """Which of these points take bookings (one key read per transaction for points not seen yet)."""
        wanted = set(point_ids)
        unseen = wanted - self._suspended.keys()
        if unseen:
            closed = suspended_points(self.reader, unseen)
            self._suspended.update({p: p in closed for p in unseen})
        return {p for p in wanted if not self._suspended[p]}

    def closed_points(self) -> set[str]:
        """The suspended points among those of the slots written (read in the transaction if not yet)."""
        written = self.written.point_ids()
        return written - self._open_points(written)

    def point(self, point_id: str) -> Point | None:
        rows = list(self.reader.read("Points", POINT_COLUMNS, KeySet(keys=[[point_id]])))
        if not rows:
            return None
        row = rows[0]
        self._suspended[point_id] = not row[9]
        return Point(str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), str(row[5]), str(row[6]),
                     str(row[7]), list(row[8]), bool(row[9]))  # fmt: skip

    def slot(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None:
        rows = list(self.reader.read("Slots", SLOT_COLUMNS, KeySet(keys=[[point_id, starts_at, vaccine]])))
        if rows and not self._open_points([point_id]):
            detail = "Punkt szczepień jest zawieszony i nie przyjmuje zapisów"
            raise Refused(RefusalKind.CONFLICT, "point_suspended", detail)
        return slot_from_row(rows[0]) if rows else None

    def slots_by_key(self, keys: Sequence[SlotKey]) -> list[Slot]:
        if not keys:
            return []
        rows = self.reader.read("Slots", SLOT_COLUMNS, KeySet(keys=[list(k) for k in keys]))
        slots = [slot_from_row(row) for row in rows]
        open_points = self._open_points(s.point_id for s in slots)
        return [s for s in slots if s.point_id in open_points]

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, start], end_open=[point_id, end])])
        return [slot_from_row(row) for row in self.reader.read("Slots", SLOT_COLUMNS, keys)]

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        return read_free_slots(self.reader, query)

    def deliveries(self, point_id: str) -> list[Delivery]:
        return [Delivery(*row) for row in self.reader.read("Deliveries", DELIVERY_COLUMNS, _prefix(point_id))]

    def administered(self, point_id: str) -> dict[str, int]:
        rows = self.reader.read("PointStock", ("PointId", "Vaccine", "Administered"), _prefix(point_id))
        return {str(row[1]): int(row[2]) for row in rows}

    def insert_slots(self, slots: Sequence[Slot]) -> None:
        if slots:
            values = [(*s.key, s.capacity, 0, s.voivodeship, s.county, s.municipality, True, spanner.COMMIT_TIMESTAMP)
                      for s in slots]  # fmt: skip
            self.reader.insert("Slots", NEW_SLOT_COLUMNS, values)
            self.written.inserted(slots)

    def set_capacities(self, slots: Sequence[Slot]) -> None:
        if slots:
            columns = ("PointId", "StartsAt", "Vaccine", "Capacity", "FreeMarker", "ChangedAt")
            values = [(*s.key, s.capacity, _free_marker(s), spanner.COMMIT_TIMESTAMP) for s in slots]
            self.reader.update("Slots", columns, values)
            self.written.capacities(slots)

    def delete_slots(self, slots: Sequence[Slot]) -> None:
        if slots:
            self.reader.delete("Slots", KeySet(keys=[list(s.key) for s in slots]))
            self.written.deleted(slots)

    def save_booked(self, slots: Iterable[Slot]) -> None:
        saved = list(slots)
        values = [(*s.key, s.booked, _free_marker(s), spanner.COMMIT_TIMESTAMP) for s in saved]
        if values:
            # ChangedAt orders a slot's states for the availability projection (newer commit wins).
            columns = ("PointId", "StartsAt", "Vaccine", "Booked", "FreeMarker", "ChangedAt")
            self.reader.update("Slots", columns, values)
            self.written.booked(saved)

    def add_delivery(self, delivery: Delivery, staff_id: str) -> None:
        self.reader.insert(
            "Deliveries",
            (*DELIVERY_COLUMNS, "RecordedBy", "RecordedAt"),
            [(delivery.point_id, delivery.delivery_id, delivery.vaccine, delivery.doses, delivery.lot,
              delivery.delivered_at, staff_id, spanner.COMMIT_TIMESTAMP)],
        )  # fmt: skip

    def set_administered(self, point_id: str, vaccine: str, administered: int) -> None:
        self.reader.insert_or_update(
            "PointStock",
            ("PointId", "Vaccine", "Administered", "UpdatedAt"),
            [(point_id, vaccine, administered, spanner.COMMIT_TIMESTAMP)],
        )


class SpannerTransaction(SpannerSlots):
    """The whole port inside one Spanner transaction: the slots above, and patients, visits,
    vaccinations, idempotency records and the outbox."""

    def patient(self, patient_id: str) -> PatientRecord | None:
        return read_patients(self.reader, [patient_id]).get(patient_id)

    def patients(self, patient_ids: Sequence[str]) -> dict[str, PatientRecord]:
        return read_patients(self.reader, patient_ids) if patient_ids else {}

    def referrals(self, patient_id: str) -> list[Referral]:
        return read_referrals(self.reader, patient_id)

    def visit_owner(self, visit_id: str) -> str | None:
        keys = KeySet(keys=[[visit_id]])
        rows = list(self.reader.read("Visits", ("VisitId", "PatientId"), keys, index="VisitsById"))
        return str(rows[0][1]) if rows else None

    def patient_visits(self, patient_id: str) -> list[Visit]:
        return read_patient_visits(self.reader, patient_id)

    def visits_of(self, patient_ids: Sequence[str]) -> dict[str, list[Visit]]:
        found: dict[str, list[Visit]] = {patient_id: [] for patient_id in patient_ids}
        if not found:
            return found
        keys = KeySet(ranges=[KeyRange(start_closed=[p], end_closed=[p]) for p in found])
        for row in self.reader.read("Visits", VISIT_COLUMNS, keys):
            visit = visit_from_row(row)
            found[visit.patient_id].append(visit)
        return found

    def day_visit_patients(self, point_id: str, start: datetime, end: datetime) -> list[str]:
        # The index holds every status: the service keeps the BOOKED ones after reading each patient.
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, start], end_open=[point_id, end])])
        rows = self.reader.read("Visits", ("PointId", "StartsAt", "PatientId"), keys, index="VisitsByPoint")
        return list(dict.fromkeys(str(row[2]) for row in rows))

    def insert_visits(self, visits: Iterable[Visit]) -> None:
        values = [(*_visit_values(v), v.booked_day, spanner.COMMIT_TIMESTAMP, spanner.COMMIT_TIMESTAMP) for v in visits]
        if values:
            self.reader.insert("Visits", (*VISIT_COLUMNS, "BookedDay", "CreatedAt", "ChangedAt"), values)

    def update_visits(self, visits: Iterable[Visit]) -> None:
        values = [
            (v.patient_id, v.visit_id, v.point_id, v.starts_at, str(v.status), v.booked_day, spanner.COMMIT_TIMESTAMP)
            for v in visits
        ]
        if values:
            self.reader.update(
                "Visits", ("PatientId", "VisitId", "PointId", "StartsAt", "Status", "BookedDay", "ChangedAt"), values
            )

    def save_phone(self, patient_id: str, phone: str, previous: str | None = None) -> None:
        self.reader.update(
            "Patients",
            ("PatientId", "Phone", "PreviousPhone", "UpdatedAt"),
            [(patient_id, phone, previous, spanner.COMMIT_TIMESTAMP)],
        )

    def wrong_code_attempts(self, patient_id: str, visit_id: str) -> int:
        rows = list(self.reader.read("Visits", ("WrongCodeAttempts",), KeySet(keys=[[patient_id, visit_id]])))
        return int(rows[0][0] or 0) if rows else 0

    def set_wrong_code_attempts(self, patient_id: str, visit_id: str, attempts: int) -> None:
        self.reader.update(
            "Visits",
            ("PatientId", "VisitId", "WrongCodeAttempts", "ChangedAt"),
            [(patient_id, visit_id, attempts, spanner.COMMIT_TIMESTAMP)],
        )

    def vaccination(self, patient_id: str, visit_id: str) -> Vaccination | None:
        rows = list(self.reader.read("Vaccinations", VACCINATION_COLUMNS, KeySet(keys=[[patient_id, visit_id]])))
        return Vaccination(*rows[0]) if rows else None

    def add_vaccination(self, vaccination: Vaccination) -> None:
        v = vaccination
        # insert_or_update: a dose voided today may be recorded again (the visit is booked again).
        self.reader.insert_or_update(
            "Vaccinations",
            (*VACCINATION_COLUMNS, "RecordedAt", "VoidedAt", "VoidedBy", "VoidReason"),
            [(v.patient_id, v.visit_id, v.series_id, v.dose, v.vaccine, v.point_id, v.lot, v.vaccinated_at,
              v.staff_id, spanner.COMMIT_TIMESTAMP, None, None, None)],
        )  # fmt: skip

    def void_vaccination(self, vaccination: Vaccination, voided_at: datetime, staff_id: str, reason: str) -> None:
        self.reader.update(
            "Vaccinations",
            ("PatientId", "VisitId", "VoidedAt", "VoidedBy", "VoidReason"),
            [(vaccination.patient_id, vaccination.visit_id, voided_at, staff_id, reason)],
        )

    def identity_checks_made(self, staff_id: str, day: date) -> int:
        return len(list(self.reader.read("IdentityChecks", ("VisitId",), _prefix(staff_id, day))))

    def add_identity_check(self, staff_id: str, day: date, visit_id: str, point_id: str, reason: str) -> None:
        # insert_or_update: a dose voided and recorded again the same day by the same person is one check.
        self.reader.insert_or_update(
            "IdentityChecks",
            ("StaffId", "Day", "VisitId", "PointId", "Reason", "CheckedAt"),
            [(staff_id, day, visit_id, point_id, reason, spanner.COMMIT_TIMESTAMP)],
        )

    def stored_result(self, scope: str, key: str) -> StoredResult | None:
        columns = ("RequestHash", "ResponseBody")
        rows = list(self.reader.read("IdempotencyRecords", columns, KeySet(keys=[[scope, key]])))
        return StoredResult(str(rows[0][0]), str(rows[0][1])) if rows else None

    def store_result(self, scope: str, key: str, result: StoredResult) -> None:
        self.reader.insert(
            "IdempotencyRecords",
            ("Scope", "IdempotencyKey", "RequestHash", "ResponseBody", "CreatedAt"),
            [(scope, key, result.request_hash, result.body, spanner.COMMIT_TIMESTAMP)],
        )

    def add_to_outbox(self, events: Iterable[dict[str, Any]]) -> None:
        values = [
            (e["event_id"], e["event_type"], json.dumps(e, default=str), spanner.COMMIT_TIMESTAMP, True) for e in events
        ]
        if values:
            self.reader.insert("Outbox", ("EventId", "EventType", "Payload", "CreatedAt", "Pending"), values)


class _SingleUseReads:
    """Each read in a single-use snapshot of its own: multi-use read-only transactions are not
    used (under concurrency the emulator answered "Transaction not found" for them)."""

    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def read(self, *args: Any, **kwargs: Any) -> list[Any]:
        with self.database.snapshot() as snapshot:
            return list(snapshot.read(*args, **kwargs))


class SpannerTransactions:
    """Runs work in a Spanner read-write transaction (retried whole when Spanner aborts it), or over
    single-use reads."""

    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def run(self, work: Callable[[Transaction], T]) -> T:
        return self.database.run_in_transaction(lambda transaction: work(SpannerTransaction(transaction)))

    def run_written(self, work: Callable[[Transaction], T]) -> tuple[T, list[SlotState]]:
        def attempt(transaction: Any) -> tuple[T, SpannerTransaction, set[str], Any]:
            tx = SpannerTransaction(transaction)
            result = work(tx)
            return result, tx, tx.closed_points(), transaction

        result, tx, closed, transaction = self.database.run_in_transaction(attempt)
        # Every slot written carries this commit's timestamp as its ChangedAt: the projection's version.
        return result, tx.written.states(closed, version_of(transaction.committed))

    def read(self, work: Callable[[Transaction], T]) -> T:
        return work(SpannerTransaction(_SingleUseReads(self.database)))

    def booked_before(self, day: date, after: BookedRef | None, limit: int) -> list[BookedRef]:
        if after is None:
            key_range = KeyRange(start_closed=[date(1900, 1, 1)], end_open=[day])
        else:
            key_range = KeyRange(start_open=[after[0], after[1]], end_open=[day])
        with self.database.snapshot() as snapshot:
            rows = snapshot.read(
                "Visits", ("BookedDay", "VisitId", "PatientId"), KeySet(ranges=[key_range]), index="BookedVisitsByDay",
                limit=limit,
            )  # fmt: skip
            return [(row[0], str(row[1]), str(row[2])) for row in rows]


def _visit_values(visit: Visit) -> tuple[Any, ...]:
    return (
        visit.patient_id, visit.visit_id, visit.series_id, visit.dose, visit.vaccine, visit.point_id, visit.starts_at,
        str(visit.status), str(visit.channel), visit.check_in_code,
    )  # fmt: skip
