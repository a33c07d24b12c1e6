"""Certificates and e-health records in Firestore.

- ``dcc_visits/{visit_id}``: the visit's certificate state (revision, current UVCI, fingerprint, void);
  the transaction that issues reads and writes it, so two deliveries of one event issue once.
- ``dcc_certificates/{uvci}``: each certificate ever issued (a patient's list is a query on
  ``patient_id``; revoked ones keep ``revoked_at``, and the revocation list is a query on it).
- ``ehealth_records/{visit_id}``: the FHIR Immunization sent (or pending) for the visit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.services.certificates import Certificate, VisitCertificates
from shared.services.ehealth import ImmunizationRecord

VISITS = "dcc_visits"
CERTIFICATES = "dcc_certificates"
RECORDS = "ehealth_records"


def _certificate(data: dict[str, Any]) -> Certificate:
    return Certificate(
        uvci=data["uvci"],
        visit_id=data["visit_id"],
        patient_id=data["patient_id"],
        dose=int(data["dose"]),
        issued_at=data["issued_at"],
        hc1=data["hc1"],
        fingerprint=data["fingerprint"],
        revision=int(data["revision"]),
        revoked_at=data.get("revoked_at"),
    )


class FirestoreCertificates:
    """The certificate store port (``shared.services.certificates.CertificateStore``)."""

    def __init__(self, client: firestore.Client) -> None:
        self.client = client

    def issue(
        self, visit_id: str, build: Callable[[VisitCertificates | None], Certificate | None]
    ) -> Certificate | None:
        visit_ref = self.client.collection(VISITS).document(visit_id)

        @firestore.transactional  # type: ignore[untyped-decorator]
        def issue_in(transaction: firestore.Transaction) -> Certificate | None:
            snapshot = visit_ref.get(transaction=transaction)
            data = snapshot.to_dict() if snapshot.exists else None
            state = VisitCertificates(visit_id, **data) if data else None
            certificate = build(state)
            if certificate is None:
                return None
            if state is not None and state.current_uvci:
                previous = self.client.collection(CERTIFICATES).document(state.current_uvci)
                transaction.update(previous, {"revoked_at": certificate.issued_at})
            transaction.create(
                self.client.collection(CERTIFICATES).document(certificate.uvci),
                {**vars(certificate), "revoked_at": None},
            )
            transaction.set(
                visit_ref,
                {
                    "revision": certificate.revision,
                    "current_uvci": certificate.uvci,
                    "fingerprint": certificate.fingerprint,
                    "voided_at": None,
                },
            )
            return certificate

        result: Certificate | None = issue_in(self.client.transaction())
        return result

    def void(self, visit_id: str, voided_at: datetime) -> str | None:
        visit_ref = self.client.collection(VISITS).document(visit_id)

        @firestore.transactional  # type: ignore[untyped-decorator]
        def void_in(transaction: firestore.Transaction) -> str | None:
            snapshot = visit_ref.get(transaction=transaction)
            data: dict[str, Any] = (snapshot.to_dict() or {}) if snapshot.exists else {}
            current = data.get("current_uvci")
            if current:
                transaction.update(self.client.collection(CERTIFICATES).document(current), {"revoked_at": voided_at})
            transaction.set(visit_ref, {**data, "current_uvci": None, "voided_at": voided_at})
            return str(current) if current else None

        result: str | None = void_in(self.client.transaction())
        return result

    def for_patient(self, patient_id: str) -> list[Certificate]:
        query = self.client.collection(CERTIFICATES).where(filter=FieldFilter("patient_id", "==", patient_id))
        return [_certificate(doc.to_dict() or {}) for doc in query.stream()]

    def by_uvci(self, uvci: str) -> Certificate | None:
        snapshot = self.client.collection(CERTIFICATES).document(uvci).get()
        return _certificate(snapshot.to_dict() or {}) if snapshot.exists else None

    def revoked(self) -> list[str]:
        query = self.client.collection(CERTIFICATES).where(filter=FieldFilter("revoked_at", "!=", None))
        return [str(doc.id) for doc in query.stream()]


class FirestoreImmunizationLog:
    """The e-health record log port (``shared.services.ehealth.ImmunizationLog``)."""

    def __init__(self, client: firestore.Client, count_timeout_s: float = 2.0) -> None:
        self.client = client
        self.count_timeout_s = count_timeout_s  # the health probe counts the backlog: never for long

    def get(self, visit_id: str) -> ImmunizationRecord | None:
        snapshot = self.client.collection(RECORDS).document(visit_id).get()
        return ImmunizationRecord(**(snapshot.to_dict() or {})) if snapshot.exists else None

    def save(self, record: ImmunizationRecord) -> None:
        self.client.collection(RECORDS).document(record.visit_id).set(vars(record))

    def backlog(self) -> int:
        query: Any = self.client.collection(RECORDS).where(filter=FieldFilter("state", "==", "pending")).count()
        results = query.get(retry=None, timeout=self.count_timeout_s)
        return int(results[0][0].value)
