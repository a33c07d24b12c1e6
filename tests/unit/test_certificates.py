"""EU DCC certificates: the domain's encoding (decoded by the tests' independent decoder) and the
issuing service on fakes: once per dose, re-issued only on a change, withdrawn when voided."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from shared.adapters.certificate_documents import CertificateDocuments
from shared.domain import dcc
from shared.domain.events import VISIT_BOOKED, VISIT_COMPLETED, EventType, VaccinationVoidedEvent
from shared.domain.messages import PoisonMessage
from shared.services.certificates import CertificateIssuer, CertificateNotFound
from tests.dcc_decoder import check_payload, decode, luhn_mod_n_valid
from tests.unit.fakes_certificates import FakeCertificateStore, FakePatients, FakeSigner
from tests.unit.messaging_data import NOW, PROGRAMME, events, patient, series

ISSUED_AT = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # after 23:00 UTC: already the 8th in Warsaw


def completed_event(patient_id: str, dose: int = 1, occurred_at: datetime = ISSUED_AT) -> dict[str, Any]:
    visits = series(patient_id, NOW - timedelta(days=1))
    event = events(VISIT_COMPLETED, [visits[dose - 1]], visits)[0]
    return {**event, "occurred_at": occurred_at.isoformat(), "lot": "FK1234"}


def voided_event(completed: dict[str, Any], at: datetime = ISSUED_AT + timedelta(hours=1)) -> dict[str, Any]:
    event = VaccinationVoidedEvent(
        event_id=str(uuid.uuid4()), event_type=EventType.VACCINATION_VOIDED, schema_version=1, occurred_at=at,
        visit_id=completed["visit_id"], patient_id=completed["patient_ref"], point_id=completed["point_id"],
        dose=completed["dose"], vaccine=completed["vaccine"], voided_at=at, reason="wpis omyłkowy",
    )  # fmt: skip
    return event.model_dump(mode="json")


class World:
    def __init__(self) -> None:
        self.someone = replace(patient(), given_name="Łucja-Żaneta", family_name="Wójcik Brzęczyszczykiewicz")
        self.patients = FakePatients(self.someone)
        self.store = FakeCertificateStore()
        self.signer = FakeSigner()
        self.now = ISSUED_AT + timedelta(minutes=1)
        self.issuer = CertificateIssuer(
            self.patients, self.store, self.signer, lambda: PROGRAMME, lambda: self.now, CertificateDocuments()
        )

    def trust_list(self) -> list[dict[str, str]]:
        return [vars(k) for k in self.issuer.trust_list()]


@pytest.fixture
def world() -> World:
    return World()


def test_a_vaccination_gets_a_certificate_any_verifier_reads(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    certificate = world.issuer.handle(event)
    assert certificate is not None and not isinstance(certificate, str)

    decoded = decode(certificate.hc1, world.trust_list())
    entry = check_payload(decoded)
    assert decoded.claims[6] == int(world.now.timestamp())
    assert decoded.claims[4] == int((world.now + timedelta(days=365)).timestamp())
    assert decoded.payload["nam"] == {
        "fn": "Wójcik Brzęczyszczykiewicz", "fnt": "WOJCIK<BRZECZYSZCZYKIEWICZ",
        "gn": "Łucja-Żaneta", "gnt": "LUCJA<ZANETA",
    }  # fmt: skip
    assert decoded.payload["dob"] == world.someone.birth_date.isoformat()
    assert entry == {
        "tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 1, "sd": 2,
        "dt": "2026-12-08", "co": "PL", "is": "Centrum e-Zdrowia", "ci": certificate.uvci,
    }  # fmt: skip
    assert world.issuer.certificates(world.someone.patient_id) == [certificate]


def test_a_redelivered_event_issues_nothing_twice(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    first = world.issuer.handle(event)
    world.now += timedelta(minutes=5)
    assert world.issuer.handle(event) is None
    assert world.issuer.handle({**event, "event_id": str(uuid.uuid4())}) is None  # the same facts again
    assert world.issuer.certificates(world.someone.patient_id) == [first]
    assert world.signer.signed == 1
    assert world.issuer.revoked() == []


def test_a_change_reissues_with_a_new_uvci_and_revokes_the_old(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    first = world.issuer.handle(event)
    assert first is not None and not isinstance(first, str)
    world.patients.records[world.someone.patient_id] = replace(world.someone, family_name="Nowak")
    second = world.issuer.handle(event)
    assert second is not None and not isinstance(second, str)
    assert second.uvci != first.uvci and second.revision == 2
    assert world.issuer.certificates(world.someone.patient_id) == [second]
    assert world.issuer.revoked() == [first.uvci]
    assert decode(second.hc1, world.trust_list()).payload["nam"]["fnt"] == "NOWAK"


def test_a_voided_dose_withdraws_its_certificate_and_is_never_certified_again(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    certificate = world.issuer.handle(event)
    assert certificate is not None and not isinstance(certificate, str)
    assert world.issuer.handle(voided_event(event)) == certificate.uvci
    assert world.issuer.revoked() == [certificate.uvci]
    assert world.issuer.certificates(world.someone.patient_id) == []
    with pytest.raises(CertificateNotFound):
        world.issuer.certificate(world.someone.patient_id, certificate.uvci)
    assert world.issuer.handle(event) is None  # the vaccination's event delivered again
    assert world.issuer.handle(voided_event(event)) is None  # and the void's
    assert world.issuer.revoked() == [certificate.uvci]


def test_a_dose_recorded_again_after_its_void_is_certified_anew(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    first = world.issuer.handle(event)
    assert first is not None and not isinstance(first, str)
    world.issuer.handle(voided_event(event))
    again = {**completed_event(world.someone.patient_id, occurred_at=ISSUED_AT + timedelta(hours=2)),
             "visit_id": event["visit_id"]}  # fmt: skip
    second = world.issuer.handle(again)
    assert second is not None and not isinstance(second, str) and second.uvci != first.uvci
    assert [c.uvci for c in world.issuer.certificates(world.someone.patient_id)] == [second.uvci]
    assert world.issuer.handle(event) is None  # the voided record's event again: nothing


def test_a_void_seen_before_its_vaccination_leaves_it_uncertified(world: World) -> None:
    event = completed_event(world.someone.patient_id)
    assert world.issuer.handle(voided_event(event)) is None
    assert world.issuer.handle(event) is None
    assert world.issuer.certificates(world.someone.patient_id) == []


def test_a_patient_reaches_only_their_own_certificates(world: World) -> None:
    certificate = world.issuer.handle(completed_event(world.someone.patient_id))
    assert certificate is not None and not isinstance(certificate, str)
    other = patient()
    assert world.issuer.certificate(world.someone.patient_id, certificate.uvci) == certificate
    with pytest.raises(CertificateNotFound):
        world.issuer.certificate(other.patient_id, certificate.uvci)
    assert world.issuer.certificates(other.patient_id) == []


def test_the_qr_code_and_the_pdf_are_the_patients_own(world: World) -> None:
    certificate = world.issuer.handle(completed_event(world.someone.patient_id))
    assert certificate is not None and not isinstance(certificate, str)
    png = world.issuer.qr_png(world.someone.patient_id, certificate.uvci)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == image.height
    pdf = world.issuer.pdf(world.someone.patient_id, certificate.uvci)
    assert pdf.startswith(b"%PDF-") and certificate.uvci.encode() in zlib_text(pdf)
    for render in (world.issuer.qr_png, world.issuer.pdf):
        with pytest.raises(CertificateNotFound):
            render(patient().patient_id, certificate.uvci)


def zlib_text(pdf: bytes) -> bytes:
    """The page's text: fpdf2 compresses each content stream with zlib."""
    import re
    import zlib

    return b"".join(zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
                    if m[:1] == b"x")  # fmt: skip


