"""EU DCC issuing benchmark: certificates issued per second and CPU per certificate, on one core.

    .venv/bin/python -m bench.certificates [--certificates 500]

Runs the issuing service (``CertificateIssuer``) as ``issue_certificates`` does, over VisitCompleted
events: payload, CWT, CBOR, COSE_Sign1 signed with ES256 by the local P-256 key (``LocalKeySigner``),
zlib and Base45. The store is in memory, so the figures are the issuing's own cost, without the
Firestore transaction (a round trip to the database) or KMS (a round trip of ~10-50 ms in the cloud,
which bounds one instance's rate by its concurrency, not its CPU). Also times what a patient's
download costs: the QR code (PNG) and the PDF. Bounded and single-threaded: safe on a shared machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.adapters.certificate_documents import certificate_pdf, qr_png
from shared.adapters.dcc_signing import LocalKeySigner
from shared.domain.events import VISIT_COMPLETED
from shared.services.certificates import Certificate, CertificateIssuer
from tests.unit.fakes_certificates import FakeCertificateStore, FakePatients
from tests.unit.messaging_data import NOW, PROGRAMME, events, patient, series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--certificates", type=int, default=500, help="how many to issue (at most 5000)")
    parser.add_argument("--documents", type=int, default=50, help="QR codes and PDFs to render")
    args = parser.parse_args()
    count = max(1, min(args.certificates, 5000))

    people = [replace(patient(), given_name="Łucja", family_name="Wójcik-Brzęczyszczykiewicz") for _ in range(count)]
    payloads = []
    for someone in people:
        visits = series(someone.patient_id, NOW - timedelta(days=1))
        payloads.append({**events(VISIT_COMPLETED, [visits[0]], visits)[0], "lot": "FK1234"})

    with tempfile.TemporaryDirectory() as state:
        signer = LocalKeySigner(Path(state) / "dcc-signing-key.pem")
        signer.kid()  # the key is made before the clock starts
        store = FakeCertificateStore()
        issuer = CertificateIssuer(FakePatients(*people), store, signer, lambda: PROGRAMME, lambda: datetime.now(UTC))

        wall, cpu = time.perf_counter(), time.process_time()
        issued = [issuer.handle(p) for p in payloads]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        redelivered = sum(1 for p in payloads[: min(count, 100)] if issuer.handle({**p, "event_id": str(uuid.uuid4())}))

        certificates = [c for c in issued if isinstance(c, Certificate)]
        assert len(certificates) == count and redelivered == 0, (len(certificates), redelivered)
        sizes = sorted(len(c.hc1) for c in certificates)
        print(f"issued {count} certificates in {wall:.2f} s: {count / wall:.0f} certificates/s on one core")
        print(f"CPU per certificate: {cpu / count * 1000:.2f} ms (payload, CBOR, ES256 signature, zlib, Base45)")
        print(f"HC1 length: median {sizes[len(sizes) // 2]} characters, max {sizes[-1]}")
        print(f"redelivered events re-issued: {redelivered} of {min(count, 100)}")

        documents = certificates[: max(1, min(args.documents, 500))]
        started = time.process_time()
        for certificate in documents:
            qr_png(certificate.hc1)
        qr_ms = (time.process_time() - started) / len(documents) * 1000
        started = time.process_time()
        for certificate in documents:
            certificate_pdf(certificate, "Łucja Wójcik-Brzęczyszczykiewicz", people[0].birth_date)
        pdf_ms = (time.process_time() - started) / len(documents) * 1000
        print(f"CPU per download: QR code (PNG) {qr_ms:.1f} ms, PDF {pdf_ms:.1f} ms ({len(documents)} each)")


if __name__ == "__main__":
    main()
