"""The report service's queries over the event tables and the daily aggregates.

Every query over an event table filters its partitions (``occurred_at`` between the Warsaw bounds of
the days asked for), de-duplicating only inside them: the tables require a partition filter
(infra/schema/bigquery/*.json) and the warehouse caps the bytes billed per query. Open data reads
``daily_aggregates``, written once per closed day.

Parameterised queries only: nothing a caller sends is ever part of the SQL text.
Table names come from configuration, never from a request (hence the S608 exemptions).
"""

from __future__ import annotations

from datetime import date, timedelta

from shared.adapters.bigquery_sink import ReportingWarehouse
from shared.domain.reports import CapacityUse, DailyCount, warsaw_bounds
from shared.domain.schedule import MAX_DAYS_AHEAD

# Marks a closed day in daily_aggregates, so a day with no events is not closed again.
DAY_CLOSED = "DayClosed"
# Slots are published, and visits booked, at most this long before the visit (capacity_use's partitions).
CAPACITY_LOOKBACK_DAYS = MAX_DAYS_AHEAD


class BigQueryReports:
    def __init__(self, warehouse: ReportingWarehouse) -> None:
        self.warehouse = warehouse

    def _table(self, name: str) -> str:
        return f"`{self.warehouse.table_id(name)}`"

    def _unique(self, table: str, key: str = "event_id") -> str:
        """Each event of ``table`` once, from the partitions between @start and @end only."""
        return (
            f"(SELECT * FROM {self._table(table)} WHERE occurred_at >= @start AND occurred_at < @end "  # noqa: S608
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY inserted_at) = 1)"
        )

    def _aggregate_select(self) -> str:
        return (
            "SELECT DATE(occurred_at, 'Europe/Warsaw') AS day, voivodeship, vaccine, event_type, age_band, "  # noqa: S608
            "COUNT(*) AS events, COUNTIF(event_type = 'VisitCompleted' AND dose = 1) AS first_doses "
            f"FROM {self._unique('visit_events')} GROUP BY day, voivodeship, vaccine, event_type, age_band"
        )

    def daily_events(self, first: date, last: date, voivodeship: str | None) -> list[DailyCount]:
        start, end = warsaw_bounds(first, last)
        sql = (
            "SELECT DATE(occurred_at, 'Europe/Warsaw') AS day, voivodeship, event_type, COUNT(*) AS events "  # noqa: S608
            f"FROM {self._unique('visit_events')} WHERE (@voivodeship = '' OR voivodeship = @voivodeship) "
            "GROUP BY day, voivodeship, event_type"
        )
        rows = self.warehouse.query(sql, {"start": start, "end": end, "voivodeship": voivodeship or ""})
        return [DailyCount(r["day"], r["voivodeship"], r["event_type"], int(r["events"])) for r in rows]

    def daily_sms(self, first: date, last: date) -> dict[date, dict[str, int]]:
        # A request's latest outcome comes within minutes: a day's margin after the range finds it.
        start, end = warsaw_bounds(first, last + timedelta(days=1))
        sql = (
            "WITH latest AS (SELECT * FROM "  # noqa: S608
            f"{self._table('sms_events')} WHERE occurred_at >= @start AND occurred_at < @end "
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY occurred_at DESC, inserted_at DESC) = 1) "
            "SELECT DATE(occurred_at, 'Europe/Warsaw') AS day, COUNTIF(status = 'SENT') AS sent, "
            "COUNTIF(status IN ('FAILED', 'REJECTED')) AS failed, "
            "SUM(CASE WHEN status = 'SENT' THEN segments ELSE 0 END) AS segments "
            "FROM latest GROUP BY day HAVING day BETWEEN @first AND @last"
        )
        return {
            r["day"]: {"sent": int(r["sent"]), "failed": int(r["failed"]), "segments": int(r["segments"] or 0)}
            for r in self.warehouse.query(sql, {"start": start, "end": end, "first": first, "last": last})
        }

    def vaccine_events(self, day: date) -> dict[str, dict[str, int]]:
        start, end = warsaw_bounds(day, day)
        sql = (
            "SELECT vaccine, event_type, COUNT(*) AS events "  # noqa: S608
            f"FROM {self._unique('visit_events')} GROUP BY vaccine, event_type"
        )
        result: dict[str, dict[str, int]] = {}
        for r in self.warehouse.query(sql, {"start": start, "end": end}):
            result.setdefault(r["vaccine"], {})[r["event_type"]] = int(r["events"])
        return result

    def capacity_use(self, day: date) -> dict[str, CapacityUse]:
        # Slots and visits of ``day`` in their latest state; their events happen at most
        # CAPACITY_LOOKBACK_DAYS before it and (a no-show) the day after.
        start, end = warsaw_bounds(day - timedelta(days=CAPACITY_LOOKBACK_DAYS), day + timedelta(days=1))
        visits = (
            f"(SELECT * FROM {self._unique('visit_events')} "  # noqa: S608
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY visit_id ORDER BY occurred_at DESC, event_id DESC) = 1)"
        )
        slots = (
            f"(SELECT * FROM {self._unique('schedule_events')} "  # noqa: S608
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY point_id, starts_at, vaccine "
            "ORDER BY occurred_at DESC, event_id DESC) = 1)"
        )
        sql = (
            "SELECT voivodeship, SUM(places) AS places, SUM(booked) AS booked, SUM(vaccinated) AS vaccinated FROM ("  # noqa: S608
            f"SELECT voivodeship, capacity AS places, 0 AS booked, 0 AS vaccinated, starts_at FROM {slots} "
            "UNION ALL SELECT voivodeship, 0 AS places, "
            "CASE WHEN status IN ('BOOKED', 'COMPLETED', 'NO_SHOW') THEN 1 ELSE 0 END AS booked, "
            f"CASE WHEN status = 'COMPLETED' THEN 1 ELSE 0 END AS vaccinated, starts_at FROM {visits}"
            ") WHERE DATE(starts_at, 'Europe/Warsaw') = @day GROUP BY voivodeship"
        )
        return {
            r["voivodeship"]: CapacityUse(int(r["places"] or 0), int(r["booked"] or 0), int(r["vaccinated"] or 0))
            for r in self.warehouse.query(sql, {"start": start, "end": end, "day": day})
        }

    # Open data: daily aggregates, written once per closed day.

    def closed_through(self) -> date | None:
        sql = f"SELECT MAX(day) AS day FROM {self._table('daily_aggregates')} WHERE event_type = @closed"  # noqa: S608
        rows = self.warehouse.query(sql, {"closed": DAY_CLOSED})
        return rows[0]["day"] if rows else None

    def close_days(self, first: date, last: date) -> None:
        start, end = warsaw_bounds(first, last)
        sql = (
            f"INSERT INTO {self._table('daily_aggregates')} "  # noqa: S608
            "(day, voivodeship, vaccine, event_type, age_band, events, first_doses) "
            f"SELECT * FROM ({self._aggregate_select()} UNION ALL "
            "SELECT d AS day, '' AS voivodeship, '' AS vaccine, @closed AS event_type, "
            "CAST(NULL AS STRING) AS age_band, 0 AS events, 0 AS first_doses "
            "FROM UNNEST(GENERATE_DATE_ARRAY(@first, @last)) AS d) "
            # a day another writer closed meanwhile is not written again
            f"WHERE day NOT IN (SELECT day FROM {self._table('daily_aggregates')} "
            "WHERE event_type = @closed AND day BETWEEN @first AND @last)"
        )
        self.warehouse.query(sql, {"start": start, "end": end, "first": first, "last": last, "closed": DAY_CLOSED})

    def closed_events(self, day: date) -> list[DailyCount]:
        sql = (
            "SELECT voivodeship, event_type, SUM(events) AS events "  # noqa: S608
            f"FROM {self._table('daily_aggregates')} WHERE day = @day AND event_type != @closed "
            "GROUP BY voivodeship, event_type"
        )
        rows = self.warehouse.query(sql, {"day": day, "closed": DAY_CLOSED})
        return [DailyCount(day, r["voivodeship"], r["event_type"], int(r["events"])) for r in rows]

    def closed_first_doses(self, last: date) -> dict[date, dict[str, int]]:
        sql = (
            "SELECT day, COALESCE(age_band, 'unknown') AS age_band, SUM(first_doses) AS people "  # noqa: S608
            f"FROM {self._table('daily_aggregates')} WHERE day <= @last AND first_doses > 0 GROUP BY day, age_band"
        )
        result: dict[date, dict[str, int]] = {}
        for r in self.warehouse.query(sql, {"last": last}):
            result.setdefault(r["day"], {})[r["age_band"]] = int(r["people"])
        return result

    def live_first_doses(self, day: date) -> dict[str, int]:
        start, end = warsaw_bounds(day, day)
        sql = (
            "SELECT COALESCE(age_band, 'unknown') AS age_band, SUM(first_doses) AS people "  # noqa: S608
            f"FROM ({self._aggregate_select()}) GROUP BY age_band"
        )
        return {r["age_band"]: int(r["people"]) for r in self.warehouse.query(sql, {"start": start, "end": end})}
