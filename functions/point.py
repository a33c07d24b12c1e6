"""`point`: the work of a vaccination point (the point service), for its staff (admins on any point).

GET /api/v1/points/{id}/visits?day=&q= (the day's list; q: start of the surname);
POST /api/v1/points/{id}/visits (a walk-in); GET/PUT /api/v1/points/{id}/schedule;
POST /api/v1/points/{id}/deliveries; GET /api/v1/points/{id}/stock;
POST /api/v1/points/{id}/days/{day}:cancel; POST /api/v1/visits/{id}/vaccination,
/api/v1/visits/{id}/vaccination:void and /api/v1/visits/{id}/no-show;
POST/GET /api/v1/points/{id}/staff and DELETE /api/v1/points/{id}/staff/{staff_ref} (who works
there: its managers, the coordinator of its voivodeship, admins; a person is named in URLs by their
staff_ref, a PESEL only in a body).

The services check that the actor may act on the visit or point they load; their refusals reach
the client through ``Routes.dispatch``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import Container, get_container
from shared.domain.booking import WARSAW
from shared.domain.contact import InvalidPhone, polish_mobile
from shared.domain.identity import POINT_ROLES, Principal, Role
from shared.domain.schedule import ScheduleBlock, SlotsHaveVisits, day_bounds, slot_json
from shared.domain.vaccination import Actor, check_point
from shared.entrypoints.auth import guarded
from shared.entrypoints.checks import (
    NO_STORE,
    STAFF_REF,
    AuditTrail,
    checked_pesel,
    point_id_in_path,
    visit_id_in_path,
)
from shared.entrypoints.point_json import day_cancelled_json, no_show_json, vaccination_json, voided_json
from shared.entrypoints.visit_http import idempotency_key, visit_json, visits_response
from shared.entrypoints.web import (
    Clock,
    Day,
    Instant,
    LazyRoutes,
    Problem,
    Routes,
    RouteTable,
    bad_request,
    json_response,
    parse_json,
    parse_query,
    refusal_problem,
    utc_now,
)
from shared.services.points import PointService
from shared.services.ports import PointDirectory
from shared.services.registry import StaffRegistry
from shared.services.visits import VisitService
from shared.services.walkins import WalkIn, WalkIns

log = logging.getLogger(__name__)
CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"
VACCINE = r"^[a-z0-9-]{2,40}$"
LOT = r"^[A-Za-z0-9][A-Za-z0-9./-]{0,39}$"
MAX_SCHEDULE_DAYS = 31


def actor_of(principal: Principal) -> Actor:
    assert principal.staff_id is not None
    point_ids = principal.point_ids if principal.roles & POINT_ROLES else frozenset()
    managed = frozenset(p for p in principal.point_ids if principal.manages_point(p))
    return Actor(
        principal.staff_id, frozenset(point_ids), admin=Role.ADMIN in principal.roles, managed_point_ids=managed
    )


class DayQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    day: Day
    q: str | None = Field(default=None, min_length=1, max_length=100)


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


# --- deliveries and stock ------------------------------------------------------------------------


class DeliveryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vaccine: str = Field(pattern=VACCINE)
    doses: int = Field(ge=1, le=1_000_000)
    lot: str = Field(pattern=LOT)
    delivered_at: Instant | None = None


# --- walk-ins ------------------------------------------------------------------------------------


class WalkInBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pesel: str = Field(pattern=r"^\d{11}$")
    vaccine: str = Field(pattern=VACCINE)
    phone: str | None = Field(default=None, max_length=32)
    given_name: str | None = Field(default=None, min_length=1, max_length=200)
    family_name: str | None = Field(default=None, min_length=1, max_length=200)
    check_in_code: str | None = Field(default=None, pattern=r"^\d{4}$")


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


class CancelDayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)
    move_to: Day | None = None


class DayPath(BaseModel):
    day: Day


class VoidBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)


# --- staff of a point ----------------------------------------------------------------------------


class GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pesel: str = Field(pattern=r"^[0-9]{11}$")
    role: Literal["point_staff", "point_manager"]


class PointHandlers:
    def __init__(
        self,
        point_service: PointService,
        visits: VisitService,
        walk_ins: WalkIns,
        points: PointDirectory,
        staff_registry: StaffRegistry,
        audit: AuditTrail,
        now: Clock = utc_now,
    ) -> None:
        self._now = now
        self._point_service = point_service
        self._visits = visits
        self._walk_ins = walk_ins
        self._points = points
        self._staff = staff_registry
        self._audit_trail = audit

    def _audit(self, staff_id: str, action: str, at: datetime, **details: Any) -> None:
        """The staff audit trail; the action stands when the entry cannot be written (an alert, not a 500)."""
        try:
            self._audit_trail.record(staff_id, action, at, **details)
        except Exception:
            log.exception("point action not audited", extra={"fields": {"action": action}})

    # --- the day's list --------------------------------------------------------------------------

    @guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
    def get_day_list(self, request: Request, principal: Principal, point_id: str) -> Response:
        check_point(actor_of(principal), point_id)
        query = parse_query(request, DayQuery)
        visits = self._visits.day_list(point_id, query.day, query.q)
        body = {
            "point_id": point_id,
            "day": query.day.isoformat(),
            "visits": [
                {
                    **visit_json(visit, with_code=False),
                    "given_name": patient.given_name if patient else None,
                    "family_name": patient.family_name if patient else None,
                    "birth_year": patient.birth_date.year if patient else None,
                }
                for visit, patient in visits
            ],
        }
        return json_response(body, headers=NO_STORE)

    # --- schedule --------------------------------------------------------------------------------

    @guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
    def get_schedule(self, request: Request, principal: Principal, point_id: str) -> Response:
        query = parse_query(request, ScheduleQuery)
        today = self._now().astimezone(WARSAW).date()
        first = query.from_ or today
        last = query.to or first + timedelta(days=13)
        if last < first or (last - first).days >= MAX_SCHEDULE_DAYS:
            raise Problem(400, "invalid_range", "Nieprawidłowy zakres dni", detail=f"Najwyżej {MAX_SCHEDULE_DAYS} dni, "
                          "od 'from' do 'to' włącznie", field="to")  # fmt: skip
        slots = self._point_service.schedule(
            point_id_in_path(point_id), day_bounds(first)[0], day_bounds(last)[1], actor_of(principal)
        )
        body = {
            "point_id": point_id,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "slots": [slot_json(s) for s in slots],
        }
        return json_response(body, headers=NO_STORE)

    @guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
    def put_schedule(self, request: Request, principal: Principal, point_id: str) -> Response:
        body = parse_json(request, ScheduleBody)
        try:
            change = self._point_service.publish_schedule(
                point_id_in_path(point_id), [b.block() for b in body.blocks], actor_of(principal), self._now()
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

    # --- deliveries and stock --------------------------------------------------------------------

    @guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
    def post_delivery(self, request: Request, principal: Principal, point_id: str) -> Response:
        body = parse_json(request, DeliveryBody)
        now = self._now()
        delivery, level = self._point_service.record_delivery(
            point_id_in_path(point_id), body.vaccine, body.doses, body.lot, (body.delivered_at or now).astimezone(UTC),
            actor_of(principal), now,
        )  # fmt: skip
        return json_response({"delivery": delivery.as_json(), "stock": level.as_json()}, status=201, headers=NO_STORE)

    @guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
    def get_stock(self, request: Request, principal: Principal, point_id: str) -> Response:
        levels = self._point_service.stock(point_id_in_path(point_id), actor_of(principal), self._now())
        point = self._points.get_many([point_id]).get(point_id)  # its name and address for the console
        body = {
            "point_id": point_id,
            "point": point.as_json() if point else None,
            "stock": [v.as_json() for v in levels],
        }
        return json_response(body, headers=NO_STORE)

    # --- walk-ins --------------------------------------------------------------------------------

    @guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN, rate_limit="booking")
    def post_walk_in(self, request: Request, principal: Principal, point_id: str) -> Response:
        """The patient is at the point: book the earliest free place from now, with the next doses.

        The answer carries the check-in codes: the patient is present and the point has checked the ID."""
        body = parse_json(request, WalkInBody)
        checked_pesel(body.pesel)
        try:
            phone = polish_mobile(body.phone) if body.phone is not None else None
        except InvalidPhone:
            raise bad_request("phone", "Podaj polski numer telefonu komórkowego", code="invalid_phone") from None
        walk_in = WalkIn(body.pesel, body.vaccine, phone, body.given_name, body.family_name, body.check_in_code)
        key = idempotency_key(request)
        change = self._walk_ins.book(point_id_in_path(point_id), walk_in, actor_of(principal), self._now(), key)
        return visits_response(change, status=201, with_code=True)

    # --- vaccination, void, cancelled days and no-show -------------------------------------------

    @guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
    def post_vaccination(self, request: Request, principal: Principal, visit_id: str) -> Response:
        body = parse_json(request, VaccinationBody)
        reason = body.identity_reason()
        actor, now = actor_of(principal), self._now()
        outcome = self._point_service.record_vaccination(
            visit_id_in_path(visit_id), body.lot, body.check_in_code, actor, now, reason
        )
        if reason is not None:  # besides its row beside the vaccination, in the staff audit trail
            self._audit(actor.staff_id, "vaccinate_identity_checked", now, status=201, visit_id=visit_id, reason=reason)
        return json_response(vaccination_json(outcome), status=201, headers=NO_STORE)

    @guarded(Role.POINT_MANAGER, Role.ADMIN)
    def post_cancel_day(self, request: Request, principal: Principal, point_id: str, day: str) -> Response:
        """A delivery failed: the day's visits are cancelled (or moved to ``move_to``), one SMS each."""
        try:
            on = DayPath.model_validate({"day": day}).day
        except ValueError:
            raise bad_request("day", "Podaj dzień jako RRRR-MM-DD") from None
        body = parse_json(request, CancelDayBody)
        reason = body.reason.strip()
        if len(reason) < 3:
            raise bad_request("reason", "Podaj powód odwołania dnia")
        actor, now = actor_of(principal), self._now()
        outcome = self._point_service.cancel_day(point_id_in_path(point_id), on, reason, body.move_to, actor, now)
        self._audit(
            actor.staff_id, "cancel_day", now, status=200, point_id=point_id, day=on.isoformat(), reason=reason,
            cancelled=outcome.cancelled, moved=outcome.moved,
        )  # fmt: skip
        return json_response(day_cancelled_json(outcome), headers=NO_STORE)

    @guarded(Role.POINT_MANAGER, Role.ADMIN)
    def post_void(self, request: Request, principal: Principal, visit_id: str) -> Response:
        """A point manager voids a dose recorded in the last 24 hours (a wrong patient, a wrong lot)."""
        body = parse_json(request, VoidBody)
        reason = body.reason.strip()
        if len(reason) < 3:
            raise bad_request("reason", "Podaj powód unieważnienia", code="reason_required")
        actor, now = actor_of(principal), self._now()
        outcome = self._point_service.void_vaccination(visit_id_in_path(visit_id), reason, actor, now)
        self._audit(actor.staff_id, "void_vaccination", now, status=200, visit_id=visit_id, reason=reason)
        return json_response(voided_json(outcome), headers=NO_STORE)

    @guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
    def post_no_show(self, request: Request, principal: Principal, visit_id: str) -> Response:
        outcome = self._point_service.mark_no_show(visit_id_in_path(visit_id), actor_of(principal), self._now())
        return json_response(no_show_json(outcome), headers=NO_STORE)

    # --- staff of a point ------------------------------------------------------------------------

    @guarded(Role.POINT_MANAGER, Role.COORDINATOR, Role.ADMIN)
    def grant_staff(self, request: Request, principal: Principal, point_id: str) -> Response:
        body = parse_json(request, GrantBody)
        grant = self._staff.grant(
            point_id_in_path(point_id), checked_pesel(body.pesel), Role(body.role), principal, self._now()
        )
        return json_response(grant.as_json(), status=201, headers=NO_STORE)

    @guarded(Role.POINT_MANAGER, Role.COORDINATOR, Role.ADMIN)
    def list_staff(self, request: Request, principal: Principal, point_id: str) -> Response:
        grants = self._staff.staff_of(point_id_in_path(point_id), principal)
        return json_response({"point_id": point_id, "staff": [g.as_json() for g in grants]}, headers=NO_STORE)

    @guarded(Role.POINT_MANAGER, Role.COORDINATOR, Role.ADMIN)
    def revoke_staff(self, request: Request, principal: Principal, point_id: str, staff_ref: str) -> Response:
        if not STAFF_REF.match(staff_ref):
            raise Problem(404, "staff_not_found", "Ta osoba nie pracuje w tym punkcie")
        self._staff.revoke(point_id_in_path(point_id), staff_ref, principal, self._now())
        return Response(status=204, headers=NO_STORE)

    def table(self) -> RouteTable:
        return {
            ("GET", "/api/v1/points/<point_id>/visits"): self.get_day_list,
            ("GET", "/api/v1/points/<point_id>/schedule"): self.get_schedule,
            ("PUT", "/api/v1/points/<point_id>/schedule"): self.put_schedule,
            ("POST", "/api/v1/points/<point_id>/deliveries"): self.post_delivery,
            ("POST", "/api/v1/points/<point_id>/visits"): self.post_walk_in,
            ("GET", "/api/v1/points/<point_id>/stock"): self.get_stock,
            ("POST", "/api/v1/visits/<visit_id>/vaccination"): self.post_vaccination,
            ("POST", "/api/v1/visits/<visit_id>/no-show"): self.post_no_show,
            ("POST", "/api/v1/visits/<visit_id>/vaccination:void"): self.post_void,
            ("POST", "/api/v1/points/<point_id>/days/<day>:cancel"): self.post_cancel_day,
            ("POST", "/api/v1/points/<point_id>/staff"): self.grant_staff,
            ("GET", "/api/v1/points/<point_id>/staff"): self.list_staff,
            ("DELETE", "/api/v1/points/<point_id>/staff/<staff_ref>"): self.revoke_staff,
        }


def compose(container: Container) -> Routes:
    handlers = PointHandlers(
        container.point_service, container.visits, container.walk_ins, container.points, container.staff_registry,
        container.audit,
    )  # fmt: skip
    return container.gate.routes(handlers.table())


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def point(request: Request) -> Response:
    return routes.dispatch(request)
