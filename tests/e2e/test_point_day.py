"""A whole day at a vaccination point over HTTP, and the point routes' roles and refusals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest

from emulators.seed import POINT_COLUMNS, SLOT_COLUMNS
from emulators.waiting import poll_until
from shared.bootstrap import Container
from shared.domain.booking import WARSAW, Channel
from shared.services.visits import BookingRequest
from shared.topology import NO_SHOW_TICKS
from tests.e2e.conftest import Api
from tests.integration.conftest import visit_service

T = TypeVar("T")


def eventually(check: Callable[[], T | None], what: str, timeout_s: float = 30) -> T:
    """Poll until ``check`` returns something; it returns as soon as it holds."""
    found = poll_until(check, bool, timeout_s)
    if not found:
        raise AssertionError(f"not within {timeout_s} s: {what}")
    return found


def new_point(container: Container, slots: list[tuple[datetime, str, int]] = ()) -> str:  # type: ignore[assignment]
    point_id = str(uuid.uuid4())
    with container.spanner.batch() as batch:
        batch.insert("Points", columns=POINT_COLUMNS, values=[(point_id, "Punkt Szczepień e2e", "14", "1465",
                     "1465011", "Warszawa", "ul. Próżna 7", "00-107", ["comirnaty", "jcovden"], True)])  # fmt: skip
        if slots:
            batch.insert("Slots", columns=SLOT_COLUMNS, values=[(point_id, s, v, c, 0, "14", "1465", "1465011", True)
                                                                for s, v, c in slots])  # fmt: skip
    return point_id


def today_block() -> tuple[str, str, str]:
    """Today's block from the next five-minute mark: (day, from, to) in local time."""
    now = datetime.now(UTC).astimezone(WARSAW)
    start = (now + timedelta(minutes=5 - now.minute % 5)).replace(second=0, microsecond=0)
    assert start.date() == now.date(), "the local day is ending: run this test after midnight"
    end_minute = min(start.hour * 60 + start.minute + 60, 24 * 60)
    return now.date().isoformat(), f"{start:%H:%M}", f"{end_minute // 60:02d}:{end_minute % 60:02d}"


