"""Every reporting view and report over the bqemulator: a fixed set of events, with duplicate and
out-of-order deliveries (tests/integration/reporting_data.py), gives exactly the expected figures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from emulators.provision import ensure_bigquery
from shared.adapters.bigquery_reports import BigQueryReports
from shared.bootstrap import Container, build_container
from shared.domain.reports import SeriesQuery
from shared.services.reports import Reports
from tests.conftest import isolated_settings
from tests.integration.reporting_data import schedule_rows, sms_rows, visit_rows

D9, D10, D11, D12, D31 = (date(2026, 3, d) for d in (9, 10, 11, 12, 31))


@pytest.fixture(scope="module")
def warehouse(emulator_env: dict[str, str]) -> Iterator[Container]:
    """A reporting dataset of this module's own holding the fixed rows (BigQuery only: nothing else is read)."""
    container = build_container(isolated_settings())
    ensure_bigquery(container.warehouse.client, container.settings)
    for table, rows in (("visit_events", visit_rows()), ("schedule_events", schedule_rows()),
                        ("sms_events", sms_rows())):  # fmt: skip
        container.warehouse.insert_rows(table, rows, row_ids=[f"{table}-{n}" for n in range(len(rows))])
    yield container
    container.warehouse.client.delete_dataset(
        f"{container.settings.project_id}.{container.settings.bigquery_dataset}", delete_contents=True
    )


def view(container: Container, name: str, columns: str, order: str) -> list[tuple[Any, ...]]:
    rows = container.warehouse.query(f"SELECT {columns} FROM `{container.warehouse.table_id(name)}` ORDER BY {order}")
    return [tuple(row.values()) for row in rows]


def test_visit_latest_holds_each_visit_once_in_the_state_of_its_last_event(warehouse: Container) -> None:
    assert view(warehouse, "visit_latest", "visit_id, status, event_id", "visit_id") == [
        ("v1", "COMPLETED", "e02"),
        ("v2", "CANCELLED", "e04"),  # the cancellation arrived first, yet it is the latest
        ("v3", "NO_SHOW", "e07"),
        ("v4", "BOOKED", "e08"),
        ("v5", "COMPLETED", "e10"),
        ("v6", "COMPLETED", "e12"),
    ]


def test_vaccinations_by_day_region_vaccine_dose_and_age_band(warehouse: Container) -> None:
    assert view(warehouse, "vaccinations_by_region", "*", "day, voivodeship") == [
        (D10, "12", "1261", "vaxzevria", 1, "30-39", 1),  # v5, delivered three times
        (D10, "14", "1465", "comirnaty", 1, "60-69", 1),
        (D11, "12", "1261", "vaxzevria", 1, "30-39", 1),
    ]


def test_bookings_by_channel_and_hour_in_warsaw(warehouse: Container) -> None:
    assert view(warehouse, "bookings_by_channel_hour", "*", "day, hour") == [
        (D9, 10, "WEB", "14", 1),  # delivered twice
        (D10, 0, "WEB", "12", 1),  # 23:30Z on the 9th
        (D10, 8, "CALL_CENTRE", "14", 1),  # cancelled later: still a booking made that hour
        (D10, 9, "WEB", "12", 1),
        (D10, 11, "POINT", "14", 1),
        (D10, 15, "WEB", "12", 1),
    ]


def test_capacity_use_counts_latest_slots_and_visits_on_the_visit_day(warehouse: Container) -> None:
    rows = view(warehouse, "capacity_use", "day, voivodeship, places, booked, vaccinated", "day, voivodeship")
    assert rows == [
        (D10, "12", 3, 1, 1),  # the 12:00 slot was removed; v3 moved away to the 11th
        (D10, "14", 5, 1, 1),  # 10 places changed to 5 (the change arrived first)
        (D11, "12", 2, 2, 1),  # v3 (no-show) and v6
        (D12, "14", 4, 0, 0),  # v2 cancelled
        (D31, "14", 6, 1, 0),
    ]
    shares = view(warehouse, "capacity_use", "booked_share, vaccinated_share", "day, voivodeship")
    assert shares == [
        pytest.approx((1 / 3, 1 / 3)), pytest.approx((0.2, 0.2)), pytest.approx((1.0, 0.5)),
        pytest.approx((0.0, 0.0)), pytest.approx((1 / 6, 0.0)),
    ]  # fmt: skip


