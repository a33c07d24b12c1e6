"""What happens downstream of a visit event: SMS texts, sending them, reminders, the reporting feed.

Pub/Sub delivers at least once, so each step is idempotent on an id: an SMS request's id is derived
from the event (or, for reminders, from the visit and day) and the SMS log sends each id once;
BigQuery rows carry the event id and the reporting views count each event once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.bigquery_sink import ReportingWarehouse
from shared.adapters.firestore_db import SmsLog
from shared.adapters.pubsub_bus import MessageBus
from shared.adapters.sms_provider import PermanentSmsError, SmsProvider, TransientSmsError
from shared.adapters.spanner_booking import SpannerVisitReader, read_patient_visits
from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_patients import PatientRepository
from shared.domain.booking import Visit
from shared.domain.contact import InvalidPhone, polish_mobile
from shared.domain.events import VISIT_BOOKED, VISIT_CANCELLED, VISIT_MOVED
from shared.domain.programme import Programme
from shared.domain.sms import VisitFacts, booked_text, cancelled_text, encode, moved_text, reminder_text
from shared.services.ports import PointDirectory
from shared.topology import SMS_REQUESTS

log = logging.getLogger(__name__)

EVENT_FIELDS = ("event_id", "event_type", "visit_id", "patient_ref", "point_id", "voivodeship", "vaccine", "dose",
                "channel", "occurred_at", "changed")  # fmt: skip
SMS_FIELDS = ("request_id", "to", "text", "kind")


class PoisonMessage(ValueError):
    """A message no retry can process; it must end in the dead-letter topic."""


def parse_event(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or any(f not in payload for f in EVENT_FIELDS):
        raise PoisonMessage("not a visit event")
    if payload["event_type"] not in (VISIT_BOOKED, VISIT_MOVED, VISIT_CANCELLED):
        raise PoisonMessage("unknown event type")
    if not isinstance(payload["changed"], list) or not payload["changed"]:
        raise PoisonMessage("event names no changed visit")
    return payload


class Notifier:
    """visit-events -> sms-requests: one SMS per change (booking, move, cancellation)."""

    def __init__(
        self,
        database: SpannerDatabase,
        patients: PatientRepository,
        points: PointDirectory,
        programme: Callable[[], Programme | None],
        bus: MessageBus,
        transliterate: bool,
    ) -> None:
        self.database = database
        self.patients = patients
        self.points = points
        self.programme = programme
        self.bus = bus
        self.transliterate = transliterate

    def handle(self, event: dict[str, Any]) -> str | None:
        """Publish the SMS request for this event, if it is the one that speaks for its change."""
        event = parse_event(event)
        if event["visit_id"] != event["changed"][0]:
            return None  # the first visit of a change carries its message
        patient = self.patients.patient(event["patient_ref"])
        if patient is None or patient.phone is None:
            log.info("no phone on file: no SMS", extra={"fields": {"event_id": event["event_id"]}})
            return None
        with self.database.snapshot() as snapshot:
            visits = {v.visit_id: v for v in read_patient_visits(snapshot, patient.patient_id)}
        changed = [visits[v] for v in event["changed"] if v in visits]
        if not changed:
            return None
        facts = self._facts(changed)
        if event["event_type"] == VISIT_BOOKED:
            pending = event.get("next_dose_from")
            text = booked_text(facts[0], facts[1:], datetime.fromisoformat(pending) if pending else None)
        elif event["event_type"] == VISIT_MOVED:
            text = moved_text(facts[0])
        else:
            text = cancelled_text(facts[0])
        message = encode(text, self.transliterate)
        request = {
            "request_id": f"event-{event['event_id']}",
            "to": patient.phone,
            "text": message.text,
            "kind": event["event_type"],
            "visit_id": event["visit_id"],
            "encoding": message.encoding,
            "segments": message.segments,
        }
        self.bus.publish(SMS_REQUESTS, json.dumps(request).encode(), request_id=request["request_id"])
        return str(request["request_id"])

    def _facts(self, visits: list[Visit]) -> list[VisitFacts]:
        programme = self.programme()
        points = self.points.get_many(v.point_id for v in visits)
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


class SmsSender:
    """sms-requests -> the provider, each request id at most once."""

    def __init__(self, provider: SmsProvider, sms_log: SmsLog) -> None:
        self.provider = provider
        self.sms_log = sms_log

    def handle(self, request: Any, now: datetime) -> str:
        if not isinstance(request, dict) or any(not isinstance(request.get(f), str) for f in SMS_FIELDS):
            raise PoisonMessage("not an SMS request")
        request_id = request["request_id"]
        details = {k: request.get(k) for k in ("kind", "visit_id", "encoding", "segments")}
        fields = {"request_id": request_id, **details}
        try:
            to = polish_mobile(request["to"])
        except InvalidPhone:
            # Landline callers are reached by the call centre instead.
            self.sms_log.mark(request_id, "REJECTED", now, reason="not a Polish mobile", **details)
            log.warning("SMS refused: not a Polish mobile number", extra={"fields": fields})
            return "rejected"
        claim = self.sms_log.claim(request_id, details, now)
        if claim == "done":
            log.info("SMS already handled", extra={"fields": fields})
            return "duplicate"
        if claim == "busy":
            raise TransientSmsError("another delivery is sending this request")
        try:
            provider_id = self.provider.send(request_id, to, request["text"])
        except PermanentSmsError as error:
            self.sms_log.mark(request_id, "FAILED", now, reason=str(error))
            log.error("SMS refused by the provider", extra={"fields": {**fields, "reason": str(error)}})
            return "failed"
        except TransientSmsError as error:
            self.sms_log.mark(request_id, "RETRYING", now, reason=str(error))
            log.warning("SMS provider unavailable; Pub/Sub will retry", extra={"fields": fields})
            raise
        self.sms_log.mark(request_id, "SENT", now, provider_id=provider_id, sent_at=now)
        log.info("SMS sent", extra={"fields": fields})
        return "sent"


class Reminders:
    """A day-before reminder for every booked visit of a day, found through an index, paged."""

    def __init__(
        self,
        database: SpannerDatabase,
        patients: PatientRepository,
        points: PointDirectory,
        bus: MessageBus,
        transliterate: bool,
        page: int = 500,
    ) -> None:
        self.database = database
        self.patients = patients
        self.points = points
        self.bus = bus
        self.transliterate = transliterate
        self.page = page

    def run(self, day: date) -> int:
        requested = 0
        after: str | None = None
        while True:
            if after is None:
                keys = KeySet(ranges=[KeyRange(start_closed=[day], end_closed=[day])])
            else:
                keys = KeySet(ranges=[KeyRange(start_open=[day, after], end_closed=[day])])
            with self.database.snapshot() as snapshot:
                rows = list(
                    snapshot.read("Visits", ("BookedDay", "VisitId", "PatientId"), keys, index="BookedVisitsByDay",
                                  limit=self.page)
                )  # fmt: skip
            if not rows:
                return requested
            requested += self._remind([(str(r[2]), str(r[1])) for r in rows], day)
            after = str(rows[-1][1])

    def _remind(self, keys: list[tuple[str, str]], day: date) -> int:
        visits = [v for v in SpannerVisitReader(self.database)._by_keys(keys) if v.is_active]
        with self.database.snapshot() as snapshot:
            phones = {
                str(row[0]): row[1]
                for row in snapshot.read(
                    "Patients", ("PatientId", "Phone"), KeySet(keys=[[v.patient_id] for v in visits])
                )
            }
        points = self.points.get_many(v.point_id for v in visits)
        messages = []
        for visit in visits:
            phone, point = phones.get(visit.patient_id), points.get(visit.point_id)
            if not phone or point is None:
                continue
            facts = VisitFacts(
                visit.dose, visit.starts_at, visit.vaccine, point.name, point.address, visit.check_in_code
            )
            message = encode(reminder_text(facts), self.transliterate)
            request = {
                "request_id": f"reminder-{visit.visit_id}-{day.isoformat()}",
                "to": phone,
                "text": message.text,
                "kind": "Reminder",
                "visit_id": visit.visit_id,
                "encoding": message.encoding,
                "segments": message.segments,
            }
            messages.append((json.dumps(request).encode(), {"request_id": request["request_id"]}))
        taken = self.bus.publish_many(SMS_REQUESTS, messages)
        if not all(taken):
            raise TransientSmsError("Pub/Sub did not take every reminder")  # the tick is retried
        return len(messages)


def tomorrow(now: datetime) -> date:
    from shared.domain.booking import WARSAW

    return (now.astimezone(WARSAW) + timedelta(days=1)).date()


class EventStreamer:
    """visit-events -> BigQuery, one row per delivery; the reporting views count each event once."""

    def __init__(self, warehouse: ReportingWarehouse) -> None:
        self.warehouse = warehouse

    def handle(self, event: dict[str, Any], now: datetime) -> None:
        event = parse_event(event)
        row = {
            "event_id": event["event_id"],
            "event_type": event["event_type"],
            "schema_version": int(event.get("schema_version", 1)),
            "occurred_at": event["occurred_at"],
            "visit_id": event["visit_id"],
            "patient_ref": event["patient_ref"],
            "point_id": event["point_id"],
            "voivodeship": event["voivodeship"],
            "county": event.get("county"),
            "municipality": event.get("municipality"),
            "vaccine": event["vaccine"],
            "dose": int(event["dose"]),
            "channel": event["channel"],
            "starts_at": event.get("starts_at"),
            "age_band": event.get("age_band"),
            "inserted_at": now.astimezone(UTC).isoformat(),
        }
        self.warehouse.insert_rows("visit_events", [row], row_ids=[event["event_id"]])
