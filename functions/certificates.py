"""`certificates`: a patient's EU Digital COVID Certificates, and what verifiers read.

GET /api/v1/certificates (patient), GET /api/v1/certificates/{uvci}/qr.png and .../pdf (the patient's
own; another's answers 404 as an unknown one does), GET /api/v1/certificates/trust-list and
GET /api/v1/certificates/revoked (anyone). A UVCI in a path has its ``#`` percent-encoded (``%23``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import functions_framework
from flask import Request, Response

from shared.bootstrap import get_container
from shared.domain.identity import Principal, Role
from shared.entrypoints.auth import enforce_rate_limit, guarded
from shared.entrypoints.web import Problem, Routes, json_response
from shared.services.certificates import CertificateNotFound

PRIVATE = {"Cache-Control": "private, no-store"}
UVCI = re.compile(r"^URN:UVCI:01:PL:[A-Z0-9]{1,40}#[A-Z0-9]$")


@guarded(Role.PATIENT)
def get_certificates(request: Request, principal: Principal) -> Response:
    assert principal.patient_id is not None
    found = get_container().certificate_issuer.certificates(principal.patient_id)
    return json_response(
        {
            "certificates": [
                {"uvci": c.uvci, "visit_id": c.visit_id, "dose": c.dose, "issued_at": c.issued_at.isoformat(),
                 "hc1": c.hc1}
                for c in found
            ]
        },
        headers=PRIVATE,
    )  # fmt: skip


def _own(render: Callable[[str, str], bytes], principal: Principal, uvci: str) -> bytes:
    assert principal.patient_id is not None
    if not UVCI.match(uvci):  # never a store key of another shape (Firestore ids have rules of their own)
        raise Problem(404, "certificate_not_found", "Nie ma takiego certyfikatu")
    try:
        return render(principal.patient_id, uvci)
    except CertificateNotFound:
        raise Problem(404, "certificate_not_found", "Nie ma takiego certyfikatu") from None


@guarded(Role.PATIENT)
def get_qr(request: Request, principal: Principal, uvci: str) -> Response:
    body = _own(get_container().certificate_issuer.qr_png, principal, uvci)
    return Response(body, mimetype="image/png", headers=PRIVATE)


@guarded(Role.PATIENT)
def get_pdf(request: Request, principal: Principal, uvci: str) -> Response:
    body = _own(get_container().certificate_issuer.pdf, principal, uvci)
    headers = {**PRIVATE, "Content-Disposition": 'inline; filename="certyfikat-covid.pdf"'}
    return Response(body, mimetype="application/pdf", headers=headers)


def get_trust_list(request: Request) -> Response:
    enforce_rate_limit("api", request)
    keys = get_container().certificate_issuer.trust_list()
    return json_response(
        {"keys": [{"kid": k.kid, "alg": k.alg, "public_key_pem": k.public_key_pem} for k in keys]},
        headers={"Cache-Control": "public, max-age=300"},
    )


def get_revoked(request: Request) -> Response:
    enforce_rate_limit("api", request)
    revoked = get_container().certificate_issuer.revoked()
    return json_response({"revoked": revoked}, headers={"Cache-Control": "no-store"})


routes = Routes(
    {
        ("GET", "/api/v1/certificates"): get_certificates,
        ("GET", "/api/v1/certificates/trust-list"): get_trust_list,
        ("GET", "/api/v1/certificates/revoked"): get_revoked,
        ("GET", "/api/v1/certificates/<uvci>/qr.png"): get_qr,
        ("GET", "/api/v1/certificates/<uvci>/pdf"): get_pdf,
    }
)


@functions_framework.http
def certificates(request: Request) -> Response:
    return routes.dispatch(request)
