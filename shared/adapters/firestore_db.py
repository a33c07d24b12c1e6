"""Firestore: sessions, staff, programme configuration, SMS log."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from shared.adapters.firestore_create import DocumentCreator
from shared.adapters.firestore_indexes import CollectionIndexes
from shared.domain.identity import AssertionReplayed, Role, Session
from shared.domain.programme import Programme

PROGRAMME = "programme"
PROGRAMME_VERSIONS = "programme_versions"


class FirestoreDocuments:
    """The Firestore client and the few documents every function reads."""

    def __init__(self, client: firestore.Client) -> None:
        self.client = client

    def ping(self, timeout_s: float) -> None:
        self.client.collection("health").document("ping").get(timeout=timeout_s)

    def current_programme(self) -> Programme | None:
        snapshot = self.client.collection(PROGRAMME).document("current").get()
        return Programme.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def publish_programme(self, programme: Programme) -> None:
        """Write a new version; older versions stay for audit."""
        body: dict[str, Any] = programme.model_dump(mode="json")
        batch = self.client.batch()
        batch.set(self.client.collection(PROGRAMME_VERSIONS).document(str(programme.version)), body)
        batch.set(self.client.collection(PROGRAMME).document("current"), body)
        batch.commit()


SESSIONS = "sessions"
STAFF = "staff"


class SessionStore:
    """Sessions keyed by the hash of their token, and the one-time-use record of assertions.

    ``indexes``: where given (locally, where the emulator indexes nothing), every document written is
    checked against the index exemptions ``infra/firestore.yaml`` declares for the collection."""

    def __init__(self, client: firestore.Client, indexes: CollectionIndexes | None = None) -> None:
        self.client = client
        self.indexes = indexes
        self.creator = DocumentCreator(client)  # a patient's session: one commit on raw protobuf

    def _checked(self, document: dict[str, Any]) -> dict[str, Any]:
        if self.indexes is not None:
            self.indexes.check(document)
        return document

    def open(self, session: Session, staff_profile: dict[str, Any] | None = None) -> None:
        """Create the session; its id is the assertion's, so a replayed assertion opens nothing.

        One document write per patient login (staff logins also refresh their profile).
        """
        try:
            if staff_profile is None or not session.staff_id:
                self.creator.create(SESSIONS, session.session_id, self._checked(_session_document(session)))
                return
            batch = self.client.batch()
            document = self.client.collection(SESSIONS).document(session.session_id)
            batch.create(document, self._checked(_session_document(session)))
            batch.set(self.client.collection(STAFF).document(session.staff_id), staff_profile, merge=True)
            batch.commit()
        except (gexc.AlreadyExists, gexc.Conflict) as error:
            raise AssertionReplayed() from error

    def get(self, session_id: str) -> Session | None:
        snapshot = self.client.collection(SESSIONS).document(session_id).get()
        data = snapshot.to_dict() if snapshot.exists else None
        if not data:
            return None
        return Session(
            session_id=session_id,
            roles=frozenset(Role(r) for r in data["roles"]),
            created_at=data["created_at"],
            expires_at=data["expires_at"],
            last_seen_at=data["last_seen_at"],
            patient_id=data.get("patient_id"),
            staff_id=data.get("staff_id"),
            point_ids=frozenset(data.get("point_ids", [])),
            revoked=bool(data.get("revoked", False)),
            secret_hash=str(data.get("secret_hash", "")),
        )

    def touch(self, session_id: str, now: datetime) -> None:
        with contextlib.suppress(gexc.NotFound):  # gone since it was read: nothing to touch
            self.client.collection(SESSIONS).document(session_id).update(self._checked({"last_seen_at": now}))

    def revoke(self, session_id: str, now: datetime) -> None:
        with contextlib.suppress(gexc.NotFound):
            self.client.collection(SESSIONS).document(session_id).update(
                self._checked({"revoked": True, "revoked_at": now})
            )


def _session_document(session: Session) -> dict[str, Any]:
    return {
        "roles": sorted(session.roles),
        "created_at": session.created_at,
        "expires_at": session.expires_at,
        "last_seen_at": session.last_seen_at,
        "patient_id": session.patient_id,
        "staff_id": session.staff_id,
        "point_ids": sorted(session.point_ids),
        "revoked": session.revoked,
        "secret_hash": session.secret_hash,
        # Firestore TTL policy field (infra/): the document goes once neither session nor assertion lives.
        "retain_until": session.retain_until or session.expires_at,
    }


SESSION_GUARD = "session_guard"


class FirestoreStaffProfiles:
    """Staff profiles, and the durable record that a session guard outside Firestore was ever used."""

    def __init__(self, client: firestore.Client) -> None:
        self.client = client

    def save(self, staff_id: str, profile: dict[str, Any]) -> None:
        self.client.collection(STAFF).document(staff_id).set(profile, merge=True)

    def guard_used_before(self, guard: str = "redis") -> bool:
        """Whether the guard named was used before; records that it is used now."""
        try:
            self.client.collection(SESSION_GUARD).document(guard).create({"since": firestore.SERVER_TIMESTAMP})
        except (gexc.AlreadyExists, gexc.Conflict):
            return True
        return False


AUDIT_LOG = "audit_log"


class AuditLog:
    """Every action staff take for a patient, for the operator's audit (no PESEL, no phone)."""

    def __init__(self, client: firestore.Client) -> None:
        self.client = client

    def record(self, staff_id: str, action: str, at: datetime, entry_id: str | None = None, **details: Any) -> None:
        """Append an entry (create only: functions may not change one). ``entry_id`` makes a retry a no-op."""
        entry = {"staff_id": staff_id, "action": action, "at": at, **details}
        if entry_id is None:
            self.client.collection(AUDIT_LOG).add(entry)
            return
        with contextlib.suppress(gexc.AlreadyExists, gexc.Conflict):
            self.client.collection(AUDIT_LOG).document(entry_id).create(entry)

    def entries_for(self, staff_id: str) -> list[dict[str, Any]]:
        query = self.client.collection(AUDIT_LOG).where(filter=firestore.FieldFilter("staff_id", "==", staff_id))
        return [snapshot.to_dict() or {} for snapshot in query.stream()]


