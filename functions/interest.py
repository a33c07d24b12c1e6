"""`interest`: POST /api/v1/interest {phone}: one SMS when the patient's cohort opens."""

from __future__ import annotations

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, Field

from shared.bootstrap import Container, get_container
from shared.domain.identity import Principal, Role
from shared.entrypoints.auth import guarded
from shared.entrypoints.web import Clock, LazyRoutes, Routes, RouteTable, json_response, parse_json, utc_now
from shared.services.interest import InterestService


class InterestBody(BaseModel):
    phone: str = Field(min_length=1, max_length=32)


class InterestHandlers:
    def __init__(self, interest: InterestService, now: Clock = utc_now) -> None:
        self._now = now
        self._interest = interest

    @guarded(Role.PATIENT, rate_limit="booking")
    def post_interest(self, request: Request, principal: Principal) -> Response:
        assert principal.patient_id is not None
        body = parse_json(request, InterestBody)
        cohort = self._interest.register(principal.patient_id, body.phone, self._now())
        return json_response(
            {"cohort": cohort.code, "cohort_name": cohort.name, "opens_at": cohort.opens_at.isoformat()},
            status=202,
            headers={"Cache-Control": "no-store"},
        )

    def table(self) -> RouteTable:
        return {("POST", "/api/v1/interest"): self.post_interest}


def compose(container: Container) -> Routes:
    return container.gate.routes(InterestHandlers(container.interest).table())


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def interest(request: Request) -> Response:
    return routes.dispatch(request)
