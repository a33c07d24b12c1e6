"""What every report query costs at most, on the bqemulator: each carries the configured
``maximum_bytes_billed``, and each reference to an event table names its partitions: ``occurred_at``
bounded by the Warsaw days asked for (plus the documented margins), never the whole table.

bqemulator stores ``require_partition_filter`` but does not enforce it, so the queries are checked
here with sqlglot (BigQuery dialect) while they run against the emulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlglot
from google.cloud import bigquery
from sqlglot import exp

from emulators.provision import ensure_bigquery
from shared.adapters.bigquery_reports import CAPACITY_LOOKBACK_DAYS, BigQueryReports
from shared.adapters.bigquery_sink import ReportingWarehouse
from shared.bootstrap import build_container
from shared.domain.reports import SeriesQuery, warsaw_bounds
from shared.services.reports import Reports
from tests.conftest import isolated_settings

EVENT_TABLES = {"visit_events", "schedule_events", "sms_events"}
CAP = 123 * 2**20
DAY = date(2026, 3, 10)


class RecordingClient:
    """The BigQuery client, with every query job's SQL, parameters and configuration kept."""

    def __init__(self, client: bigquery.Client) -> None:
        self.client = client
        self.project = client.project
        self.jobs: list[tuple[str, bigquery.QueryJobConfig]] = []

    def query(self, sql: str, job_config: bigquery.QueryJobConfig) -> Any:
        self.jobs.append((sql, job_config))
        return self.client.query(sql, job_config=job_config)


@pytest.fixture(scope="module")
def recorded(emulator_env: dict[str, str]) -> Iterator[tuple[Reports, RecordingClient]]:
    container = build_container(isolated_settings(bigquery_max_bytes_billed=CAP))
    ensure_bigquery(container.warehouse.client, container.settings)
    client = RecordingClient(container.warehouse.client)
    warehouse = ReportingWarehouse(client, container.settings.bigquery_dataset, CAP)  # type: ignore[arg-type]
    reports = Reports(
        BigQueryReports(warehouse), clock=lambda: 0.0, ttl_s=0,
        today=lambda: DAY, first_day=DAY - timedelta(days=20), closing_lock=threading.Lock,
    )  # fmt: skip
    yield reports, client
    container.warehouse.client.delete_dataset(
        f"{container.settings.project_id}.{container.settings.bigquery_dataset}", delete_contents=True
    )


def partition_bounds(sql: str, params: dict[str, Any]) -> list[tuple[str, datetime, datetime]]:
    """For each event table the SQL reads: its name and the occurred_at range its WHERE allows."""
    found = []
    for table in sqlglot.parse_one(sql, read="bigquery").find_all(exp.Table):
        name = table.name
        if name not in EVENT_TABLES:
            continue
        select = table.find_ancestor(exp.Select)
        where = select.args.get("where") if select else None
        assert where is not None, f"{name} read without a partition filter: {sql}"
        lower = [c for c in where.find_all(exp.GTE) if c.this.name == "occurred_at"]
        upper = [c for c in where.find_all(exp.LT) if c.this.name == "occurred_at"]
        assert lower and upper, f"{name} read without occurred_at bounds: {sql}"
        found.append((name, params[lower[0].expression.name], params[upper[0].expression.name]))
    return found


def params_of(config: bigquery.QueryJobConfig) -> dict[str, Any]:
    return {p.name: p.value for p in config.query_parameters}


def run(client: RecordingClient, call: Any) -> list[tuple[str, bigquery.QueryJobConfig]]:
    before = len(client.jobs)
    call()
    return client.jobs[before:]


def test_every_query_is_capped_at_the_configured_bytes(recorded: tuple[Reports, RecordingClient]) -> None:
    reports, client = recorded
    reports.summary(DAY)
    reports.timeseries(SeriesQuery.checked("bookings", DAY - timedelta(days=6), DAY, None))
    reports.timeseries(SeriesQuery.checked("sms_sent", DAY - timedelta(days=6), DAY, None))
    reports.public(DAY)
    reports.public(DAY - timedelta(days=3))
    assert client.jobs
    assert {config.maximum_bytes_billed for _, config in client.jobs} == {CAP}


@pytest.mark.parametrize("days", [1, 7, 30])
def test_the_time_series_reads_only_the_days_asked_for(recorded: tuple[Reports, RecordingClient], days: int) -> None:
    reports, client = recorded
    first = DAY - timedelta(days=days - 1)
    jobs = run(client, lambda: reports.timeseries(SeriesQuery.checked("vaccinations", first, DAY, "14")))
    sms = run(client, lambda: reports.timeseries(SeriesQuery.checked("sms_failed", first, DAY, None)))
    start, end = warsaw_bounds(first, DAY)
    assert [b for sql, c in jobs for b in partition_bounds(sql, params_of(c))] == [("visit_events", start, end)]
    # SMS outcomes: one day's margin for the latest outcome of the range's last requests
    sms_end = warsaw_bounds(first, DAY + timedelta(days=1))[1]
    assert [b for sql, c in sms for b in partition_bounds(sql, params_of(c))] == [("sms_events", start, sms_end)]


def test_the_summary_reads_only_its_day_and_capacity_its_booking_window(
    recorded: tuple[Reports, RecordingClient],
) -> None:
    reports, client = recorded
    jobs = run(client, lambda: reports.summary(DAY - timedelta(days=1)))
    bounds = [b for sql, c in jobs for b in partition_bounds(sql, params_of(c))]
    day = warsaw_bounds(DAY - timedelta(days=1), DAY - timedelta(days=1))
    window = warsaw_bounds(DAY - timedelta(days=1 + CAPACITY_LOOKBACK_DAYS), DAY)
    assert sorted(bounds) == sorted([
        ("visit_events", *day), ("visit_events", *day), ("sms_events", day[0], day[1] + timedelta(days=1)),
        ("visit_events", *window), ("schedule_events", *window),
    ])  # fmt: skip


def test_open_data_reads_aggregates_or_todays_partitions_only(recorded: tuple[Reports, RecordingClient]) -> None:
    reports, client = recorded
    reports.public(DAY - timedelta(days=1))  # closes the programme's days so far
    closed = run(client, lambda: reports.public(DAY - timedelta(days=2)))
    assert closed and all(partition_bounds(sql, params_of(c)) == [] for sql, c in closed)
    today = run(client, lambda: reports.public(DAY))
    assert {b for sql, c in today for b in partition_bounds(sql, params_of(c))} == {
        ("visit_events", *warsaw_bounds(DAY, DAY))
    }
