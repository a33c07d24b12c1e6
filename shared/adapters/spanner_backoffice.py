"""The points' back office in Spanner: schedules, deliveries, stock, vaccinations, no-shows.

Reads by key or key range through the Read API and writes with mutations (on the emulator any SQL
statement scans its whole table). Slot capacity changes write Capacity and FreeMarker only; the
booked counter is written by the transactions that take or free places.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_booking import VISIT_COLUMNS, SpannerBookingTransaction, visit_from_row
from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_patients import read_patients
from shared.domain.availability import SlotQuery
from shared.domain.booking import Slot, Visit
from shared.domain.patients import PatientRecord
from shared.domain.points import Point
from shared.domain.stock import Delivery
from shared.domain.vaccination import Vaccination
from shared.services.points import BackOfficeTx, BookedRef

T = TypeVar("T")

POINT_COLUMNS = ("PointId", "Name", "Voivodeship", "County", "Municipality", "City", "Street", "PostalCode",
                 "Vaccines", "Active")  # fmt: skip
NEW_SLOT_COLUMNS = ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked", "Voivodeship", "County", "Municipality",
                    "FreeMarker", "ChangedAt")  # fmt: skip
DELIVERY_COLUMNS = ("PointId", "DeliveryId", "Vaccine", "Doses", "Lot", "DeliveredAt")
VACCINATION_COLUMNS = ("PatientId", "VisitId", "SeriesId", "Dose", "Vaccine", "PointId", "Lot", "VaccinatedAt",
                       "StaffId")  # fmt: skip


def _prefix(*key: Any) -> KeySet:
    return KeySet(ranges=[KeyRange(start_closed=list(key), end_closed=list(key))])


class SpannerBackOfficeTx(BackOfficeTx):
    """One transaction (or, for reads, one snapshot)."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        # Slots, visits and the outbox are read and written as the booking transaction does.
        self.booking = SpannerBookingTransaction(reader)

    # --- points, slots, stock ---------------------------------------------------------------------

    def point(self, point_id: str) -> Point | None:
        rows = list(self.reader.read("Points", POINT_COLUMNS, KeySet(keys=[[point_id]])))
        if not rows:
            return None
        row = rows[0]
        return Point(str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), str(row[5]), str(row[6]),
                     str(row[7]), list(row[8]), bool(row[9]))  # fmt: skip

    def slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, start], end_open=[point_id, end])])
        return [Slot(*row) for row in self.reader.read("Slots", SLOT_READ, keys)]

    def slot(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None:
        return self.booking.slot(point_id, starts_at, vaccine)

    def slots_by_key(self, keys: Sequence[tuple[str, datetime, str]]) -> list[Slot]:
        return self.booking.slots_by_key(keys)

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        return self.booking.free_slots(query)

    def deliveries(self, point_id: str) -> list[Delivery]:
        return [Delivery(*row) for row in self.reader.read("Deliveries", DELIVERY_COLUMNS, _prefix(point_id))]

    def administered(self, point_id: str) -> dict[str, int]:
        rows = self.reader.read("PointStock", ("PointId", "Vaccine", "Administered"), _prefix(point_id))
        return {str(row[1]): int(row[2]) for row in rows}

    def insert_slots(self, slots: Sequence[Slot]) -> None:
        if slots:
            self.reader.insert(
                "Slots",
                NEW_SLOT_COLUMNS,
                [(s.point_id, s.starts_at, s.vaccine, s.capacity, 0, s.voivodeship, s.county, s.municipality, True,
                  spanner.COMMIT_TIMESTAMP) for s in slots],
            )  # fmt: skip

    def set_capacities(self, slots: Sequence[Slot]) -> None:
        if slots:
            self.reader.update(
                "Slots",
                ("PointId", "StartsAt", "Vaccine", "Capacity", "FreeMarker", "ChangedAt"),
                [
                    (
                        s.point_id,
                        s.starts_at,
                        s.vaccine,
                        s.capacity,
                        True if s.free_places > 0 else None,
                        spanner.COMMIT_TIMESTAMP,
                    )
                    for s in slots
                ],
            )

    def delete_slots(self, slots: Sequence[Slot]) -> None:
        if slots:
            self.reader.delete("Slots", KeySet(keys=[list(s.key) for s in slots]))

    def save_booked(self, slots: Sequence[Slot]) -> None:
        self.booking.save_slots(slots)

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

    # --- visits ---------------------------------------------------------------------------------------

    def visit_owner(self, visit_id: str) -> str | None:
        return self.booking.visit_owner(visit_id)

    def patient(self, patient_id: str) -> PatientRecord | None:
        return self.booking.patient(patient_id)

    def patient_visits(self, patient_id: str) -> list[Visit]:
        return self.booking.patient_visits(patient_id)

    def patients(self, patient_ids: Sequence[str]) -> dict[str, PatientRecord]:
        return read_patients(self.reader, patient_ids) if patient_ids else {}

    def visits_of(self, patient_ids: Sequence[str]) -> dict[str, list[Visit]]:
        found: dict[str, list[Visit]] = {patient_id: [] for patient_id in patient_ids}
        if not found:
            return found
        keys = KeySet(ranges=[KeyRange(start_closed=[p], end_closed=[p]) for p in found])
        for row in self.reader.read("Visits", VISIT_COLUMNS, keys):
            visit = visit_from_row(row)
            found[visit.patient_id].append(visit)
        return found

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

    def insert_visits(self, visits: Sequence[Visit]) -> None:
        self.booking.insert_visits(visits)

    def update_visits(self, visits: Sequence[Visit]) -> None:
        self.booking.update_visits(visits)

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

    def day_visit_patients(self, point_id: str, start: datetime, end: datetime) -> list[str]:
        # The index holds every status: the service keeps the BOOKED ones after reading each patient.
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, start], end_open=[point_id, end])])
        rows = self.reader.read("Visits", ("PointId", "StartsAt", "PatientId"), keys, index="VisitsByPoint")
        return list(dict.fromkeys(str(row[2]) for row in rows))

    def identity_checks_made(self, staff_id: str, day: date) -> int:
        return len(list(self.reader.read("IdentityChecks", ("VisitId",), _prefix(staff_id, day))))

    def add_identity_check(self, staff_id: str, day: date, visit_id: str, point_id: str, reason: str) -> None:
        # insert_or_update: a dose voided and recorded again the same day by the same person is one check.
        self.reader.insert_or_update(
            "IdentityChecks",
            ("StaffId", "Day", "VisitId", "PointId", "Reason", "CheckedAt"),
            [(staff_id, day, visit_id, point_id, reason, spanner.COMMIT_TIMESTAMP)],
        )

    def add_to_outbox(self, events: Sequence[dict[str, Any]]) -> None:
        self.booking.add_to_outbox(events)


SLOT_READ = ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked", "Voivodeship", "County", "Municipality")


class _SingleUseReads:
    """Each read in a single-use snapshot of its own: multi-use read-only transactions are not
    used (under concurrency the emulator answered "Transaction not found" for them)."""

    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def read(self, *args: Any, **kwargs: Any) -> list[Any]:
        with self.database.snapshot() as snapshot:
            return list(snapshot.read(*args, **kwargs))


class SpannerBackOffice:
    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def transaction(self, work: Callable[[BackOfficeTx], T]) -> T:
        return self.database.run_in_transaction(lambda transaction: work(self._tx(transaction)))

    def read(self, work: Callable[[BackOfficeTx], T]) -> T:
        return work(self._tx(_SingleUseReads(self.database)))

    def _tx(self, reader: Any) -> SpannerBackOfficeTx:
        return SpannerBackOfficeTx(reader)

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
