"""After the jab, over HTTP: a recorded vaccination gives the patient an EU DCC that an independent
decoder verifies against the trust list, and exactly one FHIR Immunization at the e-health stand-in,
also when the event is delivered twice and when the platform was down for a while."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import pytest
import requests
from fhir.resources.R4B.immunization import Immunization
from google.cloud.spanner_v1 import param_types
from PIL import Image

from shared.bootstrap import Container
from shared.domain.booking import WARSAW
from shared.domain.events import EventType, VaccinationVoidedEvent
from shared.topology import VISIT_EVENTS
from tests.dcc_decoder import check_payload, decode
from tests.e2e.conftest import Api
from tests.e2e.test_point_day import eventually, new_point, today_block


@pytest.fixture(scope="module")
def fhir(emulator_env: dict[str, str]) -> str:
    return emulator_env["EREG_FHIR_BASE_URL"]


def login_as(api: Api, pesel: str, given_name: str, family_name: str) -> str:
    assertion = api.http.post(
        api.url("/dev/idp/assertions"),
        json={"pesel": pesel, "given_name": given_name, "family_name": family_name},
        timeout=10,
    ).json()["assertion"]
    response = api.http.post(api.url("/api/v1/login"), json={"assertion": assertion}, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["session_token"])


class Point:
    """A point with today's slots, its stock delivered, and a staff member signed in."""

    def __init__(self, api: Api, container: Container, staff_pesel: str) -> None:
        day, start, _ = today_block()
        self.api = api
        self.slot = datetime.fromisoformat(f"{day}T{start}").replace(tzinfo=WARSAW)
        self.point_id = new_point(container, [(self.slot, "comirnaty", 10)])
        self.staff = api.login(staff_pesel, roles=["point_staff"], point_ids=[self.point_id])["session_token"]
        delivered = api.call("POST", f"/api/v1/points/{self.point_id}/deliveries", self.staff,
                             json={"vaccine": "comirnaty", "doses": 20, "lot": "FK1234"})  # fmt: skip
        assert delivered.status_code == 201, delivered.text

    def vaccinate(self, patient: str, phone: str) -> str:
        booked = self.api.call("POST", "/api/v1/visits", patient, headers={"Idempotency-Key": str(uuid.uuid4())},
                               json={"point_id": self.point_id, "starts_at": self.slot.isoformat(),
                                     "vaccine": "comirnaty", "phone": phone})  # fmt: skip
        assert booked.status_code == 201, booked.text
        visit = booked.json()["visits"][0]
        done = self.api.call("POST", f"/api/v1/visits/{visit['visit_id']}/vaccination", self.staff,
                             json={"lot": "FK1234", "check_in_code": visit["check_in_code"]})  # fmt: skip
        assert done.status_code == 201, done.text
        return str(visit["visit_id"])


def immunizations(fhir: str, visit_id: str) -> list[dict[str, Any]]:
    bundle = requests.get(f"{fhir}/Immunization", params={"identifier": f"urn:ereg:visit|{visit_id}"}, timeout=5)
    assert bundle.status_code == 200 and bundle.json()["type"] == "searchset"
    found = [entry["resource"] for entry in bundle.json().get("entry", [])]
    for resource in found:
        Immunization.model_validate(resource)  # valid FHIR, by the library the platform would use
    return found


def certificates(api: Api, patient: str) -> list[dict[str, Any]]:
    response = api.call("GET", "/api/v1/certificates", patient)
    assert response.status_code == 200, response.text
    return list(response.json()["certificates"])


def completed_event(container: Container, visit_id: str) -> dict[str, Any]:
    with container.spanner.database.snapshot() as snapshot:
        rows = list(snapshot.execute_sql(
            "SELECT Payload FROM Outbox WHERE EventType = 'VisitCompleted' AND STRPOS(Payload, @visit) > 0",
            params={"visit": visit_id}, param_types={"visit": param_types.STRING},
        ))  # fmt: skip
    [payload] = [json.loads(r[0]) for r in rows if json.loads(r[0])["visit_id"] == visit_id]
    return dict(payload)


def ehealth_state(container: Container, visit_id: str) -> dict[str, Any] | None:
    snapshot = container.firestore.client.collection("ehealth_records").document(visit_id).get()
    return snapshot.to_dict() if snapshot.exists else None


