"""The login verifier against ID tokens shaped as Identity Platform issues them for a SAML provider.

Identity Platform signs with Google's securetoken keys; here a locally generated key stands in for
them. The issuer and audience are those infra/identity.tf gives the functions.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators.seed import pesel_for
from shared.domain.identity import person_from_claims
from shared.services.identity import AssertionVerifier, LoginRefused
from tests.unit.test_identity import StaticKeys

PESEL = pesel_for(date(1975, 3, 4), 7, female=True)
PROJECT = "ereg-production"
INFRA = Path(__file__).resolve().parents[2] / "infra"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def id_token(key: rsa.RSAPrivateKey, project: str = PROJECT, **attributes: object) -> str:
    """Identity Platform's ID token after a SAML sign-in: its own uid in sub, the assertion's
    attributes under firebase.sign_in_attributes, custom claims (staff roles) at the top level."""
    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "auth_time": now,
        "user_id": "Xy7uid0000000000000000000000",
        "sub": "Xy7uid0000000000000000000000",
        "iat": now,
        "exp": now + 3600,
        "firebase": {
            "identities": {"saml.national-login": ["urn:pl:login:subject:1"]},
            "sign_in_provider": "saml.national-login",
            "sign_in_attributes": {"pesel": PESEL, "given_name": ["Anna"], "family_name": "Kowalska", **attributes},
        },
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "google-1"})


def verifier(key: rsa.RSAPrivateKey) -> AssertionVerifier:
    return AssertionVerifier({f"https://securetoken.google.com/{PROJECT}": StaticKeys(key, "google-1")}, PROJECT)


def test_an_identity_platform_token_of_the_project_signs_the_person_in(key: rsa.RSAPrivateKey) -> None:
    person = person_from_claims(verifier(key).verify(id_token(key)))
    assert (person.pesel, person.given_name, person.family_name) == (PESEL, "Anna", "Kowalska")
    assert not person.is_staff


def test_saml_attributes_never_make_anyone_staff(key: rsa.RSAPrivateKey) -> None:
    person = person_from_claims(verifier(key).verify(id_token(key, roles=["admin"], point_ids=["p1"])))
    assert not person.is_staff and not person.point_ids


def test_staff_sign_in_at_the_level_the_node_asserted_in_a_saml_attribute(key: rsa.RSAPrivateKey) -> None:
    from shared.domain.identity import WeakAuthentication

    strong = verifier(key).verify(id_token(key, acr=["http://eidas.europa.eu/LoA/substantial"]))
    assert person_from_claims({**strong, "roles": ["admin"]}).is_staff  # roles: the project's custom claim
    weak = verifier(key).verify(id_token(key, acr="http://eidas.europa.eu/LoA/low"))
    with pytest.raises(WeakAuthentication):
        person_from_claims({**weak, "roles": ["admin"]})
    with pytest.raises(WeakAuthentication):  # none asserted
        person_from_claims({**verifier(key).verify(id_token(key)), "roles": ["admin"]})


def test_a_token_of_another_project_is_refused(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(LoginRefused) as refused:
        verifier(key).verify(id_token(key, project="someone-elses-project"))
    assert refused.value.reason == "untrusted_issuer"
    # The right issuer, issued for another project's app: the audience does not match.
    token = jwt.encode(
        {**jwt.decode(id_token(key), options={"verify_signature": False}), "aud": "someone-elses-project"},
        key, algorithm="RS256", headers={"kid": "google-1"},
    )  # fmt: skip
    with pytest.raises(LoginRefused) as refused:
        verifier(key).verify(token)
    assert refused.value.reason == "wrong_audience"


def test_the_identity_platform_uid_is_never_taken_for_a_pesel(key: rsa.RSAPrivateKey) -> None:
    from shared.domain.identity import InvalidIdentity

    token = id_token(key)
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["firebase"]["sign_in_attributes"]["pesel"]
    claims["sub"] = PESEL  # even a uid that looks like a PESEL
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "google-1"})
    with pytest.raises(InvalidIdentity):
        person_from_claims(verifier(key).verify(token))


def test_the_functions_trust_the_project_s_identity_platform() -> None:
    text = (INFRA / "identity.tf").read_text() + (INFRA / "functions.tf").read_text()
    assert re.search(r'identity_platform_issuer\s*=\s*"https://securetoken\.google\.com/\$\{var\.project_id\}"', text)
    assert re.search(r"EREG_LOGIN_NODE_ISSUER\s*=\s*local\.identity_platform_issuer", text)
    assert re.search(r"EREG_ASSERTION_AUDIENCE\s*=\s*var\.project_id", text)
    assert re.search(r"EREG_LOGIN_NODE_JWKS_URL\s*=\s*local\.identity_platform_jwks_url", text)
    assert "securetoken@system.gserviceaccount.com" in text


def test_only_the_configured_sign_in_providers_are_accepted(key: rsa.RSAPrivateKey) -> None:
    saml_only = AssertionVerifier(
        {f"https://securetoken.google.com/{PROJECT}": StaticKeys(key, "google-1")},
        PROJECT,
        providers=frozenset({"saml.national-login"}),
    )
    assert person_from_claims(saml_only.verify(id_token(key))).pesel == PESEL
    # A custom token's ID token (what tools/identity_token.py gets for staging's smoke user).
    claims = jwt.decode(id_token(key), options={"verify_signature": False})
    claims["firebase"] = {"sign_in_provider": "custom", "identities": {}}
    claims.update({"pesel": PESEL, "given_name": "Test", "family_name": "Dymny"})
    custom = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "google-1"})
    with pytest.raises(LoginRefused) as refused:
        saml_only.verify(custom)
    assert refused.value.reason == "provider_not_allowed"
    staging = AssertionVerifier(saml_only.issuers, PROJECT, providers=frozenset({"saml.national-login", "custom"}))
    assert person_from_claims(staging.verify(custom)).pesel == PESEL


def test_the_container_accepts_the_providers_the_settings_name(key: rsa.RSAPrivateKey) -> None:
    from shared.bootstrap import build_container
    from shared.config import Settings

    settings = Settings(deployment="local", identity_providers="saml.national-login, custom")
    container = build_container(settings)
    for backend in ("sessions", "patients", "programme", "dev_idp_jwks", "staff_store"):  # no client is built
        container.__dict__[backend] = object()
    assert container.identity.verifier.providers == frozenset({"saml.national-login", "custom"})
    assert Settings(deployment="local").identity_providers == "saml.national-login"


def test_the_identity_token_tool_signs_a_custom_token_and_exchanges_it() -> None:
    from tools.identity_token import AUDIENCE, SIGN_IN, SMOKE_UID, id_token

    calls: list[tuple[str, dict[str, object]]] = []

    def post(url: str, body: dict[str, object], headers: dict[str, str]) -> dict[str, object]:
        calls.append((url, body))
        assert headers["x-goog-user-project"] == "ereg-staging"
        return {"signedJwt": "signed.custom.token"} if "signJwt" in url else {"idToken": "the.id.token"}

    token = id_token("ereg-staging", "deployer@ereg-staging.iam.gserviceaccount.com", PESEL, "access", post, 1000)
    assert token == "the.id.token"
    payload = json.loads(str(calls[0][1]["payload"]))
    assert payload["aud"] == AUDIENCE and payload["uid"] == SMOKE_UID and payload["claims"]["pesel"] == PESEL
    assert payload["exp"] - payload["iat"] == 3600
    assert calls[1] == (SIGN_IN, {"token": "signed.custom.token", "returnSecureToken": True})
