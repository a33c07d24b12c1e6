"""Programme administration and "tell me when I can book" over HTTP through the local host."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from google.cloud.firestore import FieldFilter
from tenacity import retry, stop_after_delay, wait_fixed

from shared.adapters.firestore_jobs import JOBS
from shared.bootstrap import Container
from shared.topology import PROGRAMME_TICKS
from tests.e2e.conftest import Api
from tests.e2e.test_messaging import messages_to


def _programme(api: Api, token: str) -> tuple[dict[str, Any], str]:
    response = api.call("GET", "/api/v1/admin/programme", token)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


def _content(programme: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in programme.items() if k != "version"}


def test_admin_reads_and_replaces_the_programme_with_if_match(api: Api, new_pesel) -> None:
    admin = api.login(new_pesel(), roles=["admin"])["session_token"]
    current, etag = _programme(api, admin)
    assert etag == f'"{current["version"]}"'
    body = {**_content(current), "referral_valid_days": current["referral_valid_days"] + 1}

    missing = api.call("PUT", "/api/v1/admin/programme", admin, json=body)
    assert (missing.status_code, missing.json()["code"]) == (428, "if_match_required")
    garbled = api.call("PUT", "/api/v1/admin/programme", admin, json=body, headers={"If-Match": "latest"})
    assert (garbled.status_code, garbled.json()["field"]) == (400, "If-Match")

    changed = api.call("PUT", "/api/v1/admin/programme", admin, json=body, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == current["version"] + 1
    assert changed.headers["ETag"] == f'"{current["version"] + 1}"'

    stale = api.call("PUT", "/api/v1/admin/programme", admin, json=_content(current), headers={"If-Match": etag})
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_version")
    assert _programme(api, admin)[0] == changed.json()

    earlier = api.call("GET", f"/api/v1/admin/programme?version={current['version']}", admin)
    assert earlier.status_code == 200 and earlier.json() == current
    unknown = api.call("GET", "/api/v1/admin/programme?version=999999", admin)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_version")


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (lambda p: p["vaccines"][0].update(interval_min_days=90, interval_max_days=30), "interval_min_above_max",
         "vaccines.0.interval_min_days"),
        (lambda p: p["cohorts"][1].update(birth_year_from=1950), "cohorts_overlap", "cohorts.1.birth_year_from"),
        (lambda p: p["cohorts"][0].update(vaccines=["sputnik-v"]), "unknown_vaccine", "cohorts.0.vaccines.0"),
        (lambda p: p["vaccines"][0].update(doses="two"), "invalid_field", "vaccines.0.doses"),
    ],
)  # fmt: skip
def test_invalid_programmes_are_400_naming_the_field_and_change_nothing(
    api: Api, new_pesel, change: Any, code: str, field: str
) -> None:
    admin = api.login(new_pesel(), roles=["admin"])["session_token"]
    current, etag = _programme(api, admin)
    body = _content(current)
    change(body)
    refused = api.call("PUT", "/api/v1/admin/programme", admin, json=body, headers={"If-Match": etag})
    assert refused.status_code == 400, refused.text
    assert (refused.json()["code"], refused.json()["field"]) == (code, field)
    assert _programme(api, admin)[0]["version"] == current["version"]


@pytest.mark.parametrize("roles", [[], ["agent"], ["point_staff"], ["analyst"]])
def test_patients_and_other_staff_are_403_on_every_admin_route(api: Api, new_pesel, roles: list[str]) -> None:
    token = api.login(new_pesel(), roles=roles, point_ids=["p-1"] if "point_staff" in roles else None)["session_token"]
    calls = [
        ("GET", "/api/v1/admin/programme", {}),
        ("PUT", "/api/v1/admin/programme", {"json": {}, "headers": {"If-Match": '"1"'}}),
        ("POST", "/api/v1/admin/referrals:issue", {"json": {"cohort": "adults"}, "headers": {"Idempotency-Key": "k"}}),
        ("GET", f"/api/v1/admin/jobs/{uuid.uuid4().hex}", {}),
    ]
    for method, path, kwargs in calls:
        response = api.call(method, path, token, **kwargs)
        assert (response.status_code, response.json()["code"]) == (403, "forbidden_role"), (method, path)
    assert api.call("GET", "/api/v1/admin/programme").status_code == 401


def test_a_bulk_referral_job_runs_over_pubsub_to_done(api: Api, new_pesel) -> None:
    admin = api.login(new_pesel(), roles=["admin"])["session_token"]
    no_key = api.call("POST", "/api/v1/admin/referrals:issue", admin, json={"cohort": "adults"})
    assert (no_key.status_code, no_key.json()["code"]) == (400, "idempotency_key_required")
    unknown = api.call("POST", "/api/v1/admin/referrals:issue", admin, json={"cohort": "nobody"},
                       headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
    assert (unknown.status_code, unknown.json()["field"]) == (400, "cohort")

    key = {"Idempotency-Key": str(uuid.uuid4())}
    started = api.call("POST", "/api/v1/admin/referrals:issue", admin, json={"cohort": "seniors"}, headers=key)
    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["Location"] == f"/api/v1/admin/jobs/{job['job_id']}"
    assert (job["total"], job["failed"]) == (16, 0)

    @retry(stop=stop_after_delay(60), wait=wait_fixed(0.5), reraise=True)
    def finished() -> dict[str, Any]:
        progress = api.call("GET", started.headers["Location"], admin)
        assert progress.status_code == 200 and progress.json()["status"] == "DONE", progress.text
        return dict(progress.json())

    done = finished()
    assert (done["done"], done["failed"]) == (16, 0) and done["issued"] <= done["patients"]
    again = api.call("POST", "/api/v1/admin/referrals:issue", admin, json={"cohort": "seniors"}, headers=key)
    assert again.status_code == 202 and again.json()["job_id"] == job["job_id"] and again.json()["status"] == "DONE"
    other = api.call("POST", "/api/v1/admin/referrals:issue", admin, json={"cohort": "adults"}, headers=key)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert api.call("GET", "/api/v1/admin/jobs/nope", admin).status_code == 404


def test_interest_is_for_patients_whose_cohort_has_not_opened(api: Api, new_pesel) -> None:
    patient = api.login(new_pesel(date(1970, 3, 3)))["session_token"]
    opened = api.call("POST", "/api/v1/interest", patient, json={"phone": "601 234 567"})
    assert (opened.status_code, opened.json()["code"]) == (422, "cohort_already_open")  # the demo cohorts are open
    bad_phone = api.call("POST", "/api/v1/interest", patient, json={"phone": "22 123 45 67"})
    assert (bad_phone.status_code, bad_phone.json()["field"]) == (400, "phone")
    agent = api.login(new_pesel(), roles=["agent"])["session_token"]
    assert api.call("POST", "/api/v1/interest", agent, json={"phone": "601234567"}).status_code == 403


def test_at_its_opening_a_cohort_gets_its_referral_job_and_one_sms_each_through_the_pipeline(
    api: Api, new_pesel, new_phone, gateway: str, e2e_backends: Container
) -> None:
    admin = api.login(new_pesel(), roles=["admin"])["session_token"]
    current, etag = _programme(api, admin)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    # Born 2022 or later: in no cohort of the demo programme, and no other test logs such a child in.
    children = {"code": f"kids-{uuid.uuid4().hex[:6]}", "name": "Dzieci", "birth_year_from": 2022,
                "birth_year_to": 2026, "opens_at": tomorrow.isoformat()}  # fmt: skip
    body = {**_content(current), "cohorts": [*current["cohorts"], children]}
    put = api.call("PUT", "/api/v1/admin/programme", admin, json=body, headers={"If-Match": etag})
    assert put.status_code == 200, put.text
    try:
        _open_the_cohort_and_check_its_sms(api, new_pesel, new_phone, gateway, e2e_backends, admin, body, put)
    finally:  # the host is shared: leave the programme as the other tests know it
        latest = _programme(api, admin)[1]
        api.call("PUT", "/api/v1/admin/programme", admin, json=_content(current), headers={"If-Match": latest})


def _open_the_cohort_and_check_its_sms(
    api: Api, new_pesel, new_phone, gateway: str, e2e_backends: Container, admin: str, body: dict[str, Any], put: Any
) -> None:
    children = body["cohorts"][-1]

    phones = [new_phone(), new_phone()]
    for phone in phones:
        patient = api.login(new_pesel(date(2023, 6, 1)))["session_token"]
        registered = api.call("POST", "/api/v1/interest", patient, json={"phone": phone})
        assert registered.status_code == 202, registered.text
        assert registered.json()["cohort"] == children["code"]
    e2e_backends.bus.publish(PROGRAMME_TICKS, b"{}")  # not open yet: this tick sends nothing

    # The admin brings the opening forward to this very minute.
    children["opens_at"] = datetime.now(UTC).replace(second=0, microsecond=0).isoformat()
    opened = api.call("PUT", "/api/v1/admin/programme", admin, json=body, headers={"If-Match": put.headers["ETag"]})
    assert opened.status_code == 200, opened.text

    @retry(stop=stop_after_delay(60), wait=wait_fixed(0.5), reraise=True)
    def tick_until_sent() -> None:
        e2e_backends.bus.publish(PROGRAMME_TICKS, b"{}")  # what Cloud Scheduler sends every minute
        assert all(messages_to(gateway, phone) for phone in phones)

    tick_until_sent()  # usually several ticks: they start one job and send one SMS each
    job_keys = e2e_backends.firestore.client.collection(JOBS).where(
        filter=FieldFilter("cohort.code", "==", children["code"])
    )
    assert len(list(job_keys.stream())) == 1  # the tick started the cohort's referral job once
    for phone in phones:
        [sms] = messages_to(gateway, phone)
        assert "możesz umówić" in sms["text"] or "mozesz umowic" in sms["text"]
