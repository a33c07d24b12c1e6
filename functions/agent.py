"""`agent`: the 989 call centre books for callers. Every action is audited.

POST /api/v1/agent/patients:lookup {pesel} (a PESEL never goes in a URL, where request logs would
keep it); POST /api/v1/agent/visits; PATCH/DELETE /api/v1/agent/visits/{id}. Lookups are rate
limited per agent; the audit names a probed PESEL only by its keyed hash (HMAC), with the reason
the lookup ended as it did. Agents never see check-in codes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import get_container
from shared.config import SecretNotConfigured
from shared.domain.booking import Channel
from shared.domain.identity import Principal, Role, is_valid_pesel
from shared.domain.patients import PatientRecord, Referral
from shared.domain.refusals import Refused
from shared.entrypoints.auth import guarded
from shared.entrypoints.visit_http import BookingBody, book, cancel, move, visit_json
from shared.entrypoints.web import STATUS_OF_REFUSAL, Problem, Routes, bad_request, json_response, parse_json

log = logging.getLogger(__name__)


class AgentBookingBody(BookingBody):
    pesel: str = Field(pattern=r"^[0-9]{11}$")


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


@guarded(Role.AGENT, rate_limit="lookup")
def lookup_patient(request: Request, principal: Principal) -> Response:
    def read(details: dict[str, str]) -> Response:
        body = parse_json(request, LookupBody)  # inside: a malformed lookup is audited too
        patient, referrals = _patient(body.pesel, details)
        now = datetime.now(UTC)
        listed = get_container().visits.list_for_patient(patient.patient_id)
        found = {
            "patient_id": patient.patient_id,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "birth_date": patient.birth_date.isoformat(),
            "has_phone": patient.phone is not None,
            "referral_valid": any(r.is_valid(now) for r in referrals),
            # The check-in code is only for the patient.
            "visits": [visit_json(v, listed.points.get(v.point_id), with_code=False) for v in listed.visits],
        }
        return json_response(found, headers={"Cache-Control": "no-store"})

    return _audited(principal, "read_patient", read)


@guarded(Role.AGENT, rate_limit="booking")
def post_visit(request: Request, principal: Principal) -> Response:
    body = parse_json(request, AgentBookingBody)

    def book_for_caller(details: dict[str, str]) -> Response:
        patient, _ = _patient(body.pesel, details)
        return book(request, body, Channel.CALL_CENTRE, patient.patient_id, with_code=False)

    return _audited(principal, "book", book_for_caller)


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
        ("PATCH", "/api/v1/agent/visits/<visit_id>"): patch_visit,
        ("DELETE", "/api/v1/agent/visits/<visit_id>"): delete_visit,
    }
)


@functions_framework.http
def agent(request: Request) -> Response:
    return routes.dispatch(request)
