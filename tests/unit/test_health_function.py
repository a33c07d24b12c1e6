"""The health function maps a degraded report to 503 and an all-up one to 200."""

from __future__ import annotations

import pytest
from flask import Flask

from functions.health import health_routes
from shared.services.health import BackendHealth, HealthReport

app = Flask(__name__)


@pytest.mark.parametrize(
    ("down", "status", "overall"),
    [(None, 200, "ok"), ("pubsub", 503, "degraded"), ("redis", 200, "degraded")],  # Redis: slower, not wrong
)
def test_health_status_code(down: str | None, status: int, overall: str) -> None:
    names = ("spanner", "firestore", "pubsub", "bigquery", "redis")
    backends = {name: BackendHealth("ok", 1.0) for name in names}
    if down:
        backends[down] = BackendHealth("down", 2000.0, "Timeout")
    report = HealthReport(backends, optional=frozenset({"redis"}))
    with app.test_request_context("/api/v1/health"):
        from flask import request

        response = health_routes(lambda: report).dispatch(request)
    assert response.status_code == status
    assert response.json is not None and response.json["status"] == overall
    assert response.headers["Cache-Control"] == "no-store"
