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
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import get_container
from shared.config import SecretNotConfigured
from shared.domain.booking import Channel
from shared.domain.identity import Person, Principal, Role, eligibility, is_valid_pesel
from shared.domain.ids import UUID_PATTERN
from shared.domain.patients import PatientRecord, Referral
from shared.domain.refusals import Refused
from shared.entrypoints.auth import guarded
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
from shared.entrypoints.web import STATUS_OF_REFUSAL, Problem, Routes, bad_request, json_response, parse_json
from shared.services.hotline import TooSoon

log = logging.getLogger(__name__)
UUID = re.compile(UUID_PATTERN)


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


def pesel_digest(pesel: str) -> str:
    """What the audit keeps of a PESEL: its HMAC under a configured key, so an entry ties a lookup
    to what was probed without holding the number (and a copy of the audit cannot be reversed by
    hashing every possible PESEL without the key)."""
    key = get_container().settings.secret("audit_hash_key")
    return hmac.new(key.encode(), pesel.encode(), hashlib.sha256).hexdigest()


def _patient(pesel: str, details: dict[str, str]) -> tuple[PatientRecord, list[Referral]]:
    details["pesel_hmac"] = pesel_digest(pesel)
    if not is_valid_pesel(pesel):
        raise bad_request("pesel", "Nieprawidłowy numer PESEL", code="invalid_pesel")
    patient, referrals = get_container().patients.lookup(pesel)
    if patient is None:
        raise Problem(404, "patient_not_found", "Nie ma pacjenta o tym numerze PESEL w systemie")
    details["patient_id"] = patient.patient_id
    details["reason"] = "found"  # the action's own outcome may replace it
    return patient, referrals


def _audited(principal: Principal, action: str, act: Callable[[dict[str, str]], Response]) -> Response:
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
        log.info("staff action", extra={"fields": {"staff_id": principal.staff_id, "action": action, "status": status}})
        try:
            get_container().audit.record(principal.staff_id, action, datetime.now(UTC), status=status, **details)
        except Exception:  # the action stands (a booking committed); a lost audit entry is an alert
            log.exception("agent action not audited", extra={"fields": {"action": action, "status": status}})


def caller_json(patient: PatientRecord, referrals: list[Referral], now: datetime) -> dict[str, Any]:
    """What the agent tells a caller: who they are on file, whether they may book now, when their group
    opens, their referral."""
    programme = get_container().programme()
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
def lookup_patient(request: Request, principal: Principal) -> Response:
    def read(details: dict[str, str]) -> Response:
        body = parse_json(request, LookupBody)  # inside: a malformed lookup is audited too
        patient, referrals = _patient(body.pesel, details)
        now = datetime.now(UTC)
        listed = get_container().visits.list_for_patient(patient.patient_id)
        found = {
            **caller_json(patient, referrals, now),
            # The check-in code is only for the patient.
            "visits": [visit_json(v, listed.points.get(v.point_id), with_code=False) for v in listed.visits],
        }
        return json_response(found, headers={"Cache-Control": "no-store"})

    return _audited(principal, "read_patient", read)


@guarded(Role.AGENT, rate_limit="lookup")
def register_patient(request: Request, principal: Principal) -> Response:
    """A caller not in the registry: registered from the PESEL (birth date from it) as at a first login."""

    def register(details: dict[str, str]) -> Response:
        body = parse_json(request, RegisterBody)
        details["pesel_hmac"] = pesel_digest(body.pesel)
        if not is_valid_pesel(body.pesel):
            raise bad_request("pesel", "Nieprawidłowy numer PESEL", code="invalid_pesel")
        container, now = get_container(), datetime.now(UTC)
        if container.patients.lookup(body.pesel)[0] is not None:
            raise Problem(409, "patient_exists", "Ten pacjent jest już w systemie: wyszukaj go")
        assert principal.staff_id is not None
        person = Person(body.pesel, body.given_name.strip(), body.family_name.strip())
        patient, referral, _ = container.identity.enrol(person, now, issued_by=principal.staff_id)
        details["patient_id"] = patient.patient_id
        found = {**caller_json(patient, [referral] if referral else [], now), "visits": []}
        return json_response(found, status=201, headers={"Cache-Control": "no-store"})

    return _audited(principal, "register_patient", register)


