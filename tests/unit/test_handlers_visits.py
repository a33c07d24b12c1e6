"""The `visits` function's handlers on fakes: a patient books, lists, moves and cancels their own visits."""

from __future__ import annotations

import uuid

from functions.visits import VisitsHandlers
from shared.domain.booking import local_iso
from shared.domain.identity import Role
from shared.entrypoints.web import json_response
from tests.unit.handlers import Sessions, call, contract_errors, mounted, patient, staff
from tests.unit.test_visit_service import HERE, NOW, World, at


def world_with_routes() -> tuple[World, str, Sessions]:
    world = World()
    patient_id = world.patient()
    sessions = Sessions({"p": patient(patient_id), "agent": staff("agent-1", Role.AGENT)})
    return world, patient_id, sessions


def routes_of(world: World, sessions: Sessions):  # type: ignore[no-untyped-def]
    return mounted(VisitsHandlers(world.service, now=lambda: NOW).table(), sessions)


def booking(slot_start: object, vaccine: str = "jcovden") -> dict[str, object]:
    return {"point_id": HERE, "starts_at": local_iso(slot_start), "vaccine": vaccine}  # type: ignore[arg-type]


def test_a_booking_answers_201_with_the_visit_and_its_check_in_code_and_a_replay_books_nothing_more() -> None:
    world, patient_id, sessions = world_with_routes()
    slot = world.slot(HERE, at(2), "jcovden")
    routes = routes_of(world, sessions)

    answer = call(routes, "POST", "/api/v1/visits", "p", booking(slot.starts_at), {"Idempotency-Key": "k-1"})

    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    assert contract_errors("POST", "/api/v1/visits", answer) == []
    assert answer.json is not None
    [visit] = answer.json["visits"]
    stored = world.store.state.visits[visit["visit_id"]]
    assert visit == {
        "visit_id": stored.visit_id, "patient_id": patient_id, "series_id": stored.series_id, "dose": 1,
        "vaccine": "jcovden", "point_id": HERE, "starts_at": local_iso(slot.starts_at), "status": "BOOKED",
        "channel": "WEB", "point_name": "Punkt 0", "address": visit["address"], "check_in_code": stored.check_in_code,
    }  # fmt: skip
    assert "ul. Długa 1" in visit["address"]
    assert answer.json["next_dose"] is None  # one dose of jcovden
    replay = call(routes, "POST", "/api/v1/visits", "p", booking(slot.starts_at), {"Idempotency-Key": "k-1"})
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (201, "true")
    assert replay.json == answer.json and len(world.store.state.visits) == 1


def test_a_booking_without_an_idempotency_key_is_400_and_books_nothing() -> None:
    world, _, sessions = world_with_routes()
    slot = world.slot(HERE, at(2), "jcovden")

    answer = call(routes_of(world, sessions), "POST", "/api/v1/visits", "p", booking(slot.starts_at))

    assert answer.status_code == 400 and contract_errors("POST", "/api/v1/visits", answer) == []
    assert answer.json is not None
    assert (answer.json["code"], answer.json["field"]) == ("idempotency_key_required", "Idempotency-Key")
    assert world.store.state.visits == {}


def test_a_full_slot_is_the_domain_refusal_as_409_with_its_code() -> None:
    world, _, sessions = world_with_routes()
    slot = world.slot(HERE, at(2), "jcovden")
    world.book(world.patient(), slot)  # its one place taken by someone else

    answer = call(routes_of(world, sessions), "POST", "/api/v1/visits", "p", booking(slot.starts_at),
                  {"Idempotency-Key": "k-2"})  # fmt: skip

    assert answer.status_code == 409 and answer.json is not None and answer.json["code"] == "slot_full"
    assert contract_errors("POST", "/api/v1/visits", answer) == []
    assert len(world.store.state.visits) == 1


def test_only_a_patient_session_reaches_the_patient_routes() -> None:
    world, _, sessions = world_with_routes()
    routes = routes_of(world, sessions)

    anonymous = call(routes, "GET", "/api/v1/visits")
    assert anonymous.status_code == 401 and anonymous.json is not None and anonymous.json["code"] == "no_session"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    agent = call(routes, "GET", "/api/v1/visits", "agent")
    assert agent.status_code == 403 and agent.json is not None and agent.json["code"] == "forbidden_role"


def test_a_patient_lists_and_cancels_their_own_visit_and_not_another_s() -> None:
    world, patient_id, sessions = world_with_routes()
    mine = world.book(patient_id, world.slot(HERE, at(2), "jcovden")).visits[0]
    theirs = world.book(world.patient(), world.slot(HERE, at(3), "jcovden")).visits[0]
    routes = routes_of(world, sessions)

    listed = call(routes, "GET", "/api/v1/visits", "p")
    assert listed.json is not None and [v["visit_id"] for v in listed.json["visits"]] == [mine.visit_id]
    refused = call(routes, "DELETE", f"/api/v1/visits/{theirs.visit_id}", "p")
    assert refused.status_code in (403, 404) and world.store.state.visits[theirs.visit_id].status == theirs.status
    assert call(routes, "DELETE", f"/api/v1/visits/{mine.visit_id}", "p").status_code == 204
    assert str(world.store.state.visits[mine.visit_id].status) == "CANCELLED"
    unknown = call(routes, "DELETE", "/api/v1/visits/not-a-uuid", "p")
    assert unknown.status_code == 404 and unknown.json is not None and unknown.json["code"] == "visit_not_found"
    assert call(routes, "DELETE", f"/api/v1/visits/{uuid.uuid4()}", "p").status_code == 404


def test_the_contract_check_catches_a_body_the_spec_does_not_allow() -> None:
    assert contract_errors("POST", "/api/v1/visits", json_response({"visits": [{"visit_id": 1}]}, status=201)) != []
