"""`point`: vaccination-point staff, on their own points only. GET /api/v1/points/{id}/visits?day=."""

from __future__ import annotations

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict

from shared.bootstrap import get_container
from shared.domain.identity import Principal, Role
from shared.entrypoints.auth import guarded, require_point
from shared.entrypoints.visit_http import visit_json
from shared.entrypoints.web import Day, Routes, json_response, parse_query


class DayQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    day: Day


@guarded(Role.POINT_STAFF)
def get_day_list(request: Request, principal: Principal, point_id: str) -> Response:
    require_point(principal, point_id)
    query = parse_query(request, DayQuery)
    visits = get_container().visits.day_list(point_id, query.day)
    body = {
        "point_id": point_id,
        "day": query.day.isoformat(),
        "visits": [
            {
                **visit_json(visit, with_code=False),
                "given_name": patient.given_name if patient else None,
                "family_name": patient.family_name if patient else None,
            }
            for visit, patient in visits
        ],
    }
    return json_response(body, headers={"Cache-Control": "no-store"})


routes = Routes({("GET", "/api/v1/points/<point_id>/visits"): get_day_list})


@functions_framework.http
def point(request: Request) -> Response:
    return routes.dispatch(request)
