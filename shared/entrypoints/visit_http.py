"""HTTP handling of visits shared by the functions that book for someone or show visits: patients
(`visits`), agents (`agent`) and the points (`point`): bodies, the Idempotency-Key, visits as JSON."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.domain.booking import Channel, Visit, local_iso
from shared.domain.contact import InvalidPhone, polish_mobile
from shared.domain.ids import UUID_PATTERN as UUID
from shared.domain.points import Point
from shared.entrypoints.web import Instant, Problem, bad_request, json_response, parse_json
from shared.services.visits import BookingRequest, VisitsChanged, VisitService

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


class BookingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point_id: str = Field(pattern=UUID)
    starts_at: Instant
    vaccine: str = Field(pattern=r"^[a-z0-9-]{2,40}$")
    phone: str | None = Field(default=None, max_length=32)


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point_id: str = Field(pattern=UUID)
    starts_at: Instant


def booking_request(body: BookingBody) -> BookingRequest:
    try:
        phone = polish_mobile(body.phone) if body.phone is not None else None
    except InvalidPhone:
        raise bad_request("phone", "Podaj polski numer telefonu komórkowego", code="invalid_phone") from None
    return BookingRequest(body.point_id, body.starts_at.astimezone(UTC), body.vaccine, phone)


def request_fingerprint(request: BookingRequest) -> str:
    canonical = f"{request.point_id}|{request.starts_at.isoformat()}|{request.vaccine}|{request.phone}"
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise bad_request("Idempotency-Key", "Nagłówek Idempotency-Key jest wymagany", code="idempotency_key_required")
    if not IDEMPOTENCY_KEY.match(key):
        raise bad_request("Idempotency-Key", "Nieprawidłowy klucz Idempotency-Key")
    return key


def visit_json(visit: Visit, point: Point | None = None, *, with_code: bool) -> dict[str, Any]:
    """A visit as clients see it; the check-in code only for its patient."""
    body: dict[str, Any] = {
        "visit_id": visit.visit_id,
        "patient_id": visit.patient_id,
        "series_id": visit.series_id,
        "dose": visit.dose,
        "vaccine": visit.vaccine,
        "point_id": visit.point_id,
        "starts_at": local_iso(visit.starts_at),
        "status": str(visit.status),
        "channel": str(visit.channel),
    }
    if point is not None:
        body["point_name"], body["address"] = point.name, point.address
    if with_code:
        body["check_in_code"] = visit.check_in_code
    return body


def visits_response(
    change: VisitsChanged, status: int = 200, with_code: bool = True, extra: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {
        "visits": [visit_json(v, change.points.get(v.point_id), with_code=with_code) for v in change.visits],
        **(extra or {}),
    }
    if status == 201:
        pending = change.next_dose
        body["next_dose"] = (
            {"dose": pending.dose, "status": "TO_BE_BOOKED", "earliest": local_iso(pending.earliest),
             "latest": local_iso(pending.latest)}
            if pending
            else None
        )  # fmt: skip
    headers = {"Cache-Control": "no-store"}
    if change.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(body, status=status, headers=headers)


def book(
    visits: VisitService, request: Request, body: BookingBody, channel: Channel, patient_id: str, now: datetime
) -> Response:
    """Book for the patient themself (the answer carries their check-in code)."""
    key = idempotency_key(request)
    booking = booking_request(body)
    change = visits.book(patient_id, booking, channel, now, key, request_fingerprint(booking))
    return visits_response(change, status=201)


def listing(visits: VisitService, patient_id: str) -> Response:
    return visits_response(visits.list_for_patient(patient_id))


def move(
    visits: VisitService,
    request: Request,
    visit_id: str,
    actor_patient_id: str | None,
    now: datetime,
    with_code: bool = True,
) -> Response:
    body = parse_json(request, MoveBody)
    if not re.match(UUID, visit_id):
        raise Problem(404, "visit_not_found", "Nie ma takiej wizyty")
    change = visits.move(visit_id, body.point_id, body.starts_at.astimezone(UTC), actor_patient_id, now)
    return visits_response(change, with_code=with_code)


def cancel(visits: VisitService, visit_id: str, actor_patient_id: str | None, now: datetime) -> Response:
    if not re.match(UUID, visit_id):
        raise Problem(404, "visit_not_found", "Nie ma takiej wizyty")
    visits.cancel(visit_id, actor_patient_id, now)
    return Response(status=204)
