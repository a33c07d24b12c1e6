"""Slots, visits, idempotency records and the outbox in Spanner.

Hot paths read by key or key range through the Read API and write with mutations: on the emulator
any SQL statement scans its whole table, and in production it is the cheaper path anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.domain.booking import Channel, Slot, Visit, VisitStatus

SLOT_COLUMNS = ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked", "Voivodeship", "County", "Municipality")
VISIT_COLUMNS = (
    "PatientId", "VisitId", "SeriesId", "Dose", "Vaccine", "PointId", "StartsAt", "Status", "Channel", "CheckInCode",
)  # fmt: skip
SEARCH_INDEX = {
    "voivodeship": "FreeSlotsByVoivodeship",
    "county": "FreeSlotsByCounty",
    "municipality": "FreeSlotsByMunicipality",
}
INDEX_COLUMNS = ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked")


def slot_from_row(row: Sequence[Any]) -> Slot:
    return Slot(*row)


def visit_from_row(row: Sequence[Any]) -> Visit:
    values = list(row)
    values[7] = VisitStatus(values[7])
    values[8] = Channel(values[8])
    return Visit(*values)


def _prefix(*key: Any) -> KeySet:
    return KeySet(ranges=[KeyRange(start_closed=list(key), end_closed=list(key))])


class BookingStore:
    """Reads and writes for one transaction or snapshot (``reader`` is either)."""

    # --- reads -------------------------------------------------------------------------------

    def slot(self, reader: Any, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None:
        rows = list(reader.read("Slots", SLOT_COLUMNS, KeySet(keys=[[point_id, starts_at, vaccine]])))
        return slot_from_row(rows[0]) if rows else None

    def point_slots(self, reader: Any, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, start], end_closed=[point_id, end])])
        return [slot_from_row(row) for row in reader.read("Slots", SLOT_COLUMNS, keys)]

    def free_slots(
        self,
        reader: Any,
        level: str,
        region: str,
        vaccine: str,
        start: datetime,
        end: datetime,
        limit: int,
        after: tuple[datetime, str] | None = None,
        inclusive_after: bool = False,
    ) -> list[Slot]:
        """Free slots of one vaccine in a region, earliest first, from the index of free slots only."""
        if after is None:
            key_range = KeyRange(start_closed=[region, vaccine, start], end_closed=[region, vaccine, end])
        elif inclusive_after:
            key_range = KeyRange(start_closed=[region, vaccine, *after], end_closed=[region, vaccine, end])
        else:
            key_range = KeyRange(start_open=[region, vaccine, *after], end_closed=[region, vaccine, end])
        rows = reader.read("Slots", INDEX_COLUMNS, KeySet(ranges=[key_range]), index=SEARCH_INDEX[level], limit=limit)
        return [Slot(row[0], row[1], row[2], row[3], row[4]) for row in rows]

    def patient_visits(self, reader: Any, patient_id: str) -> list[Visit]:
        return [visit_from_row(row) for row in reader.read("Visits", VISIT_COLUMNS, _prefix(patient_id))]

    def visit_owner(self, reader: Any, visit_id: str) -> str | None:
        rows = list(reader.read("Visits", ("VisitId", "PatientId"), KeySet(keys=[[visit_id]]), index="VisitsById"))
        return str(rows[0][1]) if rows else None

    def point_visits(self, reader: Any, point_id: str, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(patient id, visit id) of every visit at a point between two moments."""
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, start], end_open=[point_id, end])])
        rows = reader.read("Visits", ("PointId", "StartsAt", "PatientId", "VisitId"), keys, index="VisitsByPoint")
        return [(str(row[2]), str(row[3])) for row in rows]

    def visits_by_keys(self, reader: Any, keys: list[tuple[str, str]]) -> list[Visit]:
        if not keys:
            return []
        return [
            visit_from_row(row) for row in reader.read("Visits", VISIT_COLUMNS, KeySet(keys=[list(k) for k in keys]))
        ]

    def idempotency_record(self, reader: Any, scope: str, key: str) -> tuple[str, int, str] | None:
        rows = list(
            reader.read(
                "IdempotencyRecords", ("RequestHash", "ResponseStatus", "ResponseBody"), KeySet(keys=[[scope, key]])
            )
        )
        return (str(rows[0][0]), int(rows[0][1]), str(rows[0][2])) if rows else None

    # --- writes (mutations, applied at commit) ------------------------------------------------

    def save_slots(self, transaction: Any, slots: Iterable[Slot]) -> None:
        values = [(s.point_id, s.starts_at, s.vaccine, s.booked, True if s.free_places > 0 else None) for s in slots]
        if values:
            transaction.update("Slots", ("PointId", "StartsAt", "Vaccine", "Booked", "FreeMarker"), values)

    def insert_visits(self, transaction: Any, visits: Iterable[Visit]) -> None:
        values = [(*_visit_values(v), v.booked_day, spanner.COMMIT_TIMESTAMP, spanner.COMMIT_TIMESTAMP) for v in visits]
        if values:
            transaction.insert("Visits", (*VISIT_COLUMNS, "BookedDay", "CreatedAt", "ChangedAt"), values)

    def update_visits(self, transaction: Any, visits: Iterable[Visit]) -> None:
        values = [
            (v.patient_id, v.visit_id, v.point_id, v.starts_at, str(v.status), v.booked_day, spanner.COMMIT_TIMESTAMP)
            for v in visits
        ]
        if values:
            transaction.update(
                "Visits", ("PatientId", "VisitId", "PointId", "StartsAt", "Status", "BookedDay", "ChangedAt"), values
            )

    def save_phone(self, transaction: Any, patient_id: str, phone: str) -> None:
        transaction.update(
            "Patients", ("PatientId", "Phone", "UpdatedAt"), [(patient_id, phone, spanner.COMMIT_TIMESTAMP)]
        )

    def record_idempotency(
        self, transaction: Any, scope: str, key: str, request_hash: str, status: int, body: str
    ) -> None:
        transaction.insert(
            "IdempotencyRecords",
            ("Scope", "IdempotencyKey", "RequestHash", "ResponseStatus", "ResponseBody", "CreatedAt"),
            [(scope, key, request_hash, status, body, spanner.COMMIT_TIMESTAMP)],
        )

    def add_to_outbox(self, transaction: Any, events: Iterable[dict[str, Any]]) -> None:
        values = [
            (e["event_id"], e["event_type"], json.dumps(e, default=str), spanner.COMMIT_TIMESTAMP, True) for e in events
        ]
        if values:
            transaction.insert("Outbox", ("EventId", "EventType", "Payload", "CreatedAt", "Pending"), values)


def _visit_values(visit: Visit) -> tuple[Any, ...]:
    return (
        visit.patient_id, visit.visit_id, visit.series_id, visit.dose, visit.vaccine, visit.point_id, visit.starts_at,
        str(visit.status), str(visit.channel), visit.check_in_code,
    )  # fmt: skip
