"""Idempotency records: a request repeated with its Idempotency-Key gets the answer the first one got.

The record is written in the transaction of the change itself, so a change and its record commit
together; a key reused for another request (another fingerprint) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.domain.refusals import RefusalKind, Refused


@dataclass(frozen=True)
class StoredResult:
    """What an idempotency record keeps: the request's fingerprint and the result it got."""

    request_hash: str
    body: str


class IdempotencyRecords(Protocol):
    def stored_result(self, scope: str, key: str) -> StoredResult | None: ...

    def store_result(self, scope: str, key: str, result: StoredResult) -> None: ...


def replayed_body(records: IdempotencyRecords, scope: str, key: str | None, request_hash: str) -> str | None:
    """The stored result of an earlier request with this key, if any (None without a key)."""
    if not key:
        return None
    stored = records.stored_result(scope, key)
    if stored is None:
        return None
    if stored.request_hash != request_hash:
        raise Refused(
            RefusalKind.CONFLICT, "idempotency_key_reused", "Ten klucz Idempotency-Key użyto już dla innego żądania"
        )
    return stored.body


def remember(records: IdempotencyRecords, scope: str, key: str | None, request_hash: str, body: str) -> None:
    """Keep the result for repeats of this request (nothing without a key)."""
    if key:
        records.store_result(scope, key, StoredResult(request_hash, body))
