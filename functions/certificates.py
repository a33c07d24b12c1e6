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

from shared.bootstrap import Container, get_container
from shared.domain.identity import Principal, Role
from shared.entrypoints.auth import Throttle, guarded
from shared.entrypoints.web import LazyRoutes, Problem, Routes, RouteTable, json_response
from shared.services.certificates import CertificateIssuer, CertificateNotFound

PRIVATE = {"Cache-Control": "private, no-store"}
UVCI = re.compile(r"^URN:UVCI:01:PL:[A-Z0-9]{1,40}#[A-Z0-9]$")


def _own(render: Callable[[str, str], bytes], principal: Principal, uvci: str) -> bytes:
    assert principal.patient_id is not None
    if not UVCI.match(uvci):  # never a store key of another shape (Firestore ids have rules of their own)
        raise Problem(404, "certificate_not_found", "Nie ma takiego certyfikatu")
    try:
        return render(principal.patient_id, uvci)
    except CertificateNotFound:
        raise Problem(404, "certificate_not_found", "Nie ma takiego certyfikatu") from None


class CertificatesHandlers:
    def __init__(self, issuer: CertificateIssuer, throttle: Throttle) -> None:
        self._issuer = issuer
        self._throttle = throttle

    @guarded(Role.PATIENT)
    def get_certificates(self, request: Request, principal: Principal) -> Response:
        assert principal.patient_id is not None
        found = self._issuer.certificates(principal.patient_id)
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

    @guarded(Role.PATIENT)
    def get_qr(self, request: Request, principal: Principal, uvci: str) -> Response:
        body = _own(self._issuer.qr_png, principal, uvci)
        return Response(body, mimetype="image/png", headers=PRIVATE)

    @guarded(Role.PATIENT)
    def get_pdf(self, request: Request, principal: Principal, uvci: str) -> Response:
        body = _own(self._issuer.pdf, principal, uvci)
        headers = {**PRIVATE, "Content-Disposition": 'inline; filename="certyfikat-covid.pdf"'}
        return Response(body, mimetype="application/pdf", headers=headers)

    def get_trust_list(self, request: Request) -> Response:
        self._throttle.by_address("api", request)
        keys = self._issuer.trust_list()
        return json_response(
            {"keys": [{"kid": k.kid, "alg": k.alg, "public_key_pem": k.public_key_pem} for k in keys]},
            headers={"Cache-Control": "public, max-age=300"},
        )

    def get_revoked(self, request: Request) -> Response:
        self._throttle.by_address("api", request)
        return json_response({"revoked": self._issuer.revoked()}, headers={"Cache-Control": "no-store"})

    def table(self) -> RouteTable:
        return {
            ("GET", "/api/v1/certificates"): self.get_certificates,
            ("GET", "/api/v1/certificates/trust-list"): self.get_trust_list,
            ("GET", "/api/v1/certificates/revoked"): self.get_revoked,
            ("GET", "/api/v1/certificates/<uvci>/qr.png"): self.get_qr,
            ("GET", "/api/v1/certificates/<uvci>/pdf"): self.get_pdf,
        }


def compose(container: Container) -> Routes:
    return container.gate.routes(CertificatesHandlers(container.certificate_issuer, container.throttle).table())


routes = LazyRoutes(lambda: compose(get_container()))


@functions_framework.http
def certificates(request: Request) -> Response:
    return routes.dispatch(request)