def test_a_day_at_a_point(api: Api, new_pesel, new_phone, e2e_backends: Container) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    point_id = new_point(e2e_backends, [(yesterday, "comirnaty", 2)])
    staff = api.login(new_pesel(date(1975, 1, 1)), roles=["point_staff"], point_ids=[point_id])["session_token"]

    # Morning: the delivery is recorded and today's schedule published (with second-dose days).
    delivered = api.call("POST", f"/api/v1/points/{point_id}/deliveries", staff,
                         json={"vaccine": "comirnaty", "doses": 200, "lot": "FK1234"})  # fmt: skip
    assert delivered.status_code == 201, delivered.text
    assert delivered.json()["stock"]["on_hand"] == 200
    day, start, end = today_block()
    in_three_weeks = (date.fromisoformat(day) + timedelta(days=21)).isoformat()
    blocks = [
        {"day": day, "from": start, "to": end, "slot_minutes": 5, "places": 4, "vaccine": "comirnaty"},
        {"day": in_three_weeks, "from": "08:00", "to": "12:00", "slot_minutes": 30, "places": 4,
         "vaccine": "comirnaty"},
    ]  # fmt: skip
    published = api.call("PUT", f"/api/v1/points/{point_id}/schedule", staff, json={"blocks": blocks})
    assert published.status_code == 200, published.text
    created = published.json()["created"]
    assert created and published.json()["removed"] == []
    schedule = api.call("GET", f"/api/v1/points/{point_id}/schedule", staff, params={"from": day, "to": day})
    assert schedule.status_code == 200, schedule.text
    today_slots = [s for s in schedule.json()["slots"] if s["places"] == 4]
    first_slot = today_slots[0]
    assert first_slot["free_places"] == 4

    # A patient books online at the first place of the day (dose 2 comes with it).
    online_pesel = new_pesel(date(1968, 8, 8))
    online = api.login(online_pesel)["session_token"]
    booked = api.call(
        "POST",
        "/api/v1/visits",
        online,
        headers={"Idempotency-Key": str(uuid.uuid4())},
        json={
            "point_id": point_id,
            "starts_at": first_slot["starts_at"],
            "vaccine": "comirnaty",
            "phone": new_phone(),
        },
    )
    assert booked.status_code == 201, booked.text
    online_dose1, online_dose2 = booked.json()["visits"]
    # The patient drops dose 2 for now: the vaccination will book it.
    assert api.call("DELETE", f"/api/v1/visits/{online_dose2['visit_id']}", online).status_code == 204

    # A walk-in unknown to the registry is booked at the earliest place from now.
    walk_in_pesel = new_pesel(date(1959, 9, 9))
    walked = api.call("POST", f"/api/v1/points/{point_id}/visits", staff, headers={"Idempotency-Key": "walk-in-1"},
                      json={"pesel": walk_in_pesel, "vaccine": "comirnaty", "given_name": "Zofia",
                            "family_name": "Wolska"})  # fmt: skip
    assert walked.status_code == 201, walked.text
    walk_in_dose1, walk_in_dose2 = walked.json()["visits"]
    assert walk_in_dose1["starts_at"] == first_slot["starts_at"] and walk_in_dose1["channel"] == "POINT"
    assert walk_in_dose2["starts_at"].startswith(in_three_weeks)

    # Both are vaccinated with the codes from their SMS (a wrong code first).
    wrong = f"{(int(online_dose1['check_in_code']) + 1) % 10_000:04d}"
    refused = api.call("POST", f"/api/v1/visits/{online_dose1['visit_id']}/vaccination", staff,
                       json={"lot": "FK1234", "check_in_code": wrong})  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (422, "wrong_check_in_code")
    for visit in (online_dose1, walk_in_dose1):
        done = api.call("POST", f"/api/v1/visits/{visit['visit_id']}/vaccination", staff,
                        json={"lot": "FK1234", "check_in_code": visit["check_in_code"]})  # fmt: skip
        assert done.status_code == 201, done.text
        assert done.json()["vaccination"]["lot"] == "FK1234"
    mine = api.call("GET", "/api/v1/visits", online).json()["visits"]
    states = sorted((v["dose"], v["status"]) for v in mine)
    assert states == [(1, "COMPLETED"), (2, "BOOKED"), (2, "CANCELLED")]
    assert next(v for v in mine if v["status"] == "BOOKED")["starts_at"].startswith(in_three_weeks)
    stock = api.call("GET", f"/api/v1/points/{point_id}/stock", staff).json()["stock"]
    assert next(s for s in stock if s["vaccine"] == "comirnaty")["on_hand"] == 198

    # A third patient booked for yesterday and never came: the nightly job marks the visit NO_SHOW ...
    third_pesel = new_pesel(date(1977, 7, 7))
    third = api.login(third_pesel)
    missed = visit_service(e2e_backends).book(
        third["patient"]["patient_id"], BookingRequest(point_id, yesterday, "comirnaty", new_phone()),
        Channel.WEB, yesterday - timedelta(hours=2),
    ).visits[0]  # fmt: skip
    e2e_backends.bus.publish(NO_SHOW_TICKS, b"{}")

    def third_visits() -> list[dict[str, Any]] | None:
        found = api.call("GET", "/api/v1/visits", third["session_token"]).json()["visits"]
        return found if any(v["status"] == "NO_SHOW" for v in found) else None

    after_night = eventually(third_visits, "the nightly job marks yesterday's visit NO_SHOW")
    assert {v["visit_id"]: v["status"] for v in after_night}[missed.visit_id] == "NO_SHOW"
    # ... and that patient books dose 1 again, today.
    body = {"point_id": point_id, "starts_at": today_slots[1]["starts_at"], "vaccine": "comirnaty"}
    again = api.call("POST", "/api/v1/visits", third["session_token"], headers={"Idempotency-Key": "again"}, json=body)
    assert again.status_code == 201, again.text
    assert [v["dose"] for v in again.json()["visits"]] == [1, 2]

    # The events reached the reporting dataset: vaccinations, the no-show, the schedule.
    table = f"`{e2e_backends.settings.project_id}.{e2e_backends.settings.bigquery_dataset}"

    def reported() -> dict[str, int] | None:
        rows = e2e_backends.warehouse.query(
            f"SELECT event_type, COUNT(*) AS n FROM {table}.visit_events_unique` WHERE point_id = @p "
            "GROUP BY event_type", {"p": point_id},
        )  # fmt: skip
        counts = {r["event_type"]: r["n"] for r in rows}
        return counts if counts.get("VisitCompleted") == 2 and counts.get("VisitNoShow") == 1 else None

    eventually(reported, "VisitCompleted x2 and VisitNoShow in BigQuery")
    schedule_rows = eventually(
        lambda: (
            e2e_backends.warehouse.query(
                f"SELECT COUNT(*) AS n FROM {table}.schedule_events_unique` WHERE point_id = @p", {"p": point_id}
            )[0]["n"]
            == len(created)
            or None
        ),
        "one ScheduleChanged row per slot created",
    )
    assert schedule_rows


@pytest.fixture
def point_and_staff(api: Api, new_pesel, e2e_backends: Container) -> tuple[str, str]:
    point_id = new_point(e2e_backends)
    token = api.login(new_pesel(date(1976, 6, 6)), roles=["point_staff"], point_ids=[point_id])["session_token"]
    return point_id, token


