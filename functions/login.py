"""`login`: POST /api/v1/login {assertion}; POST /api/v1/logout; GET /api/v1/session."""

from __future__ import annotations

from typing import Any

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, Field

from shared.bootstrap import Container, get_container
from shared.domain.identity import Principal
from shared.entrypoints.auth import Throttle, guarded
from shared.entrypoints.web import Clock, LazyRoutes, Problem, Routes, RouteTable, json_response, parse_json, utc_now
from shared.services.identity import IdentityService, LoginRefused, LoginResult

REFUSAL_TITLE = "Logowanie nie powiodło się"


class LoginRequest(BaseModel):
    assertion: str = Field(min_length=1, max_length=16_384)


class LoginHandlers:
    def __init__(self, identity: IdentityService, throttle: Throttle, now: Clock = utc_now) -> None:
        self._now = now
        self._identity = identity
        self._throttle = throttle

    def post_login(self, request: Request) -> Response:
        self._throttle.by_address("login", request)
        body = parse_json(request, LoginRequest)
        try:
            result = self._identity.login(body.assertion, self._now())
        except LoginRefused as refusal:
            raise Problem(401, refusal.reason, REFUSAL_TITLE) from None
        return json_response(login_body(result), headers={"Cache-Control": "no-store"})

    @guarded()
    def post_logout(self, request: Request, principal: Principal) -> Response:
        self._identity.logout(principal, self._now())
        return Response(status=204)

    @guarded()
    def get_session(self, request: Request, principal: Principal) -> Response:
        return json_response(
            {
                "roles": sorted(principal.roles),
                "patient_id": principal.patient_id,
                "staff_id": principal.staff_id,
                "point_ids": sorted(principal.point_ids),
                "managed_point_ids": sorted(p for p in principal.point_ids if principal.manages_point(p)),
                "voivodeship": principal.voivodeship,
            },
            headers={"Cache-Control": "no-store"},
        )

    def table(self) -> RouteTable:
        return {
            ("POST", "/api/v1/login"): self.post_login,
            ("POST", "/api/v1/logout"): self.post_logout,
            ("GET", "/api/v1/session"): self.get_session,
        }


def login_body(result: LoginResult) -> dict[str, Any]:
    session = result.session
    body: dict[str, Any] = {
        "session_token": result.session_token,
        "expires_at": session.expires_at.isoformat(),
        "roles": sorted(session.roles),
    }
    if result.patient is not None:
        patient = result.patient
        eligibility = result.eligibility
        body["patient"] = {
            "patient_id": patient.patient_id,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "birth_date": patient.birth_date.isoformat(),
            "eligibility": {
                "status": eligibility.code if eligibility else "no_programme",
                "cohort": eligibility.cohort.code if eligibility and eligibility.cohort else None,
                "opens_at": eligibility.cohort.opens_at.isoformat() if eligibility and eligibility.cohort else None,
            },
            "referral": {
                "referral_id": result.referral.referral_id,
                "valid_until": result.referral.valid_until.isoformat(),
            }
            if result.referral
            else None,
        }
    else:
        body["staff"] = {"staff_id": session.staff_id, "point_ids": sorted(session.point_ids)}
        if result.principal is not None:  # where the registry says they work
            body["roles"] = sorted(result.principal.roles)
            body["staff"]["point_ids"] = sorted(result.principal.point_ids)
            body["staff"]["managed_point_ids"] = sorted(
                p for p in result.principal.point_ids if result.principal.manages_point(p)
            )
            body["staff"]["voivodeship"] = result.principal.voivodeship
    return body


def compose(container: Container) -> Routes:
    return container.gate.routes(LoginHandlers(container.identity, container.throttle).table())


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def login(request: Request) -> Response:
    return routes.dispatch(request)
