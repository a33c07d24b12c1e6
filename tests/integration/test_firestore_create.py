"""``DocumentCreator``: one document created on raw protobuf, against the Firestore emulator; the
document must read back as the library's ``create`` writes it, and an existing one must be refused
the same way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.api_core import exceptions as gexc

from shared.adapters.firestore_create import DocumentCreator
from shared.bootstrap import Container

WHEN = datetime(2026, 12, 8, 5, 30, 12, 345678, tzinfo=UTC)
DOCUMENT: dict[str, Any] = {
    "roles": ["patient"], "created_at": WHEN, "expires_at": WHEN + timedelta(hours=2), "patient_id": "p-1",
    "staff_id": None, "point_ids": [], "revoked": False, "count": 3, "profile": {"given_name": "Zażółć", "tags": ["a"]},
}  # fmt: skip


def test_a_created_document_reads_back_as_the_library_s_create_writes_it(backends: Container) -> None:
    client = backends.firestore_sessions
    ours, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    DocumentCreator(client).create("creator_test", ours, DOCUMENT)
    client.collection("creator_test").document(theirs).create(DOCUMENT)

    read = client.collection("creator_test").document(ours).get().to_dict()
    assert read == client.collection("creator_test").document(theirs).get().to_dict()
    assert read == DOCUMENT


def test_an_existing_document_is_refused_as_by_create(backends: Container) -> None:
    client = backends.firestore_sessions
    document_id = str(uuid.uuid4())
    creator = DocumentCreator(client)
    creator.create("creator_test", document_id, {"n": 1})
    with pytest.raises(gexc.AlreadyExists):
        creator.create("creator_test", document_id, {"n": 2})
    assert client.collection("creator_test").document(document_id).get().to_dict() == {"n": 1}
    with pytest.raises(ValueError):
        creator.create("creator_test", str(uuid.uuid4()), {"at": datetime(2026, 1, 1)})


class Failed(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return str(self._code.name)

    def initial_metadata(self) -> None:
        return None

    def trailing_metadata(self) -> None:
        return None

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Any) -> bool:
        return False


def test_unavailable_is_tried_again_and_then_given_up_as_the_library_s_error(backends: Container) -> None:
    client = backends.firestore_sessions
    creator = DocumentCreator(client, pause_s=0)
    commit = creator._call()
    failures = [grpc.StatusCode.UNAVAILABLE]

    def flaky(request: Any, **kwargs: Any) -> Any:
        if failures:
            raise Failed(failures.pop())
        return commit(request, **kwargs)

    creator._commit = flaky
    document_id = str(uuid.uuid4())
    creator.create("creator_test", document_id, {"n": 1})
    assert client.collection("creator_test").document(document_id).get().to_dict() == {"n": 1}

    failures[:] = [grpc.StatusCode.UNAVAILABLE] * 3
    with pytest.raises(gexc.ServiceUnavailable):
        creator.create("creator_test", str(uuid.uuid4()), {"n": 2})
    failures[:] = [grpc.StatusCode.PERMISSION_DENIED]
    with pytest.raises(gexc.PermissionDenied):
        creator.create("creator_test", str(uuid.uuid4()), {"n": 3})
    assert failures == []
