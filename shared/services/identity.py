"""Login, logout and session checks.

``login`` verifies the national login node's assertion, creates or refreshes the patient (issuing an
e-referral when their cohort is open and they have none), and opens a session. The hot path for a
returning patient is one index read in Spanner (the patient with their current e-referral) and one
Firestore commit, and at a strong authentication level one get of the staff registry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import jwt

from shared.domain.identity import (
    STRONG_ACR,
    AssertionReplayed,
    Eligibility,
    InvalidIdentity,
    Person,
    Principal,
    Role,
    Session,
    SessionPolicy,
    StaffGrants,
    UnknownSigningKey,
    WeakAuthentication,
    eligibility,
    federated_claims,
    person_from_claims,
)
from shared.domain.patients import PatientRecord, Referral
from shared.domain.programme import Programme
from shared.domain.refusals import RefusalKind, Refused

# Asymmetric algorithms only: never "none", never HMAC (a public key must not become a shared secret).
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"})
MAX_EXPIRY = 7_258_118_400  # 2200-01-01: an expiry beyond it is no real assertion's (and overflows dates)
TOKEN_SHAPE = re.compile(r"^([0-9a-f]{64})\.([A-Za-z0-9_-]{43})$")


class LoginRefused(Exception):
    """The assertion is not acceptable; ``reason`` is a stable code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotAuthenticated(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SessionsUnavailable(Exception):
    """The session store did not answer: no session can be opened or checked (fail closed)."""


def sessions_down() -> Refused:
    """503: without its session store nobody is let in (fail closed)."""
    return Refused(
        RefusalKind.UNAVAILABLE, "sessions_unavailable", "Logowanie i sesje chwilowo niedostępne, spróbuj za chwilę"
    )


class RegistryUnavailable(Exception):
    """The registry of staff did not answer: no point role can be granted (fail closed)."""


class StaffRegistry(Protocol):
    def grants_of(self, staff_id: str) -> StaffGrants:
        """Where the person works (empty grants if nowhere); ``RegistryUnavailable`` if it does not answer."""
        ...


def registry_down() -> Refused:
    return Refused(RefusalKind.UNAVAILABLE, "registry_unavailable", "Rejestr personelu chwilowo niedostępny")


class KeySource(Protocol):
    def key_for(self, kid: str | None) -> jwt.PyJWK: ...


class SessionRepository(Protocol):
    """Sessions and the one-time-use guard of assertions (a session's id is its assertion's key).
    Every method raises ``SessionsUnavailable`` when the store does not answer."""

    def open(self, session: Session, staff_profile: Any = None) -> None:
        """Create the session; ``AssertionReplayed`` if its id was ever opened before."""
        ...

    def get(self, session_id: str) -> Session | None: ...
    def touch(self, session_id: str, now: datetime) -> None: ...
    def revoke(self, session_id: str, now: datetime) -> None: ...


class Patients(Protocol):
    def current(self, pesel: str) -> tuple[PatientRecord | None, Referral | None]:
        """The patient and their current e-referral (``current_referral``: valid now if any of theirs is)."""
        ...

    def register(
        self, person: Person, now: datetime, issue_referral: bool, referral_valid_days: int, issued_by: str
    ) -> tuple[PatientRecord, Referral | None]: ...


class AssertionVerifier:
    def __init__(
        self,
        issuers: Mapping[str, KeySource],
        audience: str,
        leeway_s: int = 30,
        providers: frozenset[str] | None = None,
    ) -> None:
        self.issuers = dict(issuers)
        self.audience = audience
        self.leeway_s = leeway_s
        # Identity Platform's sign-in providers accepted (None: any); tokens of other issuers have none.
        self.providers = providers

    def verify(self, token: str) -> dict[str, Any]:
        try:  # the header and the issuer, from one parse of the token (the verified decode is the second)
            parsed = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise LoginRefused("malformed_assertion") from None
        header, unverified = parsed["header"], parsed["payload"]
        algorithm, kid, issuer = header.get("alg"), header.get("kid"), unverified.get("iss")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
            raise LoginRefused("algorithm_not_allowed")
        if not isinstance(kid, str | None) or not isinstance(issuer, str):
            raise LoginRefused("malformed_assertion")
        keys = self.issuers.get(issuer)
        if keys is None:
            raise LoginRefused("untrusted_issuer")
        try:
            key = keys.key_for(kid)
        except UnknownSigningKey:
            raise LoginRefused("unknown_signing_key") from None
        if key.algorithm_name != algorithm:
            raise LoginRefused("algorithm_not_allowed")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise LoginRefused("assertion_expired") from None
        except jwt.ImmatureSignatureError:
            raise LoginRefused("assertion_not_yet_valid") from None
        except jwt.InvalidAudienceError:
            raise LoginRefused("wrong_audience") from None
        except jwt.InvalidSignatureError:
            raise LoginRefused("bad_signature") from None
        except jwt.PyJWTError:
            raise LoginRefused("malformed_assertion") from None
        if not isinstance(claims["exp"], int) or not 0 < claims["exp"] < MAX_EXPIRY:
            raise LoginRefused("malformed_assertion")
        firebase = claims.get("firebase")
        allowed = self.providers
        if isinstance(firebase, dict) and allowed is not None and firebase.get("sign_in_provider") not in allowed:
            raise LoginRefused("provider_not_allowed")
        return federated_claims(claims)


@dataclass(frozen=True)
class LoginResult:
    session_token: str
    session: Session
    patient: PatientRecord | None
    referral: Referral | None
    eligibility: Eligibility | None
    # Staff: the caller as the registry has them now (their point roles), as each request will see them.
    principal: Principal | None = None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment.rstrip("=") + "=" * (-len(segment.rstrip("=")) % 4))


