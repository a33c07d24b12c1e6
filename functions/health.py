"""`health`: GET /api/v1/health -> each backend with its state and round-trip time."""

from __future__ import annotations

from collections.abc import Callable

import functions_framework
from flask import Request, Response

from shared.bootstrap import Container, get_container
from shared.entrypoints.web import LazyRoutes, Routes, json_response
from shared.services.health import HealthReport


def health_routes(probe: Callable[[], HealthReport]) -> Routes:
    def get_health(request: Request) -> Response:
        report = probe()
        status = 200 if report.serving else 503  # an optional backend down is "degraded", still 200
        return json_response(report.as_dict(), status=status, headers={"Cache-Control": "no-store"})

    return Routes({("GET", "/api/v1/health"): get_health})


def compose(container: Container) -> Routes:
    return health_routes(container.health)


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def health(request: Request) -> Response:
    return routes.dispatch(request)
