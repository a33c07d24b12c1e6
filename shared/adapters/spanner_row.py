"""One Spanner row by key, read on the raw protobuf messages: login's one read.

The library's snapshot read wraps every request and every streamed message in proto-plus, and every
call in its retry, tracing and request-id wrappers: measured in process against the emulator, a
read of one row through a single-use snapshot cost 1.0-1.1 ms of CPU, the same read here 0.3-0.4 ms
(docs/decisions.md, issue 25: login in three round trips). This reader sends the same
``StreamingRead`` over the library's own channel (its credentials, its endpoint) in a single-use
strong read-only transaction, on a multiplexed session of its own, and decodes the few column
types it is given; anything else (a chunked value, another type) is read again through the
library, so no answer depends on this shortcut. gRPC errors become the library's exceptions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import grpc
from google.api_core import datetime_helpers
from google.api_core import exceptions as gexc
from google.cloud.spanner_v1 import types as spanner_types
from google.cloud.spanner_v1.database import Database
from google.cloud.spanner_v1.keyset import KeySet

_READ_REQUEST: Any = spanner_types.ReadRequest.pb()
_RESULTS: Any = spanner_types.PartialResultSet.pb()
_CREATE_SESSION: Any = spanner_types.CreateSessionRequest.pb()
_SESSION: Any = spanner_types.Session.pb()

_STRING, _BOOL, _INT64, _DATE, _TIMESTAMP = (
    spanner_types.TypeCode.STRING, spanner_types.TypeCode.BOOL, spanner_types.TypeCode.INT64,
    spanner_types.TypeCode.DATE, spanner_types.TypeCode.TIMESTAMP,
)  # fmt: skip
_DECODERS: dict[int, Callable[[Any], Any]] = {
    _STRING: lambda value: value.string_value,
    _BOOL: lambda value: value.bool_value,
    _INT64: lambda value: int(value.string_value),
    _DATE: lambda value: date.fromisoformat(value.string_value),
    _TIMESTAMP: lambda value: datetime_helpers.DatetimeWithNanoseconds.from_rfc3339(value.string_value),
}


class NotDecoded(Exception):
    """The answer holds what this reader does not decode: read it through the library."""


def decode_row(fields: Sequence[Any], values: Sequence[Any]) -> list[Any]:
    """A row of protobuf ``Value``s as the library gives it (None for NULL)."""
    row: list[Any] = []
    for field, value in zip(fields, values, strict=True):
        if value.WhichOneof("kind") == "null_value":
            row.append(None)
            continue
        decoder = _DECODERS.get(field.type_.code)  # proto-plus names the field type_
        if decoder is None:
            raise NotDecoded(field.name)
        row.append(decoder(value))
    return row


class RowReader:
    """Reads at most one row by its key, through a table's primary key or an index."""

    def __init__(self, database: Database, timeout_s: float = 10.0) -> None:
        self.database = database
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._session: str | None = None
        self._metadata = (("google-cloud-resource-prefix", database.name),)
        self._read: Any = None
        self._create_session: Any = None

    def _calls(self) -> tuple[Any, Any]:
        if self._read is None:
            channel: grpc.Channel = self.database.spanner_api.transport.grpc_channel
            self._create_session = channel.unary_unary(
                "/google.spanner.v1.Spanner/CreateSession",
                request_serializer=_CREATE_SESSION.SerializeToString,
                response_deserializer=_SESSION.FromString,
            )
            self._read = channel.unary_stream(
                "/google.spanner.v1.Spanner/StreamingRead",
                request_serializer=_READ_REQUEST.SerializeToString,
                response_deserializer=_RESULTS.FromString,
            )
        return self._read, self._create_session

    def _session_name(self, stale: str | None = None) -> str:
        with self._lock:
            if self._session is None or self._session == stale:
                _, create = self._calls()
                request = _CREATE_SESSION(database=self.database.name)
                request.session.multiplexed = True
                self._session = str(create(request, metadata=self._metadata, timeout=self.timeout_s).name)
            return self._session

    def read_one(self, table: str, columns: Sequence[str], key: Sequence[str], index: str = "") -> list[Any] | None:
        """The row whose key (index key where ``index`` names one) is ``key``, or None."""
        try:
            return self._read_raw(table, columns, key, index)
        except NotDecoded:
            with self.database.snapshot() as snapshot:
                rows = list(snapshot.read(table, columns, KeySet(keys=[list(key)]), index=index, limit=1))
            return list(rows[0]) if rows else None

    def _read_raw(self, table: str, columns: Sequence[str], key: Sequence[str], index: str) -> list[Any] | None:
        session = self._session_name()
        for attempt in range(3):
            try:
                return self._stream(session, table, columns, key, index)
            except grpc.RpcError as error:
                code = error.code() if isinstance(error, grpc.Call) else None
                if attempt < 2 and code == grpc.StatusCode.NOT_FOUND and "Session" in str(error.details()):
                    session = self._session_name(stale=session)  # the session expired or was deleted
                    continue
                if attempt < 2 and code == grpc.StatusCode.UNAVAILABLE:
                    continue  # as the library's read does: a read changes nothing, so it may be sent again
                raise gexc.from_grpc_error(error) from error
        raise AssertionError("unreachable")

    def _stream(
        self, session: str, table: str, columns: Sequence[str], key: Sequence[str], index: str
    ) -> list[Any] | None:
        read, _ = self._calls()
        request = _READ_REQUEST(session=session, table=table, index=index, columns=list(columns), limit=1)
        request.transaction.single_use.read_only.strong = True
        values = request.key_set.keys.add().values
        for part in key:
            values.add().string_value = part
        fields: Sequence[Any] = ()
        got: list[Any] = []
        for results in read(request, metadata=self._metadata, timeout=self.timeout_s):
            if results.HasField("metadata"):
                fields = results.metadata.row_type.fields
            if results.chunked_value:
                raise NotDecoded("chunked value")
            got.extend(results.values)
        if not got:
            return None
        return decode_row(fields, got[: len(fields)])
