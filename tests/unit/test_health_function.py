"""The health function maps a degraded report to 503 and an all-up one to 200."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

import functions.health as health_function
from shared.services.health import BackendHealth, HealthReport

app = Flask(__name__)


@dataclass
class FakeContainer:
    report: HealthReport

    def health(self) -> HealthReport:
        return self.report


@pytest.mark.parametrize(("down", "status", "overall"), [(False, 200, "ok"), (True, 503, "degraded")])
def test_health_status_code(monkeypatch: pytest.MonkeyPatch, down: bool, status: int, overall: str) -> None:
    backends = {name: BackendHealth("ok", 1.0) for name in ("spanner", "firestore", "pubsub", "bigquery")}
    if down:
        backends["pubsub"] = BackendHealth("down", 2000.0, "Timeout")
    monkeypatch.setattr(health_function, "get_container", lambda: FakeContainer(HealthReport(backends)))
    with app.test_request_context("/api/v1/health"):
        from flask import request

        response = health_function.routes.dispatch(request)
    assert response.status_code == status
    assert response.json is not None and response.json["status"] == overall
    assert response.headers["Cache-Control"] == "no-store"
