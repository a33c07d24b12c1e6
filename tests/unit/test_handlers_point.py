"""The `point` function's handlers on fakes: the back office refuses another point's staff, records a
vaccination with the patient's code, audits what it must, and lets managers name their own staff."""

from __future__ import annotations

from functions.point import PointHandlers
from shared.domain.identity import Principal, Role
from shared.entrypoints.web import Routes
from shared.services.points import PointService
from tests.unit.fakes import FakeStore
from tests.unit.fakes_points import Published
from tests.unit.handlers import AuditEntries, Sessions, Unused, call, contract_errors, mounted, staff
from tests.unit.test_points import NOW, POINT, PROGRAMME, TODAY, add_visit, deliver, local
from tests.unit.test_registry import PESEL as REGISTRY_PESEL
from tests.unit.test_registry import World as RegistryWorld


class World:
    def __init__(self) -> None:
        self.office = FakeStore()
        self.office.state.points[POINT.point_id] = POINT
        self.service = PointService(self.office, lambda: PROGRAMME, Published())
        self.audit = AuditEntries()
        self.sessions = Sessions(
            {
                "nurse": staff("staff-1", Role.POINT_STAFF, point_ids=frozenset({POINT.point_id})),
                "elsewhere": staff("staff-2", Role.POINT_STAFF, point_ids=frozenset({"another-point"})),
                "manager": staff("staff-3", Role.POINT_MANAGER, point_ids=frozenset({POINT.point_id})),
                "patient": staff("x", Role.PATIENT),
            }
        )

    def routes(self) -> Routes:
        handlers = PointHandlers(self.service, Unused(), Unused(), Unused(), Unused(), self.audit, now=lambda: NOW)  # type: ignore[arg-type]
        return mounted(handlers.table(), self.sessions)


def test_staff_of_another_point_get_no_day_list_and_nothing_is_read() -> None:
    world = World()
    answer = call(world.routes(), "GET", f"/api/v1/points/{POINT.point_id}/visits", "elsewhere",
                  query={"day": TODAY.isoformat()})  # fmt: skip
    # The visits service is Unused: the refusal comes before any read.
    assert answer.status_code == 403 and answer.json is not None and answer.json["code"] == "not_your_point"
    patient = call(world.routes(), "GET", f"/api/v1/points/{POINT.point_id}/visits", "patient")
    assert patient.status_code == 403 and patient.json is not None and patient.json["code"] == "forbidden_role"


def test_a_vaccination_with_the_code_answers_201_without_codes_and_another_point_is_refused() -> None:
    world = World()
    deliver(world.service)
    booked = add_visit(world.office, local(TODAY, 12))
    path = f"/api/v1/visits/{booked.visit_id}/vaccination"

    refused = call(world.routes(), "POST", path, "elsewhere", {"lot": "LOT-comirnaty", "check_in_code": "4321"})
    assert refused.status_code == 403 and refused.json is not None and refused.json["code"] == "visit_of_other_point"
    done = call(world.routes(), "POST", path, "nurse", {"lot": "LOT-comirnaty", "check_in_code": "4321"})

    assert done.status_code == 201 and done.headers["Cache-Control"] == "no-store"
    assert contract_errors("POST", "/api/v1/visits/{visit_id}/vaccination", done) == []
    assert str(world.office.state.visits[booked.visit_id].status) == "COMPLETED"
    assert "check_in_code" not in str(done.json)  # staff never see codes
    assert world.audit.entries == []  # with the code: no identity-check entry


def test_a_vaccination_body_names_its_flaw_and_changes_nothing() -> None:
    world = World()
    deliver(world.service)
    booked = add_visit(world.office, local(TODAY, 12))
    path = f"/api/v1/visits/{booked.visit_id}/vaccination"
    for body, field, code in [
        ({"lot": "LOT-comirnaty"}, "check_in_code", "check_in_code_required"),
        ({"lot": "LOT-comirnaty", "check_in_code": "4321", "identity_checked": True, "reason": "lost code"},
         "check_in_code", "invalid_field"),
        ({"lot": "LOT-comirnaty", "identity_checked": True}, "reason", "reason_required"),
        ({"lot": "", "check_in_code": "4321"}, "lot", "invalid_field"),
    ]:  # fmt: skip
        answer = call(world.routes(), "POST", path, "nurse", body)
        assert answer.status_code == 400 and answer.json is not None
        assert (answer.json["field"], answer.json["code"]) == (field, code)
    assert str(world.office.state.visits[booked.visit_id].status) == "BOOKED"


def test_a_vaccination_after_an_identity_check_is_audited_with_its_reason() -> None:
    world = World()
    deliver(world.service)
    booked = add_visit(world.office, local(TODAY, 12))
    body = {"lot": "LOT-comirnaty", "identity_checked": True, "reason": "  lost the SMS  "}

    answer = call(world.routes(), "POST", f"/api/v1/visits/{booked.visit_id}/vaccination", "nurse", body)

    assert answer.status_code == 201
    assert world.audit.entries == [
        (
            "staff-1",
            "vaccinate_identity_checked",
            {"status": 201, "visit_id": booked.visit_id, "reason": "lost the SMS"},
        )
    ]


def test_only_managers_void_and_a_malformed_visit_id_is_404() -> None:
    world = World()
    routes = world.routes()
    nurse = call(routes, "POST", "/api/v1/visits/x/vaccination:void", "nurse", {"reason": "wrong lot"})
    assert nurse.status_code == 403 and nurse.json is not None and nurse.json["code"] == "forbidden_role"
    manager = call(routes, "POST", "/api/v1/visits/not-a-uuid/vaccination:void", "manager", {"reason": "wrong lot"})
    assert manager.status_code == 404 and manager.json is not None and manager.json["code"] == "visit_not_found"
    assert world.audit.entries == []


def test_a_manager_grants_staff_at_their_own_point_only() -> None:
    registry = RegistryWorld()
    mine, other = registry.point(), registry.point()
    manager = Principal("s-m", frozenset({Role.POINT_MANAGER}), staff_id="staff-m", point_ids=frozenset({mine}),
                        managed_point_ids=frozenset({mine}))  # fmt: skip
    handlers = PointHandlers(Unused(), Unused(), Unused(), Unused(), registry.registry, AuditEntries(), now=lambda: NOW)  # type: ignore[arg-type]
    routes = mounted(handlers.table(), Sessions({"manager": manager}))
    body = {"pesel": REGISTRY_PESEL, "role": "point_staff"}

    refused = call(routes, "POST", f"/api/v1/points/{other}/staff", "manager", body)
    assert refused.status_code == 403 and refused.json is not None and refused.json["code"] == "forbidden_point"
    granted = call(routes, "POST", f"/api/v1/points/{mine}/staff", "manager", body)
    assert granted.status_code == 201 and granted.json is not None
    listed = call(routes, "GET", f"/api/v1/points/{mine}/staff", "manager")
    assert listed.json is not None and [g["staff_ref"] for g in listed.json["staff"]] == [granted.json["staff_ref"]]
    assert call(routes, "GET", f"/api/v1/points/{other}/staff", "manager").status_code == 403
    assert registry.staff.audit == [("grant", "staff-m")]
    unknown = call(routes, "DELETE", f"/api/v1/points/{mine}/staff/not-a-ref", "manager")
    assert unknown.status_code == 404 and unknown.json is not None and unknown.json["code"] == "staff_not_found"
