"""The registry over HTTP: points (create, change, suspend; versioned, validated, audited), coordinators
in their voivodeship, and who works where, read from the registry on every request."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.bootstrap import Container
from shared.domain.identity import staff_id_for
from tests.e2e.conftest import Api

ADDRESS = {"street": "ul. Szpitalna 1", "postal_code": "00-001", "city": "Warszawa"}


def point_body(**changes: Any) -> dict[str, Any]:
    return {"name": "Punkt rejestrowy", "address": ADDRESS, "municipality": "1465011", "vaccines": ["comirnaty"],
            **changes}  # fmt: skip


def create_point(api: Api, token: str, **changes: Any) -> dict[str, Any]:
    created = api.call("POST", "/api/v1/admin/points", token, json=point_body(**changes))
    assert created.status_code == 201, created.text
    return dict(created.json())


def admin_token(api: Api, new_pesel) -> str:
    return str(api.login(new_pesel(), roles=["admin"])["session_token"])


def staff_ref(backends: Container, pesel: str) -> str:
    return staff_id_for(pesel, backends.settings.secret("audit_hash_key"))


def test_an_admin_registers_changes_and_lists_points_and_every_change_is_audited(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    admin = admin_token(api, new_pesel)
    created = create_point(api, admin)
    point_id = created["point_id"]
    assert (created["version"], created["status"], created["voivodeship"], created["county"]) == (1, "active", "14",
                                                                                                   "1465")  # fmt: skip
    read = api.call("GET", f"/api/v1/admin/points/{point_id}", admin)
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'

    no_version = api.call("PATCH", f"/api/v1/admin/points/{point_id}", admin, json={"name": "Nowa nazwa"})
    assert (no_version.status_code, no_version.json()["code"]) == (428, "if_match_required")
    renamed = api.call("PATCH", f"/api/v1/admin/points/{point_id}", admin, json={"name": "Nowa nazwa"},
                       headers={"If-Match": '"1"'})  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.headers["ETag"]) == ("Nowa nazwa", '"2"')
    stale = api.call("PATCH", f"/api/v1/admin/points/{point_id}", admin, json={"name": "Inna"},
                     headers={"If-Match": '"1"'})  # fmt: skip
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
    assert api.call("GET", f"/api/v1/admin/points/{point_id}", admin).json()["name"] == "Nowa nazwa"

    listed: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(50):  # the pages of voivodeship 14, 200 at a time, until this point shows
        params = {"voivodeship": "14", "limit": "200", **({"page_token": token} if token else {})}
        page = api.call("GET", "/api/v1/admin/points", admin, params=params)
        assert page.status_code == 200, page.text
        listed += page.json()["points"]
        token = page.json()["next_page_token"]
        if token is None:
            break
    assert point_id in {p["point_id"] for p in listed} and {p["voivodeship"] for p in listed} == {"14"}

    audit = e2e_backends.points_store.audit_of(point_id)
    assert [e["action"] for e in audit] == ["create", "change"] and audit[0]["staff_id"] == audit[1]["staff_id"]
    assert audit[1]["changes"] == {"name": ["Punkt rejestrowy", "Nowa nazwa"]}
    assert audit[0]["staff_id"].startswith("staff-")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (point_body(municipality="146501"), "municipality", "invalid_field"),
        (point_body(municipality="9965011"), "municipality", "invalid_municipality"),
        (point_body(vaccines=["no-such-vaccine"]), "vaccines.0", "unknown_vaccine"),
        (point_body(vaccines=[]), "vaccines", "invalid_field"),
        (point_body(name="x" * 61), "name", "invalid_field"),
        (point_body(name="a\nb"), "name", "invalid_field"),
        (point_body(address={**ADDRESS, "postal_code": "00001"}), "address.postal_code", "invalid_field"),
        (point_body(address={**ADDRESS, "city": "c" * 41}), "address.city", "invalid_field"),
        (point_body(colour="red"), "colour", "invalid_field"),
    ],
)
def test_a_bad_point_is_refused_with_the_field_named_and_nothing_is_stored(
    api: Api, new_pesel, body: dict[str, Any], field: str, code: str
) -> None:
    admin = admin_token(api, new_pesel)
    refused = api.call("POST", "/api/v1/admin/points", admin, json=body)
    assert refused.status_code == 400, refused.text
    assert (refused.json()["field"], refused.json()["code"]) == (field, code)


def test_a_suspended_point_leaves_search_at_once_refuses_bookings_and_no_reconcile_brings_it_back(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    admin = admin_token(api, new_pesel)
    point_id = create_point(api, admin)["point_id"]
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    blocks = [{"day": (day + timedelta(days=d)).isoformat(), "from": "08:00", "to": "10:00", "slot_minutes": 30,
               "places": 3, "vaccine": "comirnaty"} for d in (0, 28)]  # fmt: skip
    delivered = api.call("POST", f"/api/v1/points/{point_id}/deliveries", admin,
                         json={"vaccine": "comirnaty", "doses": 50, "lot": "REG1"})  # fmt: skip
    assert delivered.status_code == 201, delivered.text
    published = api.call("PUT", f"/api/v1/points/{point_id}/schedule", admin, json={"blocks": blocks})
    assert published.status_code == 200, published.text

    def searched() -> list[dict[str, Any]]:
        to = (datetime.now(UTC) + timedelta(days=5)).isoformat()
        found = api.call("GET", "/api/v1/slots", params={"point_id": point_id, "vaccine": "comirnaty", "to": to})
        assert found.status_code == 200, found.text
        return list(found.json()["slots"])

    def projected() -> int:
        assert e2e_backends.projection is not None
        now = datetime.now(UTC)
        held = e2e_backends.projection.point_slots(point_id, now, now + timedelta(days=5))
        return sum(1 for slot in held if slot.free_places > 0)  # a removed slot is held with capacity 0

    slots = searched()
    assert len(slots) == 4 and projected() == 4

    # A booked visit stands in the way: 409 with the count.
    patient = api.login(new_pesel(date(1960, 1, 1)))["session_token"]
    booked = api.call("POST", "/api/v1/visits", patient, headers={"Idempotency-Key": str(uuid.uuid4())},
                      json={"point_id": point_id, "starts_at": slots[0]["starts_at"], "vaccine": "comirnaty",
                            "phone": "601 234 567"})  # fmt: skip
    assert booked.status_code == 201, booked.text
    suspend = {"status": "suspended"}
    refused = api.call("PATCH", f"/api/v1/admin/points/{point_id}", admin, json=suspend, headers={"If-Match": "1"})
    assert (refused.status_code, refused.json()["code"]) == (409, "point_has_visits"), refused.text
    assert refused.json()["future_visits"] >= 1
    assert api.call("DELETE", f"/api/v1/visits/{booked.json()['visits'][0]['visit_id']}", patient).status_code == 204

    suspended = api.call("PATCH", f"/api/v1/admin/points/{point_id}", admin, json=suspend, headers={"If-Match": "1"})
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    # Gone from search (Spanner's indexes) and from the projection in the same request.
    assert searched() == [] and projected() == 0
    assert e2e_backends.availability is not None
    e2e_backends.availability.reconcile([point_id])
    assert searched() == [] and projected() == 0
    other = api.login(new_pesel(date(1961, 1, 1)))["session_token"]
    refused_booking = api.call("POST", "/api/v1/visits", other, headers={"Idempotency-Key": str(uuid.uuid4())},
                               json={"point_id": point_id, "starts_at": slots[1]["starts_at"], "vaccine": "comirnaty",
                                     "phone": "601 234 567"})  # fmt: skip
    assert (refused_booking.status_code, refused_booking.json()["code"]) == (409, "point_suspended")

    active = api.call("PATCH", f"/api/v1/admin/points/{point_id}", admin, json={"status": "active"},
                      headers={"If-Match": suspended.headers["ETag"]})  # fmt: skip
    assert active.status_code == 200, active.text
    assert len(searched()) == 4 and projected() == 4


def test_a_coordinator_acts_only_inside_their_voivodeship(api: Api, new_pesel, e2e_backends: Container) -> None:
    admin = admin_token(api, new_pesel)
    pesel = new_pesel()
    refused = api.call("POST", "/api/v1/admin/coordinators", api.login(pesel, roles=["agent"])["session_token"],
                       json={"pesel": pesel, "voivodeship": "14"})  # fmt: skip
    assert refused.status_code == 403
    made = api.call("POST", "/api/v1/admin/coordinators", admin, json={"pesel": pesel, "voivodeship": "14"})
    assert made.status_code == 201, made.text
    assert made.json()["staff_ref"] == staff_ref(e2e_backends, pesel)
    bad = api.call("POST", "/api/v1/admin/coordinators", admin, json={"pesel": pesel, "voivodeship": "99"})
    assert (bad.status_code, bad.json()["field"]) == (400, "voivodeship")

    # The registry, not the assertion, makes them coordinator of 14.
    coordinator = api.login(pesel)["session_token"]
    mine = create_point(api, coordinator)
    assert mine["voivodeship"] == "14"
    elsewhere = api.call("POST", "/api/v1/admin/points", coordinator, json=point_body(municipality="1261011"))
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (403, "forbidden_region")
    foreign = create_point(api, admin, municipality="1261011")["point_id"]
    assert api.call("GET", f"/api/v1/admin/points/{foreign}", coordinator).status_code == 404
    change = api.call("PATCH", f"/api/v1/admin/points/{foreign}", coordinator, json={"name": "X"},
                      headers={"If-Match": "1"})  # fmt: skip
    assert change.status_code == 404
    listed = api.call("GET", "/api/v1/admin/points", coordinator, params={"voivodeship": "12"})
    assert (listed.status_code, listed.json()["code"]) == (403, "forbidden_region")
    own = api.call("GET", "/api/v1/admin/points", coordinator, params={"limit": "200"}).json()["points"]
    assert {p["voivodeship"] for p in own} == {"14"}
    # Staff of a point in their voivodeship, not elsewhere.
    nurse = new_pesel()
    grant = {"pesel": nurse, "role": "point_staff"}
    assert api.call("POST", f"/api/v1/points/{mine['point_id']}/staff", coordinator, json=grant).status_code == 201
    assert api.call("POST", f"/api/v1/points/{foreign}/staff", coordinator, json=grant).status_code == 403
    entries = e2e_backends.staff_store.audit_entries(action="coordinator", staff_ref=staff_ref(e2e_backends, pesel))
    assert len(entries) == 1 and entries[0]["voivodeship"] == "14" and pesel not in str(entries)

    # Ended by an admin: the same session is refused on its next request, and the end is audited.
    ended = api.call("DELETE", f"/api/v1/admin/coordinators/{staff_ref(e2e_backends, pesel)}", admin)
    assert ended.status_code == 204, ended.text
    after = api.call("POST", "/api/v1/admin/points", coordinator, json=point_body())
    assert after.status_code == 403
    ends = e2e_backends.staff_store.audit_entries(action="end_coordinator", staff_ref=staff_ref(e2e_backends, pesel))
    assert len(ends) == 1 and ends[0]["voivodeship"] == "14"


def test_managers_grant_and_revoke_at_their_point_and_a_revoked_person_is_refused_on_their_next_request(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    admin = admin_token(api, new_pesel)
    point_id = create_point(api, admin)["point_id"]
    other_point = create_point(api, admin)["point_id"]
    manager_pesel, nurse_pesel = new_pesel(), new_pesel(date(1985, 3, 3))
    api.login(nurse_pesel)  # a patient too: the staff list shows the names the registry of patients has

    granted = api.call("POST", f"/api/v1/points/{point_id}/staff", admin,
                       json={"pesel": manager_pesel, "role": "point_manager"})  # fmt: skip
    assert granted.status_code == 201, granted.text
    assert granted.json() == {**granted.json(), "staff_ref": staff_ref(e2e_backends, manager_pesel),
                              "role": "point_manager"}  # fmt: skip
    # No claim in the assertion: the registry makes them manager of this point, and of no other.
    manager = api.login(manager_pesel)["session_token"]
    assert api.call("GET", f"/api/v1/points/{point_id}/stock", manager).status_code == 200
    assert api.call("GET", f"/api/v1/points/{other_point}/stock", manager).status_code == 403
    assert api.call("GET", f"/api/v1/points/{other_point}/staff", manager).status_code == 403

    added = api.call("POST", f"/api/v1/points/{point_id}/staff", manager,
                     json={"pesel": nurse_pesel, "role": "point_staff"})  # fmt: skip
    assert added.status_code == 201, added.text
    nurse_ref = added.json()["staff_ref"]
    nurse = api.login(nurse_pesel)["session_token"]  # signs in as staff: the registry names them
    assert api.call("GET", f"/api/v1/points/{point_id}/stock", nurse).status_code == 200
    # Point staff cannot manage staff.
    assert api.call("POST", f"/api/v1/points/{point_id}/staff", nurse,
                    json={"pesel": new_pesel(), "role": "point_manager"}).status_code == 403  # fmt: skip

    staff = api.call("GET", f"/api/v1/points/{point_id}/staff", manager)
    assert staff.status_code == 200, staff.text
    listed = {s["staff_ref"]: s for s in staff.json()["staff"]}
    assert listed[nurse_ref]["role"] == "point_staff" and listed[nurse_ref]["family_name"] == "Testowy"
    assert nurse_pesel not in staff.text and manager_pesel not in staff.text

    bad = api.call("POST", f"/api/v1/points/{point_id}/staff", manager, json={"pesel": "12345678901",
                   "role": "point_staff"})  # fmt: skip
    assert (bad.status_code, bad.json()["field"]) == (400, "pesel")
    bad_role = api.call("POST", f"/api/v1/points/{point_id}/staff", manager, json={"pesel": nurse_pesel,
                        "role": "admin"})  # fmt: skip
    assert (bad_role.status_code, bad_role.json()["field"]) == (400, "role")

    revoked = api.call("DELETE", f"/api/v1/points/{point_id}/staff/{nurse_ref}", manager)
    assert revoked.status_code == 204
    # The very next request of the revoked person is refused, in the same session.
    assert api.call("GET", f"/api/v1/points/{point_id}/stock", nurse).status_code == 403
    again = api.call("DELETE", f"/api/v1/points/{point_id}/staff/{nurse_ref}", manager)
    assert (again.status_code, again.json()["code"]) == (404, "staff_not_found")

    actions = sorted((e["action"], e.get("role", "")) for e in e2e_backends.staff_store.audit_entries(
        point_id=point_id))  # fmt: skip
    assert actions == [("grant", "point_manager"), ("grant", "point_staff"), ("revoke", "")]
    assert nurse_pesel not in str(e2e_backends.staff_store.audit_entries(point_id=point_id))


def test_a_manager_claimed_by_the_dev_idp_still_works_locally(api: Api, new_pesel) -> None:
    admin = admin_token(api, new_pesel)
    point_id = create_point(api, admin)["point_id"]
    manager = api.login(new_pesel(), roles=["point_manager"], point_ids=[point_id])["session_token"]
    assert api.call("GET", f"/api/v1/points/{point_id}/staff", manager).status_code == 200


def test_staff_ids_are_keyed_with_the_configured_audit_key(
    api: Api, new_pesel, e2e_backends: Container, extra_host
) -> None:
    admin = admin_token(api, new_pesel)
    point_id = create_point(api, admin)["point_id"]
    nurse = new_pesel()
    grant = {"pesel": nurse, "role": "point_staff"}
    here = api.call("POST", f"/api/v1/points/{point_id}/staff", admin, json=grant).json()["staff_ref"]
    unkeyed = "staff-" + hashlib.sha256(f"e-rejestracja-staff:{nurse}".encode()).hexdigest()[:24]
    assert here == staff_ref(e2e_backends, nurse) and here != unkeyed

    # The same PESEL under another key is another id: the id cannot be recomputed without the key.
    other = Api(extra_host({"EREG_AUDIT_HASH_KEY": "another-audit-key"}), api.client_ip)
    other_admin = admin_token(other, new_pesel)
    there = other.call("POST", f"/api/v1/points/{point_id}/staff", other_admin, json=grant)
    assert there.status_code == 201, there.text
    assert there.json()["staff_ref"] == staff_id_for(nurse, "another-audit-key") != here
