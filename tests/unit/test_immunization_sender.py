"""The FHIR Immunization to the e-health platform, on fakes: one record per vaccination whatever
the redeliveries and outages, entered-in-error when voided, and the backlog while it is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.immunization import Immunization

from shared.domain.messages import PoisonMessage
from shared.services.ehealth import ImmunizationSender, PlatformUnavailable
from tests.unit.fakes_certificates import FakeFhirPlatform, FakeImmunizationLog, FakePatients
from tests.unit.messaging_data import PROGRAMME, patient
from tests.unit.test_certificates import ISSUED_AT, completed_event, voided_event


class World:
    def __init__(self) -> None:
        self.someone = patient()
        self.platform = FakeFhirPlatform()
        self.log = FakeImmunizationLog()
        self.sender = ImmunizationSender(
            FakePatients(self.someone), self.platform, self.log, lambda: PROGRAMME, lambda: datetime.now(UTC)
        )

    def records(self, visit_id: str) -> list[dict[str, Any]]:
        """The platform's records of the visit, each valid FHIR."""
        found = self.platform.matching(f"urn:ereg:visit|{visit_id}")
        for record in found:
            Immunization.model_validate(record)
        return found


@pytest.fixture
def world() -> World:
    return World()


def test_a_vaccination_becomes_one_valid_immunization(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    world.sender.handle(event)
    world.sender.handle(event)  # redelivered
    [record] = world.records(event["visit_id"])
    assert record["status"] == "completed"
    assert record["patient"]["identifier"]["value"] == world.someone.pesel
    assert record["lotNumber"] == "FK1234"
    assert record["vaccineCode"]["coding"][0]["code"] == "EU/1/20/1528"
    assert record["protocolApplied"][0]["doseNumberPositiveInt"] == 1
    assert record["protocolApplied"][0]["seriesDosesPositiveInt"] == 2
    assert world.platform.calls == 1  # the redelivery found it sent
    assert world.sender.backlog() == 0


def test_an_outage_leaves_a_backlog_and_a_later_delivery_sends_exactly_one(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    world.platform.fail_next = 2
    for _ in range(2):
        with pytest.raises(PlatformUnavailable):
            world.sender.handle(event)  # Pub/Sub redelivers later
        assert world.sender.backlog() == 1
    world.sender.handle(event)
    assert len(world.records(event["visit_id"])) == 1
    assert world.sender.backlog() == 0


def test_a_lost_answer_does_not_make_a_second_record(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    world.sender.handle(event)
    world.log.records.clear()  # as if the "sent" mark was lost after the platform stored it
    world.sender.handle(event)
    assert len(world.records(event["visit_id"])) == 1


def test_a_voided_vaccination_is_entered_in_error(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    world.sender.handle(event)
    world.sender.handle(voided_event(event))
    world.sender.handle(voided_event(event))  # redelivered
    [record] = world.records(event["visit_id"])
    assert record["status"] == "entered-in-error"
    assert record["note"][0]["text"] == "wpis omyłkowy"
    world.sender.handle(event)  # the vaccination's event again: still entered-in-error
    [record] = world.records(event["visit_id"])
    assert record["status"] == "entered-in-error"


def test_a_dose_recorded_again_after_its_void_is_sent_as_completed(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    world.sender.handle(event)
    world.sender.handle(voided_event(event))
    again = {**completed_event(world.someone.patient_id, occurred_at=ISSUED_AT + timedelta(hours=2)),
             "visit_id": event["visit_id"]}  # fmt: skip
    world.sender.handle(again)
    [record] = world.records(event["visit_id"])
    assert record["status"] == "completed" and "note" not in record


def test_a_void_before_its_vaccination_is_applied_when_it_arrives(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    world.sender.handle(voided_event(event))
    assert world.records(event["visit_id"]) == [] and world.sender.backlog() == 0
    world.sender.handle(event)
    [record] = world.records(event["visit_id"])
    assert record["status"] == "entered-in-error"


def test_a_refused_record_goes_to_the_dead_letters(world: World) -> None:
    world.platform.reject_next = 1
    with pytest.raises(PoisonMessage):
        world.sender.handle(completed_event(world.someone.patient_id))


def test_other_events_send_nothing(world: World) -> None:
    event = completed_event(world.someone.patient_id, occurred_at=datetime(2026, 12, 1, tzinfo=UTC))
    assert world.sender.handle({**event, "event_type": "VisitBooked"}) is None
    assert world.platform.calls == 0
