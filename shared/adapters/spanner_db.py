"""Cloud Spanner: the system of record."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import google.auth.credentials
import grpc
from google.cloud import spanner
from google.cloud.spanner_v1.database import SPANNER_DATA_SCOPE, Database
from google.cloud.spanner_v1.services.spanner import SpannerClient
from google.cloud.spanner_v1.services.spanner.transports.grpc import SpannerGrpcTransport

T = TypeVar("T")


class SpannerDatabase:
    """A database handle that caps the read-write transactions this process has in flight.

    The emulator runs one read-write transaction at a time and aborts the others, which then back
    off for seconds; queueing them in the process instead keeps throughput up. In the cloud the cap
    is raised through configuration. Where several processes share one emulator (the local host's
    workers), ``lock_file`` queues them across processes too.
    """

    def __init__(self, database: Database, max_rw_transactions: int, lock_file: str | None = None) -> None:
        self.database = database
        self._rw_slots = threading.BoundedSemaphore(max(1, max_rw_transactions))
        self._lock_file = lock_file

    @contextmanager
    def _read_write_turn(self) -> Iterator[None]:
        with self._rw_slots:
            if self._lock_file is None:
                yield
                return
            with open(self._lock_file, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def run_in_transaction(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._read_write_turn():
            result: T = self.database.run_in_transaction(work, *args, **kwargs)
            return result

    def snapshot(self, **kwargs: Any) -> Any:
        return self.database.snapshot(**kwargs)

    @contextmanager
    def batch(self) -> Iterator[Any]:
        """Blind writes (mutations only), committed when the block ends; counts as a read-write
        transaction in flight, since the emulator aborts concurrent ones just the same."""
        with self._read_write_turn(), self.database.batch() as batch:
            yield batch

    def ping(self, timeout_s: float) -> None:
        with self.database.snapshot() as snapshot:
            list(snapshot.execute_sql("SELECT 1", timeout=timeout_s))


# gRPC's Python channel starts a thread for each server-streaming call (every Spanner read and query
# streams) unless told to read the stream on the calling thread: that thread was a third of a short
# read's client CPU (bench.login_cpu). Every read here is consumed on the thread that made it.
SINGLE_THREADED_STREAMS = (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)


def open_database(client: spanner.Client, instance_id: str, database_id: str) -> Database:
    database: Database = client.instance(instance_id).database(database_id)
    database._spanner_api = _spanner_api(client, database)  # the client offers no channel options
    return database


def _spanner_api(client: spanner.Client, database: Database) -> SpannerClient:
    emulator = database._instance.emulator_host
    if emulator is not None:  # as the library makes it for the emulator, with the option
        channel = grpc.insecure_channel(emulator, options=[SINGLE_THREADED_STREAMS])
        return SpannerClient(client_info=client._client_info, transport=SpannerGrpcTransport(channel=channel))

    def channel_with_option(host: str, **kwargs: Any) -> grpc.Channel:
        kwargs["options"] = [*(kwargs.get("options") or []), SINGLE_THREADED_STREAMS]
        made: grpc.Channel = SpannerGrpcTransport.create_channel(host, **kwargs)
        return made

    credentials = client.credentials
    if isinstance(credentials, google.auth.credentials.Scoped):
        credentials = credentials.with_scopes((SPANNER_DATA_SCOPE,))
    transport = SpannerGrpcTransport(
        credentials=credentials, client_info=client._client_info, channel=channel_with_option
    )
    return SpannerClient(transport=transport, client_options=client._client_options)