def test_no_show_rate_by_point_and_region(warehouse: Container) -> None:
    assert view(warehouse, "no_show_rates", "point_id, voivodeship, county, no_shows, vaccinated", "point_id") == [
        ("point-1", "14", "1465", 0, 1),
        ("point-2", "12", "1261", 1, 2),
    ]
    assert view(warehouse, "no_show_rates", "no_show_rate", "point_id") == [(0.0,), pytest.approx((1 / 3,))]


def test_lead_time_from_booking_to_visit(warehouse: Container) -> None:
    rows = view(warehouse, "booking_lead_times", "*", "day, voivodeship, channel")
    minutes = 1440
    assert rows == [
        (D9, "14", "comirnaty", "WEB", 1, pytest.approx(1500 / minutes), pytest.approx(1500 / minutes),
         pytest.approx(1500 / minutes)),
        # v3 (4 h), v5 (13.5 h), v6 (19 h)
        (D10, "12", "vaxzevria", "WEB", 3, pytest.approx(730 / minutes), pytest.approx(240 / minutes),
         pytest.approx(1140 / minutes)),
        (D10, "14", "comirnaty", "CALL_CENTRE", 1, pytest.approx(3030 / minutes), pytest.approx(3030 / minutes),
         pytest.approx(3030 / minutes)),
        (D10, "14", "comirnaty", "POINT", 1, pytest.approx(30234 / minutes), pytest.approx(30234 / minutes),
         pytest.approx(30234 / minutes)),
    ]  # fmt: skip


def test_sms_sent_failed_and_segments_by_day(warehouse: Container) -> None:
    assert view(warehouse, "sms_daily", "*", "day") == [
        (D9, 1, 0, 1),
        (D10, 1, 2, 2),  # r1 written twice; r2 failed, r3 rejected
        (D11, 1, 0, 3),  # 23:30Z on the 10th
    ]


def test_cumulative_vaccinated_people_by_age_band(warehouse: Container) -> None:
    assert view(warehouse, "vaccinated_people_by_age_band", "*", "day, age_band") == [
        (D10, "30-39", 1, 1),
        (D10, "60-69", 1, 1),
        (D11, "30-39", 1, 2),
    ]


def test_daily_figures_count_each_event_once(warehouse: Container) -> None:
    rows = view(warehouse, "daily_figures", "day, voivodeship, event_type, events", "day, voivodeship, event_type")
    assert rows == [
        (D9, "14", "VisitBooked", 1),
        (D10, "12", "VisitBooked", 3),
        (D10, "12", "VisitCompleted", 1),
        (D10, "12", "VisitMoved", 1),
        (D10, "14", "VisitBooked", 2),
        (D10, "14", "VisitCancelled", 1),
        (D10, "14", "VisitCompleted", 1),
        (D11, "12", "VisitCompleted", 1),
        (D11, "12", "VisitNoShow", 1),
    ]


@pytest.fixture
def reports(warehouse: Container) -> Reports:
    return Reports(
        BigQueryReports(warehouse.warehouse), clock=lambda: 0.0, ttl_s=0,
        today=lambda: date(2026, 4, 2), first_day=date(2026, 3, 1), closing_lock=threading.Lock,
    )  # fmt: skip


