"""Recording a vaccination and marking a no-show: who may, when, and what follows. Plain Python.

A vaccination is recorded at the visit's point on the visit's day, against the 4-digit check-in
code from the patient's SMS (a few wrong tries per visit, then the code is locked). It completes
the visit; the next dose is booked if none is, and any other open visit of the same dose elsewhere
is cancelled, so no orphaned booking holds a place (in 2021 they held 18,000).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from shared.domain.booking import WARSAW, Visit, VisitStatus, local_iso
from shared.domain.refusals import RefusalKind, Refused

MAX_WRONG_CODES = 5
VOID_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Actor:
    """Staff acting at points: point staff on their own points, managers also run them, admins any."""

    staff_id: str
    point_ids: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False
    managed_point_ids: frozenset[str] = field(default_factory=frozenset)

    def acts_on(self, point_id: str) -> bool:
        return self.admin or point_id in self.point_ids or point_id in self.managed_point_ids

    def manages(self, point_id: str) -> bool:
        return self.admin or point_id in self.managed_point_ids


@dataclass(frozen=True)
class Vaccination:
    patient_id: str
    visit_id: str
    series_id: str
    dose: int
    vaccine: str
    point_id: str
    lot: str
    vaccinated_at: datetime
    staff_id: str

    def as_json(self) -> dict[str, Any]:
        return {
            "visit_id": self.visit_id,
            "patient_id": self.patient_id,
            "series_id": self.series_id,
            "dose": self.dose,
            "vaccine": self.vaccine,
            "point_id": self.point_id,
            "lot": self.lot,
            "vaccinated_at": local_iso(self.vaccinated_at),
            "staff_id": self.staff_id,
        }


def local_day(moment: datetime) -> date:
    return moment.astimezone(WARSAW).date()


def check_point(actor: Actor, point_id: str) -> None:
    if not actor.acts_on(point_id):
        raise Refused(RefusalKind.FORBIDDEN, "not_your_point", "Nie obsługujesz tego punktu szczepień")


def check_may_vaccinate(actor: Actor, visit: Visit, now: datetime) -> None:
    """Everything but the code: the actor's point, the visit's state and day."""
    if not actor.acts_on(visit.point_id):
        raise Refused(RefusalKind.FORBIDDEN, "visit_of_other_point", "Ta wizyta jest w innym punkcie szczepień")
    if visit.status != VisitStatus.BOOKED:
        raise Refused(RefusalKind.CONFLICT, "visit_not_active", "Ta wizyta nie jest już umówiona")
    if local_day(visit.starts_at) != local_day(now):
        raise Refused(
            RefusalKind.CONFLICT,
            "visit_not_today",
            f"Ta wizyta jest umówiona na {local_day(visit.starts_at):%d.%m.%Y}, nie na dziś",
        )


def check_in_code_refusal(visit: Visit, code: str, wrong_attempts: int) -> Refused | None:
    """None when the code is right; the refusal otherwise (the caller counts a wrong try)."""
    if wrong_attempts >= MAX_WRONG_CODES:
        return Refused(
            RefusalKind.RULE,
            "check_in_code_locked",
            "Zbyt wiele błędnych kodów dla tej wizyty; potwierdź tożsamość pacjenta i umów wizytę ponownie",
        )
    if hmac.compare_digest(code.encode(), visit.check_in_code.encode()):
        return None
    left = MAX_WRONG_CODES - wrong_attempts - 1
    return Refused(
        RefusalKind.RULE,
        "wrong_check_in_code",
        f"Nieprawidłowy kod z SMS-a (pozostałe próby: {left})",
        field="check_in_code",
    )


@dataclass(frozen=True)
class IdentityCheck:
    """The point checked an identity document instead of the check-in code (a landline-only patient,
    a lost code): why, and how many such checks the staff member has already made today."""

    reason: str
    made_today: int
    limit: int

    def refusal(self) -> Refused | None:
        if self.made_today >= self.limit:
            return Refused(
                RefusalKind.RULE,
                "identity_check_limit",
                f"Wykorzystano dzienny limit szczepień bez kodu z SMS-a ({self.limit}); poproś kierownika punktu",
                field="identity_checked",
            )
        return None


def check_may_void(actor: Actor, visit: Visit, vaccination: Vaccination | None, now: datetime) -> None:
    """A point manager voids a dose recorded at their point, within 24 hours of recording it."""
    if not actor.manages(visit.point_id):
        raise Refused(RefusalKind.FORBIDDEN, "not_point_manager", "Tylko kierownik punktu może unieważnić szczepienie")
    if visit.status != VisitStatus.COMPLETED or vaccination is None:
        raise Refused(RefusalKind.CONFLICT, "not_vaccinated", "Ta wizyta nie ma zapisanego szczepienia")
    if now - vaccination.vaccinated_at > VOID_WINDOW:
        raise Refused(
            RefusalKind.RULE, "void_too_late", "Szczepienie można unieważnić tylko w ciągu 24 godzin od zapisu"
        )


def check_may_mark_no_show(actor: Actor, visit: Visit, now: datetime) -> None:
    if not actor.acts_on(visit.point_id):
        raise Refused(RefusalKind.FORBIDDEN, "visit_of_other_point", "Ta wizyta jest w innym punkcie szczepień")
    if visit.status != VisitStatus.BOOKED:
        raise Refused(RefusalKind.CONFLICT, "visit_not_active", "Ta wizyta nie jest już umówiona")
    if visit.starts_at > now:
        raise Refused(RefusalKind.RULE, "visit_not_started", "Termin tej wizyty jeszcze się nie zaczął")


def later_doses(visit: Visit, patient_visits: Iterable[Visit]) -> list[Visit]:
    """The open visits of the same series after this one: they depend on it."""
    return sorted(
        (v for v in patient_visits if v.series_id == visit.series_id and v.dose > visit.dose and v.is_active),
        key=lambda v: v.dose,
    )


def orphans(visit: Visit, patient_visits: Iterable[Visit]) -> list[Visit]:
    """Other open visits of the same dose, with the later doses of their own series: once this dose is
    given they only hold places. That includes a visit of the same series (a walk-in took the dose
    booked elsewhere), whose later doses are this visit's too and so stay."""
    visits = list(patient_visits)
    others = [v for v in visits if v.is_active and v.visit_id != visit.visit_id and v.dose == visit.dose]
    found = {v.visit_id: v for v in others}
    for other in others:
        if other.series_id == visit.series_id:
            continue
        for later in later_doses(other, visits):
            found[later.visit_id] = later
    return sorted(found.values(), key=lambda v: (v.starts_at, v.dose))