SMS_LOG = "sms_log"
FINAL_SMS_STATES = frozenset({"SENT", "DELIVERED", "FAILED", "REJECTED"})


class FirestoreSmsLog:
    """The SMS log port (``shared.services.sms.SmsLog``): one document per SMS request.

    States: SENDING (claimed, with a lease), RETRYING, SENT, DELIVERED, FAILED, REJECTED.
    """

    def __init__(self, client: firestore.Client) -> None:
        self.client = client

    def claim(self, request_id: str, details: dict[str, Any], now: datetime, lease_s: float = 60) -> str:
        """'send' if this delivery should send now, 'done' if it was handled, 'busy' if another is at it."""
        reference = self.client.collection(SMS_LOG).document(request_id)

        @firestore.transactional  # type: ignore[untyped-decorator]
        def claim_in(transaction: firestore.Transaction) -> str:
            snapshot = reference.get(transaction=transaction)
            current = snapshot.to_dict() if snapshot.exists else None
            if current and current.get("status") in FINAL_SMS_STATES:
                return "done"
            if current and current.get("status") == "SENDING" and current["lease_until"] > now:
                return "busy"
            attempts = int(current.get("attempts", 0)) + 1 if current else 1
            fields = {
                **details,
                "status": "SENDING",
                "attempts": attempts,
                "lease_until": now + timedelta(seconds=lease_s),
                "updated_at": now,
            }
            if current is None:
                fields["created_at"] = now
            transaction.set(reference, fields, merge=True)
            return "send"

        return str(claim_in(self.client.transaction()))

    def mark(self, request_id: str, status: str, now: datetime, **fields: Any) -> None:
        self.client.collection(SMS_LOG).document(request_id).set(
            {"status": status, "updated_at": now, **fields}, merge=True
        )

    def get(self, request_id: str) -> dict[str, Any] | None:
        snapshot = self.client.collection(SMS_LOG).document(request_id).get()
        return snapshot.to_dict() if snapshot.exists else None

    def delivery_report(self, request_id: str, delivered: bool, now: datetime) -> bool:
        """Record the operator's delivery report; False if the message is unknown."""
        reference = self.client.collection(SMS_LOG).document(request_id)
        try:
            reference.update({"status": "DELIVERED" if delivered else "FAILED", "reported_at": now, "updated_at": now})
        except gexc.NotFound:
            return False
        return True
