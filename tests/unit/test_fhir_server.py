"""The e-health platform stand-in (emulators/fhir_server.py) and the HTTP adapter that talks to it,
over real loopback HTTP: conditional create, search Bundle, validation, induced failures, retries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from emulators.fhir_server import create_platform
from emulators.ports import LOOPBACK, free_port
from shared.adapters.fhir_client import HttpFhirPlatform
from shared.domain.immunization import ImmunizationFacts, immunization, visit_identifier
from shared.services.ehealth import PlatformRejected, PlatformUnavailable

FACTS = ImmunizationFacts("visit-1", "80051701234", "point-1", "comirnaty", 1, 2, "FK1234",
                          datetime(2026, 12, 7, 10, tzinfo=UTC))  # fmt: skip


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    port = free_port()
    server = make_server(LOOPBACK, port, create_platform(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{LOOPBACK}:{port}"
    server.shutdown()


@pytest.fixture
def platform(base: str) -> HttpFhirPlatform:
    requests.delete(f"{base}/admin/records", timeout=5)
    return HttpFhirPlatform(f"{base}/fhir", attempts=3, backoff_s=0)


def search(base: str, visit_id: str) -> dict[str, Any]:
    response = requests.get(f"{base}/fhir/Immunization", params={"identifier": visit_identifier(visit_id)}, timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/fhir+json")
    bundle: dict[str, Any] = response.json()
    return bundle


def test_a_conditional_create_stores_once_and_search_finds_it(base: str, platform: HttpFhirPlatform) -> None:
    resource = immunization(FACTS)
    first = platform.create(resource, visit_identifier("visit-1"))
    second = platform.create(resource, visit_identifier("visit-1"))
    assert first and first == second
    bundle = search(base, "visit-1")
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset" and bundle["total"] == 1
    assert bundle["entry"][0]["resource"]["lotNumber"] == "FK1234"
    assert search(base, "visit-2")["total"] == 0


def test_a_conditional_update_marks_the_record_entered_in_error(base: str, platform: HttpFhirPlatform) -> None:
    platform.create(immunization(FACTS), visit_identifier("visit-1"))
    platform.update(immunization(FACTS, "entered-in-error", "pomyłka"), visit_identifier("visit-1"))
    bundle = search(base, "visit-1")
    assert bundle["total"] == 1
    record = bundle["entry"][0]["resource"]
    assert record["status"] == "entered-in-error" and record["meta"]["versionId"] == "2"


def test_an_invalid_body_is_refused_and_not_retried(base: str, platform: HttpFhirPlatform) -> None:
    bad = {"resourceType": "Immunization", "status": "completed"}  # no patient, vaccine or date
    response = requests.post(f"{base}/fhir/Immunization", json=bad, timeout=5)
    assert response.status_code == 422 and response.json()["resourceType"] == "OperationOutcome"
    with pytest.raises(PlatformRejected):
        platform.create({**immunization(FACTS), "status": "bogus"}, visit_identifier("visit-1"))
    assert search(base, "visit-1")["total"] == 0


def test_induced_failures_are_retried_then_reported(base: str, platform: HttpFhirPlatform) -> None:
    requests.post(f"{base}/admin/fail", json={"count": 2}, timeout=5)
    platform.create(immunization(FACTS), visit_identifier("visit-1"))  # third try succeeds
    assert requests.get(f"{base}/admin/stats", timeout=5).json() == {"records": 1, "attempts": 3}
    requests.post(f"{base}/admin/fail", json={"seconds": 30}, timeout=5)
    with pytest.raises(PlatformUnavailable):
        platform.create(immunization(FACTS), visit_identifier("visit-2"))
    requests.delete(f"{base}/admin/records", timeout=5)  # ends the outage too
    assert search(base, "visit-2")["total"] == 0


def test_an_outage_until_an_instant(base: str, platform: HttpFhirPlatform) -> None:
    until = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    requests.post(f"{base}/admin/fail", json={"until": until, "status": 500}, timeout=5)
    with pytest.raises(PlatformUnavailable):
        platform.create(immunization(FACTS), visit_identifier("visit-3"))
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    requests.delete(f"{base}/admin/records", timeout=5)
    requests.post(f"{base}/admin/fail", json={"until": past}, timeout=5)
    assert platform.create(immunization(FACTS), visit_identifier("visit-3"))


def test_an_unreachable_platform_is_unavailable() -> None:
    with pytest.raises(PlatformUnavailable):
        HttpFhirPlatform(f"http://{LOOPBACK}:{free_port()}/fhir", attempts=1).create(immunization(FACTS), "x|y")