def assertion_key(claims: Mapping[str, Any], token: str) -> str:
    """One-time-use key: the issuer's assertion id, or where it has none, what the issuer signed.

    Never the token string: the same assertion can be spelt many ways (base64 padding appended,
    other unused bits in the last character, an ECDSA signature's mirror image) and each verifies.
    The decoded header and claims cannot vary without breaking the signature.
    """
    jti = claims.get("jti")
    if isinstance(jti, str) and jti:
        basis = f"{claims.get('iss')}|{jti}".encode()
    else:
        header, payload, _ = token.split(".")
        basis = b"signed|" + _b64url(header) + b"." + _b64url(payload)
    return hashlib.sha256(basis).hexdigest()


class IdentityService:
    def __init__(
        self,
        verifier: AssertionVerifier,
        sessions: SessionRepository,
        patients: Patients,
        programme: Callable[[], Programme | None],
        patient_policy: SessionPolicy,
        staff_policy: SessionPolicy,
        staff_acr: Collection[str] = STRONG_ACR,
        *,
        staff_id_of: Callable[[str], str],
        registry: StaffRegistry | None = None,
        honour_claimed_points: bool = False,
    ) -> None:
        self.staff_acr = staff_acr
        self.verifier = verifier
        self.sessions = sessions
        self.patients = patients
        self.programme = programme
        self.patient_policy = patient_policy
        self.staff_policy = staff_policy
        # PESEL -> staff id (keyed: the key comes from configuration, and only login needs it).
        self.staff_id_of = staff_id_of
        # Where people work comes from the registry; the claims' point roles only where honoured (local).
        self.registry = registry
        self.honour_claimed_points = honour_claimed_points

    def _grants(self, staff_id: str) -> StaffGrants:
        if self.registry is None:
            return StaffGrants()
        try:
            return self.registry.grants_of(staff_id)
        except RegistryUnavailable:
            raise registry_down() from None

    def login(self, assertion: str, now: datetime) -> LoginResult:
        claims = self.verifier.verify(assertion)
        try:
            person = person_from_claims(claims, self.staff_acr)
        except WeakAuthentication:
            raise LoginRefused("weak_authentication") from None
        except InvalidIdentity:
            raise LoginRefused("invalid_identity") from None
        secret = secrets.token_urlsafe(32)
        # A person the registry names at a point signs in as staff even with no role in the assertion,
        # but only at a strong authentication level: at a weaker one they sign in as a patient, so the
        # registry is not asked (a round trip fewer for such a patient's login).
        strong = claims.get("acr") in self.staff_acr
        grants = self._grants(self.staff_id_of(person.pesel)) if person.is_staff or strong else StaffGrants()
        is_staff = person.is_staff or (bool(grants.roles) and strong)
        policy = self.staff_policy if is_staff else self.patient_policy
        session = Session(
            session_id=assertion_key(claims, assertion),
            roles=person.roles if is_staff else frozenset({Role.PATIENT}),
            created_at=now,
            expires_at=now + policy.absolute,
            last_seen_at=now,
            secret_hash=secret_hash(secret),
            retain_until=max(now + policy.absolute, datetime.fromtimestamp(int(claims["exp"]), UTC)),
            assertion_issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
        )
        token = f"{session.session_id}.{secret}"
        if is_staff:
            return self._login_staff(person, token, session, now, grants)
        return self._login_patient(person, token, session, now)

    def _login_patient(self, person: Person, token: str, session: Session, now: datetime) -> LoginResult:
        patient, referral, status = self.enrol(person, now, issued_by="login")
        session = replace(session, patient_id=patient.patient_id)
        self._open(session)
        return LoginResult(token, session, patient, referral, status)

    def enrol(
        self, person: Person, now: datetime, issued_by: str
    ) -> tuple[PatientRecord, Referral | None, Eligibility | None]:
        """Create or refresh the patient as at a login: the programme's rules decide eligibility, and an
        e-referral is issued when their cohort is open and they hold none (also for a caller an agent
        registers at the hotline)."""
        programme = self.programme()
        status = eligibility(programme, person.birth_date, now) if programme else None
        patient, current = self.patients.current(person.pesel)
        referral = current if current is not None and current.is_valid(now) else None
        needs_referral = status is not None and status.open and referral is None
        if patient is None or not patient.matches(person) or needs_referral:
            patient, referral = self.patients.register(
                person,
                now,
                issue_referral=needs_referral,
                referral_valid_days=programme.referral_valid_days if programme else 180,
                issued_by=issued_by,
            )
        return patient, referral, status

    def _login_staff(
        self, person: Person, token: str, session: Session, now: datetime, grants: StaffGrants
    ) -> LoginResult:
        session = replace(session, staff_id=self.staff_id_of(person.pesel), point_ids=person.point_ids)
        profile = {
            "given_name": person.given_name,
            "family_name": person.family_name,
            "roles": sorted(person.roles),
            "point_ids": sorted(person.point_ids),
            "last_login_at": now,
        }
        self._open(session, profile)
        principal = session.principal()
        if self.registry is not None:
            principal = principal.with_grants(grants, self.honour_claimed_points)
        return LoginResult(token, session, None, None, None, principal)

    def _open(self, session: Session, profile: dict[str, Any] | None = None) -> None:
        try:
            self.sessions.open(session, profile)
        except AssertionReplayed:
            raise LoginRefused("assertion_replayed") from None
        except SessionsUnavailable:
            raise sessions_down() from None

    def authenticate(self, token: str | None, now: datetime) -> Principal:
        if not token:
            raise NotAuthenticated("no_session")
        shape = TOKEN_SHAPE.match(token)
        if shape is None:
            raise NotAuthenticated("invalid_session")
        session_id, secret = shape.groups()
        try:
            session = self.sessions.get(session_id)
        except SessionsUnavailable:
            raise sessions_down() from None
        if session is None or not hmac.compare_digest(session.secret_hash, secret_hash(secret)):
            raise NotAuthenticated("invalid_session")
        policy = self.patient_policy if Role.PATIENT in session.roles else self.staff_policy
        if not session.is_live(now, policy):
            raise NotAuthenticated("session_expired")
        if session.needs_touch(now, policy):
            try:
                self.sessions.touch(session.session_id, now)
            except SessionsUnavailable:
                raise sessions_down() from None
        principal = session.principal()
        if principal.staff_id is None or self.registry is None:
            return principal
        return principal.with_grants(self._grants(principal.staff_id), self.honour_claimed_points)

    def logout(self, principal: Principal, now: datetime) -> None:
        try:
            self.sessions.revoke(principal.session_id, now)
        except SessionsUnavailable:
            raise sessions_down() from None
