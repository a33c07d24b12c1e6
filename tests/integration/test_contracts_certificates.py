"""The same cases against the certificate and e-health record fakes (tests/unit/fakes_certificates.py)
and their Firestore adapters on the emulator: a case passing on one side only means the fake drifted.
Plus what only the real store can show: concurrent deliveries of one event issue one certificate."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.firestore_certificates import FirestoreCertificates, FirestoreImmunizationLog
from shared.bootstrap import Container, build_container
from shared.services.certificates import Certificate, CertificateStore, VisitCertificates
from shared.services.ehealth import ImmunizationLog, ImmunizationRecord
from tests.conftest import isolated_settings
from tests.unit.fakes_certificates import FakeCertificateStore, FakeImmunizationLog

SIDES = ["fake", "real"]
AT = datetime(2026, 12, 7, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def firestore_backends(emulator_env: dict[str, str]) -> Container:
    return build_container(isolated_settings())


@pytest.fixture(params=SIDES)
def store(request: pytest.FixtureRequest) -> CertificateStore:
    if request.param == "fake":
        return FakeCertificateStore()
    return FirestoreCertificates(request.getfixturevalue("firestore_backends").firestore.client)


@pytest.fixture(params=SIDES)
def records(request: pytest.FixtureRequest) -> ImmunizationLog:
    if request.param == "fake":
        return FakeImmunizationLog()
    return FirestoreImmunizationLog(request.getfixturevalue("firestore_backends").firestore.client)


def builder(
    patient_id: str, fingerprint: str, at: datetime = AT
) -> Callable[[VisitCertificates | None], Certificate | None]:
    def build(state: VisitCertificates | None) -> Certificate | None:
        if state is not None and (state.voided_at or state.fingerprint == fingerprint):
            return None
        revision = (state.revision if state else 0) + 1
        uvci = f"URN:UVCI:01:PL:{uuid.uuid4().hex.upper()[:20]}#A"
        return Certificate(uvci, "?", patient_id, 1, at, "HC1:x", fingerprint, revision)

    return build


def test_issue_once_reissue_on_change_and_void(store: CertificateStore) -> None:
    visit_id, patient_id = str(uuid.uuid4()), str(uuid.uuid4())
    first = store.issue(visit_id, builder(patient_id, "f1"))
    assert first is not None and first.revision == 1
    assert store.issue(visit_id, builder(patient_id, "f1")) is None
    second = store.issue(visit_id, builder(patient_id, "f2", AT + timedelta(hours=1)))
    assert second is not None and second.revision == 2
    by_uvci = {c.uvci: c for c in store.for_patient(patient_id)}
    assert set(by_uvci) == {first.uvci, second.uvci}
    assert by_uvci[first.uvci].revoked_at == AT + timedelta(hours=1) and by_uvci[second.uvci].revoked_at is None
    assert first.uvci in store.revoked() and second.uvci not in store.revoked()

    assert store.void(visit_id, AT + timedelta(days=1)) == second.uvci
    assert store.void(visit_id, AT + timedelta(days=1)) is None  # a second delivery revokes nothing new
    assert second.uvci in store.revoked()
    revoked = store.by_uvci(second.uvci)
    assert revoked is not None and revoked.revoked_at == AT + timedelta(days=1)
    assert store.issue(visit_id, builder(patient_id, "f3")) is None
    assert store.by_uvci("URN:UVCI:01:PL:NONE#A") is None


def test_a_void_before_any_certificate_is_remembered(store: CertificateStore) -> None:
    visit_id = str(uuid.uuid4())
    assert store.void(visit_id, AT) is None
    assert store.issue(visit_id, builder(str(uuid.uuid4()), "f1")) is None


def test_records_are_kept_and_counted_while_pending(records: ImmunizationLog) -> None:
    before = records.backlog()
    visit_id = str(uuid.uuid4())
    resource = {"resourceType": "Immunization", "status": "completed"}
    records.save(ImmunizationRecord(visit_id, "pending", resource, updated_at=AT))
    assert records.backlog() == before + 1
    records.save(ImmunizationRecord(visit_id, "sent", resource, created=True, updated_at=AT))
    assert records.backlog() == before
    assert records.get(visit_id) == ImmunizationRecord(visit_id, "sent", resource, created=True, updated_at=AT)
    assert records.get(str(uuid.uuid4())) is None


def test_concurrent_deliveries_issue_one_certificate(firestore_backends: Container) -> None:
    """Four deliveries of one event at once: one issues; the others find it issued, or lose the
    transaction (the emulator aborts contending ones) and fail, and their redelivery issues nothing."""
    store = FirestoreCertificates(firestore_backends.firestore.client)
    visit_id, patient_id = str(uuid.uuid4()), str(uuid.uuid4())
    issued: list[Certificate] = []
    failed: list[Exception] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        start.wait()
        try:
            result = store.issue(visit_id, builder(patient_id, "same"))
        except Exception as error:  # the push answers 500 and Pub/Sub redelivers
            failed.append(error)
            return
        if result is not None:
            issued.append(result)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(issued) == 1
    for _ in failed:  # the redeliveries
        assert store.issue(visit_id, builder(patient_id, "same")) is None
    assert [c.uvci for c in store.for_patient(patient_id)] == [issued[0].uvci]
