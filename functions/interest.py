"""`interest`: POST /api/v1/interest {phone}: one SMS when the patient's cohort opens."""

from __future__ import annotations

from datetime import UTC, datetime

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, Field

from shared.bootstrap import get_container
from shared.domain.identity import Principal, Role
from shared.entrypoints.auth import guarded
from shared.entrypoints.web import Routes, json_response, parse_json


class InterestBody(BaseModel):
    phone: str = Field(min_length=1, max_length=32)


@guarded(Role.PATIENT, rate_limit="booking")
def post_interest(request: Request, principal: Principal) -> Response:
    assert principal.patient_id is not None
    body = parse_json(request, InterestBody)
    cohort = get_container().interest.register(principal.patient_id, body.phone, datetime.now(UTC))
    return json_response(
        {"cohort": cohort.code, "cohort_name": cohort.name, "opens_at": cohort.opens_at.isoformat()},
        status=202,
        headers={"Cache-Control": "no-store"},
    )


routes = Routes({("POST", "/api/v1/interest"): post_interest})


@functions_framework.http
def interest(request: Request) -> Response:
    return routes.dispatch(request)
