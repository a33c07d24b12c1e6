"""Cloud Spanner: the system of record."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from google.cloud import spanner
from google.cloud.spanner_v1.database import Database

T = TypeVar("T")


class SpannerDatabase:
    """A database handle that caps the read-write transactions this process has in flight.

    The emulator runs one read-write transaction at a time and aborts the others, which then back
    off for seconds; queueing them in the process instead keeps throughput up. In the cloud the cap
    is raised through configuration.
    """

    def __init__(self, database: Database, max_rw_transactions: int) -> None:
        self.database = database
        self._rw_slots = threading.BoundedSemaphore(max(1, max_rw_transactions))

    def run_in_transaction(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._rw_slots:
            result: T = self.database.run_in_transaction(work, *args, **kwargs)
            return result

    def snapshot(self, **kwargs: Any) -> Any:
        return self.database.snapshot(**kwargs)

    @contextmanager
    def batch(self) -> Iterator[Any]:
        """Blind writes (mutations only), committed when the block ends; counts as a read-write
        transaction in flight, since the emulator aborts concurrent ones just the same."""
        with self._rw_slots, self.database.batch() as batch:
            yield batch

    def ping(self, timeout_s: float) -> None:
        with self.database.snapshot() as snapshot:
            list(snapshot.execute_sql("SELECT 1", timeout=timeout_s))


def open_database(client: spanner.Client, instance_id: str, database_id: str) -> Database:
    database: Database = client.instance(instance_id).database(database_id)
    return database
