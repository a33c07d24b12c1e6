"""The nurse's real day over HTTP (issue 20): the day list's search, walk-ins of booked patients,
vaccination after an identity check, voiding a dose, cancelling a day; and no one stuck behind a
visit whose time has passed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from google.cloud.spanner_v1 import param_types

from emulators.scheduler import LocalScheduler
from shared.bootstrap import Container
from shared.domain.booking import WARSAW, Channel
from shared.domain.identity import staff_id_for
from shared.services.visits import BookingRequest
from shared.topology import TOPOLOGY
from tests.e2e.conftest import Api
from tests.e2e.test_messaging import assert_no_more_messages, wait_for_messages
from tests.e2e.test_point_day import eventually, new_point
from tests.integration.conftest import visit_service


def soon(minutes: float = 1.5) -> datetime:
    """A slot start a little after now, whole seconds (still today unless the test runs in the last
    minutes before midnight in Warsaw)."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)


def days_ahead(days: int, hour: int) -> datetime:
    day = datetime.now(UTC).astimezone(WARSAW).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)


def staff_of(api: Api, new_pesel, point_id: str, role: str = "point_staff") -> str:
    return str(api.login(new_pesel(date(1975, 3, 3)), roles=[role], point_ids=[point_id])["session_token"])


def walk_in(api: Api, token: str, point_id: str, **body: Any):
    return api.call("POST", f"/api/v1/points/{point_id}/visits", token, json=body,
                    headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip


def book_online(api: Api, token: str, point_id: str, starts_at: datetime, vaccine: str = "jcovden"):
    body = {"point_id": point_id, "starts_at": starts_at.isoformat(), "vaccine": vaccine, "phone": "601 234 567"}
    return api.call("POST", "/api/v1/visits", token, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})


def booked(e2e_backends: Container, point_id: str, starts_at: datetime, vaccine: str = "jcovden") -> int:
    with e2e_backends.spanner.snapshot() as snapshot:
        rows = list(
            snapshot.execute_sql(
                "SELECT Booked FROM Slots WHERE PointId = @p AND StartsAt = @s AND Vaccine = @v",
                params={"p": point_id, "s": starts_at, "v": vaccine},
                param_types={"p": param_types.STRING, "s": param_types.TIMESTAMP, "v": param_types.STRING},
            )
        )
    return int(rows[0][0])


def test_a_visit_whose_time_has_passed_no_longer_blocks_booking(api: Api, new_pesel, e2e_backends: Container) -> None:
    passed = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    ahead = days_ahead(2, 10)
    point_id = new_point(e2e_backends, [(passed, "jcovden", 2), (ahead, "jcovden", 2)])
    patient = api.login(new_pesel(date(1966, 6, 6)))
    visit_service(e2e_backends).book(
        patient["patient"]["patient_id"], BookingRequest(point_id, passed, "jcovden", "+48601234567"), Channel.WEB,
        passed - timedelta(days=1),
    )  # fmt: skip

    again = book_online(api, patient["session_token"], point_id, ahead)

    assert again.status_code == 201, again.text
    assert [v["dose"] for v in again.json()["visits"]] == [1]


def test_the_day_list_shows_birth_years_and_searches_by_surname(api: Api, new_pesel, e2e_backends: Container) -> None:
    day = days_ahead(3, 9)
    point_id = new_point(e2e_backends, [(day, "jcovden", 3)])
    staff = staff_of(api, new_pesel, point_id)
    for birth, given, family in ((date(1961, 1, 1), "Zofia", "Wolska"), (date(1972, 2, 2), "Adam", "Nowak")):
        made = walk_in(api, staff, point_id, pesel=new_pesel(birth), vaccine="jcovden", given_name=given,
                       family_name=family)  # fmt: skip
        assert made.status_code == 201, made.text

    listed = api.call("GET", f"/api/v1/points/{point_id}/visits", staff, params={"day": day.date().isoformat()})
    everyone = {(v["given_name"], v["family_name"], v["birth_year"]) for v in listed.json()["visits"]}
    found = api.call("GET", f"/api/v1/points/{point_id}/visits", staff,
                     params={"day": day.date().isoformat(), "q": "wOL"})  # fmt: skip

    assert everyone == {("Zofia", "Wolska", 1961), ("Adam", "Nowak", 1972)}
    assert found.status_code == 200, found.text
    assert [(v["family_name"], v["birth_year"]) for v in found.json()["visits"]] == [("Wolska", 1961)]
    too_long = api.call("GET", f"/api/v1/points/{point_id}/visits", staff,
                        params={"day": day.date().isoformat(), "q": "x" * 101})  # fmt: skip
    assert (too_long.status_code, too_long.json()["field"]) == (400, "q")


