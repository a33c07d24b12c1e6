"""Group commit for the reporting feed: the rows of concurrent deliveries go to BigQuery in one
streaming insert per table.

Pub/Sub pushes one message per request, and each request may only answer (ack) once its row is
written, or an instance that dies would lose it. So rows are not buffered past their request: each
caller hands its rows over and waits; the first caller of a batch waits ``window_s`` for others to
join (or until ``max_rows``), writes the whole batch, and every caller of the batch returns, or
raises if the write failed (Pub/Sub then redelivers, and the views count each event once).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.services.reporting_feed import Warehouse


@dataclass
class _Batch:
    rows: list[Mapping[str, Any]] = field(default_factory=list)
    row_ids: list[str] = field(default_factory=list)
    full: threading.Event = field(default_factory=threading.Event)
    written: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class BatchingWarehouse:
    """A ``Warehouse`` that writes the rows of concurrent callers together (per table)."""

    def __init__(self, warehouse: Warehouse, window_s: float = 0.05, max_rows: int = 500) -> None:
        self.warehouse = warehouse
        self.window_s = window_s
        self.max_rows = max_rows
        self._open: dict[str, _Batch] = {}
        self._lock = threading.Lock()
        self.writes = 0  # streaming inserts made (what the batching saves)

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]], row_ids: Sequence[str]) -> None:
        with self._lock:
            batch = self._open.get(table)
            leader = batch is None
            if batch is None:
                batch = self._open[table] = _Batch()
            batch.rows += rows
            batch.row_ids += row_ids
            if len(batch.rows) >= self.max_rows:
                batch.full.set()
        if leader:
            batch.full.wait(self.window_s)
            with self._lock:
                if self._open.get(table) is batch:
                    del self._open[table]  # later callers start the next batch
            try:
                self.warehouse.insert_rows(table, batch.rows, batch.row_ids)
                self.writes += 1
            except BaseException as error:
                batch.error = error
                raise
            finally:
                batch.written.set()
        else:
            batch.written.wait()
            if batch.error is not None:
                raise RuntimeError(f"the batched insert into {table} failed") from batch.error
