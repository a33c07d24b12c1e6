"""Walk-ins: a patient at the point is booked at its earliest free place from now, with next doses.

The booking itself is the visit service's (one transaction, the same rules and counters); this use
case finds the patient (registering one unknown to the registry from the PESEL, since the point has
checked the ID) and the point's earliest free places, and tries them in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.domain.booking import Channel, Slot
from shared.domain.identity import Person, birth_date_from_pesel, eligibility
from shared.domain.patients import PatientRecord, Referral
from shared.domain.programme import Programme, require_programme
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.series import pending_dose
from shared.domain.vaccination import Actor, check_point
from shared.services.points import BackOffice, BackOfficeTx
from shared.services.ports import VisitReader
from shared.services.visits import BookingRequest, VisitsChanged

HORIZON = timedelta(days=92)
TRIES = 5  # places taken by others meanwhile are skipped, up to this many


class PatientRegistry(Protocol):
    def lookup(self, pesel: str) -> tuple[PatientRecord | None, list[Referral]]: ...

    def register(
        self, person: Person, now: datetime, issue_referral: bool, referral_valid_days: int, issued_by: str
    ) -> tuple[PatientRecord, Referral | None]: ...


class Booking(Protocol):
    def book(
        self,
        patient_id: str,
        request: BookingRequest,
        channel: Channel,
        now: datetime,
        idempotency_key: str | None = None,
        request_hash: str = "",
        keep_open_elsewhere: bool = False,
    ) -> VisitsChanged: ...


@dataclass(frozen=True)
class WalkIn:
    pesel: str  # valid, checked at the edge
    vaccine: str
    phone: str | None  # E.164, already validated
    given_name: str | None = None
    family_name: str | None = None

    def fingerprint(self, point_id: str) -> str:
        canonical = f"walk-in|{point_id}|{self.pesel}|{self.vaccine}|{self.phone}"
        return hashlib.sha256(canonical.encode()).hexdigest()


class WalkIns:
    def __init__(
        self,
        office: BackOffice,
        patients: PatientRegistry,
        booking: Booking,
        visits: VisitReader,
        programme: Callable[[], Programme | None],
    ) -> None:
        self.office = office
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
        earliest = now
        pending = pending_dose(self.visits.visits_of_patient(patient.patient_id), programme)
        if pending is not None and pending.vaccine.code == walk_in.vaccine:
            earliest = max(now, pending.window.earliest)

        def read(tx: BackOfficeTx) -> list[Slot]:
            if tx.point(point_id) is None:
                raise Refused(RefusalKind.NOT_FOUND, "point_not_found", "Nie ma takiego punktu szczepień")
            return tx.slots(point_id, earliest, now + HORIZON)

        free = [s for s in self.office.read(read) if s.vaccine == walk_in.vaccine and s.free_places > 0]
        candidates: list[Slot | None] = []
        candidates += [s for s in free if s.starts_at > now][:TRIES]
        if not candidates:
            candidates = [None]  # still one call: a retried walk-in replays its first answer
        for slot in candidates:
            request = BookingRequest(point_id, slot.starts_at if slot else now, walk_in.vaccine, walk_in.phone)
            try:
                return self.booking.book(
                    patient.patient_id, request, Channel.POINT, now, idempotency_key, walk_in.fingerprint(point_id),
                    keep_open_elsewhere=True,
                )  # fmt: skip
            except Refused as refusal:
                if refusal.code not in ("slot_full", "slot_not_found"):
                    raise
        raise Refused(
            RefusalKind.CONFLICT, "no_free_place", "W tym punkcie nie ma teraz wolnego miejsca na tę szczepionkę"
        )

    def _patient(self, walk_in: WalkIn, programme: Programme, actor: Actor, now: datetime) -> PatientRecord:
        patient, referrals = self.patients.lookup(walk_in.pesel)
        status = eligibility(programme, birth_date_from_pesel(walk_in.pesel), now)
        needs_referral = status.open and not any(r.is_valid(now) for r in referrals)
        if patient is not None and not needs_referral:
            return patient
        person = Person(
            walk_in.pesel,
            walk_in.given_name or (patient.given_name if patient else ""),
            walk_in.family_name or (patient.family_name if patient else ""),
        )
        registered, _ = self.patients.register(
            person, now, issue_referral=needs_referral, referral_valid_days=programme.referral_valid_days,
            issued_by=actor.staff_id,
        )  # fmt: skip
        return registered