def test_a_vaccination_gives_a_verifiable_certificate_and_one_record(
    api: Api, new_pesel, new_phone, e2e_backends: Container, fhir: str
) -> None:
    point = Point(api, e2e_backends, new_pesel(date(1975, 1, 1)))
    pesel = new_pesel(date(1968, 8, 8), female=True)
    patient = login_as(api, pesel, "Łucja", "Żółkiewska-Nowak")
    visit_id = point.vaccinate(patient, new_phone())

    [certificate] = eventually(lambda: certificates(api, patient), "the certificate is issued")
    assert certificate["visit_id"] == visit_id and certificate["dose"] == 1
    trust_list = api.call("GET", "/api/v1/certificates/trust-list").json()["keys"]
    decoded = decode(certificate["hc1"], trust_list)
    entry = check_payload(decoded)
    assert decoded.payload["nam"] == {"fn": "Żółkiewska-Nowak", "fnt": "ZOLKIEWSKA<NOWAK", "gn": "Łucja",
                                      "gnt": "LUCJA"}  # fmt: skip
    assert decoded.payload["dob"] == "1968-08-08"
    assert (entry["dn"], entry["sd"], entry["mp"], entry["ci"]) == (1, 2, "EU/1/20/1528", certificate["uvci"])

    # The QR image and the printable page are the patient's own.
    path = f"/api/v1/certificates/{quote(certificate['uvci'], safe='')}"
    png = api.call("GET", f"{path}/qr.png", patient)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.format == "PNG" and image.width == image.height > 200
    pdf = api.call("GET", f"{path}/pdf", patient)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    stranger = api.login(new_pesel(date(1990, 1, 1)))["session_token"]
    refused = api.call("GET", f"{path}/qr.png", stranger)
    assert (refused.status_code, refused.json()["code"]) == (404, "certificate_not_found")
    assert certificates(api, stranger) == []
    assert api.call("GET", "/api/v1/certificates", point.staff).status_code == 403
    assert api.call("GET", "/api/v1/certificates").status_code == 401

    [record] = eventually(lambda: immunizations(fhir, visit_id), "the Immunization reaches the platform")
    assert record["status"] == "completed" and record["patient"]["identifier"]["value"] == pesel
    assert record["lotNumber"] == "FK1234" and record["protocolApplied"][0]["doseNumberPositiveInt"] == 1

    # The event delivered again, after its "sent" mark was lost: the platform is asked again and
    # its conditional create stores nothing; no second certificate either.
    event = completed_event(e2e_backends, visit_id)
    sent = ehealth_state(e2e_backends, visit_id)
    assert sent is not None and sent["state"] == "sent"
    e2e_backends.firestore.client.collection("ehealth_records").document(visit_id).update({"state": "pending"})
    e2e_backends.bus.publish(VISIT_EVENTS, json.dumps(event).encode())
    eventually(lambda: (ehealth_state(e2e_backends, visit_id) or {}).get("state") == "sent", "the redelivery handled")
    assert len(immunizations(fhir, visit_id)) == 1
    assert certificates(api, patient) == [certificate]
    assert api.call("GET", "/api/v1/certificates/revoked").json()["revoked"] == []


def test_an_outage_of_the_platform_is_waited_out_with_a_backlog(
    api: Api, new_pesel, new_phone, e2e_backends: Container, fhir: str
) -> None:
    point = Point(api, e2e_backends, new_pesel(date(1976, 1, 1)))
    patient = api.login(new_pesel(date(1970, 3, 3)))["session_token"]
    platform = fhir.removesuffix("/fhir")
    assert requests.post(f"{platform}/admin/fail", json={"seconds": 8}, timeout=5).status_code == 204
    visit_id = point.vaccinate(patient, new_phone())

    def backlog() -> int | None:
        figures: dict[str, int | None] = api.call("GET", "/api/v1/health").json().get("figures", {})
        return figures.get("ehealth_backlog")

    eventually(lambda: (ehealth_state(e2e_backends, visit_id) or {}).get("state") == "pending", "a failed send")
    assert (backlog() or 0) >= 1
    [record] = eventually(lambda: immunizations(fhir, visit_id), "the Immunization after the outage", timeout_s=60)
    assert record["status"] == "completed"
    eventually(lambda: (ehealth_state(e2e_backends, visit_id) or {}).get("state") == "sent", "marked sent")
    assert len(immunizations(fhir, visit_id)) == 1
    assert eventually(lambda: certificates(api, patient), "the certificate, unaffected by the outage")


def test_a_voided_vaccination_withdraws_the_certificate_and_the_record(
    api: Api, new_pesel, new_phone, e2e_backends: Container, fhir: str
) -> None:
    """VaccinationVoided is what POST /api/v1/visits/{id}/vaccination:void (workstream 20b) will emit;
    here it is published as that producer will, through the outbox's topic."""
    point = Point(api, e2e_backends, new_pesel(date(1977, 1, 1)))
    patient = api.login(new_pesel(date(1971, 4, 4)))["session_token"]
    visit_id = point.vaccinate(patient, new_phone())
    [certificate] = eventually(lambda: certificates(api, patient), "the certificate is issued")
    eventually(lambda: immunizations(fhir, visit_id), "the Immunization reaches the platform")

    completed = completed_event(e2e_backends, visit_id)
    voided = VaccinationVoidedEvent(
        event_id=str(uuid.uuid4()), event_type=EventType.VACCINATION_VOIDED, schema_version=1,
        occurred_at=datetime.now(UTC), visit_id=visit_id, patient_id=completed["patient_ref"],
        point_id=point.point_id, dose=1, vaccine="comirnaty", voided_at=datetime.now(UTC), reason="wpis omyłkowy",
    ).model_dump(mode="json")  # fmt: skip
    for _ in range(2):  # delivered twice
        e2e_backends.bus.publish(VISIT_EVENTS, json.dumps(voided).encode())

    def revoked() -> list[str]:
        return list(api.call("GET", "/api/v1/certificates/revoked").json()["revoked"])

    assert certificate["uvci"] in eventually(lambda: revoked() or None, "the certificate is on the revocation list")
    assert certificates(api, patient) == []
    path = f"/api/v1/certificates/{quote(certificate['uvci'], safe='')}/qr.png"
    assert api.call("GET", path, patient).status_code == 404
    [record] = eventually(
        lambda: [r for r in immunizations(fhir, visit_id) if r["status"] == "entered-in-error"] or None,
        "the Immunization is entered-in-error",
    )
    assert record["note"][0]["text"] == "wpis omyłkowy" and len(immunizations(fhir, visit_id)) == 1
