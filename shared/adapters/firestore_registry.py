"""Who works where, in Firestore: one document per person (what the auth guard reads, one get), one
per grant (what a point's staff list queries), and an append-only audit, written together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from shared.domain.identity import POINT_ROLES, Role, StaffGrants
from shared.domain.registry import StaffGrant
from shared.services.identity import RegistryUnavailable

STAFF_GRANTS = "staff_grants"  # {staff_id}: {points: {point_id: role}, coordinator_of}
POINT_STAFF = "point_staff"  # {point_id}~{staff_id}: one grant
REGISTRY_AUDIT = "registry_audit"  # created, never updated


class FirestoreStaffStore:
    """``shared.services.registry.StaffStore`` and ``shared.services.identity.StaffRegistry``."""

    def __init__(self, client: firestore.Client, timeout_s: float = 2.0) -> None:
        self.client = client
        self.timeout_s = timeout_s

    def grants_of(self, staff_id: str) -> StaffGrants:
        try:
            snapshot = self.client.collection(STAFF_GRANTS).document(staff_id).get(timeout=self.timeout_s)
        except gexc.GoogleAPICallError as error:
            raise RegistryUnavailable(type(error).__name__) from error
        data = snapshot.to_dict() if snapshot.exists else None
        if not data:
            return StaffGrants()
        points = {str(p): Role(r) for p, r in (data.get("points") or {}).items() if r in POINT_ROLES}
        return StaffGrants(points, data.get("coordinator_of") or None)

    def _audit(self, batch: Any, by: str, action: str, now: datetime, **details: Any) -> None:
        batch.create(self.client.collection(REGISTRY_AUDIT).document(),
                     {"staff_id": by, "action": action, "at": now, **details})  # fmt: skip

    def grant(self, grant: StaffGrant, voivodeship: str, by: str, now: datetime) -> None:
        batch = self.client.batch()
        batch.set(
            self.client.collection(POINT_STAFF).document(f"{grant.point_id}~{grant.staff_ref}"),
            {"point_id": grant.point_id, "staff_ref": grant.staff_ref, "role": str(grant.role),
             "given_name": grant.given_name, "family_name": grant.family_name, "granted_at": now, "granted_by": by,
             "voivodeship": voivodeship},
        )  # fmt: skip
        batch.set(
            self.client.collection(STAFF_GRANTS).document(grant.staff_ref),
            {"points": {grant.point_id: str(grant.role)}},
            merge=True,
        )
        self._audit(batch, by, "grant", now, point_id=grant.point_id, staff_ref=grant.staff_ref, role=str(grant.role))
        batch.commit()

    def revoke(self, point_id: str, staff_ref: str, by: str, now: datetime) -> bool:
        document = self.client.collection(POINT_STAFF).document(f"{point_id}~{staff_ref}")
        if not document.get().exists:
            return False
        batch = self.client.batch()
        batch.delete(document)
        batch.set(
            self.client.collection(STAFF_GRANTS).document(staff_ref),
            {"points": {point_id: firestore.DELETE_FIELD}},
            merge=True,
        )
        self._audit(batch, by, "revoke", now, point_id=point_id, staff_ref=staff_ref)
        batch.commit()
        return True

    def staff_of(self, point_id: str) -> list[StaffGrant]:
        query = self.client.collection(POINT_STAFF).where(filter=firestore.FieldFilter("point_id", "==", point_id))
        grants = []
        for snapshot in query.stream():
            d = snapshot.to_dict() or {}
            grants.append(StaffGrant(point_id, d["staff_ref"], Role(d["role"]), d.get("given_name"),
                                     d.get("family_name"), d.get("granted_at")))  # fmt: skip
        return grants

    def make_coordinator(self, staff_id: str, voivodeship: str, by: str, now: datetime) -> None:
        batch = self.client.batch()
        batch.set(self.client.collection(STAFF_GRANTS).document(staff_id), {"coordinator_of": voivodeship}, merge=True)
        self._audit(batch, by, "coordinator", now, staff_ref=staff_id, voivodeship=voivodeship)
        batch.commit()

    def end_coordinator(self, staff_id: str, by: str, now: datetime) -> bool:
        document = self.client.collection(STAFF_GRANTS).document(staff_id)
        snapshot = document.get()
        voivodeship = (snapshot.to_dict() or {}).get("coordinator_of") if snapshot.exists else None
        if not voivodeship:
            return False
        batch = self.client.batch()
        batch.update(document, {"coordinator_of": firestore.DELETE_FIELD})
        self._audit(batch, by, "end_coordinator", now, staff_ref=staff_id, voivodeship=voivodeship)
        batch.commit()
        return True

    def audit_entries(self, **where: str) -> list[dict[str, Any]]:
        query: Any = self.client.collection(REGISTRY_AUDIT)
        for name, value in where.items():
            query = query.where(filter=firestore.FieldFilter(name, "==", value))
        return [snapshot.to_dict() or {} for snapshot in query.stream()]
