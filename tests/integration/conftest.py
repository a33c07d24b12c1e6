from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from emulators.provision import provision, remove_pubsub
from emulators.seed import SLOT_COLUMNS, demo_programme, pesel_for
from shared.adapters.spanner_points import POINT_COLUMNS
from shared.adapters.spanner_reads import SpannerVisitReader
from shared.adapters.spanner_transaction import SpannerTransactions
from shared.bootstrap import Container, build_container
from shared.domain.identity import Person
from shared.domain.local_time import WARSAW
from shared.domain.programme import Programme
from shared.services.ports import EventPublisher
from shared.services.visits import VisitService
from tests.conftest import isolated_settings


@pytest.fixture
def backends(emulator_env: dict[str, str]) -> Iterator[Container]:
    """A provisioned container on names of this test's own; dropped afterwards."""
    container = build_container(isolated_settings())
    provision(container.settings, container.warehouse.client)
    yield container
    remove_pubsub(container.settings)
    container.spanner.database.drop()
    container.warehouse.client.delete_dataset(
        f"{container.settings.project_id}.{container.settings.bigquery_dataset}", delete_contents=True
    )


NOW = datetime.now(UTC).replace(microsecond=0)
_serial = itertools.count(1)


def add_point(container: Container, slots: list[tuple[datetime, str, int]]) -> str:
    """A vaccination point in Warsaw with the given (start, vaccine, capacity) slots; returns its id."""
    point_id = str(uuid.uuid4())
    with container.spanner.batch() as batch:
        batch.insert(
            "Points",
            columns=POINT_COLUMNS,
            values=[(point_id, "Punkt testowy", "14", "1465", "1465011", "Warszawa", "ul. Długa 1", "00-001",
                     sorted({v for _, v, _ in slots}), True)],
        )  # fmt: skip
        batch.insert(
            "Slots",
            columns=SLOT_COLUMNS,
            values=[(point_id, start, vaccine, capacity, 0, "14", "1465", "1465011", True)
                    for start, vaccine, capacity in slots],
        )  # fmt: skip
    return point_id


def add_patient(container: Container, birth: date = date(1980, 1, 1)) -> str:
    """A registered patient with a valid e-referral; returns the patient id."""
    person = Person(pesel_for(birth, next(_serial), female=False), "Jan", "Testowy")
    patient, _ = container.patients.register(person, NOW, issue_referral=True, referral_valid_days=180, issued_by="t")
    with container.spanner.batch() as batch:
        batch.update("Patients", columns=("PatientId", "Phone"), values=[(patient.patient_id, "+48601234567")])
    return patient.patient_id


class CapturedEvents:
    """An event publisher that keeps what each change handed it, and passes it on to ``then`` if given
    (without one, events stay pending in the outbox, as when Pub/Sub is down)."""

    def __init__(self, then: EventPublisher | None = None) -> None:
        self.then = then
        self.events: list[dict[str, Any]] = []
        self.published: list[int] = []

    def publish(self, events: Sequence[dict[str, Any]]) -> int:
        self.events += events
        self.published.append(self.then.publish(events) if self.then else 0)
        return self.published[-1]


def visit_service(
    container: Container, programme: Programme | None = None, events: EventPublisher | None = None
) -> VisitService:
    """The visit service on the real Spanner adapters, with a programme of the test's own."""
    chosen = programme or demo_programme(NOW)
    return VisitService(
        SpannerTransactions(container.spanner),
        SpannerVisitReader(container.spanner),
        container.patients,
        container.points,
        events or CapturedEvents(),
        lambda: chosen,
    )


def at(days: int, hour: int) -> datetime:
    """A local (Warsaw) hour ``days`` from today, as the UTC instant Spanner keys hold."""
    day = NOW.astimezone(WARSAW).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)
