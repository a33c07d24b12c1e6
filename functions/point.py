"""`point`: vaccination-point staff on their own points (admins on any).

GET /api/v1/points/{id}/visits?day=&q= (q: start of the surname);
GET/PUT /api/v1/points/{id}/schedule; POST /api/v1/points/{id}/deliveries;
GET /api/v1/points/{id}/stock; POST /api/v1/visits/{id}/vaccination; POST /api/v1/visits/{id}/no-show.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import get_container
from shared.domain.identity import Principal, Role
from shared.domain.vaccination import check_point
from shared.entrypoints import point_http
from shared.entrypoints.auth import guarded
from shared.entrypoints.registry_http import STAFF_ROUTES
from shared.entrypoints.visit_http import visit_json
from shared.entrypoints.web import Day, Routes, json_response, parse_query


class DayQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    day: Day
    q: str | None = Field(default=None, min_length=1, max_length=100)


@guarded(Role.POINT_STAFF, Role.POINT_MANAGER, Role.ADMIN)
def get_day_list(request: Request, principal: Principal, point_id: str) -> Response:
    check_point(point_http.actor_of(principal), point_id)
    query = parse_query(request, DayQuery)
    visits = get_container().visits.day_list(point_id, query.day, query.q)
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
    return json_response(body, headers={"Cache-Control": "no-store"})


routes = Routes({("GET", "/api/v1/points/<point_id>/visits"): get_day_list, **point_http.ROUTES, **STAFF_ROUTES})


@functions_framework.http
def point(request: Request) -> Response:
    return routes.dispatch(request)
