"""visit-events -> sms-requests: the one SMS a booking, move or cancellation deserves.

Pub/Sub delivers at least once: the request id is derived from the event id, so a redelivered event
makes the same request and the SMS log (see ``shared.services.sms``) sends it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from shared.domain.booking import Visit
from shared.domain.events import VISIT_BOOKED, VISIT_CANCELLED, VISIT_MOVED, PhoneChangedEvent, VisitEvent, parse_event
from shared.domain.points import Point
from shared.domain.programme import Programme
from shared.domain.sms import (
    SmsRequest,
    VisitFacts,
    booked_text,
    cancelled_text,
    change_request_id,
    moved_text,
    phone_changed_text,
)
from shared.services.ports import MessagePublisher, PatientReader, PointDirectory, VisitReader
from shared.topology import SMS_REQUESTS

log = logging.getLogger(__name__)


def visit_facts(visits: Iterable[Visit], points: dict[str, Point], programme: Programme | None) -> list[VisitFacts]:
    """What the texts say about each visit, in dose order."""
    facts = []
    for visit in sorted(visits, key=lambda v: v.dose):
        vaccine = programme.vaccine(visit.vaccine) if programme else None
        point = points.get(visit.point_id)
        facts.append(
            VisitFacts(
                dose=visit.dose,
                starts_at=visit.starts_at,
                vaccine_name=vaccine.name if vaccine else visit.vaccine,
                point_name=point.name if point else "punkt szczepień",
                address=point.address if point else "",
                check_in_code=visit.check_in_code,
            )
        )
    return facts


# Changes a patient is told of by SMS; a vaccination or a no-show the patient saw happen.
TEXTED = (VISIT_BOOKED, VISIT_MOVED, VISIT_CANCELLED)


def change_text(event: VisitEvent, facts: list[VisitFacts]) -> str | None:
    """The text for a change, or None for a kind of event that sends no SMS."""
    if event.event_type == VISIT_BOOKED:
        return booked_text(facts[0], facts[1:], event.next_dose_from)
    if event.event_type == VISIT_MOVED:
        return moved_text(facts[0])
    if event.event_type == VISIT_CANCELLED:
        return cancelled_text(facts[0])
    return None


class PhoneHistory(Protocol):
    def previous_phone(self, patient_id: str) -> str | None:
        """The number the patient had before their last change."""
        ...


class Notifier:
    """visit-events -> sms-requests: one SMS per change (booking, move, cancellation)."""

    def __init__(
        self,
        patients: PatientReader,
        visits: VisitReader,
        points: PointDirectory,
        programme: Callable[[], Programme | None],
        bus: MessagePublisher,
        transliterate: bool,
        phones: PhoneHistory | None = None,
    ) -> None:
        self.patients = patients
        self.visits = visits
        self.points = points
        self.programme = programme
        self.bus = bus
        self.transliterate = transliterate
        self.phones = phones

    def handle(self, payload: Any) -> str | None:
        """Publish the SMS request for this event if it speaks for its change; returns the request id."""
        event = parse_event(payload)
        if isinstance(event, PhoneChangedEvent):
            return self._tell_old_number(event)
        if not isinstance(event, VisitEvent) or event.event_type not in TEXTED or not event.carries_message:
            return None  # no SMS for this kind of event; or not the first visit of a change, which speaks for it
        patient = self.patients.patient(event.patient_ref)
        if patient is None or patient.phone is None:
            log.info("no phone on file: no SMS", extra={"fields": {"event_id": event.event_id}})
            return None
        visits = {v.visit_id: v for v in self.visits.visits_of_patient(patient.patient_id)}
        changed = [visits[v] for v in event.changed if v in visits]
        if not changed:
            return None
        points = self.points.get_many(v.point_id for v in changed)
        text = change_text(event, visit_facts(changed, points, self.programme()))
        if text is None:
            return None
        request = SmsRequest.compose(
            change_request_id(event.event_id), patient.phone, text, event.event_type, event.visit_id,
            self.transliterate,
        )  # fmt: skip
        data, _ = request.message()
        self.bus.publish(SMS_REQUESTS, data, request_id=request.request_id)
        return request.request_id

    def _tell_old_number(self, event: PhoneChangedEvent) -> str | None:
        """A booking replaced the patient's mobile: the number before it hears of the change."""
        patient = self.patients.patient(event.patient_ref)
        old = self.phones.previous_phone(event.patient_ref) if self.phones else None
        if patient is None or patient.phone is None or old is None or old == patient.phone:
            return None
        request = SmsRequest.compose(
            change_request_id(event.event_id), old, phone_changed_text(patient.phone), event.event_type, "",
            self.transliterate,
        )  # fmt: skip
        data, _ = request.message()
        self.bus.publish(SMS_REQUESTS, data, request_id=request.request_id)
        return request.request_id
