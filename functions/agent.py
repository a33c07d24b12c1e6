"""`agent`: the 989 call centre books for callers. Every action is audited.

POST /api/v1/agent/patients:lookup {pesel} (a PESEL never goes in a URL, where request logs would
keep it); POST /api/v1/agent/patients (a caller not in the registry); POST /api/v1/agent/visits
(``phone`` or, for a landline-only caller, ``landline``: booked with no SMS, the agent reads the
visit back); PATCH/DELETE /api/v1/agent/visits/{id}; POST /api/v1/agent/interest; POST
/api/v1/agent/visits/{id}/sms:resend. Lookups are rate limited per agent; the audit names a probed
PESEL only by its keyed hash (HMAC), with the reason the lookup ended as it did. Agents never see
check-in codes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import Container, get_container
from shared.config import SecretNotConfigured, Settings
from shared.domain.booking import Channel
from shared.domain.identity import Person, Principal, Role, eligibility
from shared.domain.patients import PatientRecord, Referral
from shared.domain.programme import Programme
from shared.domain.refusals import Refused
from shared.entrypoints.auth import guarded
from shared.entrypoints.checks import AuditTrail, checked_pesel, visit_id_in_path
from shared.entrypoints.visit_http import (
    BookingBody,
    booking_request,
    cancel,
    idempotency_key,
    move,
    request_fingerprint,
    visit_json,
    visits_response,
)
from shared.entrypoints.web import (
    STATUS_OF_REFUSAL,
    Clock,
    LazyRoutes,
    Problem,
    Routes,
    RouteTable,
    json_response,
    parse_json,
    utc_now,
)
from shared.services.hotline import Hotline, TooSoon
from shared.services.identity import IdentityService
from shared.services.interest import InterestService
from shared.services.visits import VisitService

log = logging.getLogger(__name__)


class AgentBookingBody(BookingBody):
    pesel: str = Field(pattern=r"^[0-9]{11}$")
    # A caller with no mobile: the number they can be called back on (not stored); no SMS goes.
    landline: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 ()-]{7,19}$")


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pesel: str = Field(pattern=r"^[0-9]{11}$")
    given_name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    family_name: str = Field(min_length=1, max_length=200, pattern=r"\S")


class InterestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pesel: str = Field(pattern=r"^[0-9]{11}$")
    phone: str = Field(min_length=1, max_length=32)


class LookupBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pesel: str = Field(pattern=r"^[0-9]{11}$")


class PatientLookup(Protocol):
    def lookup(self, pesel: str) -> tuple[PatientRecord | None, list[Referral]]: ...


def _read_back(visit: dict[str, Any]) -> str:
    """A visit as the agent reads it to a caller who gets no SMS."""
    when = datetime.fromisoformat(visit["starts_at"])
    place = ", ".join(p for p in (visit.get("point_name"), visit.get("address")) if p)
    return f"Dawka {visit['dose']}: {when:%d.%m.%Y} godz. {when:%H:%M}, {place}."


class AgentHandlers:
    def __init__(
        self,
        visits: VisitService,
        patients: PatientLookup,
        identity: IdentityService,
        interest: InterestService,
        hotline: Hotline,
        programme: Callable[[], Programme | None],
        audit: AuditTrail,
        settings: Settings,
        now: Clock = utc_now,
    ) -> None:
        self._now = now
        self._visits = visits
        self._patients = patients
        self._identity = identity
        self._interest = interest
        self._hotline = hotline
        self._programme = programme
        self._audit = audit
        self._settings = settings  # the audit's HMAC key is read on use: a missing one answers 503

    def pesel_digest(self, pesel: str) -> str:
        """What the audit keeps of a PESEL: its HMAC under a configured key, so an entry ties a lookup
        to what was probed without holding the number (and a copy of the audit cannot be reversed by
        hashing every possible PESEL without the key)."""
        key = self._settings.secret("audit_hash_key")
        return hmac.new(key.encode(), pesel.encode(), hashlib.sha256).hexdigest()

    def _patient(self, pesel: str, details: dict[str, str]) -> tuple[PatientRecord, list[Referral]]:
        details["pesel_hmac"] = self.pesel_digest(pesel)
        checked_pesel(pesel)
        patient, referrals = self._patients.lookup(pesel)
        if patient is None:
            raise Problem(404, "patient_not_found", "Nie ma pacjenta o tym numerze PESEL w systemie")
        details["patient_id"] = patient.patient_id
        details["reason"] = "found"  # the action's own outcome may replace it
        return patient, referrals

    def _audited(self, principal: Principal, action: str, act: Callable[[dict[str, str]], Response]) -> Response:
        """Run an agent's action and record it, refused or not, with its outcome.

        ``act`` receives the audit details to fill in (the patient or visit it touched).
        """
        assert principal.staff_id is not None
        details: dict[str, str] = {}
        status = 500
        try:
            response = act(details)
        except Problem as problem:
            status = problem.status
            details["reason"] = problem.code  # why it was refused (with pesel_hmac: what was probed)
            raise
        except Refused as refusal:
            status = STATUS_OF_REFUSAL[refusal.kind]
            details["reason"] = refusal.code
            raise
        except SecretNotConfigured:
            status, details["reason"] = 503, "not_configured"  # what the edge answers
            raise
        else:
            status = response.status_code
            details.setdefault("reason", "done")
            return response
        finally:
            # What the lookup-volume metric counts per staff member (infra/monitoring.tf): no PESEL, no patient.
            log.info(
                "staff action", extra={"fields": {"staff_id": principal.staff_id, "action": action, "status": status}}
            )
            try:
                self._audit.record(principal.staff_id, action, self._now(), status=status, **details)
            except Exception:  # the action stands (a booking committed); a lost audit entry is an alert
                log.exception("agent action not audited", extra={"fields": {"action": action, "status": status}})

    def caller_json(self, patient: PatientRecord, referrals: list[Referral], now: datetime) -> dict[str, Any]:
        """What the agent tells a caller: who they are on file, whether they may book now, when their group
        opens, their referral."""
        programme = self._programme()
        status = eligibility(programme, patient.birth_date, now) if programme else None
        referral = next((r for r in referrals if r.is_valid(now)), None)
        return {
            "patient_id": patient.patient_id,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "birth_date": patient.birth_date.isoformat(),
            "has_phone": patient.phone is not None,
            "referral_valid": referral is not None,
            "eligible": bool(status and status.open),
            "eligibility": status.code if status else "no_programme",
            "opens_at": status.cohort.opens_at.isoformat() if status and status.cohort else None,
            "referral": {"referral_id": referral.referral_id, "valid_until": referral.valid_until.isoformat()}
            if referral
            else None,
        }

    @guarded(Role.AGENT, rate_limit="lookup")
    def lookup_patient(self, request: Request, principal: Principal) -> Response:
        def read(details: dict[str, str]) -> Response:
            body = parse_json(request, LookupBody)  # inside: a malformed lookup is audited too
            patient, referrals = self._patient(body.pesel, details)
            now = self._now()
            listed = self._visits.list_for_patient(patient.patient_id)
            found = {
                **self.caller_json(patient, referrals, now),
                # The check-in code is only for the patient.
                "visits": [visit_json(v, listed.points.get(v.point_id), with_code=False) for v in listed.visits],
            }
            return json_response(found, headers={"Cache-Control": "no-store"})

        return self._audited(principal, "read_patient", read)

    @guarded(Role.AGENT, rate_limit="lookup")
    def register_patient(self, request: Request, principal: Principal) -> Response:
        """A caller not in the registry: registered from the PESEL (birth date from it) as at a first login."""

        def register(details: dict[str, str]) -> Response:
            body = parse_json(request, RegisterBody)
            details["pesel_hmac"] = self.pesel_digest(body.pesel)
            checked_pesel(body.pesel)
            now = self._now()
            if self._patients.lookup(body.pesel)[0] is not None:
                raise Problem(409, "patient_exists", "Ten pacjent jest już w systemie: wyszukaj go")
            assert principal.staff_id is not None
            person = Person(body.pesel, body.given_name.strip(), body.family_name.strip())
            patient, referral, _ = self._identity.enrol(person, now, issued_by=principal.staff_id)
            details["patient_id"] = patient.patient_id
            found = {**self.caller_json(patient, [referral] if referral else [], now), "visits": []}
            return json_response(found, status=201, headers={"Cache-Control": "no-store"})

        return self._audited(principal, "register_patient", register)

    @guarded(Role.AGENT, rate_limit="booking")
    def post_visit(self, request: Request, principal: Principal) -> Response:
        body = parse_json(request, AgentBookingBody)

        def book_for_caller(details: dict[str, str]) -> Response:
            patient, _ = self._patient(body.pesel, details)
            now = self._now()
            booking = replace(booking_request(body), without_mobile=body.landline is not None and body.phone is None)
            change = self._visits.book(
                patient.patient_id, booking, Channel.CALL_CENTRE, now, idempotency_key(request),
                request_fingerprint(booking),
            )  # fmt: skip
            visits = [visit_json(v, change.points.get(v.point_id), with_code=False) for v in change.visits]
            sms = (booking.phone or patient.phone) is not None
            return visits_response(
                change, status=201, with_code=False, extra={"sms": sms, "read_back": [_read_back(v) for v in visits]}
            )

        return self._audited(principal, "book", book_for_caller)

    @guarded(Role.AGENT, rate_limit="booking")
    def post_interest(self, request: Request, principal: Principal) -> Response:
        """Sign a caller up for one SMS when their group opens."""
        body = parse_json(request, InterestBody)

        def sign_up(details: dict[str, str]) -> Response:
            patient, _ = self._patient(body.pesel, details)
            cohort = self._interest.register(patient.patient_id, body.phone, self._now())
            answer = {"cohort": cohort.code, "cohort_name": cohort.name, "opens_at": cohort.opens_at.isoformat()}
            return json_response(answer, status=202, headers={"Cache-Control": "no-store"})

        return self._audited(principal, "interest", sign_up)

    @guarded(Role.AGENT, rate_limit="booking")
    def post_sms_resend(self, request: Request, principal: Principal, visit_id: str) -> Response:
        """Send the visit's last confirmation again to the number on file (once an hour per visit)."""

        def resend(details: dict[str, str]) -> Response:
            details["visit_id"] = visit_id
            try:
                self._hotline.resend_confirmation(visit_id_in_path(visit_id), self._now())
            except TooSoon as refusal:
                raise Problem(
                    429, refusal.code, refusal.detail, headers={"Retry-After": str(refusal.retry_after_s)}
                ) from None
            return json_response({"sms": True}, status=202, headers={"Cache-Control": "no-store"})

        return self._audited(principal, "sms_resend", resend)

    @guarded(Role.AGENT, rate_limit="booking")
    def patch_visit(self, request: Request, principal: Principal, visit_id: str) -> Response:
        def move_for_caller(details: dict[str, str]) -> Response:
            details["visit_id"] = visit_id
            return move(self._visits, request, visit_id, None, self._now(), with_code=False)

        return self._audited(principal, "move", move_for_caller)

    @guarded(Role.AGENT, rate_limit="booking")
    def delete_visit(self, request: Request, principal: Principal, visit_id: str) -> Response:
        def cancel_for_caller(details: dict[str, str]) -> Response:
            details["visit_id"] = visit_id
            return cancel(self._visits, visit_id, None, self._now())

        return self._audited(principal, "cancel", cancel_for_caller)

    def table(self) -> RouteTable:
        return {
            ("POST", "/api/v1/agent/patients:lookup"): self.lookup_patient,
            ("POST", "/api/v1/agent/visits"): self.post_visit,
            ("POST", "/api/v1/agent/patients"): self.register_patient,
            ("POST", "/api/v1/agent/interest"): self.post_interest,
            ("POST", "/api/v1/agent/visits/<visit_id>/sms:resend"): self.post_sms_resend,
            ("PATCH", "/api/v1/agent/visits/<visit_id>"): self.patch_visit,
            ("DELETE", "/api/v1/agent/visits/<visit_id>"): self.delete_visit,
        }


def compose(container: Container) -> Routes:
    handlers = AgentHandlers(
        container.visits, container.patients, container.identity, container.interest, container.hotline,
        container.programme, container.audit, container.settings,
    )  # fmt: skip
    return container.gate.routes(handlers.table())


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def agent(request: Request) -> Response:
    return routes.dispatch(request)
