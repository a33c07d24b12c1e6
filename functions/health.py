"""`health`: GET /api/v1/health -> each backend with its state and round-trip time."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.bootstrap import get_container
from shared.entrypoints.web import Routes, json_response


def get_health(request: Request) -> Response:
    report = get_container().health()
    status = 200 if report.serving else 503  # an optional backend down is "degraded", still 200
    return json_response(report.as_dict(), status=status, headers={"Cache-Control": "no-store"})


routes = Routes({("GET", "/api/v1/health"): get_health})


@functions_framework.http
def health(request: Request) -> Response:
    return routes.dispatch(request)
