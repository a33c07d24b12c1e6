"""A voided dose is counted out of the vaccination views, unless recorded again after the void (over
the bqemulator, through the reporting feed's own handling of VaccinationVoided)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from emulators.provision import ensure_bigquery
from shared.bootstrap import Container, build_container
from shared.services.reporting_feed import EventStreamer
from tests.conftest import isolated_settings
from tests.integration.reporting_data import P1, _visit_row, at
from tests.integration.test_reporting_views import view

D10 = date(2026, 3, 10)


def voided(visit_id: str, patient: str, moment: str) -> dict[str, object]:
    return {"event_type": "VaccinationVoided", "event_id": str(uuid.uuid4()), "schema_version": 1,
            "occurred_at": at(moment), "visit_id": visit_id,
            "patient_id": patient, "point_id": P1, "dose": 1, "vaccine": "comirnaty", "voided_at": at(moment),
            "reason": "zły pacjent"}  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(emulator_env: dict[str, str]) -> Iterator[Container]:
    container = build_container(isolated_settings())
    ensure_bigquery(container.warehouse.client, container.settings)
    completed = [
        ("a", "p1", "10 10:00:00"),  # stands
        ("b", "p2", "10 11:00:00"),  # voided at 12:00
        ("c", "p3", "10 11:00:00"),  # voided at 12:00, recorded again at 13:00
        ("c", "p3", "10 13:00:00"),
    ]
    rows = [
        _visit_row(f"e{n}", "Completed", moment, visit, patient, P1, "comirnaty", 1, "POINT", "10 09:00:00",
                   "60-69", moment)
        for n, (visit, patient, moment) in enumerate(completed)
    ]  # fmt: skip
    container.warehouse.insert_rows("visit_events", rows, row_ids=[r["event_id"] for r in rows])
    streamer = EventStreamer(container.warehouse)
    for visit, patient in (("b", "p2"), ("c", "p3")):
        streamer.handle(voided(visit, patient, "10 12:00:00"), datetime.now(UTC))
    yield container
    container.warehouse.client.delete_dataset(
        f"{container.settings.project_id}.{container.settings.bigquery_dataset}", delete_contents=True
    )


def test_a_voided_dose_is_counted_out_and_a_dose_recorded_again_counts_once(warehouse: Container) -> None:
    assert view(warehouse, "vaccination_voids", "visit_id, patient_ref", "visit_id") == [("b", "p2"), ("c", "p3")]
    assert view(warehouse, "vaccinations_by_region", "*", "day") == [(D10, "14", "1465", "comirnaty", 1, "60-69", 2)]
    assert view(warehouse, "vaccinated_people_by_age_band", "*", "day") == [(D10, "60-69", 2, 2)]
