"""Firestore: programme versions (each kept), the current pointer, and the audit of every change."""

from __future__ import annotations

from typing import Any

from google.cloud import firestore

from shared.adapters.firestore_db import PROGRAMME, PROGRAMME_VERSIONS, AuditLog
from shared.domain.programme import Programme
from shared.services.programme_admin import ProgrammeChange


class FirestoreProgrammeVersions:
    def __init__(self, client: firestore.Client, audit: AuditLog) -> None:
        self.client = client
        # Another database (create-only for functions): written after the change commits. The
        # versions, each created once with who changed it and when, are the record if that write fails.
        self.audit = audit

    def current(self) -> Programme | None:
        snapshot = self.client.collection(PROGRAMME).document("current").get()
        return _programme(snapshot.to_dict()) if snapshot.exists else None

    def version(self, number: int) -> Programme | None:
        snapshot = self.client.collection(PROGRAMME_VERSIONS).document(str(number)).get()
        return _programme(snapshot.to_dict()) if snapshot.exists else None

    def save(self, programme: Programme, change: ProgrammeChange) -> bool:
        current_ref = self.client.collection(PROGRAMME).document("current")
        version_ref = self.client.collection(PROGRAMME_VERSIONS).document(str(programme.version))
        body: dict[str, Any] = programme.model_dump(mode="json")
        meta = {"changed_by": change.changed_by, "changed_at": change.changed_at, "based_on": change.based_on}

        @firestore.transactional  # type: ignore[untyped-decorator]
        def save_in(transaction: firestore.Transaction) -> bool:
            snapshot = current_ref.get(transaction=transaction)
            data = snapshot.to_dict() if snapshot.exists else None
            if int((data or {}).get("version", 0)) != change.based_on:
                return False
            transaction.create(version_ref, {**body, **meta})
            transaction.set(current_ref, {**body, **meta})
            return True

        if not save_in(self.client.transaction()):
            return False
        self.audit.record(
            change.changed_by, "programme.replace", change.changed_at, entry_id=f"programme-v{programme.version}",
            version=change.version, based_on=change.based_on, diff=change.diff,
        )  # fmt: skip
        return True


def _programme(data: dict[str, Any] | None) -> Programme | None:
    if not data:
        return None
    return Programme.model_validate(
        {k: v for k, v in data.items() if k not in ("changed_by", "changed_at", "based_on")}
    )
