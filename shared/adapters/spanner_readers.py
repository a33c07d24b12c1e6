"""Visits and patients read outside any transaction (``VisitReader``, ``PatientReader``).

Each read is a single-use snapshot through the Read API, by key or by index key range: multi-use
read-only snapshots are not used, since the emulator drops them when other transactions start.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_booking import VISIT_COLUMNS, visit_from_row
from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_patients import PATIENT_COLUMNS
from shared.domain.booking import Visit
from shared.domain.patients import PatientRecord


class SpannerVisitReader:
    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def visits_of_patient(self, patient_id: str) -> list[Visit]:
        keys = KeySet(ranges=[KeyRange(start_closed=[patient_id], end_closed=[patient_id])])
        with self.database.snapshot() as snapshot:
            visits = [visit_from_row(row) for row in snapshot.read("Visits", VISIT_COLUMNS, keys)]
        return sorted(visits, key=lambda v: (v.starts_at, v.dose))

    def visits_at_point(self, point_id: str, start: datetime, end: datetime) -> list[Visit]:
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id, start], end_open=[point_id, end])])
        with self.database.snapshot() as snapshot:
            rows = snapshot.read("Visits", ("PointId", "StartsAt", "PatientId", "VisitId"), keys, index="VisitsByPoint")
            found = [(str(row[2]), str(row[3])) for row in rows]
        visits = self._by_keys(found)
        return sorted(visits, key=lambda v: (v.starts_at, v.visit_id))

    def booked_on_day(self, day: date, after_visit_id: str | None, limit: int) -> list[Visit]:
        while True:
            if after_visit_id is None:
                keys = KeySet(ranges=[KeyRange(start_closed=[day], end_closed=[day])])
            else:
                keys = KeySet(ranges=[KeyRange(start_open=[day, after_visit_id], end_closed=[day])])
            with self.database.snapshot() as snapshot:
                rows = list(
                    snapshot.read("Visits", ("BookedDay", "VisitId", "PatientId"), keys, index="BookedVisitsByDay",
                                  limit=limit)
                )  # fmt: skip
            if not rows:
                return []
            # The index row and the visit are read apart: a visit cancelled in between is left out,
            # and a page left empty by that reads on rather than ending the day early.
            visits = [v for v in self._by_keys([(str(r[2]), str(r[1])) for r in rows]) if v.is_active]
            if visits:
                return sorted(visits, key=lambda v: v.visit_id)
            after_visit_id = str(rows[-1][1])

    def _by_keys(self, keys: list[tuple[str, str]]) -> list[Visit]:
        if not keys:
            return []
        with self.database.snapshot() as snapshot:
            rows = snapshot.read("Visits", VISIT_COLUMNS, KeySet(keys=[list(k) for k in keys]))
            return [visit_from_row(row) for row in rows]


class SpannerPatientReader:
    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def patient(self, patient_id: str) -> PatientRecord | None:
        return self.patients([patient_id]).get(patient_id)

    def patients(self, patient_ids: Iterable[str]) -> dict[str, PatientRecord]:
        wanted = sorted(set(patient_ids))
        if not wanted:
            return {}
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("Patients", PATIENT_COLUMNS, KeySet(keys=[[p] for p in wanted])))
        return {str(row[0]): PatientRecord(*row) for row in rows}
