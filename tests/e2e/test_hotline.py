"""A hotline for every caller over HTTP (issue 20): callers not in the registry, callers with a landline
only, a new number that never silently replaces the old one, the confirmation resent, interest."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from shared.bootstrap import Container
from shared.domain.identity import staff_id_for
from tests.e2e.conftest import Api
from tests.e2e.test_messaging import assert_no_more_messages, wait_for_messages
from tests.e2e.test_nurse_day import days_ahead
from tests.e2e.test_point_day import new_point


def agent_call(api: Api, token: str, path: str, body: dict[str, object] | None = None):
    return api.call("POST", path, token, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})


def test_an_agent_registers_a_caller_not_in_the_registry_and_the_lookup_answers_the_same(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    agent_pesel = new_pesel()
    agent = api.login(agent_pesel, roles=["agent"])["session_token"]
    caller, child = new_pesel(date(1950, 5, 5)), new_pesel(date(2021, 1, 1))
    body = {"pesel": caller, "given_name": "Halina", "family_name": "Kowalczyk"}

    registered = agent_call(api, agent, "/api/v1/agent/patients", body)
    again = agent_call(api, agent, "/api/v1/agent/patients", body)
    found = agent_call(api, agent, "/api/v1/agent/patients:lookup", {"pesel": caller})
    too_young = agent_call(api, agent, "/api/v1/agent/patients",
                           {"pesel": child, "given_name": "Ala", "family_name": "Mała"})  # fmt: skip
    bad = agent_call(api, agent, "/api/v1/agent/patients", {**body, "pesel": "12345678901"})

    assert registered.status_code == 201, registered.text
    patient = registered.json()
    assert (patient["birth_date"], patient["family_name"], patient["eligible"]) == ("1950-05-05", "Kowalczyk", True)
    assert patient["referral"]["referral_id"] and patient["opens_at"]
    assert (again.status_code, again.json()["code"]) == (409, "patient_exists")
    assert found.status_code == 200, found.text
    assert {k: found.json()[k] for k in ("patient_id", "eligible", "opens_at", "referral")} == {
        k: patient[k] for k in ("patient_id", "eligible", "opens_at", "referral")
    }
    assert too_young.status_code == 201 and too_young.json()["eligible"] is False
    assert too_young.json()["referral"] is None
    assert (bad.status_code, bad.json()["field"]) == (400, "pesel")
    audited = sorted(
        (e["action"], e["status"])
        for e in e2e_backends.audit.entries_for(
            staff_id_for(agent_pesel, e2e_backends.settings.secret("audit_hash_key"))
        )
    )
    assert ("register_patient", 201) in audited and ("register_patient", 409) in audited
    assert caller not in str(
        e2e_backends.audit.entries_for(staff_id_for(agent_pesel, e2e_backends.settings.secret("audit_hash_key")))
    )


def test_a_landline_caller_is_booked_with_no_sms_and_the_visit_is_read_back(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    starts_at = days_ahead(3, 11)
    point_id = new_point(e2e_backends, [(starts_at, "jcovden", 2)])
    agent = api.login(new_pesel(), roles=["agent"])["session_token"]
    caller = new_pesel(date(1944, 4, 4))
    agent_call(api, agent, "/api/v1/agent/patients", {"pesel": caller, "given_name": "Jan", "family_name": "Stary"})
    booking = {"pesel": caller, "point_id": point_id, "starts_at": starts_at.isoformat(), "vaccine": "jcovden"}

    no_number = agent_call(api, agent, "/api/v1/agent/visits", booking)
    booked = agent_call(api, agent, "/api/v1/agent/visits", {**booking, "landline": "22 123 45 67"})

    assert (no_number.status_code, no_number.json()["code"]) == (400, "phone_required")
    assert booked.status_code == 201, booked.text
    assert booked.json()["sms"] is False
    [visit] = booked.json()["visits"]
    assert "check_in_code" not in visit
    when = datetime.fromisoformat(visit["starts_at"])
    assert booked.json()["read_back"] == [
        f"Dawka 1: {when:%d.%m.%Y} godz. {when:%H:%M}, Punkt Szczepień e2e, {visit['address']}."
    ]
    resend = agent_call(api, agent, f"/api/v1/agent/visits/{visit['visit_id']}/sms:resend")
    assert (resend.status_code, resend.json()["code"]) == (409, "no_mobile_on_file")


def test_a_new_number_never_silently_replaces_the_old_one_and_the_confirmation_is_resent_once_an_hour(
    api: Api, new_pesel, new_phone, gateway: str, e2e_backends: Container
) -> None:
    starts_at = days_ahead(4, 12)
    point_id = new_point(e2e_backends, [(starts_at, "jcovden", 3), (starts_at + timedelta(hours=1), "jcovden", 3)])
    agent = api.login(new_pesel(), roles=["agent"])["session_token"]
    caller = new_pesel(date(1947, 7, 7))
    old_phone, new_number = new_phone(), new_phone()
    patient = api.login(caller)["session_token"]
    first = api.call("POST", "/api/v1/visits", patient, headers={"Idempotency-Key": str(uuid.uuid4())},
                     json={"point_id": point_id, "starts_at": starts_at.isoformat(), "vaccine": "jcovden",
                           "phone": old_phone})  # fmt: skip
    assert first.status_code == 201, first.text
    assert api.call("DELETE", f"/api/v1/visits/{first.json()['visits'][0]['visit_id']}", patient).status_code == 204
    wait_for_messages(gateway, old_phone, 2)  # the booking and the cancellation

    later = (starts_at + timedelta(hours=1)).isoformat()
    booked = agent_call(api, agent, "/api/v1/agent/visits", {"pesel": caller, "point_id": point_id,
                        "starts_at": later, "vaccine": "jcovden", "phone": new_number})  # fmt: skip
    assert booked.status_code == 201, booked.text
    assert booked.json()["sms"] is True
    told = wait_for_messages(gateway, old_phone, 3)
    assert "zmieniono" in told[-1]["text"] and new_number[-3:] in told[-1]["text"]
    wait_for_messages(gateway, new_number, 1)  # the confirmation goes to the new number

    visit_id = booked.json()["visits"][0]["visit_id"]
    resent = agent_call(api, agent, f"/api/v1/agent/visits/{visit_id}/sms:resend")
    too_soon = agent_call(api, agent, f"/api/v1/agent/visits/{visit_id}/sms:resend")
    assert resent.status_code == 202, resent.text
    assert (too_soon.status_code, too_soon.json()["code"]) == (429, "sms_resent_recently")
    assert int(too_soon.headers["Retry-After"]) > 3000
    confirmations = wait_for_messages(gateway, new_number, 2)
    assert confirmations[0]["text"] == confirmations[1]["text"]
    assert_no_more_messages(gateway, new_number, 2, watch_s=3)
    assert_no_more_messages(gateway, old_phone, 3, watch_s=1)


def test_an_agent_signs_a_caller_up_for_their_group_opening(api: Api, new_pesel, new_phone) -> None:
    agent = api.login(new_pesel(), roles=["agent"])["session_token"]
    adult, child = new_pesel(date(1980, 8, 8)), new_pesel(date(2021, 2, 2))
    for pesel in (adult, child):
        api.login(pesel)

    open_group = agent_call(api, agent, "/api/v1/agent/interest", {"pesel": adult, "phone": new_phone()})
    no_group = agent_call(api, agent, "/api/v1/agent/interest", {"pesel": child, "phone": new_phone()})
    unknown = agent_call(api, agent, "/api/v1/agent/interest", {"pesel": new_pesel(), "phone": new_phone()})

    # Every group of the test programme is open: the route reaches the programme's rules.
    assert (open_group.status_code, open_group.json()["code"]) == (422, "cohort_already_open")
    assert (no_group.status_code, no_group.json()["code"]) == (403, "not_eligible")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "patient_not_found")
