"""visit-events -> EU Digital COVID Certificates: one per recorded dose, withdrawn when it is voided.

Pub/Sub delivers at least once and in any order. The store decides inside one transaction per visit
(``CertificateStore.issue``): a redelivered VisitCompleted finds a certificate stating the same facts
and issues nothing; one stating other facts (a corrected name, say) gets a new certificate, with a
new UVCI, and the old one is revoked; a voided vaccination is never certified again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from shared.domain import dcc
from shared.domain.events import VisitEvent, vaccination_event
from shared.domain.messages import PoisonMessage
from shared.domain.programme import Programme
from shared.services.ports import PatientReader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Certificate:
    uvci: str
    visit_id: str
    patient_id: str
    dose: int
    issued_at: datetime
    hc1: str
    fingerprint: str
    revision: int
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class VisitCertificates:
    """What the store keeps per visit: the current certificate's revision and facts, and a void."""

    visit_id: str
    revision: int = 0
    current_uvci: str | None = None
    fingerprint: str | None = None
    voided_at: datetime | None = None


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    alg: str
    public_key_pem: str


class DccSigner(Protocol):
    """The document signer: a P-256 key (locally a file, in the cloud Cloud KMS)."""

    def kid(self) -> str: ...

    def public_key_pem(self) -> str: ...

    def sign(self, data: bytes) -> bytes:
        """ES256 over ``data``: the raw 64-byte r||s COSE wants."""
        ...


class DocumentRenderer(Protocol):
    def qr_png(self, hc1: str) -> bytes: ...

    def pdf(self, certificate: Certificate, holder: str, birth_date: date) -> bytes: ...


class CertificateStore(Protocol):
    def issue(
        self, visit_id: str, build: Callable[[VisitCertificates | None], Certificate | None]
    ) -> Certificate | None:
        """In one transaction: read the visit's state, call ``build``; if it returns a certificate,
        store it as the visit's current one and revoke the previous. Returns what was stored."""
        ...

    def void(self, visit_id: str, voided_at: datetime) -> str | None:
        """Mark the visit voided and revoke its current certificate; returns the UVCI revoked, if any."""
        ...

    def for_patient(self, patient_id: str) -> list[Certificate]: ...

    def by_uvci(self, uvci: str) -> Certificate | None: ...

    def revoked(self) -> list[str]: ...


class CertificateNotFound(LookupError):
    """No certificate of this patient has this UVCI (whether or not another patient's has)."""


class CertificateIssuer:
    def __init__(
        self,
        patients: PatientReader,
        store: CertificateStore,
        signer: DccSigner,
        programme: Callable[[], Programme | None],
        clock: Callable[[], datetime],
        documents: DocumentRenderer | None = None,
    ) -> None:
        self.patients = patients
        self.store = store
        self.signer = signer
        self.documents = documents
        self.programme = programme
        self.clock = clock

    def handle(self, payload: Any) -> Certificate | str | None:
        """A certificate issued, a UVCI revoked, or None (nothing to do for this event)."""
        event = vaccination_event(payload)
        if isinstance(event, VisitEvent):
            return self.issue(event)
        if event is not None:
            revoked = self.store.void(event.visit_id, event.voided_at)
            if revoked:
                log.info("certificate revoked", extra={"fields": {"visit_id": event.visit_id}})
            return revoked
        return None

    def issue(self, event: VisitEvent) -> Certificate | None:
        if event.vaccine not in dcc.PRODUCTS:
            log.warning(
                "no certificate: vaccine without an EU product code", extra={"fields": {"vaccine": event.vaccine}}
            )
            return None
        patient = self.patients.patient(event.patient_ref)
        if patient is None:
            raise PoisonMessage("the vaccinated patient is unknown")
        programme = self.programme()
        vaccine = programme.vaccine(event.vaccine) if programme else None
        facts = dcc.VaccinationFacts(
            visit_id=event.visit_id,
            patient_id=patient.patient_id,
            given_name=patient.given_name,
            family_name=patient.family_name,
            birth_date=patient.birth_date,
            vaccine=event.vaccine,
            dose=event.dose,
            total_doses=vaccine.doses if vaccine else event.dose,
            vaccinated_at=event.occurred_at,
        )
        fingerprint = facts.fingerprint()

        def build(state: VisitCertificates | None) -> Certificate | None:
            if state is not None and state.voided_at is not None and event.occurred_at <= state.voided_at:
                return None  # the voided record (or its redelivery): never certified again
            # A vaccination recorded after the void (the dose given after all) is certified anew.
            if state is not None and state.current_uvci is not None and state.fingerprint == fingerprint:
                return None  # the same facts: a redelivery
            revision = (state.revision if state else 0) + 1
            uvci = dcc.uvci(event.visit_id, revision)
            now = self.clock()
            hc1 = dcc.hc1(dcc.cwt_claims(facts.payload(uvci), now), self.signer.kid(), self.signer.sign)
            return Certificate(uvci, event.visit_id, patient.patient_id, event.dose, now, hc1, fingerprint, revision)

        issued = self.store.issue(event.visit_id, build)
        if issued is not None:
            log.info("certificate issued", extra={"fields": {"visit_id": event.visit_id, "revision": issued.revision}})
        return issued

    def certificates(self, patient_id: str) -> list[Certificate]:
        """The patient's valid certificates, by dose."""
        found = [c for c in self.store.for_patient(patient_id) if c.revoked_at is None]
        return sorted(found, key=lambda c: (c.dose, c.issued_at))

    def certificate(self, patient_id: str, uvci: str) -> Certificate:
        found = self.store.by_uvci(uvci)
        if found is None or found.patient_id != patient_id or found.revoked_at is not None:
            raise CertificateNotFound(uvci)
        return found

    def qr_png(self, patient_id: str, uvci: str) -> bytes:
        """The QR code of the patient's own certificate (CertificateNotFound otherwise)."""
        assert self.documents is not None, "built without a document renderer"
        return self.documents.qr_png(self.certificate(patient_id, uvci).hc1)

    def pdf(self, patient_id: str, uvci: str) -> bytes:
        """The printable page of the patient's own certificate (CertificateNotFound otherwise)."""
        assert self.documents is not None, "built without a document renderer"
        certificate = self.certificate(patient_id, uvci)
        patient = self.patients.patient(patient_id)
        if patient is None:
            raise CertificateNotFound(uvci)
        return self.documents.pdf(certificate, f"{patient.given_name} {patient.family_name}", patient.birth_date)

    def trust_list(self) -> list[TrustedKey]:
        return [TrustedKey(self.signer.kid(), "ES256", self.signer.public_key_pem())]

    def revoked(self) -> list[str]:
        return sorted(self.store.revoked())
