"""Create one Firestore document in one commit, on the raw protobuf messages: login's session write.

``DocumentReference.create`` builds a write batch, converts the document through proto-plus and
calls the commit through the library's retry and timeout wrappers: measured in process against the
emulator, 0.7-0.9 ms of CPU a session, this 0.4-0.55 ms (docs/decisions.md, issue 25: login in three
round trips). It sends the same ``Commit`` (one write, precondition: the document does not exist)
over the client's own channel with the client's own request metadata (the database's routing
header, and the emulator's owner token locally), and retries as the library does (unavailable or
exhausted: again after a short pause, here twice). gRPC errors become the library's exceptions, so
the callers see ``AlreadyExists`` for a document that exists, as from ``create``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import grpc
from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1 import types as firestore_types

_COMMIT: Any = firestore_types.CommitRequest.pb()
_COMMITTED: Any = firestore_types.CommitResponse.pb()
_RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)


def encode_value(target: Any, value: Any) -> None:
    """Set the protobuf ``Value`` ``target`` to ``value`` (the types a session document holds)."""
    if value is None:
        target.null_value = 0
    elif isinstance(value, bool):
        target.boolean_value = value
    elif isinstance(value, int):
        target.integer_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime has no instant")
        target.timestamp_value.FromDatetime(value)
    elif isinstance(value, list | tuple):
        values = target.array_value.values
        target.array_value.SetInParent()  # an empty list is an empty array, not a missing value
        for item in value:
            encode_value(values.add(), item)
    elif isinstance(value, Mapping):
        target.map_value.SetInParent()
        fields = target.map_value.fields
        for key, item in value.items():
            encode_value(fields[key], item)
    else:
        raise TypeError(f"no Firestore value for {type(value).__name__}")


class DocumentCreator:
    def __init__(self, client: firestore.Client, timeout_s: float = 10.0, pause_s: float = 0.1) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.pause_s = pause_s
        self._commit: Any = None

    def _call(self) -> Any:
        if self._commit is None:
            channel: grpc.Channel = self.client._firestore_api.transport.grpc_channel
            self._commit = channel.unary_unary(
                "/google.firestore.v1.Firestore/Commit",
                request_serializer=_COMMIT.SerializeToString,
                response_deserializer=_COMMITTED.FromString,
            )
        return self._commit

    def create(self, collection: str, document_id: str, document: Mapping[str, Any]) -> None:
        """Write ``document`` unless ``collection/document_id`` exists (``AlreadyExists`` then)."""
        database = self.client._database_string
        request = _COMMIT(database=database)
        write = request.writes.add()
        write.update.name = f"{database}/documents/{collection}/{document_id}"
        fields = write.update.fields
        for name, value in document.items():
            encode_value(fields[name], value)
        write.current_document.exists = False
        commit, metadata = self._call(), self.client._rpc_metadata
        for attempt in range(3):
            try:
                commit(request, metadata=metadata, timeout=self.timeout_s)
                return
            except grpc.RpcError as error:
                code = error.code() if isinstance(error, grpc.Call) else None
                if attempt < 2 and code in _RETRIED:
                    time.sleep(self.pause_s * (attempt + 1))
                    continue
                raise gexc.from_grpc_error(error) from error
