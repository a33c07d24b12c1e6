"""A patient's series of doses after the first: which dose is still to be booked, and when it may be.

Plain Python. A series whose last given dose has a successor that is neither booked nor given (no
place was free in its window when dose 1 was booked, or the patient missed it) has a pending dose;
the patient, an agent or the point books it like a first dose, inside the series.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.domain.booking import DoseWindow, Visit, VisitStatus, blocking, lapsed, next_dose_window
from shared.domain.programme import Programme, Vaccine
from shared.domain.refusals import RefusalKind, Refused


@dataclass(frozen=True)
class PendingDose:
    series_id: str
    dose: int
    vaccine: Vaccine
    previous: Visit  # the last dose given

    @property
    def window(self) -> DoseWindow:
        return next_dose_window(self.vaccine, self.dose, self.previous.starts_at)


def pending_dose(visits: Iterable[Visit], programme: Programme, now: datetime | None = None) -> PendingDose | None:
    """The next dose of the patient's latest series with a dose given, if it is still to be booked.

    Given ``now``, a booked dose whose time has passed (missed) counts as not booked."""
    visits = list(visits)
    missed = {v.visit_id for v in lapsed(visits, now)} if now is not None else set()
    given = sorted((v for v in visits if v.status == VisitStatus.COMPLETED), key=lambda v: v.starts_at, reverse=True)
    for last in given:
        series = [v for v in visits if v.series_id == last.series_id]
        if max(v.dose for v in series if v.status == VisitStatus.COMPLETED) != last.dose:
            continue  # a later dose of this series was given: look at that one
        vaccine = programme.vaccine(last.vaccine)
        if vaccine is None or last.dose >= vaccine.doses:
            return None
        if any(
            v.dose > last.dose and v.status in (VisitStatus.BOOKED, VisitStatus.COMPLETED) and v.visit_id not in missed
            for v in series
        ):
            return None
        return PendingDose(last.series_id, last.dose + 1, vaccine, last)
    return None


def check_may_book_pending(
    pending: PendingDose, vaccine: str, slot_starts_at: datetime, visits: Iterable[Visit], now: datetime
) -> None:
    """The rules for booking a series' pending dose (the programme already admitted the series)."""
    if blocking(visits, now):
        raise Refused(RefusalKind.CONFLICT, "already_booked", "Masz już umówioną wizytę na szczepienie")
    if vaccine != pending.vaccine.code:
        raise Refused(
            RefusalKind.RULE,
            "other_vaccine_in_series",
            f"Kolejna dawka musi być tą samą szczepionką ({pending.vaccine.name})",
            field="vaccine",
        )
    window = pending.window
    if slot_starts_at < window.earliest:
        raise Refused(
            RefusalKind.RULE,
            "too_early_for_next_dose",
            f"Dawkę {pending.dose} można przyjąć najwcześniej {window.earliest:%d.%m.%Y}",
            field="starts_at",
        )
