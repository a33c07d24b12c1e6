"""A patient's whole journey over HTTP: search, book (dose 2 too), see, move, cancel, places back."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from shared.bootstrap import Container
from tests.e2e.conftest import Api

VOIVODESHIPS = ["02", "04", "06", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28", "30", "32"]


def find_slots(api: Api, vaccine: str, enough: int = 60, **filters: str) -> list[dict[str, Any]]:
    """Free slots of a vaccine, from as many voivodeships as it takes to have ``enough``."""
    found: list[dict[str, Any]] = []
    for voivodeship in VOIVODESHIPS:
        params = {"voivodeship": voivodeship, "vaccine": vaccine, "limit": "50", **filters}
        response = api.call("GET", "/api/v1/slots", params=params)
        assert response.status_code == 200, response.text
        found += response.json()["slots"]
        if len(found) >= enough:
            break
    assert found, f"no free {vaccine} slot anywhere"
    return found


def free_places(api: Api, slot: dict[str, Any]) -> int:
    starts = datetime.fromisoformat(slot["starts_at"])
    params = {"point_id": slot["point_id"], "vaccine": slot["vaccine"], "from": starts.isoformat(),
              "to": (starts + timedelta(minutes=1)).isoformat()}  # fmt: skip
    found = api.call("GET", "/api/v1/slots", params=params).json()["slots"]
    return int(found[0]["free_places"]) if found else 0


def book(api: Api, token: str, slot: dict[str, Any], key: str | None = None, phone: str | None = "601 234 567"):
    body = {"point_id": slot["point_id"], "starts_at": slot["starts_at"], "vaccine": slot["vaccine"]}
    if phone is not None:
        body["phone"] = phone
    return api.call("POST", "/api/v1/visits", token, json=body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def test_patient_journey_book_see_move_cancel(api: Api, new_pesel) -> None:
    token = api.login(new_pesel(date(1970, 4, 4)))["session_token"]
    slots = find_slots(api, "comirnaty")
    first, other = slots[0], next(s for s in slots if s["starts_at"] != slots[0]["starts_at"])
    places_before = free_places(api, first)

    booked = book(api, token, first)
    assert booked.status_code == 201, booked.text
    visits = booked.json()["visits"]
    assert [v["dose"] for v in visits] == [1, 2]
    assert visits[0]["starts_at"] == first["starts_at"]
    assert all(v["status"] == "BOOKED" and v["channel"] == "WEB" and len(v["check_in_code"]) == 4 for v in visits)
    gap = datetime.fromisoformat(visits[1]["starts_at"]) - datetime.fromisoformat(visits[0]["starts_at"])
    assert timedelta(days=20) < gap < timedelta(days=43)
    assert free_places(api, first) == places_before - 1

    mine = api.call("GET", "/api/v1/visits", token).json()["visits"]
    assert {v["visit_id"] for v in mine} == {v["visit_id"] for v in visits}
    assert all(v["point_name"] and v["address"] for v in mine)

    moved = api.call(
        "PATCH", f"/api/v1/visits/{visits[0]['visit_id']}", token,
        json={"point_id": other["point_id"], "starts_at": other["starts_at"]},
    )  # fmt: skip
    assert moved.status_code == 200, moved.text
    dose1 = next(v for v in moved.json()["visits"] if v["dose"] == 1)
    assert (dose1["point_id"], dose1["starts_at"]) == (other["point_id"], other["starts_at"])
    assert free_places(api, first) == places_before

    cancelled = api.call("DELETE", f"/api/v1/visits/{visits[0]['visit_id']}", token)
    assert cancelled.status_code == 204
    after = api.call("GET", "/api/v1/visits", token).json()["visits"]
    assert {v["status"] for v in after} == {"CANCELLED"}
    assert free_places(api, first) == places_before

    # The freed place can be booked again, by the same patient.
    again = book(api, token, first)
    assert again.status_code == 201, again.text


def test_retry_with_the_same_key_returns_the_same_visits(api: Api, new_pesel) -> None:
    token = api.login(new_pesel())["session_token"]
    slot = find_slots(api, "comirnaty")[1]
    key = str(uuid.uuid4())
    first = book(api, token, slot, key)
    retry = book(api, token, slot, key)
    assert first.status_code == retry.status_code == 201
    assert retry.json()["visits"] == first.json()["visits"]
    assert retry.headers.get("Idempotent-Replayed") == "true"
    different = book(api, token, find_slots(api, "comirnaty")[2], key)
    assert different.status_code == 409
    assert different.json()["code"] == "idempotency_key_reused"
    assert len(api.call("GET", "/api/v1/visits", token).json()["visits"]) == 2


def test_a_second_booking_while_one_is_active_is_409(api: Api, new_pesel) -> None:
    token = api.login(new_pesel())["session_token"]
    slots = find_slots(api, "comirnaty")
    assert book(api, token, slots[3]).status_code == 201
    second = book(api, token, slots[4])
    assert second.status_code == 409
    assert second.json()["code"] == "already_booked"


def test_phone_is_kept_for_later_bookings_and_required_the_first_time(api: Api, new_pesel) -> None:
    token = api.login(new_pesel())["session_token"]
    slots = find_slots(api, "comirnaty")
    without = book(api, token, slots[5], phone=None)
    assert (without.status_code, without.json()["field"]) == (400, "phone")
    booked = book(api, token, slots[5])
    assert booked.status_code == 201
    api.call("DELETE", f"/api/v1/visits/{booked.json()['visits'][0]['visit_id']}", token)
    assert book(api, token, slots[5], phone=None).status_code == 201


def test_single_dose_vaccine_books_one_visit(api: Api, new_pesel) -> None:
    token = api.login(new_pesel())["session_token"]
    response = book(api, token, find_slots(api, "jcovden")[0])
    assert response.status_code == 201, response.text
    assert [v["dose"] for v in response.json()["visits"]] == [1]
    assert response.json()["next_dose"] is None


def test_fallback_when_no_second_dose_place_in_the_window(api: Api, new_pesel) -> None:
    # The e2e schedule has second-dose days 22-24 days out; Spikevax needs 28-42: none fits.
    token = api.login(new_pesel())["session_token"]
    response = book(api, token, find_slots(api, "spikevax")[0])
    assert response.status_code == 201, response.text
    assert [v["dose"] for v in response.json()["visits"]] == [1]
    pending = response.json()["next_dose"]
    assert pending["dose"] == 2 and pending["status"] == "TO_BE_BOOKED"
    assert datetime.fromisoformat(pending["earliest"]) > datetime.fromisoformat(
        response.json()["visits"][0]["starts_at"]
    )


def test_a_patient_cannot_touch_another_patients_visit(api: Api, new_pesel) -> None:
    owner = api.login(new_pesel())["session_token"]
    intruder = api.login(new_pesel())["session_token"]
    slots = find_slots(api, "comirnaty")
    visit_id = book(api, owner, slots[6]).json()["visits"][0]["visit_id"]
    for method, body in (
        ("DELETE", None),
        ("PATCH", {"point_id": slots[7]["point_id"], "starts_at": slots[7]["starts_at"]}),
    ):
        response = api.call(method, f"/api/v1/visits/{visit_id}", intruder, json=body)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "not_your_visit"
    assert visit_id not in str(api.call("GET", "/api/v1/visits", intruder).json())
    assert all(v["status"] == "BOOKED" for v in api.call("GET", "/api/v1/visits", owner).json()["visits"])


def test_staff_without_the_patient_role_cannot_book_as_a_patient(api: Api, new_pesel) -> None:
    token = api.login(new_pesel(), roles=["agent"])["session_token"]
    response = book(api, token, find_slots(api, "comirnaty")[0])
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"starts_at": "2026-13-01T10:00:00+01:00"}, 400, "starts_at"),
        ({"starts_at": "2030-01-01T10:00:00"}, 400, "starts_at"),
        ({"point_id": "not-a-uuid"}, 400, "point_id"),
        ({"vaccine": "Comirnaty!"}, 400, "vaccine"),
        ({"vaccine": "sputnik"}, 400, "vaccine"),
        ({"phone": "22 123 45 67"}, 400, "phone"),
        ({"phone": "+49 151 23456789"}, 400, "phone"),
        ({"extra": 1}, 400, "extra"),
        ({"starts_at": "2030-01-01T10:00:00+01:00"}, 404, "starts_at"),
    ],
)
def test_bad_booking_input_is_a_4xx_problem(
    api: Api, new_pesel, change: dict[str, Any], status: int, field: str
) -> None:
    token = api.login(new_pesel())["session_token"]
    slot = find_slots(api, "comirnaty")[0]
    body = {"point_id": slot["point_id"], "starts_at": slot["starts_at"], "vaccine": slot["vaccine"],
            "phone": "601234567", **change}  # fmt: skip
    if change.get("vaccine") == "sputnik":
        body["vaccine"] = "sputnik"
    response = api.call("POST", "/api/v1/visits", token, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == status, response.text
    assert response.json().get("field") == field
    assert api.call("GET", "/api/v1/visits", token).json()["visits"] == []


def test_booking_needs_an_idempotency_key(api: Api, new_pesel) -> None:
    token = api.login(new_pesel())["session_token"]
    slot = find_slots(api, "comirnaty")[0]
    body = {"point_id": slot["point_id"], "starts_at": slot["starts_at"], "vaccine": "comirnaty", "phone": "601234567"}
    response = api.call("POST", "/api/v1/visits", token, json=body)
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "voivodeship"),
        ({"voivodeship": "15"}, "voivodeship"),
        ({"voivodeship": "14", "county": "1261"}, "county"),
        ({"county": "1465", "municipality": "1261011"}, "municipality"),
        ({"voivodeship": "14", "limit": "0"}, "limit"),
        ({"voivodeship": "14", "limit": "lots"}, "limit"),
        ({"voivodeship": "14", "from": "yesterday"}, "from"),
        ({"voivodeship": "14", "from": "2026-12-01T10:00:00"}, "from"),
        ({"voivodeship": "14", "from": "2026-12-10T10:00:00+01:00", "to": "2026-12-01T10:00:00+01:00"}, "to"),
        ({"voivodeship": "14", "page_token": "garbage!"}, "page_token"),
        ({"voivodeship": "14", "vaccine": "sputnik"}, "vaccine"),
        ({"point_id": "nope"}, "point_id"),
    ],
)
def test_bad_search_filters_are_400_naming_the_field(api: Api, params: dict[str, str], field: str) -> None:
    response = api.call("GET", "/api/v1/slots", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_search_pages_earliest_first_without_repeats(api: Api) -> None:
    seen: list[tuple[str, str, str]] = []
    params = {"voivodeship": "14", "limit": "7"}
    for _ in range(4):
        response = api.call("GET", "/api/v1/slots", params=params)
        assert response.status_code == 200
        assert response.headers["Cache-Control"].startswith("public")
        body = response.json()
        seen += [(s["starts_at"], s["point_id"], s["vaccine"]) for s in body["slots"]]
        if not body["next_page_token"]:
            break
        params["page_token"] = body["next_page_token"]
    assert len(seen) == len(set(seen)) == 28
    assert [datetime.fromisoformat(s[0]) for s in seen] == sorted(datetime.fromisoformat(s[0]) for s in seen)


def test_points_are_listed_by_region(api: Api) -> None:
    response = api.call("GET", "/api/v1/points", params={"voivodeship": "14"})
    assert response.status_code == 200
    points = response.json()["points"]
    assert points and all(p["voivodeship"] == "14" and p["municipality"].startswith(p["county"]) for p in points)


def test_a_kept_search_answer_is_served_without_reads_and_a_booking_or_cancel_shows_in_the_next_search(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    """The host keeps a rendered answer per query while its voivodeship's version holds: the same search
    again reads no slot range, and a booking or a cancel changes the version, so the very next search
    shows it (docs/decisions.md, issue 25)."""
    client = e2e_backends.redis
    assert client is not None
    token = api.login(new_pesel(date(1971, 5, 5)))["session_token"]
    slot = find_slots(api, "comirnaty", enough=1)[0]  # the earliest of its voivodeship
    voivodeship = e2e_backends.points.get_many([slot["point_id"]])[slot["point_id"]].voivodeship
    params = {"voivodeship": voivodeship, "vaccine": "comirnaty", "limit": "50"}

    def places() -> int | None:
        found = api.call("GET", "/api/v1/slots", params=params)
        assert found.status_code == 200, found.text
        key = (slot["point_id"], slot["starts_at"])
        mine = [s for s in found.json()["slots"] if (s["point_id"], s["starts_at"]) == key]
        return int(mine[0]["free_places"]) if mine else None

    before = places()
    assert before is not None
    ranges_before = _range_reads(client)
    for _ in range(2):
        assert places() == before  # kept: the same answer, no range read (unless a new minute began)
    assert _range_reads(client) - ranges_before <= 1

    booked = book(api, token, slot)
    assert booked.status_code == 201, booked.text
    assert places() == (before - 1 or None)  # a full slot is no longer offered
    cancelled = api.call("DELETE", f"/api/v1/visits/{booked.json()['visits'][0]['visit_id']}", token)
    assert cancelled.status_code == 204
    assert places() == before


def _range_reads(client: Any) -> int:
    return int(client.info("commandstats").get("cmdstat_zrangebylex", {}).get("calls", 0))
