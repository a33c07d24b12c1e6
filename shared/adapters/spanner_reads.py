"""Reads of slots and visits in Spanner outside any transaction (search's free slots, visit lists),
and the row mappings and range reads that the transaction adapter (``spanner_transaction.py``)
shares with them.

Hot paths read by key or key range through the Read API: on the emulator any SQL statement scans
its whole table, and in production it is the cheaper path anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_db import SpannerDatabase
from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import Channel, Slot, Visit, VisitStatus

T = TypeVar("T")

SLOT_COLUMNS = ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked", "Voivodeship", "County", "Municipality")
VISIT_COLUMNS = (
    "PatientId", "VisitId", "SeriesId", "Dose", "Vaccine", "PointId", "StartsAt", "Status", "Channel", "CheckInCode",
)  # fmt: skip
SEARCH_INDEX = {
    Level.VOIVODESHIP: "FreeSlotsByVoivodeship",
    Level.COUNTY: "FreeSlotsByCounty",
    Level.MUNICIPALITY: "FreeSlotsByMunicipality",
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


class SpannerVisitReader:
    """Visits outside any transaction: single-use snapshot reads (multi-use snapshots were dropped
    by the emulator under concurrency)."""

    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def visits_of_patient(self, patient_id: str) -> list[Visit]:
        with self.database.snapshot() as snapshot:
            return read_patient_visits(snapshot, patient_id)

    def visits_at_point(self, point_id: str, start: datetime, end: datetime) -> list[Visit]:
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, start], end_open=[point_id, end])])
        with self.database.snapshot() as snapshot:
            rows = snapshot.read("Visits", ("PointId", "StartsAt", "PatientId", "VisitId"), keys, index="VisitsByPoint")
            found = [(str(row[2]), str(row[3])) for row in rows]
        return self._by_keys(found)

    def booked_on_day(self, day: date, after_visit_id: str | None, limit: int) -> list[Visit]:
        columns = ("BookedDay", "VisitId", "PatientId")
        while True:
            if after_visit_id is None:
                keys = KeySet(ranges=[KeyRange(start_closed=[day], end_closed=[day])])
            else:
                keys = KeySet(ranges=[KeyRange(start_open=[day, after_visit_id], end_closed=[day])])
            with self.database.snapshot() as snapshot:
                rows = snapshot.read("Visits", columns, keys, index="BookedVisitsByDay", limit=limit)
                found = [(str(row[2]), str(row[1])) for row in rows]
            if not found:
                return []
            visits = {v.visit_id: v for v in self._by_keys(found)}
            page = [visits[visit_id] for _, visit_id in found if visit_id in visits and visits[visit_id].is_active]
            if page:
                return page
            # Every visit of this page changed between the index read and the row read: read on, so an
            # empty page still means the end of the day.
            after_visit_id = found[-1][1]

    def _by_keys(self, keys: list[tuple[str, str]]) -> list[Visit]:
        if not keys:
            return []
        with self.database.snapshot() as snapshot:
            rows = snapshot.read("Visits", VISIT_COLUMNS, KeySet(keys=[list(k) for k in keys]))
            return [visit_from_row(row) for row in rows]


class SpannerFreeSlots:
    """Search's reads: single-use snapshots, optionally stale by a few seconds (no locks, and any
    replica can answer in production)."""

    def __init__(self, database: SpannerDatabase, staleness_s: float) -> None:
        self.database = database
        self.staleness = timedelta(seconds=staleness_s)

    def _snapshot(self) -> Any:
        if self.staleness.total_seconds() > 0:
            return self.database.snapshot(exact_staleness=self.staleness)
        return self.database.snapshot()

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        with self._snapshot() as snapshot:
            return read_point_slots(snapshot, point_id, start, end, offered_only=True)

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        with self._snapshot() as snapshot:
            if query.level == Level.POINT:  # the point's own slots: a key range of the table, not an index
                found = [
                    s
                    for s in read_point_slots(snapshot, query.region, query.start, query.end, offered_only=True)
                    if s.vaccine == query.vaccine and s.free_places > 0 and query.follows(s)
                ]
                return found[: query.limit]
            return read_free_slots(snapshot, query)


def read_point_slots(
    reader: Any, point_id: str, start: datetime, end: datetime, offered_only: bool = False
) -> list[Slot]:
    """A point's slots in [start, end]; ``offered_only``: those search may show (with free places, at
    a point that is not suspended: suspending one clears its slots' ``FreeMarker``)."""
    keys = KeySet(ranges=[KeyRange(start_closed=[point_id, start], end_closed=[point_id, end])])
    if not offered_only:
        return [slot_from_row(row) for row in reader.read("Slots", SLOT_COLUMNS, keys)]
    rows = reader.read("Slots", (*SLOT_COLUMNS, "FreeMarker"), keys)
    return [slot_from_row(row[: len(SLOT_COLUMNS)]) for row in rows if row[len(SLOT_COLUMNS)]]


def read_free_slots(reader: Any, query: SlotQuery) -> list[Slot]:
    """Free slots of one vaccine in a region, earliest first, from the index of free slots only."""
    region, vaccine, after = query.region, query.vaccine, query.after
    end = [region, vaccine, query.end]
    if after is None:
        key_range = KeyRange(start_closed=[region, vaccine, query.start], end_closed=end)
    elif query.inclusive_after:
        key_range = KeyRange(start_closed=[region, vaccine, *after], end_closed=end)
    else:
        key_range = KeyRange(start_open=[region, vaccine, *after], end_closed=end)
    index = SEARCH_INDEX[query.level]
    rows = reader.read("Slots", INDEX_COLUMNS, KeySet(ranges=[key_range]), index=index, limit=query.limit)
    return [Slot(row[0], row[1], row[2], row[3], row[4]) for row in rows]


def read_patient_visits(reader: Any, patient_id: str) -> list[Visit]:
    return [visit_from_row(row) for row in reader.read("Visits", VISIT_COLUMNS, _prefix(patient_id))]
