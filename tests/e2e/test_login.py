"""Login over HTTP through the local host, with the dev identity provider. Security cases included."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from emulators.dev_idp import key_id, signing_key
from shared.config import get_settings
from tests.e2e.conftest import Api


def _claims(pesel: str, **overrides: object) -> dict[str, object]:
    settings = get_settings()
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": settings.dev_idp_issuer, "aud": settings.assertion_audience, "sub": pesel, "jti": str(uuid.uuid4()),
        "iat": now, "nbf": now, "exp": now + 300, "pesel": pesel, "given_name": "Ewa", "family_name": "Próbna",
    }  # fmt: skip
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict[str, object], key=None, kid: str | None = None, algorithm: str = "RS256") -> str:
    return jwt.encode(claims, key or signing_key(), algorithm=algorithm, headers={"kid": kid or key_id()})


def _login(api: Api, assertion: str):
    return api.call("POST", "/api/v1/login", json={"assertion": assertion})


def test_patient_logs_in_and_gets_a_working_session_and_a_referral(api: Api, new_pesel) -> None:
    pesel = new_pesel(date(1975, 3, 9))
    body = api.login(pesel)
    assert body["roles"] == ["patient"]
    assert body["patient"]["birth_date"] == "1975-03-09"
    assert body["patient"]["eligibility"]["status"] == "open"
    assert body["patient"]["referral"]["referral_id"]
    assert pesel not in str(body)  # the PESEL is not echoed back
    session = api.call("GET", "/api/v1/session", body["session_token"])
    assert session.status_code == 200
    assert session.json()["patient_id"] == body["patient"]["patient_id"]
    again = api.login(pesel)  # the returning patient keeps their id and referral
    assert again["patient"]["patient_id"] == body["patient"]["patient_id"]
    assert again["patient"]["referral"] == body["patient"]["referral"]


def test_the_same_assertion_works_once(api: Api, new_pesel) -> None:
    assertion = api.assertion(new_pesel())
    assert _login(api, assertion).status_code == 200
    replay = _login(api, assertion)
    assert replay.status_code == 401
    assert replay.json()["code"] == "assertion_replayed"


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _hand_made(header: dict[str, object], claims: dict[str, object], sign: Callable[[bytes], bytes]) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
    return f"{signing_input}.{part(sign(signing_input.encode()))}"


def _hmac_with_public_key(pesel: str) -> str:
    public_pem = signing_key().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return _hand_made(
        {"alg": "HS256", "typ": "JWT", "kid": key_id()},
        _claims(pesel),
        lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
    )


def _now() -> int:
    return int(time.time())


CASES: dict[str, tuple[Callable[[str], str], str]] = {
    "forged signature": (lambda p: _signed(_claims(p), key=_other_key()), "bad_signature"),
    "key of another issuer": (lambda p: _signed(_claims(p), key=_other_key(), kid="their-key"), "unknown_signing_key"),
    "another issuer": (lambda p: _signed(_claims(p, iss="https://evil.example")), "untrusted_issuer"),
    "alg none": (
        lambda p: _hand_made({"alg": "none", "kid": key_id()}, _claims(p), lambda _: b""),
        "algorithm_not_allowed",
    ),
    "HMAC with the public key": (_hmac_with_public_key, "algorithm_not_allowed"),
    "EC key where RSA is published": (
        lambda p: _signed(_claims(p), key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"),
        "algorithm_not_allowed",
    ),
    "expired": (
        lambda p: _signed(_claims(p, iat=_now() - 900, nbf=_now() - 900, exp=_now() - 600)),
        "assertion_expired",
    ),
    "not yet valid": (lambda p: _signed(_claims(p, nbf=_now() + 600, exp=_now() + 900)), "assertion_not_yet_valid"),
    "wrong audience": (lambda p: _signed(_claims(p, aud="someone-else")), "wrong_audience"),
    "no expiry": (lambda p: _signed(_claims(p, exp=None)), "malformed_assertion"),
    "malformed token": (lambda p: "not.a.jwt", "malformed_assertion"),
    "garbage": (lambda p: "%%%", "malformed_assertion"),
    "invalid PESEL": (lambda p: _signed(_claims("12345678901")), "invalid_identity"),
    "unknown role": (lambda p: _signed(_claims(p, roles=["superuser"])), "invalid_identity"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_assertions_are_refused_with_401(api: Api, new_pesel, case: str) -> None:
    make, code = CASES[case]
    assertion = make(new_pesel())
    response = _login(api, assertion)
    assert response.status_code == 401, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"{}", "assertion"), (b'{"assertion": ""}', "assertion"), (b'{"assertion": 5}', "assertion"), (b"[]", None)],
)
def test_malformed_login_bodies_are_400(api: Api, body: bytes, field: str | None) -> None:
    response = api.call("POST", "/api/v1/login", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json().get("field") == field


@pytest.mark.parametrize(
    ("token", "code"),
    [(None, "no_session"), ("x" * 43, "invalid_session"), ("short", "invalid_session"), ("a b", "invalid_session")],
)
def test_requests_without_a_valid_session_are_401(api: Api, token: str | None, code: str) -> None:
    response = api.call("GET", "/api/v1/session", token)
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_tampered_session_token_is_refused(api: Api, new_pesel) -> None:
    token = api.login(new_pesel())["session_token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert api.call("GET", "/api/v1/session", tampered).status_code == 401
    assert api.call("GET", "/api/v1/session", token).status_code == 200


def test_logout_revokes_the_session_at_once(api: Api, new_pesel) -> None:
    token = api.login(new_pesel())["session_token"]
    assert api.call("POST", "/api/v1/logout", token).status_code == 204
    response = api.call("GET", "/api/v1/session", token)
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


def test_staff_log_in_with_their_roles(api: Api, new_pesel) -> None:
    body = api.login(new_pesel(), roles=["point_staff"], point_ids=["p-1"])
    assert body["roles"] == ["point_staff"]
    assert body["staff"]["point_ids"] == ["p-1"]
    assert "patient" not in body
    session = api.call("GET", "/api/v1/session", body["session_token"]).json()
    assert session["patient_id"] is None and session["point_ids"] == ["p-1"]


def test_a_cohort_not_yet_open_logs_in_but_gets_no_referral(api: Api, new_pesel) -> None:
    # The demo programme's cohorts cover birth years 1900-2014; a child born later has none open.
    body = api.login(new_pesel(date(2020, 6, 1)))
    assert body["patient"]["eligibility"]["status"] == "no_cohort"
    assert body["patient"]["referral"] is None


def test_login_is_rate_limited_per_client_address(api: Api) -> None:
    _, burst = get_settings().rate_limits["login:ip"]
    # At once, so that the bucket (refilling several tokens a second) cannot keep up.
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: Api(api.base, api.client_ip).call(
            "POST", "/api/v1/login", json={"assertion": "x"}), range(burst * 3)))  # fmt: skip
    codes = [a.status_code for a in answers]
    assert set(codes) == {401, 429} and codes.count(401) >= burst
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