def test_point_routes_refuse_other_roles_other_points_and_bad_input(
    api: Api, new_pesel, new_phone, e2e_backends: Container, point_and_staff: tuple[str, str]
) -> None:
    point_id, staff = point_and_staff
    patient = api.login(new_pesel(date(1990, 1, 1)))["session_token"]
    other_point = new_point(e2e_backends)
    tomorrow = (datetime.now(UTC).astimezone(WARSAW).date() + timedelta(days=1)).isoformat()
    block = {"day": tomorrow, "from": "08:00", "to": "09:00", "slot_minutes": 30, "places": 2, "vaccine": "comirnaty"}
    visit = str(uuid.uuid4())
    routes = [
        ("GET", f"/api/v1/points/{point_id}/schedule", None),
        ("PUT", f"/api/v1/points/{point_id}/schedule", {"blocks": [block]}),
        ("POST", f"/api/v1/points/{point_id}/deliveries", {"vaccine": "comirnaty", "doses": 5, "lot": "L1"}),
        ("GET", f"/api/v1/points/{point_id}/stock", None),
        ("GET", f"/api/v1/points/{point_id}/visits?day={tomorrow}", None),
        ("POST", f"/api/v1/points/{point_id}/visits", {"pesel": new_pesel(), "vaccine": "comirnaty"}),
        ("POST", f"/api/v1/visits/{visit}/vaccination", {"lot": "L1", "check_in_code": "1234"}),
        ("POST", f"/api/v1/visits/{visit}/no-show", None),
    ]
    for method, path, body in routes:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        assert api.call(method, path, json=body, headers=headers).status_code == 401, path
        as_patient = api.call(method, path, patient, json=body, headers=headers)
        assert (as_patient.status_code, as_patient.json()["code"]) == (403, "forbidden_role"), path
        other = api.call(method, path.replace(point_id, other_point), staff, json=body, headers=headers)
        if point_id in path:
            assert (other.status_code, other.json()["code"]) == (403, "not_your_point"), path
        else:
            assert (other.status_code, other.json()["code"]) == (404, "visit_not_found"), path

    # Over stock, then within it; a slot with visits cannot go.
    over = api.call("PUT", f"/api/v1/points/{point_id}/schedule", staff, json={"blocks": [block]})
    assert (over.status_code, over.json()["code"]) == (422, "exceeds_stock")
    api.call("POST", f"/api/v1/points/{point_id}/deliveries", staff, json={"vaccine": "comirnaty", "doses": 10,
                                                                            "lot": "L1"})  # fmt: skip
    assert api.call("PUT", f"/api/v1/points/{point_id}/schedule", staff, json={"blocks": [block]}).status_code == 200
    slot = api.call("GET", f"/api/v1/points/{point_id}/schedule", staff).json()["slots"][0]
    booked = api.call(
        "POST",
        "/api/v1/visits",
        patient,
        headers={"Idempotency-Key": str(uuid.uuid4())},
        json={"point_id": point_id, "starts_at": slot["starts_at"], "vaccine": "comirnaty", "phone": new_phone()},
    )
    assert booked.status_code == 201, booked.text
    emptied = {**block, "from": "08:30"}
    conflict = api.call("PUT", f"/api/v1/points/{point_id}/schedule", staff, json={"blocks": [emptied]})
    assert (conflict.status_code, conflict.json()["code"]) == (409, "slot_has_visits")
    assert conflict.json()["slots"] == [{"starts_at": slot["starts_at"], "vaccine": "comirnaty", "booked": 1,
                                         "places": 2}]  # fmt: skip
    visit_id = booked.json()["visits"][0]["visit_id"]
    # Not today, and not started yet.
    code = booked.json()["visits"][0]["check_in_code"]
    vaccination = {"lot": "L1", "check_in_code": code}
    not_today = api.call("POST", f"/api/v1/visits/{visit_id}/vaccination", staff, json=vaccination)
    assert (not_today.status_code, not_today.json()["code"]) == (409, "visit_not_today")
    early = api.call("POST", f"/api/v1/visits/{visit_id}/no-show", staff)
    assert (early.status_code, early.json()["code"]) == (422, "visit_not_started")

    # Malformed input is a 400 naming the field; an unknown point or visit id is a 404.
    bad = [
        ("PUT", f"/api/v1/points/{point_id}/schedule", {"blocks": [{**block, "from": "25:00"}]}, "blocks.0.from"),
        ("PUT", f"/api/v1/points/{point_id}/schedule", {"blocks": [{**block, "to": "07:00"}]}, "blocks.0.to"),
        ("POST", f"/api/v1/points/{point_id}/deliveries", {"vaccine": "comirnaty", "doses": 0, "lot": "L"}, "doses"),
        ("POST", f"/api/v1/points/{point_id}/visits", {"pesel": "12345678901", "vaccine": "comirnaty"}, "pesel"),
        ("POST", f"/api/v1/visits/{visit_id}/vaccination", {"lot": "L1", "check_in_code": "12a4"}, "check_in_code"),
    ]
    for method, path, payload, field in bad:
        response = api.call(method, path, staff, json=payload, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert (response.status_code, response.json().get("field")) == (400, field), (path, response.text)
    assert api.call("GET", "/api/v1/points/not-a-point/schedule", staff).json()["code"] == "point_not_found"
    assert api.call("POST", "/api/v1/visits/not-a-visit/no-show", staff).json()["code"] == "visit_not_found"
