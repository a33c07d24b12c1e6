"""`reports`: the ministry's figures (analyst role) and the open-data feed (anyone).

GET /api/v1/reports/summary?day=; GET /api/v1/reports/timeseries?metric=&from=&to=&voivodeship=;
GET /api/v1/reports/public?day= (anonymous, CDN-cacheable, small counts suppressed).
"""

from __future__ import annotations

from datetime import date, timedelta

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import Container, get_container
from shared.domain.identity import Principal, Role
from shared.domain.local_time import WARSAW
from shared.domain.reports import InvalidReportQuery, SeriesQuery
from shared.entrypoints.auth import Throttle, guarded
from shared.entrypoints.web import (
    Clock,
    Day,
    LazyRoutes,
    Routes,
    RouteTable,
    bad_request,
    json_response,
    parse_query,
    utc_now,
)
from shared.services.reports import Reports

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


class ReportsHandlers:
    def __init__(self, reports: Reports, throttle: Throttle, now: Clock = utc_now) -> None:
        self._now = now
        self._reports = reports
        self._throttle = throttle

    def _today(self) -> date:
        return self._now().astimezone(WARSAW).date()

    @guarded(Role.ANALYST, Role.ADMIN)
    def get_summary(self, request: Request, principal: Principal) -> Response:
        query = parse_query(request, DayQuery)
        body = self._reports.summary(query.day or self._today())
        return json_response(body, headers={"Cache-Control": "private, no-store"})

    @guarded(Role.ANALYST, Role.ADMIN)
    def get_timeseries(self, request: Request, principal: Principal) -> Response:
        params = parse_query(request, SeriesParams)
        last = params.to or self._today()
        first = params.from_ or last - timedelta(days=DEFAULT_SERIES_DAYS - 1)
        try:
            query = SeriesQuery.checked(params.metric, first, last, params.voivodeship)
        except InvalidReportQuery as error:
            raise bad_request(error.parameter, error.detail, code=REFUSAL_CODES[error.parameter]) from None
        return json_response(self._reports.timeseries(query), headers={"Cache-Control": "private, no-store"})

    def get_public(self, request: Request) -> Response:
        self._throttle.by_address("open_data", request)  # anonymous: by address (and Cloud Armor at the edge)
        query = parse_query(request, DayQuery)
        try:
            body = self._reports.public(query.day or self._reports.today())
        except InvalidReportQuery as error:
            raise bad_request(error.parameter, error.detail, code="out_of_range") from None
        return json_response(body, headers={"Cache-Control": "public, max-age=60"})

    def table(self) -> RouteTable:
        return {
            ("GET", "/api/v1/reports/summary"): self.get_summary,
            ("GET", "/api/v1/reports/timeseries"): self.get_timeseries,
            ("GET", "/api/v1/reports/public"): self.get_public,
        }


def compose(container: Container) -> Routes:
    return container.gate.routes(ReportsHandlers(container.reports, container.throttle).table())


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def reports(request: Request) -> Response:
    return routes.dispatch(request)
