"""Login, sessions and logout through IdentityService on fakes of its ports (no emulator)."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators.seed import demo_programme, pesel_for
from shared.domain.identity import Role, SessionPolicy, StaffGrants, staff_id_for
from shared.domain.programme import Programme
from shared.domain.refusals import RefusalKind, Refused
from shared.services.identity import AssertionVerifier, IdentityService, LoginRefused, NotAuthenticated
from tests.unit.fakes import FakePatients, FakeSessions
from tests.unit.fakes_registry import FakeStaffRegistry

ISSUER, AUDIENCE = "https://login.example.test", "e-rejestracja"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NOW = datetime.now(UTC).replace(microsecond=0)


class OneKey:
    def key_for(self, kid: str | None) -> jwt.PyJWK:
        return jwt.PyJWK.from_dict(
            {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "alg": "RS256"}
        )


def assertion(
    pesel: str,
    roles: list[str] | None = None,
    point_ids: list[str] | None = None,
    acr: str = "http://eidas.europa.eu/LoA/substantial",
) -> str:
    issued = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": issued, "exp": issued + 300, "jti": str(uuid.uuid4()),
              "pesel": pesel, "given_name": "Jan", "family_name": "Testowy", "roles": roles or [], "acr": acr,
              "point_ids": point_ids or []}  # fmt: skip
    return jwt.encode(claims, KEY, algorithm="RS256")


class World:
    def __init__(self, programme: Programme | None = None, honour_claimed_points: bool = True) -> None:
        self.sessions, self.patients, self.registry = FakeSessions(), FakePatients(), FakeStaffRegistry()
        self.programme = programme or demo_programme(NOW)
        policy = SessionPolicy(absolute=timedelta(hours=1), idle=timedelta(minutes=15))
        self.service = IdentityService(
            AssertionVerifier({ISSUER: OneKey()}, AUDIENCE), self.sessions, self.patients, lambda: self.programme,
            policy, policy, staff_id_of=lambda pesel: staff_id_for(pesel, "unit-key"), registry=self.registry,
            honour_claimed_points=honour_claimed_points,
        )  # fmt: skip


PESEL = pesel_for(date(1980, 5, 17), 7, female=True)


def test_a_first_login_registers_the_patient_with_an_e_referral_and_opens_a_session() -> None:
    world = World()
    result = world.service.login(assertion(PESEL), NOW)
    assert result.patient is not None and result.patient.pesel == PESEL
    assert result.referral is not None and result.referral.is_valid(NOW)
    assert result.eligibility is not None and result.eligibility.open
    principal = world.service.authenticate(result.session_token, NOW)
    assert (principal.roles, principal.patient_id) == (frozenset({Role.PATIENT}), result.patient.patient_id)
    assert world.sessions.writes == 1


def test_a_returning_patient_costs_one_session_write_and_keeps_their_id() -> None:
    world = World()
    first = world.service.login(assertion(PESEL), NOW)
    writes = world.sessions.writes
    again = world.service.login(assertion(PESEL), NOW)
    assert again.patient is not None and first.patient is not None
    assert again.patient.patient_id == first.patient.patient_id
    assert world.sessions.writes == writes + 1


def test_a_returning_patient_keeps_a_valid_e_referral_and_gets_a_new_one_once_it_lapsed() -> None:
    world = World()
    first = world.service.login(assertion(PESEL), NOW)
    assert first.patient is not None and first.referral is not None
    again = world.service.login(assertion(PESEL), NOW + timedelta(days=1))
    assert again.referral == first.referral
    assert world.patients.referrals[first.patient.patient_id] == [first.referral]

    later = NOW + timedelta(days=200)  # past the programme's 180 days
    renewed = world.service.login(assertion(PESEL), later)
    assert renewed.referral is not None and renewed.referral != first.referral and renewed.referral.is_valid(later)
    assert world.patients.current(PESEL) == (renewed.patient, renewed.referral)


def test_a_closed_cohort_logs_in_without_an_e_referral() -> None:
    programme = demo_programme(NOW)
    for cohort in programme.cohorts:
        cohort.opens_at = NOW + timedelta(days=3)
    result = World(programme).service.login(assertion(PESEL), NOW)
    assert result.referral is None
    assert result.eligibility is not None and not result.eligibility.open


def test_an_assertion_opens_one_session_only() -> None:
    world = World()
    token = assertion(PESEL)
    world.service.login(token, NOW)
    with pytest.raises(LoginRefused) as refusal:
        world.service.login(token, NOW)
    assert refusal.value.reason == "assertion_replayed"


def test_staff_sessions_carry_roles_and_points_and_no_patient() -> None:
    world = World()
    result = world.service.login(assertion(PESEL, roles=["point_staff"], point_ids=["p-1"]), NOW)
    principal = world.service.authenticate(result.session_token, NOW)
    assert principal.roles == frozenset({Role.POINT_STAFF}) and principal.point_ids == frozenset({"p-1"})
    assert principal.patient_id is None and principal.staff_id is not None
    assert world.patients.by_pesel == {}
    assert PESEL not in str(world.sessions.profiles)


@pytest.mark.parametrize(
    ("token", "reason"),
    [(None, "no_session"), ("garbage", "invalid_session"), ("0" * 64 + "." + "A" * 43, "invalid_session")],
)
def test_a_missing_or_forged_session_is_refused(token: str | None, reason: str) -> None:
    with pytest.raises(NotAuthenticated) as refusal:
        World().service.authenticate(token, NOW)
    assert refusal.value.reason == reason


def test_a_session_with_the_wrong_secret_is_refused() -> None:
    world = World()
    session_id, _ = world.service.login(assertion(PESEL), NOW).session_token.split(".")
    with pytest.raises(NotAuthenticated):
        world.service.authenticate(f"{session_id}.{'B' * 43}", NOW)


def test_idle_sessions_expire_and_logout_ends_a_session_at_once() -> None:
    world = World()
    token = world.service.login(assertion(PESEL), NOW).session_token
    with pytest.raises(NotAuthenticated) as idle:
        world.service.authenticate(token, NOW + timedelta(minutes=16))
    assert idle.value.reason == "session_expired"
    other = world.service.login(assertion(PESEL), NOW).session_token
    world.service.logout(world.service.authenticate(other, NOW), NOW)
    with pytest.raises(NotAuthenticated):
        world.service.authenticate(other, NOW)


def test_without_its_session_store_nobody_logs_in_or_passes_a_session_check() -> None:
    world = World()
    token = world.service.login(assertion(PESEL), NOW).session_token
    world.sessions.down = True
    for call in (lambda: world.service.login(assertion(PESEL), NOW), lambda: world.service.authenticate(token, NOW)):
        with pytest.raises(Refused) as refusal:
            call()
        assert (refusal.value.kind, refusal.value.code) == (RefusalKind.UNAVAILABLE, "sessions_unavailable")
    world.sessions.down = False
    assert world.service.authenticate(token, NOW).patient_id is not None


def test_point_roles_come_from_the_registry_on_every_request_and_claims_count_only_where_honoured() -> None:
    world = World(honour_claimed_points=False)
    staff_id = staff_id_for(PESEL, "unit-key")
    world.registry.grants[staff_id] = StaffGrants({"p-2": Role.POINT_MANAGER})
    # No role in the assertion: the registry alone makes this a staff session.
    token = world.service.login(assertion(PESEL), NOW).session_token
    principal = world.service.authenticate(token, NOW)
    assert principal.patient_id is None and principal.staff_id == staff_id
    assert principal.roles == {Role.POINT_MANAGER} and principal.manages_point("p-2")
    world.registry.grants[staff_id] = StaffGrants({"p-2": Role.POINT_STAFF})
    principal = world.service.authenticate(token, NOW)
    assert principal.serves_point("p-2") and not principal.manages_point("p-2")
    world.registry.grants.pop(staff_id)
    assert world.service.authenticate(token, NOW).roles == frozenset()
    # A claimed point is not honoured in the cloud.
    claimed = world.service.login(assertion(PESEL, roles=["point_manager"], point_ids=["p-9"]), NOW).session_token
    assert not world.service.authenticate(claimed, NOW).serves_point("p-9")


def test_registry_staff_signing_in_at_a_weak_level_get_no_staff_powers() -> None:
    world = World(honour_claimed_points=False)
    world.registry.grants[staff_id_for(PESEL, "unit-key")] = StaffGrants({"p-2": Role.POINT_MANAGER})
    token = world.service.login(assertion(PESEL, acr="http://eidas.europa.eu/LoA/low"), NOW).session_token
    principal = world.service.authenticate(token, NOW)
    assert principal.staff_id is None and principal.patient_id is not None
    assert principal.roles == {Role.PATIENT} and not principal.serves_point("p-2")


def test_a_patient_at_a_weak_level_costs_no_registry_read_and_one_granted_since_is_staff_at_the_next_strong_login() -> (
    None
):
    world = World(honour_claimed_points=False)
    weak, strong = "http://eidas.europa.eu/LoA/low", "http://eidas.europa.eu/LoA/substantial"
    world.service.login(assertion(PESEL, acr=weak), NOW)
    assert world.registry.reads == 0  # the registry could change nothing at this level
    assert world.service.login(assertion(PESEL, acr=strong), NOW).session.roles == {Role.PATIENT}
    assert world.registry.reads == 1
    world.registry.grants[staff_id_for(PESEL, "unit-key")] = StaffGrants({"p-2": Role.POINT_STAFF})
    token = world.service.login(assertion(PESEL, acr=strong), NOW).session_token
    assert world.service.authenticate(token, NOW).serves_point("p-2")
    assert world.registry.reads == 3  # the two strong logins and the request's check


def test_a_registry_that_does_not_answer_refuses_staff_requests() -> None:
    world = World()
    token = world.service.login(assertion(PESEL, roles=["agent"]), NOW).session_token
    world.registry.down = True
    with pytest.raises(Refused) as refused:
        world.service.authenticate(token, NOW)
    assert refused.value.kind == RefusalKind.UNAVAILABLE


def test_staff_ids_are_keyed() -> None:
    assert staff_id_for(PESEL, "key-a") != staff_id_for(PESEL, "key-b")
    assert staff_id_for(PESEL, "key-a") == staff_id_for(PESEL, "key-a")
    assert len(staff_id_for(PESEL, "key-a")) <= 40  # the StaffId columns are STRING(40)
    unkeyed = hashlib.sha256(f"e-rejestracja-staff:{PESEL}".encode()).hexdigest()[:24]
    assert staff_id_for(PESEL, "key-a") != "staff-" + unkeyed
    with pytest.raises(ValueError):
        staff_id_for(PESEL, "")
