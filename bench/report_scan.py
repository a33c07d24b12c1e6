"""The bytes each report route's queries would scan in BigQuery at national volume.

    .venv/bin/python -m bench.report_scan [--visit-events-per-day 1000000] [--programme-days 365]

Computed, not measured: bqemulator answers every dry run with ``totalBytesProcessed: 0`` (it has no
cost model), so this records the SQL the adapter (shared/adapters/bigquery_reports.py) sends for each
route, parses it with sqlglot, and prices it as BigQuery does on-demand: for each table read, the
partitions its ``occurred_at`` (or ``day``) filter allows times the rows per partition times the
logical size of the columns the query names (STRING 2 + UTF-8 bytes, INT64/TIMESTAMP/DATE 8). The
column sizes come from a representative row (below); "all columns" is the bound if BigQuery pruned no
column of a ``SELECT *`` subquery. "unpartitioned" prices the same query over every partition of the
programme: what it cost before this issue, when the views read the whole table (twice per open-data
request: events and people).
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from shared.adapters.bigquery_reports import BigQueryReports
from shared.domain.reports import SeriesQuery
from shared.services.reports import Reports

SCHEMA = Path(__file__).resolve().parent.parent / "infra" / "schema" / "bigquery"
FIXED = {"INT64": 8, "FLOAT64": 8, "TIMESTAMP": 8, "DATE": 8, "BOOL": 1}
# Representative values (UTF-8 lengths of what the events carry); absent columns are NULL (0 bytes).
SAMPLE = {
    "event_id": 36, "event_type": 14, "visit_id": 36, "patient_ref": 64, "point_id": 36, "voivodeship": 2,
    "county": 4, "municipality": 7, "vaccine": 9, "channel": 4, "age_band": 5, "status": 9, "lot": 8,
    "request_id": 36, "kind": 12, "change": 7, "provider_id": 20,
}  # fmt: skip
TODAY = date(2026, 9, 30)


class RecordingWarehouse:
    def __init__(self) -> None:
        self.queries: list[tuple[str, dict[str, Any]]] = []

    def table_id(self, table: str) -> str:
        return f"p.reporting.{table}"

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        self.queries.append((sql, dict(params or {})))
        return []


def column_sizes(table: str) -> dict[str, int]:
    spec = json.loads((SCHEMA / f"{table}.json").read_text())
    return {f["name"]: FIXED.get(f["type"], 2 + SAMPLE.get(f["name"], 10)) for f in spec["schema"]}


def partitions(start: Any, end: Any) -> int:
    if isinstance(start, datetime):
        return int(((end - timedelta(microseconds=1)).date() - start.date()).days) + 1
    return int((end - start).days) + 1


def price(sql: str, params: dict[str, Any], rows_per_day: dict[str, int], programme_days: int) -> tuple[int, int, int]:
    """(bytes with the columns named, bytes with every column, bytes over every partition) of one query."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    named = {c.name for c in tree.find_all(exp.Column)}
    total = [0, 0, 0]
    for table in tree.find_all(exp.Table):
        if table.name not in rows_per_day:
            continue
        sizes = column_sizes(table.name)
        select = table.find_ancestor(exp.Select)
        where = select.args.get("where") if select else None
        compared = where.find_all(exp.GTE, exp.LT, exp.LTE, exp.EQ) if where else iter(())
        bounds = {
            type(c): c.expression.name
            for c in compared
            if c.this.name in ("occurred_at", "day") and isinstance(c.expression, exp.Parameter | exp.Placeholder)
        }
        if exp.GTE in bounds and exp.LT in bounds:
            days = partitions(params[bounds[exp.GTE]], params[bounds[exp.LT]])
        elif exp.EQ in bounds:
            days = 1
        elif exp.LTE in bounds:  # day <= @last: the programme so far
            days = programme_days
        else:
            days = programme_days
        days = min(days, programme_days)
        used = sum(size for name, size in sizes.items() if name in named)
        rows = rows_per_day[table.name]
        total[0] += days * rows * used
        total[1] += days * rows * sum(sizes.values())
        total[2] += programme_days * rows * used
    return total[0], total[1], total[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visit-events-per-day", type=int, default=1_000_000)
    parser.add_argument("--schedule-events-per-day", type=int, default=200_000)
    parser.add_argument("--sms-events-per-day", type=int, default=600_000)
    parser.add_argument("--aggregate-rows-per-day", type=int, default=4_000)
    parser.add_argument("--programme-days", type=int, default=365)
    args = parser.parse_args()
    rows_per_day = {
        "visit_events": args.visit_events_per_day, "schedule_events": args.schedule_events_per_day,
        "sms_events": args.sms_events_per_day, "daily_aggregates": args.aggregate_rows_per_day,
    }  # fmt: skip
    first_day = TODAY - timedelta(days=args.programme_days - 1)
    warehouse = RecordingWarehouse()
    queries = BigQueryReports(warehouse)  # type: ignore[arg-type]
    reports = Reports(queries, lambda: 0.0, 0, today=lambda: TODAY, first_day=first_day, closing_lock=threading.Lock)
    reports.public(TODAY)  # the programme's first read: closes every past day
    day = TODAY - timedelta(days=1)

    def series(metric: str, days: int) -> Callable[[], object]:
        return lambda: reports.timeseries(SeriesQuery.checked(metric, day - timedelta(days - 1), day, None))

    routes: list[tuple[str, Callable[[], object]]] = [
        ("public, a closed day (aggregates)", lambda: reports.public(day - timedelta(days=5))),
        ("public, today (today's partitions)", lambda: reports.public(TODAY)),
        ("closing one day (after midnight, once)", lambda: queries.close_days(day, day)),
        ("summary, one day", lambda: reports.summary(day)),
        ("timeseries, 30 days", series("bookings", 30)),
        ("timeseries, 366 days", series("vaccinations", 366)),
        ("timeseries sms, 30 days", series("sms_sent", 30)),
    ]
    print(f"volume: {rows_per_day}, programme {args.programme_days} days; GiB = 2**30 bytes")
    print(f"{'route':42} {'queries':>7} {'GiB named cols':>15} {'GiB all cols':>13} {'GiB unpartitioned':>18}")
    for name, call in routes:
        before = len(warehouse.queries)
        call()
        priced = [price(sql, params, rows_per_day, args.programme_days) for sql, params in warehouse.queries[before:]]
        named, every, whole = (sum(p[i] for p in priced) / 2**30 for i in range(3))
        print(f"{name:42} {len(priced):>7} {named:>15.3f} {every:>13.3f} {whole:>18.3f}")


if __name__ == "__main__":
    main()
