"""`visits`: a patient's own visits. GET/POST /api/v1/visits, PATCH/DELETE /api/v1/visits/{id}.

What the points do to a visit (vaccination, no-show, void) is the `point` function's
(functions/point.py); the call centre's booking is `agent`'s (functions/agent.py).
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.bootstrap import Container, get_container
from shared.domain.booking import Channel
from shared.domain.identity import Principal, Role
from shared.entrypoints.auth import guarded
from shared.entrypoints.visit_http import BookingBody, book, cancel, listing, move
from shared.entrypoints.web import Clock, LazyRoutes, Routes, RouteTable, parse_json, utc_now
from shared.services.visits import VisitService


class VisitsHandlers:
    def __init__(self, visits: VisitService, now: Clock = utc_now) -> None:
        self._visits = visits
        self._now = now

    @guarded(Role.PATIENT)
    def get_visits(self, request: Request, principal: Principal) -> Response:
        assert principal.patient_id is not None
        return listing(self._visits, principal.patient_id)

    @guarded(Role.PATIENT, rate_limit="booking")
    def post_visit(self, request: Request, principal: Principal) -> Response:
        assert principal.patient_id is not None
        return book(
            self._visits, request, parse_json(request, BookingBody), Channel.WEB, principal.patient_id, self._now()
        )

    @guarded(Role.PATIENT, rate_limit="booking")
    def patch_visit(self, request: Request, principal: Principal, visit_id: str) -> Response:
        return move(self._visits, request, visit_id, principal.patient_id, self._now())

    @guarded(Role.PATIENT, rate_limit="booking")
    def delete_visit(self, request: Request, principal: Principal, visit_id: str) -> Response:
        return cancel(self._visits, visit_id, principal.patient_id, self._now())

    def table(self) -> RouteTable:
        return {
            ("GET", "/api/v1/visits"): self.get_visits,
            ("POST", "/api/v1/visits"): self.post_visit,
            ("PATCH", "/api/v1/visits/<visit_id>"): self.patch_visit,
            ("DELETE", "/api/v1/visits/<visit_id>"): self.delete_visit,
        }


def compose(container: Container) -> Routes:
    return container.gate.routes(VisitsHandlers(container.visits).table())


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def visits(request: Request) -> Response:
    return routes.dispatch(request)
