"""Visits, patients and points for the messaging unit tests (no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.domain.booking import Channel, Slot, Visit, VisitStatus
from shared.domain.events import visit_events
from shared.domain.patients import PatientRecord
from shared.domain.points import Point
from shared.domain.programme import Programme, Vaccine
from tests.unit.fakes import FakeStore

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
PHONE = "+48601234567"
BIRTH = date(1980, 5, 17)

POINT = Point(str(uuid.uuid4()), "Przychodnia Zdrowie", "14", "1465", "1465011", "Warszawa", "ul. Długa 1", "00-001",
              ["comirnaty"], True)  # fmt: skip
PROGRAMME = Programme(
    version=1,
    vaccines=[Vaccine(code="comirnaty", name="Comirnaty", doses=2, interval_min_days=21, interval_max_days=42)],
    cohorts=[],
)


def save(store: FakeStore, patients: Iterable[PatientRecord] = (), visits: Iterable[Visit] = ()) -> None:
    """Patients and visits as committed bookings left them."""
    for someone in patients:
        store.add_patient(someone)
    store.state.visits.update((v.visit_id, v) for v in visits)


def patient(phone: str | None = PHONE) -> PatientRecord:
    pesel = f"{uuid.uuid4().int % 10**11:011d}"  # unique (Spanner indexes it); not checked here
    return PatientRecord(str(uuid.uuid4()), pesel, "Jan", "Testowy", BIRTH, phone)


def visit(
    patient_id: str,
    starts_at: datetime,
    dose: int = 1,
    status: VisitStatus = VisitStatus.BOOKED,
    series_id: str | None = None,
    point: Point = POINT,
) -> Visit:
    return Visit(patient_id, str(uuid.uuid4()), series_id or str(uuid.uuid4()), dose, "comirnaty", point.point_id,
                 starts_at, status, Channel.WEB, "0427")  # fmt: skip


def series(patient_id: str, first: datetime, doses: int = 2) -> list[Visit]:
    series_id = str(uuid.uuid4())
    return [visit(patient_id, first + timedelta(days=21 * i), i + 1, series_id=series_id) for i in range(doses)]


def events(
    event_type: str, changed: list[Visit], all_of_series: list[Visit], next_dose_from: datetime | None = None
) -> list[dict[str, Any]]:
    """The events a change makes, as the producer writes them to the outbox."""
    region = Slot(POINT.point_id, NOW, "comirnaty", 10, 1, POINT.voivodeship, POINT.county, POINT.municipality)
    return visit_events(event_type, changed, {POINT.point_id: region}, BIRTH, all_of_series, NOW, next_dose_from)
