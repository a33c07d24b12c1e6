"""`slots`: GET /api/v1/slots (free slots, earliest first) and GET /api/v1/points. Anyone may call."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.bootstrap import Container, get_container
from shared.domain.booking import local_iso
from shared.domain.ids import UUID_PATTERN as UUID
from shared.domain.programme import Programme
from shared.entrypoints.auth import Throttle
from shared.entrypoints.web import (
    Clock,
    Instant,
    LazyRoutes,
    Routes,
    RouteTable,
    bad_request,
    json_response,
    parse_query,
    utc_now,
)
from shared.services.ports import PointDirectory
from shared.services.search import MAX_RANGE, SearchFilters, SearchPage, SlotSearch
from shared.services.search_answers import KeptAnswer, SearchAnswers, search_scope

VOIVODESHIP = r"^(0[2468]|1[02468]|2[02468]|3[02])$"


class RegionQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    voivodeship: str | None = Field(default=None, pattern=VOIVODESHIP)
    county: str | None = Field(default=None, pattern=r"^\d{4}$")
    municipality: str | None = Field(default=None, pattern=r"^\d{7}$")

    @property
    def voivodeship_asked(self) -> str:
        """The voivodeship given, or the one the county or municipality code starts with."""
        return self.voivodeship or (self.county or self.municipality or "")[:2]

    def check_nesting(self) -> None:
        if self.voivodeship and self.county and not self.county.startswith(self.voivodeship):
            raise bad_request("county", "Powiat nie leży w podanym województwie")
        if self.county and self.municipality and not self.municipality.startswith(self.county):
            raise bad_request("municipality", "Gmina nie leży w podanym powiecie")
        if self.voivodeship and self.municipality and not self.municipality.startswith(self.voivodeship):
            raise bad_request("municipality", "Gmina nie leży w podanym województwie")


class SlotQuery(RegionQuery):
    point_id: str | None = Field(default=None, pattern=UUID)
    vaccine: str | None = Field(default=None, pattern=r"^[a-z0-9-]{2,40}$")
    from_: Instant | None = Field(default=None, alias="from")
    to: Instant | None = None
    limit: int = Field(default=20, ge=1, le=100)
    page_token: str | None = Field(default=None, max_length=512)


def _cache_headers(request: Request) -> dict[str, str]:
    # Anonymous searches may be served by the CDN for a few seconds; others only by the browser.
    scope = "private" if request.headers.get("Authorization") else "public"
    return {"Cache-Control": f"{scope}, max-age=5", "Vary": "Authorization"}


class SlotsHandlers:
    def __init__(
        self,
        search: SlotSearch,
        answers: SearchAnswers,
        points: PointDirectory,
        programme: Callable[[], Programme | None],
        throttle: Throttle,
        now: Clock = utc_now,
    ) -> None:
        self._now = now
        self._search = search
        self._answers = answers
        self._points = points
        self._programme = programme
        self._throttle = throttle

    def get_slots(self, request: Request) -> Response:
        # Anonymous: by address (a bearer value is not verified), on this process's buckets (the limit
        # every instance shares is at the edge: Settings.rate_limits_per_process); 429 before 400.
        self._throttle.by_address("search", request)
        now = self._now()
        programme = self._programme()
        # The query as asked, under the programme it is answered with (its vaccines are searched).
        asked = f"{programme.version if programme else 0}|{request.query_string.decode('latin-1')}"
        body = self._answers.kept(asked, now)  # the same answer while its slots are unchanged
        if body is None:
            body = self._answer(request, now, programme, asked)
        return Response(body, headers=_cache_headers(request), mimetype="application/json")

    def _answer(self, request: Request, now: datetime, programme: Programme | None, asked: str) -> bytes:
        query, page, scope, version = self._search_page(request, now, programme)
        body = json.dumps(
            {
                "slots": [
                    {
                        "point_id": slot.point_id,
                        "point_name": point.name,
                        "address": point.address,
                        "starts_at": local_iso(slot.starts_at),
                        "vaccine": slot.vaccine,
                        "free_places": slot.free_places,
                    }
                    for slot, point in page.slots
                ],
                "next_page_token": page.next_page_token,
            },
            ensure_ascii=False,
        ).encode()
        if version is not None:
            first = page.slots[0][0].starts_at if page.slots else None
            # With no start given, the end moves with "now" (a later slot may join a page that is not
            # full) or an end given is checked against "now" (400 once past): such an answer holds this
            # minute only.
            this_minute = query.from_ is None and (query.to is not None or page.next_page_token is None)
            self._answers.keep(asked, KeptAnswer(scope, version, now, first, this_minute, body))
        return body

    def _search_page(
        self, request: Request, now: datetime, programme: Programme | None
    ) -> tuple[SlotQuery, SearchPage, str, str | None]:
        query = parse_query(request, SlotQuery)
        query.check_nesting()
        if query.vaccine and (programme is None or programme.vaccine(query.vaccine) is None):
            raise bad_request("vaccine", "Nieznana szczepionka", code="unknown_vaccine")
        start = (query.from_ or now).astimezone(UTC)
        # A whole minute, so that an answer read in a minute holds for all of it (the search makes the
        # start whole); the default end is at most a minute shorter than 14 days.
        end = (query.to or (start + timedelta(days=14)).replace(second=0, microsecond=0)).astimezone(UTC)
        if end <= start:
            raise bad_request("to", "Koniec zakresu musi być po jego początku")
        if end - start > MAX_RANGE:
            raise bad_request("to", "Zakres dat może mieć najwyżej 92 dni")
        filters = SearchFilters(
            query.voivodeship, query.county, query.municipality, query.point_id, query.vaccine, start, end, query.limit
        )
        scope = search_scope(query.voivodeship_asked, query.point_id)
        version = self._answers.version(scope)  # before the slots: see search_answers
        return query, self._search.search(filters, query.page_token, now), scope, version

    def get_points(self, request: Request) -> Response:
        self._throttle.by_address("search", request)  # anonymous: by address (a bearer value is not verified)
        query = parse_query(request, RegionQuery)
        query.check_nesting()
        voivodeship = query.voivodeship_asked
        if not re.match(VOIVODESHIP, voivodeship):
            raise bad_request("voivodeship", "Podaj województwo, powiat albo gminę")
        county = query.county or (query.municipality[:4] if query.municipality else None)
        points = self._points.in_region(voivodeship, county, query.municipality)
        return json_response({"points": [p.as_json() for p in points]}, headers=_cache_headers(request))

    def table(self) -> RouteTable:
        return {("GET", "/api/v1/slots"): self.get_slots, ("GET", "/api/v1/points"): self.get_points}


def compose(container: Container) -> Routes:
    handlers = SlotsHandlers(
        container.search, container.search_answers, container.points, container.programme, container.throttle
    )
    return Routes(handlers.table())  # anonymous: no session to check


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def slots(request: Request) -> Response:
    return routes.dispatch(request)
