"""Booking, moving, cancelling and listing visits.

Each change is one short read-write transaction of key reads and writes: it checks the rules, takes
and frees places, writes the visits, the idempotency record and the outbox events together, and the
events are published right after the commit. Nothing else changes a slot's counter.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from shared.domain.availability import SlotQuery
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
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Point
from shared.domain.programme import Programme, require_programme
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.series import check_may_book_pending, pending_dose
from shared.services.dose_candidates import NextDoseCandidates, NextDosePlan
from shared.services.ports import EventPublisher, PatientReader, PointDirectory, SlotChangeListener, VisitReader
from shared.services.slot_ledger import SlotLedger

T = TypeVar("T")


# --- ports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredResult:
    """What an idempotency record keeps: the request's fingerprint and the result it got."""

    request_hash: str
    body: str


class BookingTransaction(Protocol):
    """Reads and writes inside one read-write transaction; writes apply at commit, all or none."""

    def slot(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None: ...

    def slots_by_key(self, keys: Sequence[tuple[str, datetime, str]]) -> list[Slot]:
        """The slots of these keys that exist, in one read."""
        ...

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        """Every slot of a point starting in [start, end], in key order (start, vaccine)."""
        ...

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        """Slots with free places of a region (voivodeship, county or municipality), earliest first."""
        ...

    def patient(self, patient_id: str) -> PatientRecord | None: ...

    def referrals(self, patient_id: str) -> list[Referral]: ...

    def patient_visits(self, patient_id: str) -> list[Visit]: ...

    def visit_owner(self, visit_id: str) -> str | None: ...

    def stored_result(self, scope: str, key: str) -> StoredResult | None: ...

    def save_slots(self, slots: Iterable[Slot]) -> None:
        """Store the slots' booked counters (only the booking service changes them)."""
        ...

    def insert_visits(self, visits: Iterable[Visit]) -> None: ...

    def update_visits(self, visits: Iterable[Visit]) -> None:
        """Store the visits' point, start and status."""
        ...

    def save_phone(self, patient_id: str, phone: str, previous: str | None = None) -> None:
        """Store the patient's mobile, keeping ``previous`` (the number it replaces) for the PhoneChanged SMS."""
        ...

    def store_result(self, scope: str, key: str, result: StoredResult) -> None: ...

    def add_to_outbox(self, events: Iterable[dict[str, Any]]) -> None: ...


class BookingTransactions(Protocol):
    def run(self, work: Callable[[BookingTransaction], T]) -> T:
        """Run ``work`` in a read-write transaction and commit; ``work`` may run more than once
        (the backend retries aborted transactions), so it must not act outside the transaction."""
        ...


# --- results -----------------------------------------------------------------------------------


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
class _Committed:
    """What a transaction hands back: the change and the events it wrote to the outbox."""

    change: VisitsChanged
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: list[tuple[str, datetime, str]] = field(default_factory=list)  # whose places it took or freed


def _stored_booking(change: VisitsChanged) -> str:
    def window(w: DoseWindow) -> dict[str, Any]:
        return {"dose": w.dose, "earliest": w.earliest.isoformat(), "latest": w.latest.isoformat()}

    visits = [
        {**{k: getattr(v, k) for k in ("patient_id", "visit_id", "series_id", "dose", "vaccine", "point_id",
                                        "check_in_code")},
         "starts_at": v.starts_at.isoformat(), "status": str(v.status), "channel": str(v.channel)}
        for v in change.visits
    ]  # fmt: skip
    return json.dumps({"visits": visits, "next_dose": window(change.next_dose) if change.next_dose else None})


def _restored_booking(body: str) -> VisitsChanged:
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


def _ledger(tx: BookingTransaction) -> SlotLedger:
    return SlotLedger(
        tx.slot,
        tx.point_slots,
        tx.free_slots,
        tx.save_slots,
        tx.slots_by_key,
    )


class VisitService:
    def __init__(
        self,
        transactions: BookingTransactions,
        visits: VisitReader,
        patients: PatientReader,
        points: PointDirectory,
        events: EventPublisher,
        programme: Callable[[], Programme | None],
        availability: SlotChangeListener | None = None,
        candidates: NextDoseCandidates | None = None,
    ) -> None:
        self.transactions = transactions
        self.visits = visits
        self.patients = patients
        self.points = points
        self.events = events
        self.programme = programme
        self.availability = availability
        self.candidates = candidates

    def _programme(self) -> Programme:
        return require_programme(self.programme())

    def _committed(self, work: Callable[[BookingTransaction], _Committed]) -> VisitsChanged:
        """Run a change, publish its events right after the commit, name the points it touched."""
        committed = self.transactions.run(work)
        if self.availability is not None:
            self.availability.slots_changed(committed.slots)  # search shows it at once; never raises
        self.events.publish(committed.events)  # never raises; the outbox sweep covers a miss
        change = committed.change
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

        def work(tx: BookingTransaction) -> _Committed:
            if idempotency_key:
                stored = tx.stored_result(patient_id, idempotency_key)
                if stored is not None:
                    if stored.request_hash != request_hash:
                        raise Refused(
                            RefusalKind.CONFLICT,
                            "idempotency_key_reused",
                            "Ten klucz Idempotency-Key użyto już dla innego żądania",
                        )
                    return _Committed(_restored_booking(stored.body))
            patient = self._patient(tx, patient_id)
            slots = _ledger(tx)
            requested = (request.point_id, request.starts_at, request.vaccine)
            slots.confirm([requested, *(plan.keys if plan else ())])  # one key read for the slot and candidates
            slot = slots.get(*requested)
            if slot is None:
                raise Refused(RefusalKind.NOT_FOUND, "slot_not_found", "Nie ma takiego terminu", field="starts_at")
            visits = tx.patient_visits(patient_id)
            pending_series = pending_dose(visits, programme, now)
            if pending_series is not None:
                if slot.starts_at <= now:
                    raise Refused(RefusalKind.RULE, "slot_in_past", "Ten termin już minął", field="starts_at")
                check_may_book_pending(pending_series, request.vaccine, slot.starts_at, visits, now)
                vaccine = pending_series.vaccine
            else:
                vaccine = check_may_book(
                    vaccine=programme.vaccine(request.vaccine),
                    eligibility=eligibility(programme, patient.birth_date, now),
                    referral=next((r for r in tx.referrals(patient_id) if r.is_valid(now)), None),
                    birth_date=patient.birth_date,
                    visits=visits,
                    slot_starts_at=slot.starts_at,
                    now=now,
                )
            if (
                request.phone is None
                and patient.phone is None
                and channel != Channel.POINT
                and not request.without_mobile
            ):
                raise Refused(
                    RefusalKind.INVALID, "phone_required", "Podaj numer telefonu komórkowego do SMS", field="phone"
                )
            series_id = pending_series.series_id if pending_series else str(uuid.uuid4())
            first_dose = pending_series.dose if pending_series else 1
            # The later doses of a missed visit depend on it: they go, and free their places.
            dropped = [v.with_status(VisitStatus.CANCELLED) for v in lapsed(visits, now) if v.starts_at > now]
            for gone in dropped:
                slots.release(gone.point_id, gone.starts_at, gone.vaccine)
            booked = [new_visit(patient_id, series_id, first_dose, slots.take(slot), channel)]
            regions = {slot.point_id: slot}
            pending: DoseWindow | None = None
            for dose in range(first_dose + 1, vaccine.doses + 1):
                window = next_dose_window(vaccine, dose, booked[-1].starts_at)
                candidates = plan.keys if plan is not None and plan.window == window else ()
                choice = slots.earliest_free_in(vaccine.code, window, near=slot, candidates=candidates)
                if choice is None:
                    pending = window  # documented fallback: dose 1 stands, the next dose is booked later
                    break
                regions.setdefault(choice.point_id, slot)  # same municipality: same TERYT codes
                booked.append(new_visit(patient_id, series_id, dose, slots.take(choice), channel))
            slots.save()
            tx.insert_visits(booked)
            tx.update_visits(dropped)
            phone_changed = []
            if request.phone and request.phone != patient.phone:
                tx.save_phone(patient_id, request.phone, previous=patient.phone)
                if patient.phone is not None:  # never silently: the number on file is told
                    phone_changed = [phone_changed_event(patient_id, now)]
            pending_from = pending.earliest if pending else None
            touched = sorted(slots.changed)
            events = visit_events(
                VISIT_BOOKED, booked, regions, patient.birth_date, booked, now, pending_from, slots=touched
            )
            for series_of_dropped in dict.fromkeys(v.series_id for v in dropped):  # a change (and a text) per series
                gone_together = [v for v in dropped if v.series_id == series_of_dropped]
                home = {v.point_id: slots.get(v.point_id, v.starts_at, v.vaccine) or slot for v in gone_together}
                events += visit_events(
                    VISIT_CANCELLED, gone_together, home, patient.birth_date, gone_together, now, slots=touched
                )
            events += phone_changed
            tx.add_to_outbox(events)
            change = VisitsChanged(booked, next_dose=pending)
            if idempotency_key:
                tx.store_result(patient_id, idempotency_key, StoredResult(request_hash, _stored_booking(change)))
            return _Committed(change, events, touched)

        return self._committed(work)

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

        def work(tx: BookingTransaction) -> _Committed:
            patient, visit, series = self._visit_for_change(tx, visit_id, actor_patient_id, now)
            vaccine = programme.vaccine(visit.vaccine)
            if vaccine is None:
                raise Refused(RefusalKind.RULE, "unknown_vaccine", "Szczepionka nie jest już w programie")
            slots = _ledger(tx)
            target = slots.get(point_id, starts_at, visit.vaccine)
            if target is None:
                raise Refused(RefusalKind.NOT_FOUND, "slot_not_found", "Nie ma takiego terminu", field="starts_at")
            if target.key == (visit.point_id, visit.starts_at, visit.vaccine):
                return _Committed(VisitsChanged(series))
            if target.starts_at <= now:
                raise Refused(RefusalKind.RULE, "slot_in_past", "Ten termin już minął", field="starts_at")
            earlier = [v for v in series if v.dose == visit.dose - 1 and v.status != VisitStatus.CANCELLED]
            if earlier and not next_dose_window(vaccine, visit.dose, earlier[0].starts_at).contains(target.starts_at):
                raise Refused(
                    RefusalKind.RULE, "outside_dose_window", "Termin jest poza dozwolonym odstępem między dawkami"
                )
            slots.release(visit.point_id, visit.starts_at, visit.vaccine)
            moved = [visit.moved_to(slots.take(target))]
            for later in sorted((v for v in series if v.dose > visit.dose and v.is_active), key=lambda v: v.dose):
                window = next_dose_window(vaccine, later.dose, moved[-1].starts_at)
                if window.contains(later.starts_at):
                    break  # this dose and the ones after it still fit
                choice = slots.earliest_free_in(vaccine.code, window, near=target)
                if choice is None:
                    raise Refused(
                        RefusalKind.CONFLICT,
                        "no_place_for_next_dose",
                        "Brak wolnego terminu na kolejną dawkę po tej zmianie",
                    )
                slots.release(later.point_id, later.starts_at, later.vaccine)
                moved.append(later.moved_to(slots.take(choice)))
            slots.save()
            tx.update_visits(moved)
            changed = {v.visit_id: v for v in moved}
            new_series = [changed.get(v.visit_id, v) for v in series]
            regions = {v.point_id: target for v in moved}
            touched = sorted(slots.changed)
            events = visit_events(VISIT_MOVED, moved, regions, patient.birth_date, new_series, now, slots=touched)
            tx.add_to_outbox(events)
            return _Committed(VisitsChanged(new_series), events, touched)

        return self._committed(work)

    # --- cancel ----------------------------------------------------------------------------

    def cancel(self, visit_id: str, actor_patient_id: str | None, now: datetime) -> VisitsChanged:
        """Cancel a visit and the later doses that depend on it; cancelling again changes nothing."""

        def work(tx: BookingTransaction) -> _Committed:
            patient, visit, series = self._visit_for_change(tx, visit_id, actor_patient_id, now, allow_cancelled=True)
            if visit.status == VisitStatus.CANCELLED:
                return _Committed(VisitsChanged([], replayed=True))
            cancelled = [v.with_status(VisitStatus.CANCELLED) for v in series if v.dose >= visit.dose and v.is_active]
            slots = _ledger(tx)
            for v in cancelled:
                slots.release(v.point_id, v.starts_at, v.vaccine)
            region = slots.get(visit.point_id, visit.starts_at, visit.vaccine)
            slots.save()
            tx.update_visits(cancelled)
            events = []
            if region is not None:
                regions = {v.point_id: region for v in cancelled}
                events = visit_events(
                    VISIT_CANCELLED, cancelled, regions, patient.birth_date, cancelled, now, slots=sorted(slots.changed)
                )
                tx.add_to_outbox(events)
            return _Committed(VisitsChanged(cancelled), events, sorted(slots.changed))

        return self._committed(work)

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

    # --- shared ----------------------------------------------------------------------------

    @staticmethod
    def _patient(tx: BookingTransaction, patient_id: str) -> PatientRecord:
        patient = tx.patient(patient_id)
        if patient is None:
            raise Refused(RefusalKind.NOT_FOUND, "patient_not_found", "Nie ma takiego pacjenta")
        return patient

    def _visit_for_change(
        self,
        tx: BookingTransaction,
        visit_id: str,
        actor_patient_id: str | None,
        now: datetime,
        allow_cancelled: bool = False,
    ) -> tuple[PatientRecord, Visit, list[Visit]]:
        owner = tx.visit_owner(visit_id)
        if owner is None:
            raise Refused(RefusalKind.NOT_FOUND, "visit_not_found", "Nie ma takiej wizyty")
        if actor_patient_id is not None and owner != actor_patient_id:
            raise Refused(RefusalKind.FORBIDDEN, "not_your_visit", "To nie jest Twoja wizyta")
        patient = self._patient(tx, owner)
        visits = tx.patient_visits(owner)
        visit = next(v for v in visits if v.visit_id == visit_id)
        if not (allow_cancelled and visit.status == VisitStatus.CANCELLED):
            check_may_change(visit, now)
        series = sorted((v for v in visits if v.series_id == visit.series_id), key=lambda v: v.dose)
        return patient, visit, series
