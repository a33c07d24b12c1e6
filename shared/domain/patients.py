"""Patients and their e-referrals as the rules see them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from shared.domain.identity import Person


@dataclass(frozen=True)
class PatientRecord:
    patient_id: str
    pesel: str
    given_name: str
    family_name: str
    birth_date: date
    phone: str | None

    def matches(self, person: Person) -> bool:
        return (self.given_name, self.family_name) == (person.given_name, person.family_name)

    def surname_starts_with(self, query: str) -> bool:
        """The day list's search: the start of the surname, whatever the case."""
        return self.family_name.casefold().startswith(query.strip().casefold())


@dataclass(frozen=True)
class Referral:
    patient_id: str
    referral_id: str
    vaccine: str | None
    status: str
    issued_at: datetime
    valid_until: datetime

    def is_valid(self, now: datetime) -> bool:
        return self.status == "ACTIVE" and now < self.valid_until


def current_referral(referrals: Iterable[Referral]) -> Referral | None:
    """The referral a patient's row keeps: the ACTIVE one valid longest (None: no ACTIVE one).

    The patient holds a valid referral at any moment exactly when this one is valid then, so a login
    decides on it alone whether to issue a new one."""
    active = [r for r in referrals if r.status == "ACTIVE"]
    return max(active, key=lambda r: (r.valid_until, r.referral_id), default=None)
