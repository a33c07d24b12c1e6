"""visit-events -> the national e-health platform: one FHIR Immunization per vaccination.

A recorded vaccination is created there conditionally on the visit's identifier (``If-None-Exist``),
so a retry after a lost answer never makes a second record; a voided one is updated (conditionally,
on the same identifier) to ``entered-in-error``. While the platform is down the call fails, Pub/Sub
redelivers with back-off (the subscription's policy in infra/topology.yaml) and dead-letters after
that; the log keeps each visit's record ``pending`` meanwhile, and the backlog is their count.
Events may arrive in any order: a void seen before its vaccination is kept and applied to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from shared.domain.events import VaccinationVoidedEvent, VisitEvent, vaccination_event
from shared.domain.immunization import ImmunizationFacts, immunization, validated, visit_identifier
from shared.domain.messages import PoisonMessage
from shared.domain.programme import Programme
from shared.services.ports import PatientReader

log = logging.getLogger(__name__)

State = Literal["pending", "sent", "waiting"]  # waiting: a void whose vaccination has not arrived


@dataclass(frozen=True)
class ImmunizationRecord:
    visit_id: str
    state: State
    resource: dict[str, Any] | None = None
    created: bool = False  # the platform holds the record (later changes are conditional updates)
    void_reason: str | None = None
    updated_at: datetime | None = None
    voided_at: datetime | None = None  # a vaccination recorded after it is a new record of the dose


class PlatformUnavailable(RuntimeError):
    """The platform did not answer or answered 5xx/429: retry later."""


class PlatformRejected(RuntimeError):
    """The platform refused the resource (4xx): retrying would not help."""


class FhirPlatform(Protocol):
    def create(self, resource: dict[str, Any], identifier: str) -> str:
        """Conditional create (``If-None-Exist: identifier=<identifier>``); the server's id."""
        ...

    def update(self, resource: dict[str, Any], identifier: str) -> str:
        """Conditional update (``PUT Immunization?identifier=<identifier>``); the server's id."""
        ...


class ImmunizationLog(Protocol):
    def get(self, visit_id: str) -> ImmunizationRecord | None: ...

    def save(self, record: ImmunizationRecord) -> None: ...

    def backlog(self) -> int:
        """Records still to reach the platform (pending)."""
        ...


class ImmunizationSender:
    def __init__(
        self,
        patients: PatientReader,
        platform: FhirPlatform,
        records: ImmunizationLog,
        programme: Callable[[], Programme | None],
        clock: Callable[[], datetime],
    ) -> None:
        self.patients = patients
        self.platform = platform
        self.records = records
        self.programme = programme
        self.clock = clock

    def handle(self, payload: Any) -> ImmunizationRecord | None:
        event = vaccination_event(payload)
        if isinstance(event, VisitEvent):
            return self.completed(event)
        return self.voided(event) if event is not None else None

    def completed(self, event: VisitEvent) -> ImmunizationRecord:
        patient = self.patients.patient(event.patient_ref)
        if patient is None:
            raise PoisonMessage("the vaccinated patient is unknown")
        programme = self.programme()
        vaccine = programme.vaccine(event.vaccine) if programme else None
        facts = ImmunizationFacts(
            visit_id=event.visit_id,
            pesel=patient.pesel,
            point_id=event.point_id,
            vaccine=event.vaccine,
            dose=event.dose,
            total_doses=vaccine.doses if vaccine else event.dose,
            lot=event.lot,
            vaccinated_at=event.occurred_at,
        )
        current = self.records.get(event.visit_id)
        voided = current is not None and current.void_reason is not None
        if voided and current is not None and current.voided_at is not None and event.occurred_at > current.voided_at:
            current = replace(current, void_reason=None, voided_at=None)  # recorded again after the void
            voided = False
        if voided and current is not None:
            resource = immunization(facts, "entered-in-error", current.void_reason)
        else:
            resource = immunization(facts)
        if current is not None and current.state == "sent" and current.resource == resource:
            return current  # a redelivery: the platform has it
        record = ImmunizationRecord(
            event.visit_id,
            "pending",
            resource,
            created=current.created if current else False,
            void_reason=current.void_reason if current else None,
            voided_at=current.voided_at if current else None,
        )
        return self._send(record)

    def voided(self, event: VaccinationVoidedEvent) -> ImmunizationRecord:
        current = self.records.get(event.visit_id)
        if current is None or current.resource is None:
            # The vaccination's own event has not arrived yet: it will be sent as entered-in-error.
            record = ImmunizationRecord(
                event.visit_id, "waiting", void_reason=event.reason, updated_at=self.clock(), voided_at=event.voided_at
            )
            self.records.save(record)
            return record
        if current.state == "sent" and current.resource.get("status") == "entered-in-error":
            return current
        resource = validated({**current.resource, "status": "entered-in-error", "note": [{"text": event.reason}]})
        voided = replace(
            current, state="pending", resource=resource, void_reason=event.reason, voided_at=event.voided_at
        )
        return self._send(voided)

    def _send(self, record: ImmunizationRecord) -> ImmunizationRecord:
        assert record.resource is not None
        self.records.save(replace(record, updated_at=self.clock()))
        identifier = visit_identifier(record.visit_id)
        try:
            if record.created:
                self.platform.update(record.resource, identifier)
            else:
                self.platform.create(record.resource, identifier)
                if record.resource.get("status") != "completed":
                    self.platform.update(record.resource, identifier)  # a void seen first: created as voided
        except PlatformRejected as refusal:
            raise PoisonMessage(f"the e-health platform refused the Immunization: {refusal}") from None
        except ValidationError:
            raise PoisonMessage("the Immunization is not valid FHIR") from None
        sent = replace(record, state="sent", created=True, updated_at=self.clock())
        self.records.save(sent)
        return sent

    def backlog(self) -> int:
        return self.records.backlog()
