"""Visit events as published on ``visit-events`` (schema version 1, see docs/events.md).

They carry a pseudonymous patient reference, never the PESEL or the phone number.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from shared.domain.booking import Slot, Visit

SCHEMA_VERSION = 1

VISIT_BOOKED = "VisitBooked"
VISIT_MOVED = "VisitMoved"
VISIT_CANCELLED = "VisitCancelled"
VISIT_COMPLETED = "VisitCompleted"
VISIT_NO_SHOW = "VisitNoShow"
SCHEDULE_CHANGED = "ScheduleChanged"

AGE_BANDS = ((0, 17), (18, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79), (80, 200))


def age_band(birth_date: date, on: date) -> str:
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    low, high = next(band for band in AGE_BANDS if band[0] <= age <= band[1])
    return f"{low}+" if high >= 200 else f"{low}-{high}"


def visit_events(
    event_type: str,
    changed: Sequence[Visit],
    regions: Mapping[str, Slot],
    birth_date: date,
    series: Sequence[Visit],
    now: datetime,
    next_dose_from: datetime | None = None,
) -> list[dict[str, Any]]:
    """One event per visit changed together; each names the others in ``changed``.

    ``regions`` maps a point id to any slot of it (a slot carries its point's TERYT codes).
    """
    return [
        visit_event(event_type, visit, regions[visit.point_id], birth_date, series, changed, now, next_dose_from)
        for visit in changed
    ]


def visit_event(
    event_type: str,
    visit: Visit,
    region: Slot,
    birth_date: date,
    series: Sequence[Visit],
    changed: Sequence[Visit],
    now: datetime,
    next_dose_from: datetime | None = None,
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": SCHEMA_VERSION,
        "occurred_at": now.isoformat(),
        "visit_id": visit.visit_id,
        "series_id": visit.series_id,
        "patient_ref": visit.patient_id,
        "point_id": visit.point_id,
        "voivodeship": region.voivodeship,
        "county": region.county,
        "municipality": region.municipality,
        "vaccine": visit.vaccine,
        "dose": visit.dose,
        "channel": str(visit.channel),
        "status": str(visit.status),
        "starts_at": visit.starts_at.isoformat(),
        "age_band": age_band(birth_date, now.date()),
        "series": [
            {"visit_id": v.visit_id, "dose": v.dose, "point_id": v.point_id, "starts_at": v.starts_at.isoformat()}
            for v in series
        ],
        "changed": [v.visit_id for v in changed],
        "next_dose_from": next_dose_from.isoformat() if next_dose_from else None,
    }
