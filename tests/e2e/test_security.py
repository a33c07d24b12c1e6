"""Issue 21's smaller findings over real HTTP: HSTS, the SMS webhook's ids, staff sign-in strength."""

from __future__ import annotations

import pytest
import requests
from google.cloud.firestore import FieldFilter

from shared.bootstrap import Container
from shared.domain.identity import staff_id_for
from tests.e2e.conftest import Api
from tests.e2e.test_login import _claims, _login, _signed

HSTS = "max-age=63072000; includeSubDomains"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/health"),  # a function's 200
        ("GET", "/api/v1/session"),  # a problem (401)
        ("GET", "/api/v1/nothing-here"),  # the host's own 404
        ("DELETE", "/api/v1/slots"),  # 405
        ("GET", "/"),  # the web apps
        ("GET", "/agent/"),
        ("GET", "/openapi.yaml"),
        ("GET", "/dev/idp/jwks.json"),  # the development identity provider
        ("POST", "/api/v1/sms/delivery-reports"),
    ],
)
def test_every_answer_carries_hsts(host_url: str, method: str, path: str) -> None:
    response = requests.request(method, f"{host_url}{path}", timeout=10)
    assert response.headers.get("Strict-Transport-Security") == HSTS, (response.status_code, dict(response.headers))


def test_hsts_is_on_an_answer_of_a_signed_in_person(api: Api, new_pesel) -> None:
    token = api.login(new_pesel())["session_token"]
    assert api.call("GET", "/api/v1/session", token).headers["Strict-Transport-Security"] == HSTS


@pytest.mark.parametrize("message_id", ["a/b", "event-1/../x", "../sessions/x", "__x__", ".", "x y", "x\n"])
def test_the_sms_webhook_refuses_ids_that_are_not_plain_tokens(host_url: str, message_id: str) -> None:
    response = requests.post(
        f"{host_url}/api/v1/sms/delivery-reports",
        json={"id": message_id, "status": "delivered"},
        headers={"Authorization": "Bearer local-delivery-report-token"},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert (response.json()["field"], response.json()["code"]) == ("id", "invalid_field")


def test_the_sms_webhook_still_answers_an_unknown_plain_id_with_404(host_url: str) -> None:
    response = requests.post(
        f"{host_url}/api/v1/sms/delivery-reports",
        json={"id": "event-0b7c2c1e-unknown", "status": "delivered"},
        headers={"Authorization": "Bearer local-delivery-report-token"},
        timeout=10,
    )
    assert response.status_code == 404 and response.json()["code"] == "sms_not_found"


SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"roles": ["admin"], "acr": None}, "weak_authentication"),
        ({"roles": ["agent"], "acr": "http://eidas.europa.eu/LoA/low"}, "weak_authentication"),
        ({"roles": ["analyst"], "acr": "substantial"}, "weak_authentication"),
        ({"pesel": None}, "invalid_identity"),  # `sub` holds the PESEL: never read as one
        ({"pesel": None, "roles": ["admin"], "acr": SUBSTANTIAL}, "invalid_identity"),
    ],
)
def test_sign_in_refuses_weak_staff_levels_and_a_pesel_only_in_sub(
    api: Api, new_pesel, overrides: dict[str, object], code: str
) -> None:
    claims = {k: v for k, v in {**_claims(new_pesel()), **overrides}.items() if v is not None}
    response = _login(api, _signed(claims))
    assert response.status_code == 401, response.text
    assert response.json()["code"] == code


def test_staff_at_a_strong_level_and_patients_at_any_sign_in(api: Api, new_pesel) -> None:
    staff = _login(api, _signed(_claims(new_pesel(), roles=["admin"], acr=SUBSTANTIAL)))
    assert staff.status_code == 200, staff.text
    assert staff.json()["roles"] == ["admin"]
    patient = _login(api, _signed(_claims(new_pesel(), acr="http://eidas.europa.eu/LoA/low")))
    assert patient.status_code == 200, patient.text


def test_sessions_and_audit_live_in_databases_of_their_own(api: Api, new_pesel, e2e_backends: Container) -> None:
    """Item 4: a function granted only the main database (the SMS webhook) reaches neither."""
    main = e2e_backends.firestore.client
    patient = api.login(new_pesel())["session_token"]
    session_id = patient.split(".")[0]
    assert e2e_backends.firestore_sessions.collection("sessions").document(session_id).get().exists
    assert not main.collection("sessions").document(session_id).get().exists

    agent_pesel = new_pesel()
    agent = api.login(agent_pesel, roles=["agent"])["session_token"]
    looked_up = api.call("POST", "/api/v1/agent/patients:lookup", agent, json={"pesel": new_pesel()})
    assert looked_up.status_code in (200, 404), looked_up.text
    staff_id = staff_id_for(agent_pesel, e2e_backends.settings.secret("audit_hash_key"))
    by_staff = FieldFilter("staff_id", "==", staff_id)
    assert list(e2e_backends.firestore_audit.collection("audit_log").where(filter=by_staff).stream())
    assert not list(main.collection("audit_log").where(filter=by_staff).stream())
    assert e2e_backends.firestore_sessions.collection("staff").document(staff_id).get().exists
