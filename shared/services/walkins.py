"""Walk-ins: a patient at the point is booked at its earliest free place from now, with next doses.

The booking itself is the visit service's (one transaction, the same rules and counters); this use
case finds the patient (registering one unknown to the registry from the PESEL, since the point has
checked the ID) and the point's earliest free places, and tries them in order.

A patient who already has a visit ahead of them is not booked twice: a visit at this point (another
day) moves here, today; a visit at another point moves here only when the walk-in carries that
visit's check-in code (the patient is present and shows the SMS), otherwise 409 ``booked_elsewhere``
names the point. Moving is the visit service's move: the old place is freed, later doses follow
when they no longer fit their window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from shared.domain.booking import Channel, Slot, Visit, blocking
from shared.domain.identity import Person, birth_date_from_pesel, eligibility
from shared.domain.patients import PatientRecord, Referral
from shared.domain.programme import Programme, require_programme
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.series import pending_dose
from shared.domain.vaccination import Actor, check_in_code_refusal, check_point, local_day
from shared.services.ports import VisitReader
from shared.services.transaction import Transaction, Transactions
from shared.services.visits import BookingRequest, BookVisit, VisitsChanged

HORIZON = timedelta(days=92)
TRIES = 5  # places taken by others meanwhile are skipped, up to this many


class PatientRegistry(Protocol):
    def lookup(self, pesel: str) -> tuple[PatientRecord | None, list[Referral]]: ...

    def register(
        self, person: Person, now: datetime, issue_referral: bool, referral_valid_days: int, issued_by: str
    ) -> tuple[PatientRecord, Referral | None]: ...


class Booking(BookVisit, Protocol):
    def move(
        self, visit_id: str, point_id: str, starts_at: datetime, actor_patient_id: str | None, now: datetime
    ) -> VisitsChanged: ...


@dataclass(frozen=True)
class WalkIn:
    pesel: str  # valid, checked at the edge
    vaccine: str
    phone: str | None  # E.164, already validated
    given_name: str | None = None
    family_name: str | None = None
    check_in_code: str | None = None  # of the patient's visit at another point, shown from their SMS

    def fingerprint(self, point_id: str) -> str:
        canonical = f"walk-in|{point_id}|{self.pesel}|{self.vaccine}|{self.phone}"
        return hashlib.sha256(canonical.encode()).hexdigest()


class WalkIns:
    def __init__(
        self,
        transactions: Transactions,
        patients: PatientRegistry,
        booking: Booking,
        visits: VisitReader,
        programme: Callable[[], Programme | None],
    ) -> None:
        self.transactions = transactions
        self.patients = patients
        self.booking = booking
        self.visits = visits
        self.programme = programme

    def book(self, point_id: str, walk_in: WalkIn, actor: Actor, now: datetime, idempotency_key: str) -> VisitsChanged:
        check_point(actor, point_id)
        programme = require_programme(self.programme())
        if programme.vaccine(walk_in.vaccine) is None:
            raise Refused(RefusalKind.INVALID, "unknown_vaccine", "Nieznana szczepionka", field="vaccine")
        patient = self._patient(walk_in, programme, actor, now)
        visits = self.visits.visits_of_patient(patient.patient_id)
        ahead = blocking(visits, now)
        if ahead:
            return self._move_here(point_id, walk_in, min(ahead, key=lambda v: (v.dose, v.starts_at)), now)
        earliest = now
        pending = pending_dose(visits, programme, now)
        if pending is not None and pending.vaccine.code == walk_in.vaccine:
            earliest = max(now, pending.window.earliest)

        def read(tx: Transaction) -> list[Slot]:
            if tx.point(point_id) is None:
                raise Refused(RefusalKind.NOT_FOUND, "point_not_found", "Nie ma takiego punktu szczepień")
            return tx.point_slots(point_id, earliest, now + HORIZON)

        free = [s for s in self.transactions.read(read) if s.vaccine == walk_in.vaccine and s.free_places > 0]
        candidates: list[Slot | None] = []
        candidates += [s for s in free if s.starts_at > now][:TRIES]
        if not candidates:
            candidates = [None]  # still one call: a retried walk-in replays its first answer
        for slot in candidates:
            request = BookingRequest(point_id, slot.starts_at if slot else now, walk_in.vaccine, walk_in.phone)
            try:
                return self.booking.book(
                    patient.patient_id, request, Channel.POINT, now, idempotency_key, walk_in.fingerprint(point_id)
                )
            except Refused as refusal:
                if refusal.code not in ("slot_full", "slot_not_found"):
                    raise
        raise Refused(
            RefusalKind.CONFLICT, "no_free_place", "W tym punkcie nie ma teraz wolnego miejsca na tę szczepionkę"
        )

    def _move_here(self, point_id: str, walk_in: WalkIn, visit: Visit, now: datetime) -> VisitsChanged:
        """The patient's next visit comes here, today (retrying finds it here and changes nothing)."""
        if visit.point_id != point_id:
            code = walk_in.check_in_code
            if code is not None and (wrong := self._check_code(visit, code)) is not None:
                if wrong.code == "check_in_code_locked":
                    raise wrong
                code = None  # a wrong code: refused as if none was shown, naming the field
            if code is None:
                other = self.transactions.read(lambda tx: tx.point(visit.point_id))
                raise Refused(
                    RefusalKind.CONFLICT,
                    "booked_elsewhere",
                    f"Pacjent ma wizytę w innym punkcie ({other.name if other else visit.point_id}); "
                    "podaj kod z jego SMS-a, aby przenieść ją tutaj",
                    field="check_in_code" if walk_in.check_in_code is not None else None,
                    extra={"point_id": visit.point_id, "point_name": other.name if other else ""},
                )
        elif local_day(visit.starts_at) == local_day(now):
            unchanged = self.booking.move(visit.visit_id, point_id, visit.starts_at, None, now)  # already here today
            return replace(unchanged, replayed=True)
        if visit.vaccine != walk_in.vaccine:
            raise Refused(
                RefusalKind.CONFLICT, "booked_other_vaccine", "Pacjent jest umówiony na inną szczepionkę",
                field="vaccine",
            )  # fmt: skip
        end = now + timedelta(days=1)

        def read(tx: Transaction) -> list[Slot]:
            if tx.point(point_id) is None:
                raise Refused(RefusalKind.NOT_FOUND, "point_not_found", "Nie ma takiego punktu szczepień")
            return tx.point_slots(point_id, now, end)

        today = [
            s for s in self.transactions.read(read)
            if s.vaccine == visit.vaccine and s.free_places > 0 and s.starts_at > now
            and local_day(s.starts_at) == local_day(now)
        ]  # fmt: skip
        for slot in today[:TRIES]:
            try:
                return self.booking.move(visit.visit_id, point_id, slot.starts_at, None, now)
            except Refused as refusal:
                if refusal.code not in ("slot_full", "slot_not_found"):
                    raise
        raise Refused(
            RefusalKind.CONFLICT, "no_free_place", "W tym punkcie nie ma dziś wolnego miejsca na tę szczepionkę"
        )

    def _check_code(self, visit: Visit, code: str) -> Refused | None:
        """The code of a visit at another point, counted like at the vaccination: a few wrong tries, then
        the code is locked (else a point could guess its way through 10,000 codes)."""

        def check(tx: Transaction) -> Refused | None:
            attempts = tx.wrong_code_attempts(visit.patient_id, visit.visit_id)
            refusal = check_in_code_refusal(visit, code, attempts)
            if refusal is not None and refusal.code == "wrong_check_in_code":
                tx.set_wrong_code_attempts(visit.patient_id, visit.visit_id, attempts + 1)
            return refusal

        return self.transactions.run(check)

    def _patient(self, walk_in: WalkIn, programme: Programme, actor: Actor, now: datetime) -> PatientRecord:
        patient, referrals = self.patients.lookup(walk_in.pesel)
        status = eligibility(programme, birth_date_from_pesel(walk_in.pesel), now)
        needs_referral = status.open and not any(r.is_valid(now) for r in referrals)
        if patient is not None and not needs_referral:
            return patient
        # The registry's names stand: a walk-in only names a patient the registry does not know.
        person = Person(
            walk_in.pesel,
            patient.given_name if patient else walk_in.given_name or "",
            patient.family_name if patient else walk_in.family_name or "",
        )
        registered, _ = self.patients.register(
            person, now, issue_referral=needs_referral, referral_valid_days=programme.referral_valid_days,
            issued_by=actor.staff_id,
        )  # fmt: skip
        return registered
