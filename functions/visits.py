"""`visits`: a patient's own visits. GET/POST /api/v1/visits, PATCH/DELETE /api/v1/visits/{id}."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.domain.booking import Channel
from shared.domain.identity import Principal, Role
from shared.entrypoints.auth import guarded
from shared.entrypoints.visit_http import BookingBody, book, cancel, listing, move
from shared.entrypoints.web import Routes, parse_json


@guarded(Role.PATIENT)
def get_visits(request: Request, principal: Principal) -> Response:
    assert principal.patient_id is not None
    return listing(principal.patient_id)


@guarded(Role.PATIENT, rate_limit="booking")
def post_visit(request: Request, principal: Principal) -> Response:
    assert principal.patient_id is not None
    return book(request, parse_json(request, BookingBody), Channel.WEB, principal.patient_id)


@guarded(Role.PATIENT, rate_limit="booking")
def patch_visit(request: Request, principal: Principal, visit_id: str) -> Response:
    return move(request, visit_id, principal.patient_id)


@guarded(Role.PATIENT, rate_limit="booking")
def delete_visit(request: Request, principal: Principal, visit_id: str) -> Response:
    return cancel(visit_id, principal.patient_id)


routes = Routes(
    {
        ("GET", "/api/v1/visits"): get_visits,
        ("POST", "/api/v1/visits"): post_visit,
        ("PATCH", "/api/v1/visits/<visit_id>"): patch_visit,
        ("DELETE", "/api/v1/visits/<visit_id>"): delete_visit,
    }
)


@functions_framework.http
def visits(request: Request) -> Response:
    return routes.dispatch(request)
