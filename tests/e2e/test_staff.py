"""Call-centre agents and point staff over HTTP: what each may touch, and the audit trail."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import date

from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.identity import staff_id_for
from tests.e2e.conftest import Api
from tests.e2e.test_booking import book, find_slots


def lookup(api: Api, token: str, pesel: str):
    return api.call("POST", "/api/v1/agent/patients:lookup", token, json={"pesel": pesel})


def test_an_agent_finds_a_caller_and_books_for_them_and_it_is_audited(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    caller = new_pesel(date(1955, 2, 2))
    caller_token = api.login(caller)["session_token"]
    agent_pesel = new_pesel()
    agent = api.login(agent_pesel, roles=["agent"])["session_token"]

    found = lookup(api, agent, caller)
    assert found.status_code == 200, found.text
    assert found.json()["visits"] == [] and found.json()["referral_valid"] is True

    slot = find_slots(api, "comirnaty")[8]
    body = {"pesel": caller, "phone": "601 234 567", "point_id": slot["point_id"], "starts_at": slot["starts_at"],
            "vaccine": "comirnaty"}  # fmt: skip
    booked = api.call("POST", "/api/v1/agent/visits", agent, json=body, headers={"Idempotency-Key": "agent-k1"})
    assert booked.status_code == 201, booked.text
    assert {v["channel"] for v in booked.json()["visits"]} == {"CALL_CENTRE"}
    assert all("check_in_code" not in v for v in booked.json()["visits"])  # only the patient sees it
    again = api.call("POST", "/api/v1/agent/visits", agent, json=body, headers={"Idempotency-Key": "agent-k2"})
    assert (again.status_code, again.json()["code"]) == (409, "already_booked")

    # The patient sees the visit (with their check-in code); the agent never sees the code.
    mine = api.call("GET", "/api/v1/visits", caller_token).json()["visits"]
    assert len(mine) == 2 and all(len(v["check_in_code"]) == 4 for v in mine)
    seen_by_agent = lookup(api, agent, caller).json()["visits"]
    assert len(seen_by_agent) == 2 and all("check_in_code" not in v for v in seen_by_agent)

    later = find_slots(api, "comirnaty")[20]
    moved = api.call("PATCH", f"/api/v1/agent/visits/{mine[0]['visit_id']}", agent,
                     json={"point_id": later["point_id"], "starts_at": later["starts_at"]})  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert moved.json()["visits"] and all("check_in_code" not in v for v in moved.json()["visits"])

    cancelled = api.call("DELETE", f"/api/v1/agent/visits/{mine[0]['visit_id']}", agent)
    assert cancelled.status_code == 204
    actions = sorted(
        (e["action"], e["status"])
        for e in e2e_backends.audit.entries_for(
            staff_id_for(agent_pesel, e2e_backends.settings.secret("audit_hash_key"))
        )
    )
    assert actions == [("book", 201), ("book", 409), ("cancel", 204), ("move", 200), ("read_patient", 200),
                       ("read_patient", 200)]  # fmt: skip
    assert caller not in str(
        e2e_backends.audit.entries_for(staff_id_for(agent_pesel, e2e_backends.settings.secret("audit_hash_key")))
    )


def test_agent_lookups_validate_the_pesel_and_refusals_are_audited(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    agent_pesel = new_pesel()
    agent = api.login(agent_pesel, roles=["agent"])["session_token"]
    bad = lookup(api, agent, "12345678901")
    assert (bad.status_code, bad.json()["field"]) == (400, "pesel")
    probed = new_pesel()
    unknown = lookup(api, agent, probed)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "patient_not_found")
    entries = e2e_backends.audit.entries_for(staff_id_for(agent_pesel, e2e_backends.settings.secret("audit_hash_key")))
    audited = sorted((e["action"], e["status"], e["reason"], e.get("pesel_hmac")) for e in entries)
    # Each refused lookup is tied to what was probed by a keyed hash, never by the number itself.
    key = e2e_backends.settings.secret("audit_hash_key").encode()
    assert audited == [
        ("read_patient", 400, "invalid_pesel", hmac.new(key, b"12345678901", hashlib.sha256).hexdigest()),
        ("read_patient", 404, "patient_not_found", hmac.new(key, probed.encode(), hashlib.sha256).hexdigest()),
    ]
    assert probed not in str(entries) and "12345678901" not in str(entries)


def test_the_pesel_never_goes_in_a_url(api: Api, new_pesel) -> None:
    agent = api.login(new_pesel(), roles=["agent"])["session_token"]
    caller = new_pesel()
    api.login(caller)
    old_route = api.call("GET", f"/api/v1/agent/patients/{caller}", agent)
    assert old_route.status_code == 404
    assert lookup(api, agent, caller).status_code == 200


def test_lookups_are_rate_limited_per_agent_whatever_the_address(host_url: str, new_pesel) -> None:
    _, burst = Settings(deployment="local").rate_limits["lookup:user"]
    agents = [Api(host_url, f"198.18.7.{n}") for n in range(1, 4)]  # one agent, three workstations
    token = agents[0].login(new_pesel(), roles=["agent"])["session_token"]
    other_agent = agents[0].login(new_pesel(), roles=["agent"])["session_token"]
    body = {"pesel": "12345678901"}
    codes = [agents[n % 3].call("POST", "/api/v1/agent/patients:lookup", token, json=body).status_code
             for n in range(burst + 5)]  # fmt: skip
    assert codes[: burst - 2].count(400) == burst - 2 and codes[-1] == 429
    limited = agents[1].call("POST", "/api/v1/agent/patients:lookup", token, json=body)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # Another agent at the same workstation is not held back by the first one's lookups.
    other = agents[1].call("POST", "/api/v1/agent/patients:lookup", other_agent, json=body)
    assert other.status_code == 400


def test_an_agent_route_called_by_a_patient_is_403(api: Api, new_pesel) -> None:
    patient_pesel = new_pesel()
    token = api.login(patient_pesel)["session_token"]
    response = lookup(api, token, patient_pesel)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden_role")


def test_point_staff_see_their_own_point_only(api: Api, new_pesel) -> None:
    patient = api.login(new_pesel())["session_token"]
    slot = find_slots(api, "comirnaty")[9]
    visit = book(api, patient, slot).json()["visits"][0]
    day = slot["starts_at"][:10]
    staff = api.login(new_pesel(), roles=["point_staff"], point_ids=[slot["point_id"]])["session_token"]

    own = api.call("GET", f"/api/v1/points/{slot['point_id']}/visits", staff, params={"day": day})
    assert own.status_code == 200, own.text
    listed = {v["visit_id"]: v for v in own.json()["visits"]}
    assert visit["visit_id"] in listed
    assert listed[visit["visit_id"]]["family_name"] == "Testowy"
    assert "check_in_code" not in listed[visit["visit_id"]]

    other_point = str(uuid.uuid4())
    foreign = api.call("GET", f"/api/v1/points/{other_point}/visits", staff, params={"day": day})
    assert (foreign.status_code, foreign.json()["code"]) == (403, "not_your_point")
    as_patient = api.call("GET", f"/api/v1/points/{slot['point_id']}/visits", patient, params={"day": day})
    assert (as_patient.status_code, as_patient.json()["code"]) == (403, "forbidden_role")
    bad_day = api.call("GET", f"/api/v1/points/{slot['point_id']}/visits", staff, params={"day": "31.12.2026"})
    assert (bad_day.status_code, bad_day.json()["field"]) == (400, "day")
