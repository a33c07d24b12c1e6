"""In-memory fakes of the certificate and e-health ports (same semantics as the Firestore adapters and
the FHIR stand-in: a visit's certificate state changes in one step; writes are conditional on the
visit's identifier)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from shared.domain.dcc import key_id
from shared.domain.patients import PatientRecord
from shared.services.certificates import Certificate, VisitCertificates
from shared.services.ehealth import ImmunizationRecord, PlatformRejected, PlatformUnavailable


class FakePatients:
    def __init__(self, *records: PatientRecord) -> None:
        self.records = {r.patient_id: r for r in records}

    def patient(self, patient_id: str) -> PatientRecord | None:
        return self.records.get(patient_id)

    def patients(self, patient_ids: Iterable[str]) -> dict[str, PatientRecord]:
        return {i: self.records[i] for i in patient_ids if i in self.records}


class FakeSigner:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.signed = 0

    def kid(self) -> str:
        public = self.key.public_key()
        return key_id(public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))

    def public_key_pem(self) -> str:
        public = self.key.public_key()
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, data: bytes) -> bytes:
        self.signed += 1
        r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@dataclass
class FakeCertificateStore:
    visits: dict[str, VisitCertificates] = field(default_factory=dict)
    certificates: dict[str, Certificate] = field(default_factory=dict)

    def issue(
        self, visit_id: str, build: Callable[[VisitCertificates | None], Certificate | None]
    ) -> Certificate | None:
        state = self.visits.get(visit_id)
        certificate = build(state)
        if certificate is None:
            return None
        if state is not None and state.current_uvci:
            previous = self.certificates[state.current_uvci]
            self.certificates[previous.uvci] = replace(previous, revoked_at=certificate.issued_at)
        assert certificate.uvci not in self.certificates, "a UVCI is issued once"
        self.certificates[certificate.uvci] = certificate
        self.visits[visit_id] = VisitCertificates(
            visit_id, certificate.revision, certificate.uvci, certificate.fingerprint, None
        )
        return certificate

    def void(self, visit_id: str, voided_at: datetime) -> str | None:
        state = self.visits.get(visit_id) or VisitCertificates(visit_id)
        current = state.current_uvci
        if current:
            self.certificates[current] = replace(self.certificates[current], revoked_at=voided_at)
        self.visits[visit_id] = replace(state, current_uvci=None, voided_at=voided_at)
        return current

    def for_patient(self, patient_id: str) -> list[Certificate]:
        return [c for c in self.certificates.values() if c.patient_id == patient_id]

    def by_uvci(self, uvci: str) -> Certificate | None:
        return self.certificates.get(uvci)

    def revoked(self) -> list[str]:
        return [c.uvci for c in self.certificates.values() if c.revoked_at is not None]


@dataclass
class FakeFhirPlatform:
    """The platform as the stand-in behaves: conditional create and update on the identifier."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # by server id
    fail_next: int = 0
    reject_next: int = 0
    calls: int = 0

    def _attempt(self) -> None:
        self.calls += 1
        if self.fail_next:
            self.fail_next -= 1
            raise PlatformUnavailable("HTTP 503")
        if self.reject_next:
            self.reject_next -= 1
            raise PlatformRejected("HTTP 422")

    def matching(self, identifier: str) -> list[dict[str, Any]]:
        system, _, value = identifier.partition("|")
        return [r for r in self.records.values() if {"system": system, "value": value} in r["identifier"]]

    def create(self, resource: dict[str, Any], identifier: str) -> str:
        self._attempt()
        found = self.matching(identifier)
        if found:
            return str(found[0]["id"])
        record_id = str(uuid.uuid4())
        self.records[record_id] = {**copy.deepcopy(resource), "id": record_id}
        return record_id

    def update(self, resource: dict[str, Any], identifier: str) -> str:
        self._attempt()
        found = self.matching(identifier)
        record_id = str(found[0]["id"]) if found else str(uuid.uuid4())
        self.records[record_id] = {**copy.deepcopy(resource), "id": record_id}
        return record_id


@dataclass
class FakeImmunizationLog:
    records: dict[str, ImmunizationRecord] = field(default_factory=dict)

    def get(self, visit_id: str) -> ImmunizationRecord | None:
        return self.records.get(visit_id)

    def save(self, record: ImmunizationRecord) -> None:
        self.records[record.visit_id] = record

    def backlog(self) -> int:
        return sum(1 for r in self.records.values() if r.state == "pending")
