"""Group commit of reporting rows: concurrent deliveries share one streaming insert, and each waits
for it (an acked delivery is a written row)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.services.row_batcher import BatchingWarehouse
from tests.unit.fakes import FakeWarehouse


class FailingWarehouse:
    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]], row_ids: Sequence[str]) -> None:
        raise ConnectionError("BigQuery said no")


def deliver_together(batcher: BatchingWarehouse, callers: int) -> list[BaseException | None]:
    start = threading.Barrier(callers)

    def one(n: int) -> BaseException | None:
        start.wait()
        try:
            batcher.insert_rows("visit_events", [{"event_id": f"e{n}"}], [f"e{n}"])
        except Exception as error:
            return error
        return None

    with ThreadPoolExecutor(callers) as pool:
        return list(pool.map(one, range(callers)))


def test_concurrent_deliveries_share_a_streaming_insert_and_each_returns_once_written() -> None:
    warehouse = FakeWarehouse()
    batcher = BatchingWarehouse(warehouse, window_s=1.0, max_rows=500)
    assert deliver_together(batcher, 20) == [None] * 20
    assert sorted(i for i, _ in warehouse.rows["visit_events"]) == sorted(f"e{n}" for n in range(20))
    assert 1 <= batcher.writes < 20


def test_a_full_batch_is_written_without_waiting_for_the_window() -> None:
    warehouse = FakeWarehouse()
    batcher = BatchingWarehouse(warehouse, window_s=30.0, max_rows=4)
    started = time.monotonic()
    assert deliver_together(batcher, 4) == [None] * 4
    assert time.monotonic() - started < 10
    assert len(warehouse.rows["visit_events"]) == 4


def test_when_the_insert_fails_every_delivery_of_the_batch_fails_so_pubsub_redelivers() -> None:
    batcher = BatchingWarehouse(FailingWarehouse(), window_s=0.5)
    outcomes = deliver_together(batcher, 5)
    assert all(outcome is not None for outcome in outcomes)


def test_tables_are_batched_apart() -> None:
    warehouse = FakeWarehouse()
    batcher = BatchingWarehouse(warehouse, window_s=0.01)
    batcher.insert_rows("visit_events", [{"a": 1}], ["a"])
    batcher.insert_rows("schedule_events", [{"b": 2}], ["b"])
    assert [i for i, _ in warehouse.rows["visit_events"]] == ["a"]
    assert [i for i, _ in warehouse.rows["schedule_events"]] == ["b"]
    with pytest.raises(ConnectionError):
        BatchingWarehouse(FailingWarehouse(), window_s=0.01).insert_rows("visit_events", [{"a": 1}], ["a"])
