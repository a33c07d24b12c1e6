"""The `reports` function on the local host: exact figures over a fixed set of events (duplicates and
out-of-order deliveries included), roles, hostile parameters, open data, and freshness (a booking and a
vaccination in the summary within 10 s)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from emulators.provision import ensure_bigquery
from shared.adapters.bigquery_sink import ReportingWarehouse
from shared.bootstrap import Container
from shared.domain.local_time import WARSAW
from tests.e2e.conftest import Api, running_host
from tests.e2e.test_booking import book, find_slots
from tests.e2e.test_point_day import eventually, new_point, today_block
from tests.integration.reporting_data import schedule_rows, sms_rows, visit_rows

# Days of May 2026 on which first doses trickle in: (age band, voivodeship) -> first doses per day.
TRICKLE_DAYS = [date(2026, 5, d) for d in (4, 5, 6, 7, 8)]
TRICKLE = {("40-49", "02"): [7, 5, 3, 9, 1], ("50-59", "04"): [12, 2, 8, 1, 0], ("70-79", "06"): [30, 41, 25, 3, 60]}


def trickle_rows() -> list[dict[str, object]]:
    rows = []
    for (band, voivodeship), per_day in TRICKLE.items():
        for day, doses in zip(TRICKLE_DAYS, per_day, strict=True):
            for n in range(doses):
                row = visit_rows()[2] | {"event_id": f"t-{band}-{day}-{n}", "visit_id": f"tv-{band}-{day}-{n}",
                                         "patient_ref": f"tp-{band}-{day}-{n}", "voivodeship": voivodeship,
                                         "age_band": band, "occurred_at": f"{day}T10:00:00Z",
                                         "inserted_at": f"{day}T10:00:01Z"}  # fmt: skip
                rows.append(row)
    return rows


def insert_fixed_rows(warehouse: ReportingWarehouse) -> None:
    for table, rows in (("visit_events", visit_rows() + trickle_rows()), ("schedule_events", schedule_rows()),
                        ("sms_events", sms_rows())):  # fmt: skip
        warehouse.insert_rows(table, rows, row_ids=[f"fixed-{table}-{n}" for n in range(len(rows))])


@pytest.fixture(scope="module")
def fixed_events(e2e_backends: Container) -> None:
    """The fixed rows, in March and May 2026: no other e2e test makes events on those days."""
    insert_fixed_rows(e2e_backends.warehouse)


@pytest.fixture(scope="module")
def open_data(emulator_env: dict[str, str], e2e_backends: Container) -> Iterator[Api]:
    """A host whose reporting dataset holds only the fixed rows, before anyone read its open data.

    Open data closes every past day at its first read, once; on the shared dataset any earlier e2e test
    (the API fuzzer, say) may have read a programme day before the fixed rows went in."""
    shared = e2e_backends.settings
    own = {"bigquery_dataset": f"{shared.bigquery_dataset}_open", "redis_key_prefix": f"{shared.redis_key_prefix}open:"}
    settings = shared.model_copy(update=own)
    client = e2e_backends.warehouse.client
    ensure_bigquery(client, settings)
    insert_fixed_rows(ReportingWarehouse(client, settings.bigquery_dataset, settings.bigquery_max_bytes_billed))
    with running_host(emulator_env, settings, "open-data-host") as base:
        yield Api(base, "198.51.99.1")


@pytest.fixture
def analyst(api: Api, new_pesel: Callable[[], str]) -> str:
    return str(api.login(new_pesel(), roles=["analyst"])["session_token"])


def test_the_summary_counts_each_event_once_on_the_day_it_happened(api: Api, analyst: str, fixed_events: None) -> None:
    response = api.call("GET", "/api/v1/reports/summary", analyst, params={"day": "2026-03-10"})
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["Cache-Control"]
    assert response.json() == {
        "day": "2026-03-10", "bookings": 5, "vaccinations": 2, "cancellations": 1, "no_shows": 0, "sms_sent": 1,
        "by_voivodeship": [
            {"voivodeship": "12", "bookings": 3, "vaccinations": 1, "no_shows": 0, "places": 3, "booked": 1},
            {"voivodeship": "14", "bookings": 2, "vaccinations": 1, "no_shows": 0, "places": 5, "booked": 1},
        ],
        "by_vaccine": [
            {"vaccine": "comirnaty", "bookings": 2, "vaccinations": 1},
            {"vaccine": "vaxzevria", "bookings": 3, "vaccinations": 1},
        ],
        "capacity": {"places": 8, "booked": 2, "vaccinated": 2},
    }  # fmt: skip


def test_the_timeseries_gives_every_day_of_the_range(api: Api, analyst: str, fixed_events: None) -> None:
    params = {"metric": "bookings", "from": "2026-03-09", "to": "2026-03-12", "voivodeship": "12"}
    response = api.call("GET", "/api/v1/reports/timeseries", analyst, params=params)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "metric": "bookings",
        "points": [{"day": "2026-03-09", "value": 0}, {"day": "2026-03-10", "value": 3},
                   {"day": "2026-03-11", "value": 0}, {"day": "2026-03-12", "value": 0}],
    }  # fmt: skip
    sms = api.call("GET", "/api/v1/reports/timeseries", analyst,
                   params={"metric": "sms_segments", "from": "2026-03-09", "to": "2026-03-11"})  # fmt: skip
    assert [p["value"] for p in sms.json()["points"]] == [1, 2, 3]


def test_open_data_is_anonymous_cacheable_and_hides_small_counts(open_data: Api) -> None:
    response = open_data.call("GET", "/api/v1/reports/public", params={"day": "2026-03-11"})
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"].startswith("public")
    assert response.json() == {
        "day": "2026-03-11",
        "suppressed_below": 10,
        "national": {"bookings": None, "vaccinations": None, "vaccinated_people": None},
        "by_voivodeship": [{"voivodeship": "12", "bookings": None, "vaccinations": None}],
        "by_age_band": [
            {"age_band": "30-39", "vaccinated_people": None},
            {"age_band": "60-69", "vaccinated_people": None},
        ],
    }


def test_no_difference_of_published_figures_reveals_a_small_count(open_data: Api) -> None:
    published = []
    for day in TRICKLE_DAYS:
        response = open_data.call("GET", "/api/v1/reports/public", params={"day": day.isoformat()})
        assert response.status_code == 200, response.text
        published.append(response.json())

    def revealing(a: int | None, b: int | None) -> bool:
        return a is not None and b is not None and 0 < abs(a - b) < 10

    bands = {band for _, figures in enumerate(published) for band in (b["age_band"] for b in figures["by_age_band"])}
    for band in bands:
        series = [next((b["vaccinated_people"] for b in p["by_age_band"] if b["age_band"] == band), None)
                  for p in published]  # fmt: skip
        assert not any(revealing(a, b) for a in series for b in series), (band, series)  # D minus D-1, or any pair
    national = [p["national"]["vaccinated_people"] for p in published]
    assert not any(revealing(a, b) for a in national for b in national), national
    for figures in published:  # the whole minus its shown parts
        for measure in ("bookings", "vaccinations"):
            whole = figures["national"][measure]
            parts = sum(v[measure] or 0 for v in figures["by_voivodeship"])
            assert whole is None or whole - parts == 0 or whole - parts >= 10, (figures["day"], measure)
        shown = sum(b["vaccinated_people"] or 0 for b in figures["by_age_band"])
        assert figures["national"]["vaccinated_people"] in (None, shown)
    # what can be published still is: the big band, and the small ones once they have grown by ten
    assert [p["by_age_band"][-1]["vaccinated_people"] for p in published] == [30, 71, 96, 96, 159]
    assert national[-1] is not None and national[-1] >= 159 + 24 + 22


def test_open_data_exists_only_for_the_programme_days(api: Api) -> None:
    today = datetime.now(UTC).astimezone(WARSAW).date()
    for day in (today + timedelta(days=1), date(2025, 12, 31), date(2198, 1, 1), date(2001, 1, 1)):
        response = api.call("GET", "/api/v1/reports/public", params={"day": day.isoformat()})
        assert response.status_code == 400, response.text
        assert (response.json()["field"], response.json()["code"]) == ("day", "out_of_range")


@pytest.mark.parametrize("roles", [[], ["agent"], ["point_staff"]])
def test_other_roles_get_403(api: Api, new_pesel: Callable[[], str], roles: list[str]) -> None:
    point_ids = [find_slots(api, "comirnaty", enough=1)[0]["point_id"]] if "point_staff" in roles else None
    token = api.login(new_pesel(), roles=roles, point_ids=point_ids)["session_token"]
    for path in ("/api/v1/reports/summary", "/api/v1/reports/timeseries?metric=bookings"):
        response = api.call("GET", path, token)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden_role"


def test_an_admin_may_read_the_reports_and_nobody_without_a_session(api: Api, new_pesel: Callable[[], str]) -> None:
    admin = api.login(new_pesel(), roles=["admin"])["session_token"]
    assert api.call("GET", "/api/v1/reports/summary", admin, params={"day": "2026-03-10"}).status_code == 200
    assert api.call("GET", "/api/v1/reports/summary").status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "field", "code"),
    [
        ("summary", {"day": "yesterday"}, "day", "invalid_field"),
        ("summary", {"day": "9999-12-31"}, "day", "invalid_field"),
        ("summary", {"day": "2026-03-10'; DROP TABLE visit_events; --"}, "day", "invalid_field"),
        ("timeseries", {}, "metric", "invalid_field"),
        ("timeseries", {"metric": "bogus"}, "metric", "unknown_metric"),
        ("timeseries", {"metric": "bookings' OR '1'='1"}, "metric", "unknown_metric"),
        ("timeseries", {"metric": "x" * 500}, "metric", "invalid_field"),
        ("timeseries", {"metric": "bookings", "from": "2026-03-12", "to": "2026-03-10"}, "to", "invalid_range"),
        ("timeseries", {"metric": "bookings", "from": "2024-01-01", "to": "2026-03-10"}, "to", "invalid_range"),
        ("timeseries", {"metric": "bookings", "from": "0001-01-01"}, "from", "invalid_field"),
        ("timeseries", {"metric": "bookings", "voivodeship": "99"}, "voivodeship", "invalid_field"),
        ("timeseries", {"metric": "bookings", "voivodeship": "14' OR 1=1"}, "voivodeship", "invalid_field"),
        ("timeseries", {"metric": "sms_sent", "voivodeship": "14"}, "voivodeship", "invalid_field"),
        ("public", {"day": "2026-02-30"}, "day", "invalid_field"),
    ],
)
def test_hostile_parameters_get_400_naming_the_field(
    api: Api, analyst: str, path: str, params: dict[str, str], field: str, code: str
) -> None:
    response = api.call("GET", f"/api/v1/reports/{path}", analyst if path != "public" else None, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert (response.json()["field"], response.json()["code"]) == (field, code)


def test_a_booking_shows_in_the_summary_within_10_seconds(api: Api, analyst: str, new_pesel: Callable[[], str]) -> None:
    today = datetime.now(UTC).astimezone(WARSAW).date().isoformat()

    def bookings() -> int:
        response = api.call("GET", "/api/v1/reports/summary", analyst, params={"day": today})
        assert response.status_code == 200, response.text
        return int(response.json()["bookings"])

    before = bookings()
    slot = find_slots(api, "comirnaty", enough=1)[0]
    patient = api.login(new_pesel())["session_token"]
    booked = book(api, patient, slot)
    assert booked.status_code == 201, booked.text

    def grown() -> int | None:
        now = bookings()
        return now if now > before else None

    # Stream to BigQuery, view, and the report cache (3 s per process) together within 10 s.
    assert eventually(grown, "the booking in the summary", timeout_s=10) >= before + 1


def test_a_vaccination_shows_in_the_summary_within_10_seconds(
    api: Api, analyst: str, new_pesel: Callable[..., str], e2e_backends: Container
) -> None:
    point_id = new_point(e2e_backends)
    staff = api.login(new_pesel(date(1975, 1, 1)), roles=["point_staff"], point_ids=[point_id])["session_token"]
    delivered = api.call("POST", f"/api/v1/points/{point_id}/deliveries", staff,
                         json={"vaccine": "comirnaty", "doses": 200, "lot": "FK1234"})  # fmt: skip
    assert delivered.status_code == 201, delivered.text
    day, start, end = today_block()
    later = (date.fromisoformat(day) + timedelta(days=21)).isoformat()
    blocks = [
        {"day": day, "from": start, "to": end, "slot_minutes": 5, "places": 4, "vaccine": "comirnaty"},
        {"day": later, "from": "08:00", "to": "12:00", "slot_minutes": 30, "places": 4, "vaccine": "comirnaty"},
    ]
    published = api.call("PUT", f"/api/v1/points/{point_id}/schedule", staff, json={"blocks": blocks})
    assert published.status_code == 200, published.text
    walked = api.call("POST", f"/api/v1/points/{point_id}/visits", staff, headers={"Idempotency-Key": "report-1"},
                      json={"pesel": new_pesel(date(1959, 9, 9)), "vaccine": "comirnaty", "given_name": "Zofia",
                            "family_name": "Wolska"})  # fmt: skip
    assert walked.status_code == 201, walked.text
    dose1 = walked.json()["visits"][0]

    def vaccinations() -> int:
        response = api.call("GET", "/api/v1/reports/summary", analyst, params={"day": day})
        assert response.status_code == 200, response.text
        return int(response.json()["vaccinations"])

    before = vaccinations()
    done = api.call("POST", f"/api/v1/visits/{dose1['visit_id']}/vaccination", staff,
                    json={"lot": "FK1234", "check_in_code": dose1["check_in_code"]})  # fmt: skip
    assert done.status_code == 201, done.text

    def grown() -> int | None:
        now = vaccinations()
        return now if now > before else None

    assert eventually(grown, "the vaccination in the summary", timeout_s=10) >= before + 1


def test_the_confirmation_sms_is_counted_without_its_number_or_text(
    api: Api, analyst: str, new_pesel: Callable[[], str], new_phone: Callable[[], str], e2e_backends: Container
) -> None:
    today = datetime.now(UTC).astimezone(WARSAW).date().isoformat()

    def sms_sent() -> int:
        response = api.call("GET", "/api/v1/reports/summary", analyst, params={"day": today})
        assert response.status_code == 200, response.text
        return int(response.json()["sms_sent"])

    before = sms_sent()
    phone = new_phone()
    booked = book(api, api.login(new_pesel())["session_token"], find_slots(api, "comirnaty", enough=1)[0], phone=phone)
    assert booked.status_code == 201, booked.text
    assert eventually(lambda: sms_sent() > before, "the SMS in the summary", timeout_s=30)
    rows = e2e_backends.warehouse.query(f"SELECT * FROM `{e2e_backends.warehouse.table_id('sms_events')}`")
    assert rows and all(row["status"] in ("SENT", "FAILED", "REJECTED") and row["segments"] for row in rows)
    assert phone[3:] not in str(rows) and "e-Rejestracja" not in str(rows)
