"""Slots, visits and the rules of booking, moving and cancelling them. Plain Python, no I/O.

A booking takes a place in a slot for dose 1 and, for a multi-dose vaccine, a place for each next
dose inside its interval window after the previous one. Only these rules change a slot's counter.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from shared.domain.identity import Eligibility
from shared.domain.local_time import WARSAW as WARSAW  # re-exported: callers import it from here too
from shared.domain.local_time import age_on
from shared.domain.local_time import local_iso as local_iso
from shared.domain.patients import Referral
from shared.domain.programme import Vaccine
from shared.domain.refusals import RefusalKind, Refused


class VisitStatus(StrEnum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


class Channel(StrEnum):
    WEB = "WEB"
    CALL_CENTRE = "CALL_CENTRE"
    POINT = "POINT"
    SMS = "SMS"


@dataclass(frozen=True)
class Slot:
    point_id: str
    starts_at: datetime
    vaccine: str
    capacity: int
    booked: int
    voivodeship: str = ""
    county: str = ""
    municipality: str = ""

    @property
    def free_places(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def key(self) -> tuple[str, datetime, str]:
        return (self.point_id, self.starts_at, self.vaccine)

    def taken(self) -> Slot:
        if self.free_places <= 0:
            raise Refused(RefusalKind.CONFLICT, "slot_full", "W tym terminie nie ma już wolnych miejsc")
        return replace(self, booked=self.booked + 1)

    def released(self) -> Slot:
        return replace(self, booked=max(0, self.booked - 1))


@dataclass(frozen=True)
class Visit:
    patient_id: str
    visit_id: str
    series_id: str
    dose: int
    vaccine: str
    point_id: str
    starts_at: datetime
    status: VisitStatus
    channel: Channel
    check_in_code: str

    @property
    def is_active(self) -> bool:
        return self.status == VisitStatus.BOOKED

    @property
    def booked_day(self) -> date | None:
        """Local day of a booked visit (reminders are sent the day before); None otherwise."""
        return self.starts_at.astimezone(WARSAW).date() if self.is_active else None

    def moved_to(self, slot: Slot) -> Visit:
        return replace(self, point_id=slot.point_id, starts_at=slot.starts_at)

    def with_status(self, status: VisitStatus) -> Visit:
        return replace(self, status=status)


def new_visit(patient_id: str, series_id: str, dose: int, slot: Slot, channel: Channel) -> Visit:
    return Visit(
        patient_id=patient_id,
        visit_id=str(uuid.uuid4()),
        series_id=series_id,
        dose=dose,
        vaccine=slot.vaccine,
        point_id=slot.point_id,
        starts_at=slot.starts_at,
        status=VisitStatus.BOOKED,
        channel=channel,
        check_in_code=f"{secrets.randbelow(10_000):04d}",
    )


@dataclass(frozen=True)
class DoseWindow:
    dose: int
    earliest: datetime
    latest: datetime

    def contains(self, moment: datetime) -> bool:
        return self.earliest <= moment <= self.latest

    @property
    def end(self) -> datetime:
        """The window as a half-open range ends here: ``latest`` is its last second."""
        return self.latest + timedelta(seconds=1)


def next_dose_window(vaccine: Vaccine, dose: int, previous_dose_at: datetime) -> DoseWindow:
    """When dose ``dose`` (2+) may be given after the previous one, whole local days."""
    local = previous_dose_at.astimezone(WARSAW)
    first_day = (local + timedelta(days=vaccine.interval_min_days)).date()
    last_day = (local + timedelta(days=vaccine.interval_max_days)).date()
    earliest = datetime(first_day.year, first_day.month, first_day.day, tzinfo=WARSAW)
    latest = datetime(last_day.year, last_day.month, last_day.day, 23, 59, 59, tzinfo=WARSAW)
    return DoseWindow(dose, earliest, latest)


def earliest_free(slots: Iterable[Slot], window: DoseWindow, vaccine: str) -> Slot | None:
    fitting = [s for s in slots if s.vaccine == vaccine and s.free_places > 0 and window.contains(s.starts_at)]
    return min(fitting, key=lambda s: (s.starts_at, s.point_id), default=None)


def same_time_of_day(slots: Iterable[Slot], vaccine: str, starts_at: datetime) -> Slot | None:
    """A free place of the vaccine closest to the local time of day of ``starts_at`` (a cancelled day's
    visit moved to another day keeps its hour where it can)."""
    local = starts_at.astimezone(WARSAW)
    minute = local.hour * 60 + local.minute

    def distance(slot: Slot) -> tuple[int, datetime]:
        at = slot.starts_at.astimezone(WARSAW)
        return abs(at.hour * 60 + at.minute - minute), slot.starts_at

    fitting = [s for s in slots if s.vaccine == vaccine and s.free_places > 0]
    return min(fitting, key=distance, default=None)


def lapsed(visits: Iterable[Visit], now: datetime) -> list[Visit]:
    """Open visits of a series whose earliest open dose has already started: the patient missed it.

    They no longer stand in the way of a new booking (the nightly job marks the missed one NO_SHOW);
    a later dose of such a series depends on the missed one and only holds a place."""
    visits = list(visits)
    first_open: dict[str, datetime] = {}
    for visit in visits:
        if visit.is_active:
            first_open[visit.series_id] = min(first_open.get(visit.series_id, visit.starts_at), visit.starts_at)
    return [v for v in visits if v.is_active and first_open[v.series_id] <= now]


def blocking(visits: Iterable[Visit], now: datetime) -> list[Visit]:
    """Open visits that stop the patient booking another series: those still ahead of them."""
    visits = list(visits)
    gone = {v.visit_id for v in lapsed(visits, now)}
    return [v for v in visits if v.is_active and v.visit_id not in gone]


def check_may_book(
    *,
    vaccine: Vaccine | None,
    eligibility: Eligibility | None,
    referral: Referral | None,
    birth_date: date,
    visits: Iterable[Visit],
    slot_starts_at: datetime,
    now: datetime,
) -> Vaccine:
    """Every rule a first-dose booking must pass, in the order a patient would want to hear them."""
    if vaccine is None:
        raise Refused(RefusalKind.INVALID, "unknown_vaccine", "Nieznana szczepionka", field="vaccine")
    if slot_starts_at <= now:
        raise Refused(RefusalKind.RULE, "slot_in_past", "Ten termin już minął", field="starts_at")
    if eligibility is None or eligibility.cohort is None:
        raise Refused(RefusalKind.FORBIDDEN, "not_eligible", "Nie należysz do grupy uprawnionej do szczepienia")
    if not eligibility.open:
        raise Refused(
            RefusalKind.RULE,
            "cohort_not_open",
            f"Rejestracja dla Twojej grupy rusza {eligibility.cohort.opens_at.astimezone(WARSAW):%d.%m.%Y %H:%M}",
        )
    if not eligibility.cohort.offers(vaccine.code):
        raise Refused(
            RefusalKind.FORBIDDEN, "vaccine_not_for_cohort", "Ta szczepionka nie jest przewidziana dla Twojej grupy",
            field="vaccine",
        )  # fmt: skip
    if referral is None or not referral.is_valid(now) or referral.vaccine not in (None, vaccine.code):
        raise Refused(RefusalKind.FORBIDDEN, "no_referral", "Brak ważnego e-skierowania na szczepienie")
    if age_on(birth_date, slot_starts_at.astimezone(WARSAW).date()) < vaccine.min_age:
        raise Refused(RefusalKind.RULE, "too_young", f"Ta szczepionka jest dla osób od {vaccine.min_age} lat")
    # A dose-1 visit that ended NO_SHOW or CANCELLED does not count: that dose may be booked again.
    visits = list(visits)
    if blocking(visits, now):
        raise Refused(RefusalKind.CONFLICT, "already_booked", "Masz już umówioną wizytę na szczepienie")
    if any(visit.status == VisitStatus.COMPLETED and visit.dose == 1 for visit in visits):
        raise Refused(RefusalKind.CONFLICT, "dose_already_given", "Pierwsza dawka została już podana")
    return vaccine


def check_may_change(visit: Visit, now: datetime) -> None:
    if not visit.is_active:
        raise Refused(RefusalKind.CONFLICT, "visit_not_active", "Tej wizyty nie można już zmienić")
    if visit.starts_at <= now:
        raise Refused(RefusalKind.RULE, "visit_started", "Termin tej wizyty już minął")