def test_events_that_are_not_vaccinations_issue_nothing(world: World) -> None:
    visits = series(world.someone.patient_id, NOW)
    assert world.issuer.handle(events(VISIT_BOOKED, visits, visits)[0]) is None
    assert world.store.certificates == {}
    with pytest.raises(PoisonMessage):
        world.issuer.handle({"event_type": "VisitCompleted", "visit_id": "x"})


def test_a_vaccine_without_an_eu_product_code_gets_no_certificate(world: World) -> None:
    event = {**completed_event(world.someone.patient_id), "vaccine": "szczepionka-krajowa"}
    assert world.issuer.handle(event) is None
    assert world.store.certificates == {}


def test_an_unknown_patient_is_a_poison_message(world: World) -> None:
    with pytest.raises(PoisonMessage):
        world.issuer.handle(completed_event(str(uuid.uuid4())))


@pytest.mark.parametrize(
    ("name", "icao"),
    [("Łucja-Żaneta", "LUCJA<ZANETA"), ("Ąę Ćńóśźż", "AE<CNOSZZ"), ("Müller", "MUELLER"), ("O'Brien", "OBRIEN"),
     ("  Jan  Maria ", "JAN<MARIA"), ("x" * 100, "X" * 80)],
)  # fmt: skip
def test_names_are_transliterated_as_icao_9303_says(name: str, icao: str) -> None:
    assert dcc.icao_name(name) == icao


def test_every_uvci_is_valid_unique_and_one_path_segment() -> None:
    seen = {dcc.uvci(f"visit-{i}", r) for i in range(300) for r in (1, 2)}
    assert len(seen) == 600
    for uvci in seen:
        assert uvci.startswith("URN:UVCI:01:PL:") and len(uvci) <= 50 and "/" not in uvci
        assert luhn_mod_n_valid(uvci.removeprefix("URN:UVCI:"))
    broken = next(iter(seen))
    assert not luhn_mod_n_valid(broken.removeprefix("URN:UVCI:")[:-1] + ("A" if broken[-1] != "A" else "B"))


def test_a_tampered_certificate_fails_verification(world: World) -> None:
    certificate = world.issuer.handle(completed_event(world.someone.patient_id))
    assert certificate is not None and not isinstance(certificate, str)
    other_key = FakeSigner()
    with pytest.raises(AssertionError, match="not on the trust list"):
        decode(certificate.hc1, [vars(k) for k in CertificateIssuer(
            world.patients, world.store, other_key, lambda: PROGRAMME, lambda: world.now).trust_list()])  # fmt: skip
    forged = dcc.hc1(dcc.cwt_claims({"ver": "1.3.0"}, world.now), world.signer.kid(), other_key.sign)
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        decode(forged, world.trust_list())


def test_the_other_consumers_of_visit_events_let_a_void_pass(world: World) -> None:
    """A VaccinationVoided on visit-events is one row of the reporting feed's voids (which the views
    count out) and touches no slot of the availability projection."""
    from shared.services.availability import slots_of_event
    from shared.services.reporting_feed import EventStreamer
    from tests.unit.fakes import FakeWarehouse

    voided = voided_event(completed_event(world.someone.patient_id))
    warehouse = FakeWarehouse()
    EventStreamer(warehouse).handle(voided, ISSUED_AT)
    assert list(warehouse.rows) == ["vaccination_voids"] and len(warehouse.rows["vaccination_voids"]) == 1
    assert slots_of_event(voided) == []
