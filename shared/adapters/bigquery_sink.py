"""BigQuery: the ministry's reporting dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from google.cloud import bigquery


class ReportingWarehouse:
    def __init__(self, client: bigquery.Client, dataset: str, max_bytes_billed: int) -> None:
        self.client = client
        self.dataset = dataset
        # Every query fails rather than bill more than this (a runaway query costs at most this much).
        self.max_bytes_billed = max_bytes_billed

    def table_id(self, table: str) -> str:
        return f"{self.client.project}.{self.dataset}.{table}"

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]], row_ids: Sequence[str]) -> None:
        """Stream rows; ``row_ids`` are insert ids (best-effort de-duplication in BigQuery)."""
        errors = self.client.insert_rows_json(self.table_id(table), list(rows), row_ids=list(row_ids))
        if errors:
            raise RuntimeError(f"BigQuery refused {len(errors)} row(s) of {table}: {errors[:3]}")

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        parameters = [
            bigquery.ScalarQueryParameter(name, _bq_type(value), value) for name, value in (params or {}).items()
        ]
        config = bigquery.QueryJobConfig(query_parameters=parameters, maximum_bytes_billed=self.max_bytes_billed)
        job = self.client.query(sql, job_config=config)
        return [dict(row.items()) for row in job.result()]

    def ping(self, timeout_s: float) -> None:
        self.client.get_dataset(f"{self.client.project}.{self.dataset}", timeout=timeout_s)


def _bq_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, datetime):
        return "TIMESTAMP"
    if isinstance(value, date):
        return "DATE"
    return "STRING"