def _read_back(visit: dict[str, Any]) -> str:
    """A visit as the agent reads it to a caller who gets no SMS."""
    when = datetime.fromisoformat(visit["starts_at"])
    place = ", ".join(p for p in (visit.get("point_name"), visit.get("address")) if p)
    return f"Dawka {visit['dose']}: {when:%d.%m.%Y} godz. {when:%H:%M}, {place}."


@guarded(Role.AGENT, rate_limit="booking")
def post_visit(request: Request, principal: Principal) -> Response:
    body = parse_json(request, AgentBookingBody)

    def book_for_caller(details: dict[str, str]) -> Response:
        patient, _ = _patient(body.pesel, details)
        container, now = get_container(), datetime.now(UTC)
        booking = replace(booking_request(body), without_mobile=body.landline is not None and body.phone is None)
        change = container.visits.book(
            patient.patient_id, booking, Channel.CALL_CENTRE, now, idempotency_key(request),
            request_fingerprint(booking),
        )  # fmt: skip
        visits = [visit_json(v, change.points.get(v.point_id), with_code=False) for v in change.visits]
        sms = (booking.phone or patient.phone) is not None
        return visits_response(
            change, status=201, with_code=False, extra={"sms": sms, "read_back": [_read_back(v) for v in visits]}
        )

    return _audited(principal, "book", book_for_caller)


@guarded(Role.AGENT, rate_limit="booking")
def post_interest(request: Request, principal: Principal) -> Response:
    """Sign a caller up for one SMS when their group opens."""
    body = parse_json(request, InterestBody)

    def sign_up(details: dict[str, str]) -> Response:
        patient, _ = _patient(body.pesel, details)
        cohort = get_container().interest.register(patient.patient_id, body.phone, datetime.now(UTC))
        answer = {"cohort": cohort.code, "cohort_name": cohort.name, "opens_at": cohort.opens_at.isoformat()}
        return json_response(answer, status=202, headers={"Cache-Control": "no-store"})

    return _audited(principal, "interest", sign_up)


@guarded(Role.AGENT, rate_limit="booking")
def post_sms_resend(request: Request, principal: Principal, visit_id: str) -> Response:
    """Send the visit's last confirmation again to the number on file (once an hour per visit)."""

    def resend(details: dict[str, str]) -> Response:
        details["visit_id"] = visit_id
        if not UUID.match(visit_id):
            raise Problem(404, "visit_not_found", "Nie ma takiej wizyty")
        try:
            get_container().hotline.resend_confirmation(visit_id, datetime.now(UTC))
        except TooSoon as refusal:
            raise Problem(
                429, refusal.code, refusal.detail, headers={"Retry-After": str(refusal.retry_after_s)}
            ) from None
        return json_response({"sms": True}, status=202, headers={"Cache-Control": "no-store"})

    return _audited(principal, "sms_resend", resend)


@guarded(Role.AGENT, rate_limit="booking")
def patch_visit(request: Request, principal: Principal, visit_id: str) -> Response:
    def move_for_caller(details: dict[str, str]) -> Response:
        details["visit_id"] = visit_id
        return move(request, visit_id, actor_patient_id=None, with_code=False)

    return _audited(principal, "move", move_for_caller)


@guarded(Role.AGENT, rate_limit="booking")
def delete_visit(request: Request, principal: Principal, visit_id: str) -> Response:
    def cancel_for_caller(details: dict[str, str]) -> Response:
        details["visit_id"] = visit_id
        return cancel(visit_id, actor_patient_id=None)

    return _audited(principal, "cancel", cancel_for_caller)


routes = Routes(
    {
        ("POST", "/api/v1/agent/patients:lookup"): lookup_patient,
        ("POST", "/api/v1/agent/visits"): post_visit,
        ("POST", "/api/v1/agent/patients"): register_patient,
        ("POST", "/api/v1/agent/interest"): post_interest,
        ("POST", "/api/v1/agent/visits/<visit_id>/sms:resend"): post_sms_resend,
        ("PATCH", "/api/v1/agent/visits/<visit_id>"): patch_visit,
        ("DELETE", "/api/v1/agent/visits/<visit_id>"): delete_visit,
    }
)


@functions_framework.http
def agent(request: Request) -> Response:
    return routes.dispatch(request)
