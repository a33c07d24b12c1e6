"""Who is calling and what they may touch: people, roles, sessions, eligibility. No I/O."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.pl import pesel as pesel_number

from shared.domain.programme import Cohort, Programme


class Role(StrEnum):
    PATIENT = "patient"
    AGENT = "agent"
    POINT_STAFF = "point_staff"
    # Runs a point: what point staff do, plus its staff, a voided dose and a cancelled day.
    POINT_MANAGER = "point_manager"
    # Runs the registry of points inside one voivodeship.
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    ANALYST = "analyst"


STAFF_ROLES = frozenset({Role.AGENT, Role.POINT_STAFF, Role.POINT_MANAGER, Role.COORDINATOR, Role.ADMIN, Role.ANALYST})
POINT_ROLES = frozenset({Role.POINT_STAFF, Role.POINT_MANAGER})


class InvalidIdentity(ValueError):
    """The assertion names a person or a role the system cannot accept."""


class AssertionReplayed(Exception):
    """The assertion was used before: each one opens at most one session."""


class UnknownSigningKey(LookupError):
    """The identity provider has no key with the id the token names."""


def birth_date_from_pesel(pesel: str) -> date:
    """The birth date a valid PESEL encodes; raises InvalidIdentity for an invalid one."""
    try:
        pesel_number.validate(pesel)
        birth: date = pesel_number.get_birth_date(pesel)
    except StdnumError as error:
        raise InvalidIdentity("invalid PESEL") from error
    return birth


def is_valid_pesel(value: str) -> bool:
    return bool(pesel_number.is_valid(value))


@dataclass(frozen=True)
class Person:
    """A person as the national login node vouches for them."""

    pesel: str
    given_name: str
    family_name: str
    roles: frozenset[Role] = frozenset()
    point_ids: frozenset[str] = frozenset()

    @property
    def birth_date(self) -> date:
        return birth_date_from_pesel(self.pesel)

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)


class WeakAuthentication(InvalidIdentity):
    """A staff role asserted at an authentication level (``acr``) the system does not accept for staff."""


# eIDAS levels of assurance of the national login node; staff roles need one of these (configurable).
STRONG_ACR = frozenset({"http://eidas.europa.eu/LoA/substantial", "http://eidas.europa.eu/LoA/high"})


def person_from_claims(claims: dict[str, object], staff_acr: Collection[str] = STRONG_ACR) -> Person:
    pesel = claims.get("pesel")  # never `sub`: a provider's subject id is not a PESEL
    given, family = claims.get("given_name"), claims.get("family_name")
    if not isinstance(pesel, str) or not is_valid_pesel(pesel):
        raise InvalidIdentity("invalid PESEL")
    if not isinstance(given, str) or not isinstance(family, str) or not given.strip() or not family.strip():
        raise InvalidIdentity("missing names")
    raw_roles = claims.get("roles") or []
    raw_points = claims.get("point_ids") or []
    if not isinstance(raw_roles, list) or not isinstance(raw_points, list):
        raise InvalidIdentity("roles and point_ids must be lists")
    try:
        roles = frozenset(Role(r) for r in raw_roles) - {Role.PATIENT}
    except ValueError as error:
        raise InvalidIdentity("unknown role") from error
    point_ids = frozenset(str(p) for p in raw_points)
    if roles and claims.get("acr") not in staff_acr:
        raise WeakAuthentication("staff sign-in without strong authentication")
    if roles & POINT_ROLES and not point_ids:
        raise InvalidIdentity("point staff without a point")
    return Person(pesel, given.strip()[:200], family.strip()[:200], roles, point_ids)


def staff_id_for(pesel: str, key: str) -> str:
    """A stable pseudonymous id for a staff member (audit trails, events and reports name it, never
    the PESEL). Keyed: without the key, hashing the whole PESEL space does not reverse it."""
    if not key:
        raise ValueError("a staff id needs the configured key")
    digest = hmac.new(key.encode(), f"e-rejestracja-staff:{pesel}".encode(), hashlib.sha256).hexdigest()
    return "staff-" + digest[:24]


@dataclass(frozen=True)
class StaffGrants:
    """Where the registry says a person works: their role at each point, and the voivodeship they
    coordinate (if any)."""

    points: Mapping[str, Role] = field(default_factory=dict)
    coordinator_of: str | None = None

    @property
    def roles(self) -> frozenset[Role]:
        roles = set(self.points.values())
        if self.coordinator_of:
            roles.add(Role.COORDINATOR)
        return frozenset(roles)


@dataclass(frozen=True)
class Principal:
    """The caller of a request, from their session."""

    session_id: str
    roles: frozenset[Role]
    patient_id: str | None = None
    staff_id: str | None = None
    point_ids: frozenset[str] = field(default_factory=frozenset)
    # None: every point of ``point_ids`` when the principal is a point manager (claims name no role per point).
    managed_point_ids: frozenset[str] | None = None
    # The voivodeship a coordinator runs (from the registry).
    voivodeship: str | None = None

    def serves_point(self, point_id: str) -> bool:
        return bool(self.roles & POINT_ROLES) and point_id in self.point_ids

    def manages_point(self, point_id: str) -> bool:
        if self.managed_point_ids is not None:
            return point_id in self.managed_point_ids
        return Role.POINT_MANAGER in self.roles and point_id in self.point_ids

    def with_grants(self, grants: StaffGrants, honour_claimed_points: bool) -> Principal:
        """The principal as the registry says: point roles and the coordinated voivodeship come from
        ``grants``; the claims' point roles count only where ``honour_claimed_points`` (local)."""
        claimed = self.roles & POINT_ROLES if honour_claimed_points else frozenset()
        claimed_points = self.point_ids if claimed else frozenset()
        claimed_managed = claimed_points if Role.POINT_MANAGER in claimed else frozenset()
        national = self.roles - POINT_ROLES - {Role.COORDINATOR}
        managed = frozenset(p for p, r in grants.points.items() if r == Role.POINT_MANAGER)
        return replace(
            self,
            roles=national | claimed | grants.roles,
            point_ids=claimed_points | frozenset(grants.points),
            managed_point_ids=claimed_managed | managed,
            voivodeship=grants.coordinator_of,
        )


