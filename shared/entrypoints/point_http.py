"""HTTP handling of the points' back office: schedules, deliveries and stock, vaccinations, no-shows.

Point staff act on their own points, admins on any; the services check it against the visit or
point they load, and their refusals reach the client through ``Routes.dispatch``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import get_container
from shared.domain.booking import WARSAW
from shared.domain.contact import InvalidPhone, polish_mobile
from shared.domain.identity import POINT_ROLES, Principal, Role, is_valid_pesel
from shared.domain.ids import UUID_PATTERN
from shared.domain.schedule import ScheduleBlock, SlotsHaveVisits, day_bounds, slot_json
from shared.domain.vaccination import Actor
from shared.entrypoints.auth import guarded
from shared.entrypoints.point_json import day_cancelled_json, no_show_json, vaccination_json, voided_json
from shared.entrypoints.visit_http import idempotency_key, visits_response
from shared.entrypoints.web import (
    Day,
    Instant,
    Problem,
    bad_request,
    json_response,
    parse_json,
    parse_query,
    refusal_problem,
)
from shared.services.points import PointService
from shared.services.walkins import WalkIn

log = logging.getLogger(__name__)
UUID = re.compile(UUID_PATTERN)
CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"
VACCINE = r"^[a-z0-9-]{2,40}$"
LOT = r"^[A-Za-z0-9][A-Za-z0-9./-]{0,39}$"
MAX_SCHEDULE_DAYS = 31
NO_STORE = {"Cache-Control": "no-store"}


def actor_of(principal: Principal) -> Actor:
    assert principal.staff_id is not None
    point_ids = principal.point_ids if principal.roles & POINT_ROLES else frozenset()
    managed = frozenset(p for p in principal.point_ids if principal.manages_point(p))
    return Actor(
        principal.staff_id, frozenset(point_ids), admin=Role.ADMIN in principal.roles, managed_point_ids=managed
    )


def _audit(staff_id: str, action: str, at: datetime, **details: Any) -> None:
    """The staff audit trail; the action stands when the entry cannot be written (an alert, not a 500)."""
    try:
        get_container().audit.record(staff_id, action, at, **details)
    except Exception:
        log.exception("point action not audited", extra={"fields": {"action": action}})


def service() -> PointService:
    return get_container().point_office


def _visit_id(visit_id: str) -> str:
    if not UUID.match(visit_id):
        raise Problem(404, "visit_not_found", "Nie ma takiej wizyty")
    return visit_id


def _point_id(point_id: str) -> str:
    if not UUID.match(point_id):
        raise Problem(404, "point_not_found", "Nie ma takiego punktu szczepień")
    return point_id


def _minute(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


# --- schedule ------------------------------------------------------------------------------------


class ScheduleQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None


class BlockBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    day: Day
    from_: str = Field(alias="from", pattern=CLOCK)
    to: str = Field(pattern=CLOCK)
    slot_minutes: int = Field(ge=5, le=240)
    places: int = Field(ge=1, le=500)
    vaccine: str = Field(pattern=VACCINE)

    def block(self) -> ScheduleBlock:
        return ScheduleBlock(
            self.day, _minute(self.from_), _minute(self.to), self.slot_minutes, self.places, self.vaccine
        )


class ScheduleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocks: list[BlockBody] = Field(min_length=1, max_length=400)


@guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
def get_schedule(request: Request, principal: Principal, point_id: str) -> Response:
    query = parse_query(request, ScheduleQuery)
    today = datetime.now(UTC).astimezone(WARSAW).date()
    first = query.from_ or today
    last = query.to or first + timedelta(days=13)
    if last < first or (last - first).days >= MAX_SCHEDULE_DAYS:
        raise Problem(400, "invalid_range", "Nieprawidłowy zakres dni", detail=f"Najwyżej {MAX_SCHEDULE_DAYS} dni, "
                      "od 'from' do 'to' włącznie", field="to")  # fmt: skip
    slots = service().schedule(_point_id(point_id), day_bounds(first)[0], day_bounds(last)[1], actor_of(principal))
    body = {
        "point_id": point_id,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "slots": [slot_json(s) for s in slots],
    }
    return json_response(body, headers=NO_STORE)


@guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
def put_schedule(request: Request, principal: Principal, point_id: str) -> Response:
    body = parse_json(request, ScheduleBody)
    try:
        change = service().publish_schedule(
            _point_id(point_id), [b.block() for b in body.blocks], actor_of(principal), datetime.now(UTC)
        )
    except SlotsHaveVisits as refusal:
        problem = refusal_problem(refusal)
        problem.extra["slots"] = refusal.slots
        raise problem from None
    answer = {
        "point_id": point_id,
        "created": [slot_json(s) for s in change.created],
        "changed": [slot_json(s) for s in change.changed],
        "removed": [slot_json(s) for s in change.removed],
        "unchanged": change.unchanged,
        "past_kept": change.past_kept,
    }
    return json_response(answer, headers=NO_STORE)


# --- deliveries and stock ------------------------------------------------------------------------


class DeliveryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vaccine: str = Field(pattern=VACCINE)
    doses: int = Field(ge=1, le=1_000_000)
    lot: str = Field(pattern=LOT)
    delivered_at: Instant | None = None


@guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
def post_delivery(request: Request, principal: Principal, point_id: str) -> Response:
    body = parse_json(request, DeliveryBody)
    now = datetime.now(UTC)
    delivery, level = service().record_delivery(
        _point_id(point_id), body.vaccine, body.doses, body.lot, (body.delivered_at or now).astimezone(UTC),
        actor_of(principal), now,
    )  # fmt: skip
    return json_response({"delivery": delivery.as_json(), "stock": level.as_json()}, status=201, headers=NO_STORE)


@guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
def get_stock(request: Request, principal: Principal, point_id: str) -> Response:
    levels = service().stock(_point_id(point_id), actor_of(principal), datetime.now(UTC))
    point = get_container().points.get_many([point_id]).get(point_id)  # its name and address for the console
    body = {"point_id": point_id, "point": point.as_json() if point else None, "stock": [v.as_json() for v in levels]}
    return json_response(body, headers=NO_STORE)


# --- walk-ins ------------------------------------------------------------------------------------


class WalkInBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pesel: str = Field(pattern=r"^\d{11}$")
    vaccine: str = Field(pattern=VACCINE)
    phone: str | None = Field(default=None, max_length=32)
    given_name: str | None = Field(default=None, min_length=1, max_length=200)
    family_name: str | None = Field(default=None, min_length=1, max_length=200)
    check_in_code: str | None = Field(default=None, pattern=r"^\d{4}$")


@guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN, rate_limit="booking")
def post_walk_in(request: Request, principal: Principal, point_id: str) -> Response:
    """The patient is at the point: book the earliest free place from now, with the next doses.

    The answer carries the check-in codes: the patient is present and the point has checked the ID."""
    body = parse_json(request, WalkInBody)
    if not is_valid_pesel(body.pesel):
        raise bad_request("pesel", "Nieprawidłowy numer PESEL", code="invalid_pesel")
    try:
        phone = polish_mobile(body.phone) if body.phone is not None else None
    except InvalidPhone:
        raise bad_request("phone", "Podaj polski numer telefonu komórkowego", code="invalid_phone") from None
    walk_in = WalkIn(body.pesel, body.vaccine, phone, body.given_name, body.family_name, body.check_in_code)
    key = idempotency_key(request)
    change = get_container().walk_ins.book(_point_id(point_id), walk_in, actor_of(principal), datetime.now(UTC), key)
    return visits_response(change, status=201, with_code=True)


# --- vaccination and no-show ---------------------------------------------------------------------


class VaccinationBody(BaseModel):
    """``{lot, check_in_code}``, or ``{lot, identity_checked: true, reason}`` when the point checked an
    identity document instead (no SMS: a landline-only patient, or a lost code)."""

    model_config = ConfigDict(extra="forbid")

    lot: str = Field(pattern=LOT)
    check_in_code: str | None = Field(default=None, pattern=r"^\d{4}$")
    identity_checked: bool | None = None
    reason: str | None = Field(default=None, min_length=3, max_length=500)

    def identity_reason(self) -> str | None:
        """The reason when the identity check stands in for the code; a 400 naming the field otherwise."""
        if self.identity_checked:
            if self.check_in_code is not None:
                raise bad_request("check_in_code", "Podaj kod z SMS-a albo potwierdzenie tożsamości, nie oba")
            if self.reason is None or not self.reason.strip():
                raise bad_request("reason", "Podaj powód szczepienia bez kodu z SMS-a", code="reason_required")
            return self.reason.strip()
        if self.identity_checked is not None:
            raise bad_request("identity_checked", "Pole identity_checked może mieć tylko wartość true")
        if self.check_in_code is None:
            raise bad_request("check_in_code", "Podaj kod z SMS-a pacjenta", code="check_in_code_required")
        if self.reason is not None:
            raise bad_request("reason", "Powód podaje się tylko przy potwierdzeniu tożsamości")
        return None


@guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
def post_vaccination(request: Request, principal: Principal, visit_id: str) -> Response:
    body = parse_json(request, VaccinationBody)
    reason = body.identity_reason()
    actor, now = actor_of(principal), datetime.now(UTC)
    outcome = service().record_vaccination(_visit_id(visit_id), body.lot, body.check_in_code, actor, now, reason)
    if reason is not None:  # besides its row beside the vaccination, in the staff audit trail
        _audit(actor.staff_id, "vaccinate_identity_checked", now, status=201, visit_id=visit_id, reason=reason)
    return json_response(vaccination_json(outcome), status=201, headers=NO_STORE)


class CancelDayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)
    move_to: Day | None = None


class DayPath(BaseModel):
    day: Day


@guarded(Role.POINT_MANAGER, Role.ADMIN)
def post_cancel_day(request: Request, principal: Principal, point_id: str, day: str) -> Response:
    """A delivery failed: the day's visits are cancelled (or moved to ``move_to``), one SMS each."""
    try:
        on = DayPath.model_validate({"day": day}).day
    except ValueError:
        raise bad_request("day", "Podaj dzień jako RRRR-MM-DD") from None
    body = parse_json(request, CancelDayBody)
    reason = body.reason.strip()
    if len(reason) < 3:
        raise bad_request("reason", "Podaj powód odwołania dnia")
    actor, now = actor_of(principal), datetime.now(UTC)
    outcome = service().cancel_day(_point_id(point_id), on, reason, body.move_to, actor, now)
    _audit(
        actor.staff_id, "cancel_day", now, status=200, point_id=point_id, day=on.isoformat(), reason=reason,
        cancelled=outcome.cancelled, moved=outcome.moved,
    )  # fmt: skip
    return json_response(day_cancelled_json(outcome), headers=NO_STORE)


class VoidBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)


@guarded(Role.POINT_MANAGER, Role.ADMIN)
def post_void(request: Request, principal: Principal, visit_id: str) -> Response:
    """A point manager voids a dose recorded in the last 24 hours (a wrong patient, a wrong lot)."""
    body = parse_json(request, VoidBody)
    reason = body.reason.strip()
    if len(reason) < 3:
        raise bad_request("reason", "Podaj powód unieważnienia", code="reason_required")
    actor, now = actor_of(principal), datetime.now(UTC)
    outcome = service().void_vaccination(_visit_id(visit_id), reason, actor, now)
    _audit(actor.staff_id, "void_vaccination", now, status=200, visit_id=visit_id, reason=reason)
    return json_response(voided_json(outcome), headers=NO_STORE)


@guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
def post_no_show(request: Request, principal: Principal, visit_id: str) -> Response:
    outcome = service().mark_no_show(_visit_id(visit_id), actor_of(principal), datetime.now(UTC))
    return json_response(no_show_json(outcome), headers=NO_STORE)


ROUTES = {
    ("GET", "/api/v1/points/<point_id>/schedule"): get_schedule,
    ("PUT", "/api/v1/points/<point_id>/schedule"): put_schedule,
    ("POST", "/api/v1/points/<point_id>/deliveries"): post_delivery,
    ("POST", "/api/v1/points/<point_id>/visits"): post_walk_in,
    ("GET", "/api/v1/points/<point_id>/stock"): get_stock,
    ("POST", "/api/v1/visits/<visit_id>/vaccination"): post_vaccination,
    ("POST", "/api/v1/visits/<visit_id>/no-show"): post_no_show,
    ("POST", "/api/v1/visits/<visit_id>/vaccination:void"): post_void,
    ("POST", "/api/v1/points/<point_id>/days/<day>:cancel"): post_cancel_day,
}
