"""HTTP handling of visits shared by the functions that book for someone: patients and agents."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from flask import Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.bootstrap import get_container
from shared.domain.booking import Channel, Visit
from shared.domain.contact import InvalidPhone, polish_mobile
from shared.entrypoints.web import Problem, bad_request, json_response, parse_json
from shared.services.visits import Answer, BookingRequest, visit_json

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class BookingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point_id: str = Field(pattern=UUID)
    starts_at: AwareDatetime
    vaccine: str = Field(pattern=r"^[a-z0-9-]{2,40}$")
    phone: str | None = Field(default=None, max_length=32)


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point_id: str = Field(pattern=UUID)
    starts_at: AwareDatetime


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


def answer_response(answer: Answer) -> Response:
    get_container().relay.publish(answer.events)  # right after commit; the sweep covers any miss
    if answer.status == 204:
        return Response(status=204)
    headers = {"Cache-Control": "no-store"}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(with_points(answer.body), status=answer.status, headers=headers)


def with_points(body: dict[str, Any]) -> dict[str, Any]:
    """Add each visit's point name and address (what the patient needs to get there)."""
    visits = body.get("visits", [])
    points = get_container().points.get_many(v["point_id"] for v in visits)
    for visit in visits:
        point = points.get(visit["point_id"])
        visit["point_name"] = point.name if point else None
        visit["address"] = point.address if point else None
    return body


def book(request: Request, body: BookingBody, channel: Channel, patient_id: str) -> Response:
    key = idempotency_key(request)
    booking = booking_request(body)
    answer = get_container().visits.book(
        patient_id, booking, channel, datetime.now(UTC), key, request_fingerprint(booking)
    )
    return answer_response(answer)


def listing(visits: list[Visit]) -> Response:
    body = {"visits": [visit_json(v, with_code=True) for v in visits]}
    return json_response(with_points(body), headers={"Cache-Control": "no-store"})


def move(request: Request, visit_id: str, actor_patient_id: str | None) -> Response:
    body = parse_json(request, MoveBody)
    if not re.match(UUID, visit_id):
        raise Problem(404, "visit_not_found", "Nie ma takiej wizyty")
    answer = get_container().visits.move(
        visit_id, body.point_id, body.starts_at.astimezone(UTC), actor_patient_id, datetime.now(UTC)
    )
    return answer_response(answer)


def cancel(visit_id: str, actor_patient_id: str | None) -> Response:
    if not re.match(UUID, visit_id):
        raise Problem(404, "visit_not_found", "Nie ma takiej wizyty")
    answer = get_container().visits.cancel(visit_id, actor_patient_id, datetime.now(UTC))
    return answer_response(answer)