@dataclass(frozen=True)
class SessionPolicy:
    absolute: timedelta
    idle: timedelta
    # last_seen is written at most this often, so a busy session does not cost a write a request
    touch_every: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class Session:
    # The id is derived from the assertion that opened it, so a replayed assertion cannot open a
    # second one; the token is "<id>.<secret>" and only the secret's hash is stored.
    session_id: str
    roles: frozenset[Role]
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    patient_id: str | None = None
    staff_id: str | None = None
    point_ids: frozenset[str] = frozenset()
    revoked: bool = False
    secret_hash: str = ""
    # Kept at least until the assertion expires, so that its replay still finds this document.
    retain_until: datetime | None = None
    # When the assertion was issued: a guard that lost its memory refuses assertions from before the loss.
    assertion_issued_at: datetime | None = None

    def is_live(self, now: datetime, policy: SessionPolicy) -> bool:
        return not self.revoked and now < self.expires_at and now < self.last_seen_at + policy.idle

    def needs_touch(self, now: datetime, policy: SessionPolicy) -> bool:
        return now - self.last_seen_at >= policy.touch_every

    def principal(self) -> Principal:
        return Principal(self.session_id, self.roles, self.patient_id, self.staff_id, self.point_ids)


@dataclass(frozen=True)
class Eligibility:
    cohort: Cohort | None
    open: bool

    @property
    def code(self) -> str:
        if self.cohort is None:
            return "no_cohort"
        return "open" if self.open else "cohort_not_open"


def eligibility(programme: Programme, birth_date: date, now: datetime) -> Eligibility:
    cohort = programme.cohort_of(birth_date)
    return Eligibility(cohort, cohort is not None and cohort.is_open(now))


# The person's attributes the national login node asserts (SAML attributes, as Identity Platform
# passes them on). Roles and points never come from there: staff roles are custom claims.
# "acr": the login node's authentication level, passed as a SAML attribute (Identity Platform does not
# carry the assertion's AuthnContextClassRef, and reserves "acr" as a custom claim).
FEDERATED_ATTRIBUTES = ("pesel", "given_name", "family_name", "birth_date", "acr")


def federated_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """An Identity Platform ID token's claims with the SAML attributes lifted to the top level.

    Identity Platform puts the assertion's attributes under ``firebase.sign_in_attributes`` and its
    own user id in ``sub``; the person is read from the attributes (never from ``sub``). A token
    without them (the development provider's) is returned as it is.
    """
    firebase = claims.get("firebase")
    attributes = firebase.get("sign_in_attributes") if isinstance(firebase, dict) else None
    if not isinstance(attributes, dict):
        return claims
    lifted = {k: v for k, v in claims.items() if k not in (*FEDERATED_ATTRIBUTES, "sub")}
    for name in FEDERATED_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, list) and len(value) == 1:  # a SAML attribute may carry a list of values
            value = value[0]
        if value is not None:
            lifted[name] = value
    return lifted
