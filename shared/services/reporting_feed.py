"""visit-events -> BigQuery: the ministry's reporting feed.

One row per delivery, with the event id as the insert id; BigQuery's de-duplication is best effort,
so the reporting views count each event id once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.domain.events import ScheduleChangedEvent, VaccinationVoidedEvent, VisitEvent, parse_event

VISIT_EVENTS_TABLE = "visit_events"
SCHEDULE_EVENTS_TABLE = "schedule_events"
SMS_EVENTS_TABLE = "sms_events"
VOIDS_TABLE = "vaccination_voids"


class Warehouse(Protocol):
    """The reporting dataset."""

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]], row_ids: Sequence[str]) -> None:
        """Stream rows into a table; ``row_ids`` are their insert ids. Raises if any row was refused."""
        ...


def visit_event_row(event: VisitEvent, inserted_at: datetime) -> dict[str, Any]:
    """The ``reporting.visit_events`` row of an event (see infra/schema/bigquery/visit_events.json)."""
    return {
        "event_id": event.event_id,
        "event_type": str(event.event_type),
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat(),
        "visit_id": event.visit_id,
        "patient_ref": event.patient_ref,
        "point_id": event.point_id,
        "voivodeship": event.voivodeship,
        "county": event.county,
        "municipality": event.municipality,
        "vaccine": event.vaccine,
        "dose": event.dose,
        "channel": str(event.channel),
        "starts_at": event.starts_at.isoformat(),
        "age_band": event.age_band,
        "status": str(event.status),
        "lot": event.lot,
        "inserted_at": inserted_at.astimezone(UTC).isoformat(),
    }


def schedule_event_row(event: ScheduleChangedEvent, inserted_at: datetime) -> dict[str, Any]:
    """The ``reporting.schedule_events`` row of an event (see infra/schema/bigquery/schedule_events.json)."""
    return {
        "event_id": event.event_id,
        "event_type": str(event.event_type),
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat(),
        "change": event.change,
        "point_id": event.point_id,
        "voivodeship": event.voivodeship,
        "county": event.county,
        "municipality": event.municipality,
        "starts_at": event.starts_at.isoformat(),
        "vaccine": event.vaccine,
        "capacity": event.capacity,
        "booked": event.booked,
        "inserted_at": inserted_at.astimezone(UTC).isoformat(),
    }


def void_row(event: VaccinationVoidedEvent, inserted_at: datetime) -> dict[str, Any]:
    """The ``reporting.vaccination_voids`` row of a voided dose (infra/schema/bigquery/vaccination_voids.json):
    the event without its free-text reason, its patient named ``patient_ref`` as in the other tables."""
    row = event.model_dump(mode="json", include={"event_id", "visit_id", "point_id", "dose", "vaccine", "voided_at"})
    return {**row, "patient_ref": event.patient_id, "inserted_at": inserted_at.astimezone(UTC).isoformat()}


def sms_event_row(
    request_id: str, kind: str, status: str, encoding: str | None, segments: int | None, occurred_at: datetime
) -> dict[str, Any]:
    """The ``reporting.sms_events`` row of an SMS outcome (infra/schema/bigquery/sms_events.json): never
    the number or the text."""
    return {
        "request_id": request_id,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
        "kind": kind,
        "status": status,
        "encoding": encoding,
        "segments": segments,
        "inserted_at": occurred_at.astimezone(UTC).isoformat(),
    }


class EventStreamer:
    """visit-events -> BigQuery, one row per delivery; the reporting views count each event once."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def handle(self, payload: Any, now: datetime) -> None:
        event = parse_event(payload)
        if isinstance(event, VisitEvent):
            self.warehouse.insert_rows(VISIT_EVENTS_TABLE, [visit_event_row(event, now)], row_ids=[event.event_id])
        elif isinstance(event, VaccinationVoidedEvent):
            self.warehouse.insert_rows(VOIDS_TABLE, [void_row(event, now)], row_ids=[event.event_id])
        elif isinstance(event, ScheduleChangedEvent):
            self.warehouse.insert_rows(
                SCHEDULE_EVENTS_TABLE, [schedule_event_row(event, now)], row_ids=[event.event_id]
            )
        # A VaccinationVoided event has no table of its own yet: the visit's rows stay as they were.
