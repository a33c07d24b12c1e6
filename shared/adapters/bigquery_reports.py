"""The reporting views (infra/schema/bigquery/*.view.sql) as the report service's queries.

Parameterised queries only: nothing a caller sends is ever part of the SQL text.
Table names come from configuration, never from a request (hence the S608 exemptions).
"""

from __future__ import annotations

from datetime import date

from shared.adapters.bigquery_sink import ReportingWarehouse
from shared.domain.reports import CapacityUse, DailyCount


class BigQueryReports:
    def __init__(self, warehouse: ReportingWarehouse) -> None:
        self.warehouse = warehouse

    def _view(self, name: str) -> str:
        return f"`{self.warehouse.table_id(name)}`"

    def daily_events(self, first: date, last: date, voivodeship: str | None) -> list[DailyCount]:
        sql = (
            f"SELECT day, voivodeship, event_type, SUM(events) AS events FROM {self._view('daily_figures')} "  # noqa: S608
            "WHERE day BETWEEN @first AND @last AND (@voivodeship = '' OR voivodeship = @voivodeship) "
            "GROUP BY day, voivodeship, event_type"
        )
        rows = self.warehouse.query(sql, {"first": first, "last": last, "voivodeship": voivodeship or ""})
        return [DailyCount(r["day"], r["voivodeship"], r["event_type"], int(r["events"])) for r in rows]

    def daily_sms(self, first: date, last: date) -> dict[date, dict[str, int]]:
        sql = f"SELECT day, sent, failed, segments FROM {self._view('sms_daily')} WHERE day BETWEEN @first AND @last"  # noqa: S608
        return {
            r["day"]: {"sent": int(r["sent"]), "failed": int(r["failed"]), "segments": int(r["segments"] or 0)}
            for r in self.warehouse.query(sql, {"first": first, "last": last})
        }

    def vaccinated_people(self, day: date) -> dict[str, int]:
        sql = (
            f"SELECT COALESCE(age_band, 'unknown') AS age_band, SUM(newly_vaccinated) AS people "  # noqa: S608
            f"FROM {self._view('vaccinated_people_by_age_band')} WHERE day <= @day GROUP BY age_band"
        )
        return {r["age_band"]: int(r["people"]) for r in self.warehouse.query(sql, {"day": day})}

    def vaccine_events(self, day: date) -> dict[str, dict[str, int]]:
        sql = (
            f"SELECT vaccine, event_type, SUM(events) AS events FROM {self._view('daily_figures')} "  # noqa: S608
            "WHERE day = @day GROUP BY vaccine, event_type"
        )
        result: dict[str, dict[str, int]] = {}
        for r in self.warehouse.query(sql, {"day": day}):
            result.setdefault(r["vaccine"], {})[r["event_type"]] = int(r["events"])
        return result

    def capacity_use(self, day: date) -> dict[str, CapacityUse]:
        sql = (
            "SELECT voivodeship, SUM(places) AS places, SUM(booked) AS booked, SUM(vaccinated) AS vaccinated "  # noqa: S608
            f"FROM {self._view('capacity_use')} WHERE day = @day GROUP BY voivodeship"
        )
        return {
            r["voivodeship"]: CapacityUse(int(r["places"] or 0), int(r["booked"] or 0), int(r["vaccinated"] or 0))
            for r in self.warehouse.query(sql, {"day": day})
        }
