"""Development identity provider: stands in for the national login node on this machine.

It signs assertions (RS256 JWTs) for any test PESEL and staff role with a key pair created locally
in ``.local/dev-idp/``. The local host mounts it only when the deployment is local, and the login
function trusts its issuer only then (see ``shared.services.identity``).
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import tempfile
import threading
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, request
from pydantic import BaseModel, Field, ValidationError
from stdnum.pl import pesel as pesel_number

from shared.config import get_settings

STATE = Path(os.environ.get("EREG_STATE_DIR", Path(__file__).resolve().parent.parent / ".local"))
KEY_FILE = STATE / "dev-idp" / "signing-key.pem"
ASSERTION_TTL_S = 300


_key_lock = threading.Lock()


@lru_cache(maxsize=1)
def signing_key() -> rsa.RSAPrivateKey:
    # lru_cache does not stop concurrent first calls: the threads of a process take turns here, and
    # processes each write a temporary file of their own, then link it into place only if no key
    # is there yet (os.link fails if it exists), so every one of them ends up with the same key.
    with _key_lock:
        if not KEY_FILE.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            descriptor, temporary = tempfile.mkstemp(dir=KEY_FILE.parent, prefix=".signing-key.", suffix=".tmp")
            try:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(pem)
                with contextlib.suppress(FileExistsError):  # another process won: use its key
                    os.link(temporary, KEY_FILE)
            finally:
                os.unlink(temporary)
        loaded = serialization.load_pem_private_key(KEY_FILE.read_bytes(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def key_id() -> str:
    public = (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return uuid.uuid5(uuid.NAMESPACE_OID, public.hex()).hex[:16]


def jwks() -> dict[str, Any]:
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key().public_key()))
    return {"keys": [{**public_jwk, "kid": key_id(), "use": "sig", "alg": "RS256"}]}


class AssertionRequest(BaseModel):
    pesel: str
    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(default_factory=list)
    point_ids: list[str] = Field(default_factory=list)
    # The login node's level of assurance: substantial unless a test asks for a weaker one.
    acr: str = Field(default="http://eidas.europa.eu/LoA/substantial", max_length=100)


def issue_assertion(claims: AssertionRequest, ttl_s: int = ASSERTION_TTL_S) -> str:
    settings = get_settings()
    now = int(time.time())
    payload = {
        "iss": settings.dev_idp_issuer,
        "aud": settings.assertion_audience,
        "sub": claims.pesel,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "pesel": claims.pesel,
        "given_name": claims.given_name,
        "family_name": claims.family_name,
        "roles": claims.roles,
        "point_ids": claims.point_ids,
        "acr": claims.acr,
    }
    return jwt.encode(payload, signing_key(), algorithm="RS256", headers={"kid": key_id()})


def _problem(status: int, code: str, title: str, field: str | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "code": code}
    if field:
        body["field"] = field
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")


def create_dev_idp() -> Flask:
    app = Flask("dev_idp")

    @app.get("/dev/idp/jwks.json")
    def get_jwks() -> Response:
        return Response(json.dumps(jwks()), mimetype="application/json")

    @app.post("/dev/idp/assertions")
    def post_assertion() -> Response:
        try:
            claims = AssertionRequest.model_validate(request.get_json(force=True, silent=True) or {})
        except ValidationError as error:
            first = error.errors()[0]
            return _problem(400, "invalid_field", "Nieprawidłowe dane", ".".join(map(str, first["loc"])))
        if not pesel_number.is_valid(claims.pesel):
            return _problem(400, "invalid_pesel", "Nieprawidłowy numer PESEL", "pesel")
        body = {"assertion": issue_assertion(claims)}
        return Response(json.dumps(body), status=201, mimetype="application/json")

    # The login node's redirect flow: a form, then back to the page with #assertion=...&state=...
    @app.get("/dev/idp/authorize")
    def get_authorize() -> Response:
        return_to, state = request.args.get("return_to", ""), request.args.get("state", "")
        if not _same_origin(return_to) or not STATE_VALUE.fullmatch(state):
            return _problem(400, "invalid_field", "Nieprawidłowy adres powrotu lub stan", "return_to")
        page = AUTHORIZE_PAGE.format(return_to=html.escape(return_to), state=html.escape(state))
        return Response(page, mimetype="text/html")

    @app.post("/dev/idp/authorize")
    def post_authorize() -> Response:
        return_to, state = request.form.get("return_to", ""), request.form.get("state", "")
        if not _same_origin(return_to) or not STATE_VALUE.fullmatch(state):
            return _problem(400, "invalid_field", "Nieprawidłowy adres powrotu lub stan", "return_to")
        try:
            claims = AssertionRequest.model_validate(
                {k: request.form.get(k, "") for k in ("pesel", "given_name", "family_name")}
            )
        except ValidationError as error:
            return _problem(400, "invalid_field", "Nieprawidłowe dane", ".".join(map(str, error.errors()[0]["loc"])))
        if not pesel_number.is_valid(claims.pesel):
            return _problem(400, "invalid_pesel", "Nieprawidłowy numer PESEL", "pesel")
        fragment = urlencode({"assertion": issue_assertion(claims), "state": state})
        return Response(status=303, headers={"Location": f"{return_to}#{fragment}", "Cache-Control": "no-store"})

    return app


STATE_VALUE = re.compile(r"[A-Za-z0-9_-]{16,128}")
AUTHORIZE_PAGE = """<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><title>Logowanie testowe</title></head>
<body><main><h1>Logowanie testowe (dev IdP)</h1>
<form method="post" action="/dev/idp/authorize">
<input type="hidden" name="return_to" value="{return_to}"><input type="hidden" name="state" value="{state}">
<p><label for="pesel">PESEL</label> <input id="pesel" name="pesel" required></p>
<p><label for="given_name">Imię</label> <input id="given_name" name="given_name" required></p>
<p><label for="family_name">Nazwisko</label> <input id="family_name" name="family_name" required></p>
<p><button type="submit">Zaloguj</button></p>
</form></main></body></html>
"""


def _same_origin(return_to: str) -> bool:
    """Back only to a page of this host: an absolute URL on the request's host, never elsewhere."""
    target = urlsplit(return_to)
    return target.scheme in ("http", "https") and target.netloc == request.host and not target.fragment
