"""The `admin` function's registry handlers and the `certificates` function's on fakes: versioned
changes of a point, coordinators only from admins, a patient's own certificates only."""

from __future__ import annotations

from urllib.parse import quote

from functions.admin import AdminHandlers
from functions.certificates import CertificatesHandlers
from shared.entrypoints.web import Routes
from tests.unit.handlers import Sessions, Unused, call, mounted, patient, throttle
from tests.unit.test_certificates import World as CertificatesWorld
from tests.unit.test_certificates import completed_event
from tests.unit.test_registry import ADMIN, COORDINATOR_14, NOW, PESEL
from tests.unit.test_registry import World as RegistryWorld

POINT_BODY = {
    "name": "Punkt przy Długiej",
    "address": {"street": "ul. Długa 1", "postal_code": "00-001", "city": "Warszawa"},
    "municipality": "1465011",
    "vaccines": ["comirnaty"],
}


def admin_routes(world: RegistryWorld) -> Routes:
    handlers = AdminHandlers(Unused(), Unused(), world.points, world.registry, now=lambda: NOW)  # type: ignore[arg-type]
    return mounted(handlers.table(), Sessions({"admin": ADMIN, "coordinator": COORDINATOR_14}))


def test_a_created_point_answers_201_with_its_version_and_location() -> None:
    world = RegistryWorld()
    answer = call(admin_routes(world), "POST", "/api/v1/admin/points", "coordinator", POINT_BODY)
    assert answer.status_code == 201 and answer.json is not None
    point_id = answer.json["point_id"]
    assert answer.headers["ETag"] == '"1"' and answer.headers["Location"] == f"/api/v1/admin/points/{point_id}"
    assert world.store.audit[0][1:3] == ("staff-c14", "create")


def test_a_change_needs_if_match_and_a_stale_one_is_412() -> None:
    world = RegistryWorld()
    point_id = world.point()
    routes = admin_routes(world)
    path = f"/api/v1/admin/points/{point_id}"

    missing = call(routes, "PATCH", path, "admin", {"name": "Nowa nazwa"})
    assert missing.status_code == 428 and missing.json is not None
    assert (missing.json["code"], missing.json["field"]) == ("if_match_required", "If-Match")
    unreadable = call(routes, "PATCH", path, "admin", {"name": "Nowa nazwa"}, {"If-Match": "latest"})
    assert unreadable.status_code == 400 and unreadable.json is not None
    assert unreadable.json["code"] == "invalid_if_match"
    changed = call(routes, "PATCH", path, "admin", {"name": "Nowa nazwa"}, {"If-Match": '"1"'})
    assert (changed.status_code, changed.headers["ETag"]) == (200, '"2"')
    stale = call(routes, "PATCH", path, "admin", {"name": "Jeszcze inna"}, {"If-Match": '"1"'})
    assert stale.status_code == 412 and world.points.get(point_id, ADMIN).point.name == "Nowa nazwa"


def test_only_an_admin_makes_a_coordinator_and_a_bad_pesel_is_400() -> None:
    world = RegistryWorld()
    routes = admin_routes(world)
    body = {"pesel": PESEL, "voivodeship": "14"}
    refused = call(routes, "POST", "/api/v1/admin/coordinators", "coordinator", body)
    assert refused.status_code == 403 and refused.json is not None and refused.json["code"] == "forbidden_role"
    bad = call(routes, "POST", "/api/v1/admin/coordinators", "admin", {**body, "pesel": "12345678901"})
    assert bad.status_code == 400 and bad.json is not None and bad.json["code"] == "invalid_pesel"
    made = call(routes, "POST", "/api/v1/admin/coordinators", "admin", body)
    assert made.status_code == 201 and made.json is not None
    assert (made.json["role"], made.json["voivodeship"]) == ("coordinator", "14")


def test_only_an_admin_ends_a_coordinator_and_an_unknown_one_is_404() -> None:
    world = RegistryWorld()
    routes = admin_routes(world)
    staff_ref = call(routes, "POST", "/api/v1/admin/coordinators", "admin", {"pesel": PESEL, "voivodeship": "14"})
    assert staff_ref.json is not None
    path = f"/api/v1/admin/coordinators/{staff_ref.json['staff_ref']}"

    refused = call(routes, "DELETE", path, "coordinator")
    assert refused.status_code == 403 and world.staff.grants_of(staff_ref.json["staff_ref"]).coordinator_of == "14"
    malformed = call(routes, "DELETE", "/api/v1/admin/coordinators/someone", "admin")
    assert malformed.status_code == 404 and malformed.json is not None
    assert malformed.json["code"] == "coordinator_not_found"
    ended = call(routes, "DELETE", path, "admin")
    assert ended.status_code == 204 and world.staff.grants_of(staff_ref.json["staff_ref"]).coordinator_of is None
    again = call(routes, "DELETE", path, "admin")
    assert again.status_code == 404 and again.json is not None and again.json["code"] == "coordinator_not_found"


def test_a_patient_gets_their_own_qr_code_and_another_s_is_404() -> None:
    world = CertificatesWorld()
    certificate = world.issuer.handle(completed_event(world.someone.patient_id))
    assert certificate is not None and not isinstance(certificate, str)
    sessions = Sessions({"mine": patient(world.someone.patient_id), "other": patient("someone-else")})
    routes = mounted(CertificatesHandlers(world.issuer, throttle()).table(), sessions)
    path = f"/api/v1/certificates/{quote(certificate.uvci, safe='')}/qr.png"

    mine = call(routes, "GET", path, "mine")
    assert mine.status_code == 200 and mine.mimetype == "image/png" and mine.headers["Cache-Control"] == (
        "private, no-store")  # fmt: skip
    other = call(routes, "GET", path, "other")
    assert other.status_code == 404 and other.json is not None and other.json["code"] == "certificate_not_found"
    malformed = call(routes, "GET", "/api/v1/certificates/not-a-uvci/pdf", "mine")
    assert malformed.status_code == 404 and malformed.json is not None
    listed = call(routes, "GET", "/api/v1/certificates", "mine")
    assert listed.json is not None and [c["uvci"] for c in listed.json["certificates"]] == [certificate.uvci]
    trust = call(routes, "GET", "/api/v1/certificates/trust-list")  # anyone
    assert trust.status_code == 200 and trust.json is not None and trust.json["keys"] == world.trust_list()
