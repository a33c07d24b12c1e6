"""Identity rules without I/O: claims, sessions, eligibility, assertion verification."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators.seed import demo_programme, pesel_for
from shared.domain.identity import (
    InvalidIdentity,
    Principal,
    Role,
    Session,
    SessionPolicy,
    UnknownSigningKey,
    eligibility,
    person_from_claims,
)
from shared.services.identity import AssertionVerifier, LoginRefused, assertion_key

PESEL = pesel_for(date(1980, 1, 2), 1, female=False)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"


@pytest.mark.parametrize(
    "claims",
    [
        {"pesel": "12345678901", "given_name": "A", "family_name": "B"},
        {"pesel": PESEL, "given_name": " ", "family_name": "B"},
        {"pesel": PESEL, "given_name": "A", "family_name": "B", "roles": ["root"]},
        {"pesel": PESEL, "given_name": "A", "family_name": "B", "roles": ["point_staff"]},
        {"pesel": PESEL, "given_name": "A", "family_name": "B", "roles": ["point_manager"]},
        {"pesel": PESEL, "given_name": "A", "family_name": "B", "roles": "agent"},
        {"sub": PESEL, "given_name": "A", "family_name": "B"},  # never `sub` for the PESEL
        {"pesel": None, "sub": PESEL, "given_name": "A", "family_name": "B"},
        {"pesel": PESEL, "given_name": "A", "family_name": "B", "roles": ["admin"]},  # no acr
        {
            "pesel": PESEL,
            "given_name": "A",
            "family_name": "B",
            "roles": ["agent"],
            "acr": "http://eidas.europa.eu/LoA/low",
        },
    ],
)
def test_unacceptable_claims(claims: dict[str, object]) -> None:
    with pytest.raises(InvalidIdentity):
        person_from_claims(claims)


def test_person_from_claims_reads_birth_date_and_roles() -> None:
    person = person_from_claims(
        {"pesel": PESEL, "given_name": "Jan", "family_name": "Nowak", "roles": ["agent", "patient"], "acr": SUBSTANTIAL}
    )
    assert person.birth_date == date(1980, 1, 2)
    assert person.roles == {Role.AGENT} and person.is_staff


def test_a_point_manager_serves_and_manages_only_their_points() -> None:
    manager = Principal("s1", frozenset({Role.POINT_MANAGER}), staff_id="staff-1", point_ids=frozenset({"p1"}))
    staff = Principal("s2", frozenset({Role.POINT_STAFF}), staff_id="staff-2", point_ids=frozenset({"p1"}))
    assert manager.serves_point("p1") and manager.manages_point("p1")
    assert not manager.serves_point("p2") and not manager.manages_point("p2")
    assert staff.serves_point("p1") and not staff.manages_point("p1")


def test_session_liveness_absolute_idle_and_revocation() -> None:
    policy = SessionPolicy(absolute=timedelta(hours=2), idle=timedelta(minutes=30))
    session = Session("s", frozenset({Role.PATIENT}), NOW, NOW + timedelta(hours=2), NOW)
    assert session.is_live(NOW + timedelta(minutes=29), policy)
    assert not session.is_live(NOW + timedelta(minutes=31), policy)  # idle
    touched = Session(**{**vars(session), "last_seen_at": NOW + timedelta(hours=1, minutes=50)})
    assert not touched.is_live(NOW + timedelta(hours=2, minutes=1), policy)  # absolute
    assert not Session(**{**vars(session), "revoked": True}).is_live(NOW, policy)
    assert not session.needs_touch(NOW + timedelta(seconds=30), policy)
    assert session.needs_touch(NOW + timedelta(seconds=61), policy)


@pytest.mark.parametrize(
    ("birth", "opens_in_days", "status"),
    [(date(1950, 1, 1), -1, "open"), (date(1950, 1, 1), 3, "cohort_not_open"), (date(2020, 1, 1), -1, "no_cohort")],
)
def test_eligibility_follows_cohort_opening(birth: date, opens_in_days: int, status: str) -> None:
    programme = demo_programme(NOW)
    for cohort in programme.cohorts:
        cohort.opens_at = NOW + timedelta(days=opens_in_days)
    assert eligibility(programme, birth, NOW).code == status


class StaticKeys:
    def __init__(self, key: rsa.RSAPrivateKey, kid: str) -> None:
        self.kid = kid
        self.jwk = jwt.PyJWK.from_dict(
            {**__import__("json").loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid}
        )

    def key_for(self, kid: str | None) -> jwt.PyJWK:
        if kid != self.kid:
            raise UnknownSigningKey(kid)
        return self.jwk


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _token(key: rsa.RSAPrivateKey, **overrides: object) -> str:
    now = int(time.time())
    claims = {"iss": "idp", "aud": "ereg", "iat": now, "nbf": now, "exp": now + 60, "jti": "j1", **overrides}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_verifier_accepts_a_good_token_within_leeway(key: rsa.RSAPrivateKey) -> None:
    verifier = AssertionVerifier({"idp": StaticKeys(key, "k1")}, audience="ereg", leeway_s=30)
    assert verifier.verify(_token(key))["jti"] == "j1"
    assert verifier.verify(_token(key, exp=int(time.time()) - 10))["iss"] == "idp"  # clock skew


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [({"exp": 1}, "assertion_expired"), ({"aud": "other"}, "wrong_audience"), ({"iss": "x"}, "untrusted_issuer")],
)
def test_verifier_refusals(key: rsa.RSAPrivateKey, overrides: dict[str, object], reason: str) -> None:
    verifier = AssertionVerifier({"idp": StaticKeys(key, "k1")}, audience="ereg")
    with pytest.raises(LoginRefused) as refused:
        verifier.verify(_token(key, **overrides))
    assert refused.value.reason == reason


def test_assertion_key_uses_jti_or_what_was_signed() -> None:
    assert assertion_key({"iss": "a", "jti": "1"}, "t1") == assertion_key({"iss": "a", "jti": "1"}, "t2")
    assert assertion_key({"iss": "a"}, "eyJh.eyJi.c2ln") != assertion_key({"iss": "a"}, "eyJh.eyJj.c2ln")
    # The same signed content, spelt with padding or another signature, is the same assertion.
    same = {assertion_key({"iss": "a"}, t) for t in ("eyJh.eyJi.c2ln", "eyJh.eyJi.c2ln==", "eyJh=.eyJi.other")}
    assert len(same) == 1


def test_the_accepted_staff_levels_are_configurable_and_patients_need_none() -> None:
    claims: dict[str, object] = {
        "pesel": PESEL,
        "given_name": "A",
        "family_name": "B",
        "roles": ["agent"],
        "acr": "urn:mfa",
    }
    assert person_from_claims(claims, staff_acr={"urn:mfa"}).is_staff
    with pytest.raises(InvalidIdentity):
        person_from_claims(claims)
    patient = person_from_claims({"pesel": PESEL, "given_name": "A", "family_name": "B"})
    assert not patient.is_staff