def test_summary_counts_what_happened_on_the_day(reports: Reports) -> None:
    assert reports.summary(D10) == {
        "day": "2026-03-10", "bookings": 5, "vaccinations": 2, "cancellations": 1, "no_shows": 0, "sms_sent": 1,
        "by_voivodeship": [
            {"voivodeship": "12", "bookings": 3, "vaccinations": 1, "no_shows": 0, "places": 3, "booked": 1},
            {"voivodeship": "14", "bookings": 2, "vaccinations": 1, "no_shows": 0, "places": 5, "booked": 1},
        ],
        "by_vaccine": [
            {"vaccine": "comirnaty", "bookings": 2, "vaccinations": 1},
            {"vaccine": "vaxzevria", "bookings": 3, "vaccinations": 1},
        ],
        "capacity": {"places": 8, "booked": 2, "vaccinated": 2},  # places for the 10th's visits
    }  # fmt: skip
    assert reports.summary(D11) == {
        "day": "2026-03-11", "bookings": 0, "vaccinations": 1, "cancellations": 0, "no_shows": 1, "sms_sent": 1,
        "by_voivodeship": [
            {"voivodeship": "12", "bookings": 0, "vaccinations": 1, "no_shows": 1, "places": 2, "booked": 2},
        ],
        "by_vaccine": [{"vaccine": "vaxzevria", "bookings": 0, "vaccinations": 1}],
        "capacity": {"places": 2, "booked": 2, "vaccinated": 1},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("metric", "voivodeship", "values"),
    [
        ("bookings", None, [1, 5, 0, 0]),
        ("bookings", "12", [0, 3, 0, 0]),
        ("vaccinations", None, [0, 2, 1, 0]),
        ("cancellations", "14", [0, 1, 0, 0]),
        ("no_shows", None, [0, 0, 1, 0]),
        ("sms_sent", None, [1, 1, 1, 0]),
        ("sms_failed", None, [0, 2, 0, 0]),
        ("sms_segments", None, [1, 2, 3, 0]),
    ],
)
def test_timeseries_gives_every_day_of_the_range(
    reports: Reports, metric: str, voivodeship: str | None, values: list[int]
) -> None:
    series = reports.timeseries(SeriesQuery.checked(metric, D9, D12, voivodeship))
    assert series == {
        "metric": metric,
        "points": [{"day": f"2026-03-{d:02d}", "value": v} for d, v in zip((9, 10, 11, 12), values, strict=True)],
    }


def test_public_figures_hide_every_count_under_ten(reports: Reports) -> None:
    assert reports.public(D11) == {
        "day": "2026-03-11",
        "suppressed_below": 10,
        "national": {"bookings": None, "vaccinations": None, "vaccinated_people": None},
        "by_voivodeship": [{"voivodeship": "12", "bookings": None, "vaccinations": None}],
        "by_age_band": [
            {"age_band": "30-39", "vaccinated_people": None},
            {"age_band": "60-69", "vaccinated_people": None},
        ],
    }


def test_open_data_reads_aggregates_written_once_per_closed_day(reports: Reports, warehouse: Container) -> None:
    queries = BigQueryReports(warehouse.warehouse)
    reports.public(D11)
    assert queries.closed_through() == date(2026, 4, 1)
    assert sorted((c.voivodeship, c.event_type, c.events) for c in queries.closed_events(D10)) == sorted(
        (c.voivodeship, c.event_type, c.events) for c in queries.daily_events(D10, D10, None)
    )
    assert queries.closed_first_doses(D11) == {D10: {"30-39": 1, "60-69": 1}, D11: {"30-39": 1}}
    closed_rows = warehouse.warehouse.query(
        f"SELECT day, COUNT(*) AS n FROM `{warehouse.warehouse.table_id('daily_aggregates')}` "
        "WHERE event_type = 'DayClosed' GROUP BY day HAVING n > 1"
    )
    assert closed_rows == []  # another read (another process) closes nothing again
    reports.public(D12)
    assert warehouse.warehouse.query(
        f"SELECT COUNT(*) AS n FROM `{warehouse.warehouse.table_id('daily_aggregates')}` WHERE event_type = 'DayClosed'"
    ) == [{"n": 32}]


def test_closing_a_closed_day_again_writes_nothing(reports: Reports, warehouse: Container) -> None:
    reports.public(D11)
    table = warehouse.warehouse.table_id("daily_aggregates")
    count = f"SELECT COUNT(*) AS n FROM `{table}`"
    before = warehouse.warehouse.query(count)
    BigQueryReports(warehouse.warehouse).close_days(D9, D12)  # a second writer, without the lock
    assert warehouse.warehouse.query(count) == before
