"""`reports`: the ministry's figures (analyst role) and the open-data feed (anyone).

GET /api/v1/reports/summary?day=; GET /api/v1/reports/timeseries?metric=&from=&to=&voivodeship=;
GET /api/v1/reports/public?day= (anonymous, CDN-cacheable, small counts suppressed).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import get_container
from shared.domain.identity import Principal, Role
from shared.domain.local_time import WARSAW
from shared.domain.reports import InvalidReportQuery, SeriesQuery
from shared.entrypoints.auth import enforce_rate_limit, guarded
from shared.entrypoints.web import Day, Routes, bad_request, json_response, parse_query

VOIVODESHIP = r"^(0[2468]|1[02468]|2[02468]|3[02])$"
DEFAULT_SERIES_DAYS = 30
REFUSAL_CODES = {"metric": "unknown_metric", "to": "invalid_range", "voivodeship": "invalid_field"}


class DayQuery(BaseModel):
    day: Day | None = None


class SeriesParams(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    metric: str = Field(max_length=40)
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None
    voivodeship: str | None = Field(default=None, pattern=VOIVODESHIP)


def today() -> date:
    return datetime.now(UTC).astimezone(WARSAW).date()


@guarded(Role.ANALYST, Role.ADMIN)
def get_summary(request: Request, principal: Principal) -> Response:
    query = parse_query(request, DayQuery)
    body = get_container().reports.summary(query.day or today())
    return json_response(body, headers={"Cache-Control": "private, no-store"})


@guarded(Role.ANALYST, Role.ADMIN)
def get_timeseries(request: Request, principal: Principal) -> Response:
    params = parse_query(request, SeriesParams)
    last = params.to or today()
    first = params.from_ or last - timedelta(days=DEFAULT_SERIES_DAYS - 1)
    try:
        query = SeriesQuery.checked(params.metric, first, last, params.voivodeship)
    except InvalidReportQuery as error:
        raise bad_request(error.parameter, error.detail, code=REFUSAL_CODES[error.parameter]) from None
    return json_response(get_container().reports.timeseries(query), headers={"Cache-Control": "private, no-store"})


def get_public(request: Request) -> Response:
    enforce_rate_limit("open_data", request)  # anonymous: by address (and Cloud Armor at the edge)
    query = parse_query(request, DayQuery)
    reports = get_container().reports
    try:
        body = reports.public(query.day or reports.today())
    except InvalidReportQuery as error:
        raise bad_request(error.parameter, error.detail, code="out_of_range") from None
    return json_response(body, headers={"Cache-Control": "public, max-age=60"})


routes = Routes(
    {
        ("GET", "/api/v1/reports/summary"): get_summary,
        ("GET", "/api/v1/reports/timeseries"): get_timeseries,
        ("GET", "/api/v1/reports/public"): get_public,
    }
)


@functions_framework.http
def reports(request: Request) -> Response:
    return routes.dispatch(request)
