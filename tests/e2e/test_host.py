"""The local host over real HTTP: production paths, health, OpenAPI, problems."""

from __future__ import annotations

import requests
import yaml


def test_health_reports_all_four_backends_with_latency(host_url: str) -> None:
    response = requests.get(f"{host_url}/api/v1/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    for backend in ("spanner", "firestore", "pubsub", "bigquery"):
        assert body["backends"][backend]["status"] == "ok"
        assert isinstance(body["backends"][backend]["latency_ms"], (int, float))


def test_openapi_is_served_and_describes_every_mounted_route(host_url: str) -> None:
    response = requests.get(f"{host_url}/openapi.yaml", timeout=10)
    assert response.status_code == 200
    spec = yaml.safe_load(response.text)
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/health" in spec["paths"]


def test_unknown_path_is_a_problem_not_a_redirect(host_url: str) -> None:
    response = requests.get(f"{host_url}/api/v1/nothing-here", timeout=10, allow_redirects=False)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"


def test_wrong_method_names_the_allowed_ones(host_url: str) -> None:
    response = requests.post(f"{host_url}/api/v1/health", timeout=10, allow_redirects=False)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