def test_a_walk_in_booked_here_on_another_day_is_moved_to_today_and_keeps_the_registered_names(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    today, later = soon(), days_ahead(4, 10)
    point_id = new_point(e2e_backends, [(today, "jcovden", 2), (later, "jcovden", 2)])
    staff = staff_of(api, new_pesel, point_id)
    pesel = new_pesel(date(1964, 4, 4))
    patient = api.login(pesel)["session_token"]
    visit = book_online(api, patient, point_id, later).json()["visits"][0]

    came = walk_in(api, staff, point_id, pesel=pesel, vaccine="jcovden", given_name="Ktoś", family_name="Inny")

    assert came.status_code == 201, came.text
    [moved] = came.json()["visits"]
    assert (moved["visit_id"], datetime.fromisoformat(moved["starts_at"])) == (visit["visit_id"], today)
    assert (booked(e2e_backends, point_id, later), booked(e2e_backends, point_id, today)) == (0, 1)
    listed = api.call("GET", f"/api/v1/points/{point_id}/visits", staff,
                      params={"day": today.astimezone(WARSAW).date().isoformat()}).json()["visits"]  # fmt: skip
    assert [(v["given_name"], v["family_name"]) for v in listed] == [("Jan", "Testowy")]


def test_a_walk_in_booked_elsewhere_needs_the_code_and_then_frees_the_other_place(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    today, elsewhere_at = soon(), days_ahead(5, 10)
    point_id = new_point(e2e_backends, [(today, "jcovden", 2)])
    other_point = new_point(e2e_backends, [(elsewhere_at, "jcovden", 2)])
    staff = staff_of(api, new_pesel, point_id)
    pesel = new_pesel(date(1963, 3, 3))
    patient = api.login(pesel)["session_token"]
    visit = book_online(api, patient, other_point, elsewhere_at).json()["visits"][0]

    refused = walk_in(api, staff, point_id, pesel=pesel, vaccine="jcovden")
    assert refused.status_code == 409, refused.text
    assert {k: refused.json()[k] for k in ("code", "point_id", "point_name")} == {
        "code": "booked_elsewhere", "point_id": other_point, "point_name": "Punkt Szczepień e2e"
    }  # fmt: skip
    assert booked(e2e_backends, other_point, elsewhere_at) == 1  # nothing taken over, nothing cancelled

    moved = walk_in(api, staff, point_id, pesel=pesel, vaccine="jcovden", check_in_code=visit["check_in_code"])
    assert moved.status_code == 201, moved.text
    assert [(v["visit_id"], v["point_id"]) for v in moved.json()["visits"]] == [(visit["visit_id"], point_id)]
    assert (booked(e2e_backends, other_point, elsewhere_at), booked(e2e_backends, point_id, today)) == (0, 1)


def test_a_patient_without_a_code_is_vaccinated_after_an_identity_check_audited_and_limited(
    api: Api, new_pesel, e2e_backends: Container, extra_host
) -> None:
    today = soon()
    point_id = new_point(e2e_backends, [(today, "jcovden", 3)])
    staff_pesel = new_pesel(date(1974, 4, 4))
    staff = api.login(staff_pesel, roles=["point_staff"], point_ids=[point_id])["session_token"]
    delivered = api.call("POST", f"/api/v1/points/{point_id}/deliveries", staff,
                         json={"vaccine": "jcovden", "doses": 10, "lot": "JC-1"})  # fmt: skip
    assert delivered.status_code == 201, delivered.text
    visits = []
    for birth in (date(1960, 1, 1), date(1961, 1, 1)):
        patient = api.login(new_pesel(birth))["session_token"]
        visits.append(book_online(api, patient, point_id, today).json()["visits"][0]["visit_id"])
    path = f"/api/v1/visits/{visits[0]}/vaccination"

    no_reason = api.call("POST", path, staff, json={"lot": "JC-1", "identity_checked": True})
    neither = api.call("POST", path, staff, json={"lot": "JC-1"})
    done = api.call("POST", path, staff, json={"lot": "JC-1", "identity_checked": True, "reason": "zgubiony SMS"})

    assert (no_reason.status_code, no_reason.json()["field"]) == (400, "reason")
    assert (neither.status_code, neither.json()["field"]) == (400, "check_in_code")
    assert done.status_code == 201, done.text
    assert done.json()["identity_checked"] is True and done.json()["vaccination"]["lot"] == "JC-1"
    staff_id = staff_id_for(staff_pesel, e2e_backends.settings.secret("audit_hash_key"))
    audited = [e for e in e2e_backends.audit.entries_for(staff_id) if e["action"] == "vaccinate_identity_checked"]
    assert [(e["visit_id"], e["reason"]) for e in audited] == [(visits[0], "zgubiony SMS")]

    # With a limit of one a day, this staff member's second identity check is refused.
    limited = Api(extra_host({"EREG_IDENTITY_CHECKS_PER_DAY": "1"}), "198.51.99.1")
    second = limited.call("POST", f"/api/v1/visits/{visits[1]}/vaccination", staff,
                          json={"lot": "JC-1", "identity_checked": True, "reason": "telefon stacjonarny"})  # fmt: skip
    assert (second.status_code, second.json()["code"]) == (422, "identity_check_limit")


def test_the_local_scheduler_fires_the_declared_nightly_no_show_job(
    api: Api, new_pesel, e2e_backends: Container
) -> None:
    passed = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    point_id = new_point(e2e_backends, [(passed, "jcovden", 2)])
    patient = api.login(new_pesel(date(1962, 2, 2)))
    missed = visit_service(e2e_backends).book(
        patient["patient"]["patient_id"], BookingRequest(point_id, passed, "jcovden", "+48601234567"), Channel.WEB,
        passed - timedelta(days=1),
    ).visits[0]  # fmt: skip
    # A minute before the job's declared time (01:30 in Warsaw), then that minute: the tick goes out.
    night = datetime.now(UTC).astimezone(WARSAW).replace(hour=1, minute=29, second=30, microsecond=0)
    clock = [night.astimezone(UTC)]
    scheduler = LocalScheduler(TOPOLOGY.schedules, e2e_backends.bus.publish, lambda: clock[0])
    clock[0] += timedelta(seconds=30)
    assert "nightly-no-shows" in scheduler.run_pending()

    def status() -> str | None:
        mine = api.call("GET", "/api/v1/visits", patient["session_token"]).json()["visits"]
        found = next(v["status"] for v in mine if v["visit_id"] == missed.visit_id)
        return found if found == "NO_SHOW" else None

    assert eventually(status, "the scheduler's no-show tick marks the missed visit") == "NO_SHOW"


def test_a_point_manager_voids_a_dose_and_reports_count_it_out(api: Api, new_pesel, e2e_backends: Container) -> None:
    today = soon()
    point_id = new_point(e2e_backends, [(today, "jcovden", 2)])
    staff = staff_of(api, new_pesel, point_id)
    manager_pesel = new_pesel(date(1970, 7, 7))
    manager = api.login(manager_pesel, roles=["point_manager"], point_ids=[point_id])["session_token"]
    other_manager = staff_of(api, new_pesel, new_point(e2e_backends), role="point_manager")
    api.call(
        "POST", f"/api/v1/points/{point_id}/deliveries", staff, json={"vaccine": "jcovden", "doses": 5, "lot": "J1"}
    )
    patient = api.login(new_pesel(date(1958, 8, 8)))["session_token"]
    visit = book_online(api, patient, point_id, today).json()["visits"][0]
    done = api.call("POST", f"/api/v1/visits/{visit['visit_id']}/vaccination", staff,
                    json={"lot": "J1", "check_in_code": visit["check_in_code"]})  # fmt: skip
    assert done.status_code == 201, done.text
    path = f"/api/v1/visits/{visit['visit_id']}/vaccination:void"

    by_staff = api.call("POST", path, staff, json={"reason": "pomyłka w pacjencie"})
    elsewhere = api.call("POST", path, other_manager, json={"reason": "pomyłka w pacjencie"})
    no_reason = api.call("POST", path, manager, json={})
    voided = api.call("POST", path, manager, json={"reason": "pomyłka w pacjencie"})
    twice = api.call("POST", path, manager, json={"reason": "pomyłka w pacjencie"})

    assert by_staff.status_code == 403 and (elsewhere.status_code, elsewhere.json()["code"]) == (
        403,
        "not_point_manager",
    )
    assert (no_reason.status_code, no_reason.json()["field"]) == (400, "reason")
    assert voided.status_code == 200, voided.text
    assert voided.json()["visit"]["status"] == "BOOKED" and voided.json()["voided"]["lot"] == "J1"
    assert (twice.status_code, twice.json()["code"]) == (409, "not_vaccinated")
    stock = api.call("GET", f"/api/v1/points/{point_id}/stock", staff).json()["stock"]
    assert next(s for s in stock if s["vaccine"] == "jcovden")["on_hand"] == 5
    audited = [
        e
        for e in e2e_backends.audit.entries_for(
            staff_id_for(manager_pesel, e2e_backends.settings.secret("audit_hash_key"))
        )
        if e["action"] == "void_vaccination"
    ]
    assert [(e["visit_id"], e["reason"]) for e in audited] == [(visit["visit_id"], "pomyłka w pacjencie")]
    table = f"`{e2e_backends.settings.project_id}.{e2e_backends.settings.bigquery_dataset}.vaccination_voids`"

    def in_bigquery() -> int | None:
        rows = e2e_backends.warehouse.query(f"SELECT COUNT(*) AS n FROM {table} WHERE visit_id = @v",
                                            {"v": visit["visit_id"]})  # fmt: skip
        return rows[0]["n"] or None

    assert eventually(in_bigquery, "the VaccinationVoided event in BigQuery") == 1


def test_a_manager_cancels_a_day_or_moves_it_and_each_patient_gets_one_sms(
    api: Api, new_pesel, new_phone, gateway: str, e2e_backends: Container
) -> None:
    day, move_to = days_ahead(6, 9), days_ahead(7, 10)
    hour = timedelta(hours=1)
    places = [
        (day, "jcovden", 1),
        (day + 2 * hour, "jcovden", 1),
        (move_to, "jcovden", 1),
        (move_to + hour, "jcovden", 1),
    ]
    point_id = new_point(e2e_backends, places)
    staff = staff_of(api, new_pesel, point_id)
    manager = staff_of(api, new_pesel, point_id, role="point_manager")
    phones = [new_phone(), new_phone()]
    for phone, starts_at, birth in zip(phones, (day, day + timedelta(hours=2)), (date(1955, 1, 1), date(1956, 1, 1)),
                                       strict=True):  # fmt: skip
        patient = api.login(new_pesel(birth))["session_token"]
        body = {"point_id": point_id, "starts_at": starts_at.isoformat(), "vaccine": "jcovden", "phone": phone}
        booked = api.call("POST", "/api/v1/visits", patient, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert booked.status_code == 201, booked.text
        wait_for_messages(gateway, phone, 1)
    path = f"/api/v1/points/{point_id}/days/{day.astimezone(WARSAW).date().isoformat()}:cancel"
    target = move_to.astimezone(WARSAW).date().isoformat()

    by_staff = api.call("POST", path, staff, json={"reason": "brak dostawy"})
    bad_day = api.call("POST", f"/api/v1/points/{point_id}/days/jutro:cancel", manager, json={"reason": "brak dostawy"})
    blank = api.call("POST", path, manager, json={"reason": "      "})
    assert (blank.status_code, blank.json()["field"]) == (400, "reason")  # and nothing is cancelled (below)
    moved = api.call("POST", path, manager, json={"reason": "brak dostawy", "move_to": target})

    assert by_staff.status_code == 403
    assert (bad_day.status_code, bad_day.json()["field"]) == (400, "day")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["cancelled"], moved.json()["moved"]) == (0, 2)
    for phone in phones:
        texts = wait_for_messages(gateway, phone, 2)
        assert "nowy termin" in texts[-1]["text"]
    assert (booked_at(e2e_backends, point_id, day), booked_at(e2e_backends, point_id, move_to)) == (None, 1)

    # The day they were moved to fails as well: now both are cancelled, one SMS each again.
    again = api.call("POST", path.replace(day.astimezone(WARSAW).date().isoformat(), target), manager,
                     json={"reason": "brak dostawy"})  # fmt: skip
    assert again.status_code == 200, again.text
    assert (again.json()["cancelled"], again.json()["moved"]) == (2, 0)
    for phone in phones:
        texts = wait_for_messages(gateway, phone, 3)
        assert "odwolano" in texts[-1]["text"]  # transliterated
        assert_no_more_messages(gateway, phone, 3, watch_s=2)
    listed = api.call("GET", f"/api/v1/points/{point_id}/schedule", staff, params={"from": target, "to": target})
    assert listed.json()["slots"] == []


def booked_at(e2e_backends: Container, point_id: str, starts_at: datetime) -> int | None:
    """The slot's booked places, None once the slot is gone."""
    try:
        return booked(e2e_backends, point_id, starts_at)
    except IndexError:
        return None
