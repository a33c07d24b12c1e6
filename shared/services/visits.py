"""Booking, moving, cancelling and listing visits.

Each change is one short read-write transaction of key reads and writes: it checks the rules, takes
and frees places, writes the visits, the idempotency record and the outbox events together, and the
events are published right after the commit. Nothing else changes a slot's counter.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from shared.domain.booking import (
    WARSAW,
    Channel,
    DoseWindow,
    Slot,
    Visit,
    VisitStatus,
    check_may_book,
    check_may_change,
    lapsed,
    new_visit,
    next_dose_window,
)
from shared.domain.events import VISIT_BOOKED, VISIT_CANCELLED, VISIT_MOVED, phone_changed_event, visit_events
from shared.domain.identity import eligibility
from shared.domain.patients import PatientRecord
from shared.domain.points import Point
from shared.domain.programme import Programme, Vaccine, require_programme
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.series import PendingDose, check_may_book_pending, pending_dose
from shared.domain.vaccination import later_doses
from shared.services.dose_candidates import NextDoseCandidates, NextDosePlan
from shared.services.idempotency import remember, replayed_body
from shared.services.ports import EventPublisher, PatientReader, PointDirectory, SlotChangeListener, VisitReader
from shared.services.slot_ledger import SlotLedger
from shared.services.transaction import Changes, Committed, SlotKey, Transaction, Transactions

# --- requests and results ----------------------------------------------------------------------


@dataclass(frozen=True)
class BookingRequest:
    point_id: str
    starts_at: datetime
    vaccine: str
    phone: str | None  # E.164, already validated
    without_mobile: bool = False  # the hotline's caller has a landline only: booked with no SMS


@dataclass(frozen=True)
class VisitsChanged:
    """The visits a change left (a booking's new visits; the whole series after a move; the visits a
    cancellation ended), with their points, and for a booking the next dose still to be booked."""

    visits: list[Visit]
    points: dict[str, Point] = field(default_factory=dict)
    next_dose: DoseWindow | None = None
    replayed: bool = False  # an idempotent repeat of an earlier request: nothing changed now


class BookVisit(Protocol):
    """Booking as other use cases call it (walk-ins, the SMS dialogue): ``VisitService.book``."""

    def book(
        self,
        patient_id: str,
        request: BookingRequest,
        channel: Channel,
        now: datetime,
        idempotency_key: str | None = None,
        request_hash: str = "",
    ) -> VisitsChanged: ...


@dataclass(frozen=True)
class _Booking:
    """One booking request as its transaction works on it."""

    patient_id: str
    request: BookingRequest
    channel: Channel
    now: datetime
    programme: Programme
    plan: NextDosePlan | None
    idempotency_key: str | None
    request_hash: str

    @property
    def requested(self) -> SlotKey:
        return (self.request.point_id, self.request.starts_at, self.request.vaccine)


@dataclass(frozen=True)
class _Admitted:
    """A booking the rules admit: the slot, the vaccine and where in which series it starts."""

    slot: Slot
    vaccine: Vaccine
    series_id: str
    first_dose: int


class VisitService:
    def __init__(
        self,
        transactions: Transactions,
        visits: VisitReader,
        patients: PatientReader,
        points: PointDirectory,
        events: EventPublisher,
        programme: Callable[[], Programme | None],
        availability: SlotChangeListener | None = None,
        candidates: NextDoseCandidates | None = None,
    ) -> None:
        self.changes = Changes(transactions, events, availability)
        self.visits = visits
        self.patients = patients
        self.points = points
        self.programme = programme
        self.candidates = candidates

    def _programme(self) -> Programme:
        return require_programme(self.programme())

    def _committed(self, work: Callable[[Transaction], Committed[VisitsChanged]]) -> VisitsChanged:
        """Run a change (its events are published right after the commit); name the points it touched."""
        change = self.changes.commit(work)
        points = self.points.get_many(v.point_id for v in change.visits)
        return VisitsChanged(change.visits, points, change.next_dose, change.replayed)

    # --- book ------------------------------------------------------------------------------

    def book(
        self,
        patient_id: str,
        request: BookingRequest,
        channel: Channel,
        now: datetime,
        idempotency_key: str | None = None,
        request_hash: str = "",
    ) -> VisitsChanged:
        """Dose 1 (or a series' pending dose) at the requested slot and each next dose at the earliest
        place in its window."""
        programme = self._programme()
        if programme.vaccine(request.vaccine) is None:
            raise Refused(RefusalKind.INVALID, "unknown_vaccine", "Nieznana szczepionka", field="vaccine")
        plan = self._next_dose_plan(request, programme)
        booking = _Booking(patient_id, request, channel, now, programme, plan, idempotency_key, request_hash)
        return self._committed(lambda tx: self._book(tx, booking))

    def _book(self, tx: Transaction, booking: _Booking) -> Committed[VisitsChanged]:
        stored = replayed_body(tx, booking.patient_id, booking.idempotency_key, booking.request_hash)
        if stored is not None:
            return Committed(restored_booking(stored))
        patient = _patient(tx, booking.patient_id)
        slots = SlotLedger(tx)
        visits = tx.patient_visits(booking.patient_id)
        admitted = self._admit(tx, slots, booking, patient, visits)
        # The later doses of a missed visit depend on it: they go, and free their places.
        dropped = [
            v.with_status(VisitStatus.CANCELLED) for v in lapsed(visits, booking.now) if v.starts_at > booking.now
        ]
        slots.release_visits(dropped)
        booked, pending = _take_places(slots, booking, admitted)
        touched = slots.save()
        tx.insert_visits(booked)
        tx.update_visits(dropped)
        events = _booking_events(slots, booking, patient, admitted.slot, booked, dropped, pending, touched)
        events += _save_phone(tx, booking, patient)
        tx.add_to_outbox(events)
        change = VisitsChanged(booked, next_dose=pending)
        remember(tx, booking.patient_id, booking.idempotency_key, booking.request_hash, stored_booking(change))
        return Committed(change, events)

    @staticmethod
    def _admit(
        tx: Transaction, slots: SlotLedger, booking: _Booking, patient: PatientRecord, visits: list[Visit]
    ) -> _Admitted:
        """The booking checked against the rules: the slot (read with the next-dose candidates in one
        key read), the patient's series, eligibility, referral and phone."""
        request, now = booking.request, booking.now
        slots.confirm([booking.requested, *(booking.plan.keys if booking.plan else ())])
        slot = slots.get(*booking.requested)
        if slot is None:
            raise Refused(RefusalKind.NOT_FOUND, "slot_not_found", "Nie ma takiego terminu", field="starts_at")
        pending = pending_dose(visits, booking.programme, now)
        if pending is not None:
            admitted = _admit_pending(pending, request, slot, visits, now)
        else:
            vaccine = check_may_book(
                vaccine=booking.programme.vaccine(request.vaccine),
                eligibility=eligibility(booking.programme, patient.birth_date, now),
                referral=next((r for r in tx.referrals(booking.patient_id) if r.is_valid(now)), None),
                birth_date=patient.birth_date,
                visits=visits,
                slot_starts_at=slot.starts_at,
                now=now,
            )
            admitted = _Admitted(slot, vaccine, str(uuid.uuid4()), 1)
        no_mobile = request.phone is None and patient.phone is None and not request.without_mobile
        if no_mobile and booking.channel != Channel.POINT:
            raise Refused(
                RefusalKind.INVALID, "phone_required", "Podaj numer telefonu komórkowego do SMS", field="phone"
            )
        return admitted

    def _next_dose_plan(self, request: BookingRequest, programme: Programme) -> NextDosePlan | None:
        """Candidates for dose 2 after the requested slot, chosen before the transaction (a pending
        series' later dose has another window: the transaction then chooses by itself)."""
        vaccine = programme.vaccine(request.vaccine)
        if self.candidates is None or vaccine is None or vaccine.doses < 2:
            return None
        window = next_dose_window(vaccine, 2, request.starts_at)
        return self.candidates.plan(request.point_id, vaccine.code, window)

    # --- move ------------------------------------------------------------------------------

    def move(
        self, visit_id: str, point_id: str, starts_at: datetime, actor_patient_id: str | None, now: datetime
    ) -> VisitsChanged:
        """Move a visit; later doses that no longer fit their window move to the earliest place that does."""
        programme = self._programme()
        return self._committed(
            lambda tx: self._move(tx, programme, visit_id, (point_id, starts_at), actor_patient_id, now)
        )

    def _move(
        self,
        tx: Transaction,
        programme: Programme,
        visit_id: str,
        to: tuple[str, datetime],
        actor_patient_id: str | None,
        now: datetime,
    ) -> Committed[VisitsChanged]:
        patient, visit, series = _visit_for_change(tx, visit_id, actor_patient_id, now)
        vaccine = programme.vaccine(visit.vaccine)
        if vaccine is None:
            raise Refused(RefusalKind.RULE, "unknown_vaccine", "Szczepionka nie jest już w programie")
        slots = SlotLedger(tx)
        target = slots.get(*to, visit.vaccine)
        if target is None:
            raise Refused(RefusalKind.NOT_FOUND, "slot_not_found", "Nie ma takiego terminu", field="starts_at")
        if target.key == (visit.point_id, visit.starts_at, visit.vaccine):
            return Committed(VisitsChanged(series))
        _check_move(vaccine, visit, series, target, now)
        slots.release_visits([visit])
        moved = [visit.moved_to(slots.take(target))]
        followed, stuck = slots.move_later_doses(vaccine, moved[0], later_doses(visit, series), target)
        if stuck:
            raise Refused(
                RefusalKind.CONFLICT, "no_place_for_next_dose", "Brak wolnego terminu na kolejną dawkę po tej zmianie"
            )
        moved += followed
        touched = slots.save()
        tx.update_visits(moved)
        changed = {v.visit_id: v for v in moved}
        new_series = [changed.get(v.visit_id, v) for v in series]
        regions = {v.point_id: target for v in moved}
        events = visit_events(VISIT_MOVED, moved, regions, patient.birth_date, new_series, now, slots=touched)
        tx.add_to_outbox(events)
        return Committed(VisitsChanged(new_series), events)

    # --- cancel ----------------------------------------------------------------------------

    def cancel(self, visit_id: str, actor_patient_id: str | None, now: datetime) -> VisitsChanged:
        """Cancel a visit and the later doses that depend on it; cancelling again changes nothing."""
        return self._committed(lambda tx: self._cancel(tx, visit_id, actor_patient_id, now))

    @staticmethod
    def _cancel(
        tx: Transaction, visit_id: str, actor_patient_id: str | None, now: datetime
    ) -> Committed[VisitsChanged]:
        patient, visit, series = _visit_for_change(tx, visit_id, actor_patient_id, now, allow_cancelled=True)
        if visit.status == VisitStatus.CANCELLED:
            return Committed(VisitsChanged([], replayed=True))
        cancelled = [v.with_status(VisitStatus.CANCELLED) for v in series if v.dose >= visit.dose and v.is_active]
        slots = SlotLedger(tx)
        slots.release_visits(cancelled)
        region = slots.get(visit.point_id, visit.starts_at, visit.vaccine)
        touched = slots.save()
        tx.update_visits(cancelled)
        events = []
        if region is not None:
            regions = {v.point_id: region for v in cancelled}
            events = visit_events(
                VISIT_CANCELLED, cancelled, regions, patient.birth_date, cancelled, now, slots=touched
            )
            tx.add_to_outbox(events)
        return Committed(VisitsChanged(cancelled), events)

    # --- read ------------------------------------------------------------------------------

    def list_for_patient(self, patient_id: str) -> VisitsChanged:
        """A patient's visits, earliest first, with their points."""
        visits = sorted(self.visits.visits_of_patient(patient_id), key=lambda v: (v.starts_at, v.dose))
        return VisitsChanged(visits, self.points.get_many(v.point_id for v in visits))

    def day_list(
        self, point_id: str, day: date, surname: str | None = None
    ) -> list[tuple[Visit, PatientRecord | None]]:
        """A point's visits on one local day, earliest first, with whom they are for; given
        ``surname``, only the patients whose surname starts with it."""
        start = datetime(day.year, day.month, day.day, tzinfo=WARSAW)
        end = start + timedelta(days=1)
        visits = self.visits.visits_at_point(point_id, start.astimezone(UTC), end.astimezone(UTC))
        patients = self.patients.patients(v.patient_id for v in visits)
        listed = [(v, patients.get(v.patient_id)) for v in sorted(visits, key=lambda v: (v.starts_at, v.visit_id))]
        if surname:
            listed = [(v, p) for v, p in listed if p is not None and p.surname_starts_with(surname)]
        return listed


# --- the steps ---------------------------------------------------------------------------------


def _admit_pending(
    pending: PendingDose, request: BookingRequest, slot: Slot, visits: list[Visit], now: datetime
) -> _Admitted:
    """A series' pending dose (the programme admitted the series already)."""
    if slot.starts_at <= now:
        raise Refused(RefusalKind.RULE, "slot_in_past", "Ten termin już minął", field="starts_at")
    check_may_book_pending(pending, request.vaccine, slot.starts_at, visits, now)
    return _Admitted(slot, pending.vaccine, pending.series_id, pending.dose)


def _take_places(slots: SlotLedger, booking: _Booking, admitted: _Admitted) -> tuple[list[Visit], DoseWindow | None]:
    """The requested place and, by the next-dose planner, a place for each dose after it."""
    first = new_visit(
        booking.patient_id, admitted.series_id, admitted.first_dose, slots.take(admitted.slot), booking.channel
    )
    plan = (booking.plan.window, booking.plan.keys) if booking.plan else None
    later, pending = slots.book_next_doses(admitted.vaccine, first, admitted.slot, booking.channel, plan)
    return [first, *later], pending


def _booking_events(
    slots: SlotLedger,
    booking: _Booking,
    patient: PatientRecord,
    slot: Slot,
    booked: list[Visit],
    dropped: list[Visit],
    pending: DoseWindow | None,
    touched: list[SlotKey],
) -> list[dict[str, Any]]:
    """The booking's event, and a cancellation (and a text) per series of the dropped visits."""
    regions = {v.point_id: slot for v in booked}  # next doses nearby: the same municipality, the same TERYT codes
    now, born = booking.now, patient.birth_date
    pending_from = pending.earliest if pending else None
    events = visit_events(VISIT_BOOKED, booked, regions, born, booked, now, pending_from, slots=touched)
    for series_id in dict.fromkeys(v.series_id for v in dropped):
        gone = [v for v in dropped if v.series_id == series_id]
        home = {v.point_id: slots.get(v.point_id, v.starts_at, v.vaccine) or slot for v in gone}
        events += visit_events(VISIT_CANCELLED, gone, home, born, gone, now, slots=touched)
    return events


def _save_phone(tx: Transaction, booking: _Booking, patient: PatientRecord) -> list[dict[str, Any]]:
    """Keep a new mobile; the number on file before is told (never silently)."""
    phone = booking.request.phone
    if not phone or phone == patient.phone:
        return []
    tx.save_phone(patient.patient_id, phone, previous=patient.phone)
    return [phone_changed_event(patient.patient_id, booking.now)] if patient.phone is not None else []


def _check_move(vaccine: Vaccine, visit: Visit, series: list[Visit], target: Slot, now: datetime) -> None:
    if target.starts_at <= now:
        raise Refused(RefusalKind.RULE, "slot_in_past", "Ten termin już minął", field="starts_at")
    earlier = [v for v in series if v.dose == visit.dose - 1 and v.status != VisitStatus.CANCELLED]
    if earlier and not next_dose_window(vaccine, visit.dose, earlier[0].starts_at).contains(target.starts_at):
        raise Refused(RefusalKind.RULE, "outside_dose_window", "Termin jest poza dozwolonym odstępem między dawkami")


def _patient(tx: Transaction, patient_id: str) -> PatientRecord:
    patient = tx.patient(patient_id)
    if patient is None:
        raise Refused(RefusalKind.NOT_FOUND, "patient_not_found", "Nie ma takiego pacjenta")
    return patient


def _visit_for_change(
    tx: Transaction, visit_id: str, actor_patient_id: str | None, now: datetime, allow_cancelled: bool = False
) -> tuple[PatientRecord, Visit, list[Visit]]:
    owner = tx.visit_owner(visit_id)
    if owner is None:
        raise Refused(RefusalKind.NOT_FOUND, "visit_not_found", "Nie ma takiej wizyty")
    if actor_patient_id is not None and owner != actor_patient_id:
        raise Refused(RefusalKind.FORBIDDEN, "not_your_visit", "To nie jest Twoja wizyta")
    patient = _patient(tx, owner)
    visits = tx.patient_visits(owner)
    visit = next(v for v in visits if v.visit_id == visit_id)
    if not (allow_cancelled and visit.status == VisitStatus.CANCELLED):
        check_may_change(visit, now)
    series = sorted((v for v in visits if v.series_id == visit.series_id), key=lambda v: v.dose)
    return patient, visit, series


# --- the idempotency record of a booking --------------------------------------------------------


def stored_booking(change: VisitsChanged) -> str:
    def window(w: DoseWindow) -> dict[str, Any]:
        return {"dose": w.dose, "earliest": w.earliest.isoformat(), "latest": w.latest.isoformat()}

    visits = [
        {**{k: getattr(v, k) for k in ("patient_id", "visit_id", "series_id", "dose", "vaccine", "point_id",
                                        "check_in_code")},
         "starts_at": v.starts_at.isoformat(), "status": str(v.status), "channel": str(v.channel)}
        for v in change.visits
    ]  # fmt: skip
    return json.dumps({"visits": visits, "next_dose": window(change.next_dose) if change.next_dose else None})


def restored_booking(body: str) -> VisitsChanged:
    stored = json.loads(body)
    visits = [
        Visit(**{**v, "starts_at": datetime.fromisoformat(v["starts_at"]), "status": VisitStatus(v["status"]),
                 "channel": Channel(v["channel"])})
        for v in stored["visits"]
    ]  # fmt: skip
    pending = stored["next_dose"]
    window = (
        DoseWindow(
            pending["dose"], datetime.fromisoformat(pending["earliest"]), datetime.fromisoformat(pending["latest"])
        )
        if pending
        else None
    )
    return VisitsChanged(visits, next_dose=window, replayed=True)
