"""Booking, moving, cancelling and listing visits.

Each change is one short read-write transaction of key reads and mutations: it checks the rules,
takes and frees places, writes the visits, the idempotency record and the outbox events together.
Nothing else changes a slot's counter.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.adapters.spanner_booking import BookingStore
from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_patients import PatientRepository
from shared.domain.booking import (
    WARSAW,
    Channel,
    DoseWindow,
    Slot,
    Visit,
    VisitStatus,
    check_may_book,
    check_may_change,
    earliest_free,
    local_iso,
    new_visit,
    next_dose_window,
)
from shared.domain.events import VISIT_BOOKED, VISIT_CANCELLED, VISIT_MOVED, visit_events
from shared.domain.identity import eligibility
from shared.domain.patients import PatientRecord
from shared.domain.programme import Programme, Vaccine
from shared.domain.refusals import RefusalKind, Refused


@dataclass(frozen=True)
class BookingRequest:
    point_id: str
    starts_at: datetime
    vaccine: str
    phone: str | None  # E.164, already validated


@dataclass(frozen=True)
class Answer:
    """What the caller gets: the status and body, stored for idempotent replays."""

    status: int
    body: dict[str, Any]
    replayed: bool = False
    # The events this change wrote to the outbox (published right after commit); none on a replay.
    events: list[dict[str, Any]] = field(default_factory=list)


def visit_json(visit: Visit, with_code: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "visit_id": visit.visit_id,
        "patient_id": visit.patient_id,
        "series_id": visit.series_id,
        "dose": visit.dose,
        "vaccine": visit.vaccine,
        "point_id": visit.point_id,
        "starts_at": local_iso(visit.starts_at),
        "status": str(visit.status),
        "channel": str(visit.channel),
    }
    if with_code:
        body["check_in_code"] = visit.check_in_code
    return body


def _window_json(window: DoseWindow) -> dict[str, Any]:
    return {
        "dose": window.dose,
        "status": "TO_BE_BOOKED",
        "earliest": local_iso(window.earliest),
        "latest": local_iso(window.latest),
    }


class SlotChanges:
    """Slots read and changed inside one transaction, so a slot read twice is counted once."""

    def __init__(self, store: BookingStore, transaction: Any) -> None:
        self.store = store
        self.transaction = transaction
        self.slots: dict[tuple[str, datetime, str], Slot] = {}
        self.changed: set[tuple[str, datetime, str]] = set()

    def get(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None:
        key = (point_id, starts_at, vaccine)
        if key not in self.slots:
            slot = self.store.slot(self.transaction, point_id, starts_at, vaccine)
            if slot is None:
                return None
            self.slots[key] = slot
        return self.slots[key]

    def known(self, slot: Slot) -> Slot:
        """The transaction's view of a slot found by a range or index read."""
        return self.slots.setdefault(slot.key, slot)

    def take(self, slot: Slot) -> Slot:
        taken = self.known(slot).taken()
        self.slots[slot.key] = taken
        self.changed.add(slot.key)
        return taken

    def release(self, point_id: str, starts_at: datetime, vaccine: str) -> None:
        slot = self.get(point_id, starts_at, vaccine)
        if slot is not None:
            self.slots[slot.key] = slot.released()
            self.changed.add(slot.key)

    def save(self) -> None:
        self.store.save_slots(self.transaction, [self.slots[key] for key in self.changed])

    def next_dose_slot(self, vaccine: Vaccine, window: DoseWindow, near: Slot) -> Slot | None:
        """Earliest free place in the window: at the same point, else elsewhere in the municipality."""
        at_point = [
            self.known(s)
            for s in self.store.point_slots(self.transaction, near.point_id, window.earliest, window.latest)
        ]
        choice = earliest_free(at_point, window, vaccine.code)
        if choice is not None:
            return choice
        nearby = self.store.free_slots(
            self.transaction, "municipality", near.municipality, vaccine.code, window.earliest, window.latest, limit=20
        )
        for found in nearby:
            candidate = self.get(found.point_id, found.starts_at, found.vaccine)
            if candidate is not None and candidate.free_places > 0 and window.contains(candidate.starts_at):
                return candidate
        return None


class VisitService:
    def __init__(
        self,
        database: SpannerDatabase,
        store: BookingStore,
        patients: PatientRepository,
        programme: Callable[[], Programme | None],
    ) -> None:
        self.database = database
        self.store = store
        self.patients = patients
        self.programme = programme

    def _programme(self) -> Programme:
        programme = self.programme()
        if programme is None:
            raise Refused(
                RefusalKind.UNAVAILABLE, "programme_unavailable", "Konfiguracja programu szczepień jest niedostępna"
            )
        return programme

    # --- book ------------------------------------------------------------------------------

    def book(
        self,
        patient_id: str,
        request: BookingRequest,
        channel: Channel,
        now: datetime,
        idempotency_key: str | None = None,
        request_hash: str = "",
    ) -> Answer:
        programme = self._programme()
        if programme.vaccine(request.vaccine) is None:
            raise Refused(RefusalKind.INVALID, "unknown_vaccine", "Nieznana szczepionka", field="vaccine")

        def work(transaction: Any) -> Answer:
            if idempotency_key:
                record = self.store.idempotency_record(transaction, patient_id, idempotency_key)
                if record is not None:
                    stored_hash, status, stored_body = record
                    if stored_hash != request_hash:
                        raise Refused(
                            RefusalKind.CONFLICT,
                            "idempotency_key_reused",
                            "Ten klucz Idempotency-Key użyto już dla innego żądania",
                        )
                    return Answer(status, json.loads(stored_body), replayed=True)
            patient = self._patient(transaction, patient_id)
            referrals = self.patients.referrals(transaction, patient_id)
            visits = self.store.patient_visits(transaction, patient_id)
            slots = SlotChanges(self.store, transaction)
            slot = slots.get(request.point_id, request.starts_at, request.vaccine)
            if slot is None:
                raise Refused(RefusalKind.NOT_FOUND, "slot_not_found", "Nie ma takiego terminu", field="starts_at")
            vaccine = check_may_book(
                vaccine=programme.vaccine(request.vaccine),
                eligibility=eligibility(programme, patient.birth_date, now),
                referral=next((r for r in referrals if r.is_valid(now)), None),
                birth_date=patient.birth_date,
                visits=visits,
                slot_starts_at=slot.starts_at,
                now=now,
            )
            if request.phone is None and patient.phone is None:
                raise Refused(
                    RefusalKind.INVALID, "phone_required", "Podaj numer telefonu komórkowego do SMS", field="phone"
                )
            series_id = str(uuid.uuid4())
            booked = [new_visit(patient_id, series_id, 1, slots.take(slot), channel)]
            regions = {slot.point_id: slot}
            pending: DoseWindow | None = None
            for dose in range(2, vaccine.doses + 1):
                window = next_dose_window(vaccine, dose, booked[-1].starts_at)
                choice = slots.next_dose_slot(vaccine, window, near=slot)
                if choice is None:
                    pending = window  # documented fallback: dose 1 stands, the next dose is booked later
                    break
                regions.setdefault(choice.point_id, slot)  # same municipality: same TERYT codes
                booked.append(new_visit(patient_id, series_id, dose, slots.take(choice), channel))
            slots.save()
            self.store.insert_visits(transaction, booked)
            if request.phone and request.phone != patient.phone:
                self.store.save_phone(transaction, patient_id, request.phone)
            events = visit_events(
                VISIT_BOOKED, booked, regions, patient.birth_date, booked, now, pending.earliest if pending else None
            )
            self.store.add_to_outbox(transaction, events)
            body = {
                "visits": [visit_json(v, with_code=True) for v in booked],
                "next_dose": _window_json(pending) if pending else None,
            }
            if idempotency_key:
                self.store.record_idempotency(
                    transaction, patient_id, idempotency_key, request_hash, 201, json.dumps(body)
                )
            return Answer(201, body, events=events)

        return self.database.run_in_transaction(work)

    # --- move ------------------------------------------------------------------------------

    def move(
        self, visit_id: str, point_id: str, starts_at: datetime, actor_patient_id: str | None, now: datetime
    ) -> Answer:
        programme = self._programme()

        def work(transaction: Any) -> Answer:
            patient, visit, series = self._visit_for_change(transaction, visit_id, actor_patient_id, now)
            vaccine = programme.vaccine(visit.vaccine)
            if vaccine is None:
                raise Refused(RefusalKind.RULE, "unknown_vaccine", "Szczepionka nie jest już w programie")
            slots = SlotChanges(self.store, transaction)
            target = slots.get(point_id, starts_at, visit.vaccine)
            if target is None:
                raise Refused(RefusalKind.NOT_FOUND, "slot_not_found", "Nie ma takiego terminu", field="starts_at")
            if target.key == (visit.point_id, visit.starts_at, visit.vaccine):
                return Answer(200, {"visits": [visit_json(v, with_code=True) for v in series]})
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
                choice = slots.next_dose_slot(vaccine, window, near=target)
                if choice is None:
                    raise Refused(
                        RefusalKind.CONFLICT,
                        "no_place_for_next_dose",
                        "Brak wolnego terminu na kolejną dawkę po tej zmianie",
                    )
                slots.release(later.point_id, later.starts_at, later.vaccine)
                moved.append(later.moved_to(slots.take(choice)))
            slots.save()
            self.store.update_visits(transaction, moved)
            changed = {v.visit_id: v for v in moved}
            new_series = [changed.get(v.visit_id, v) for v in series]
            regions = {v.point_id: target for v in moved}
            events = visit_events(VISIT_MOVED, moved, regions, patient.birth_date, new_series, now)
            self.store.add_to_outbox(transaction, events)
            return Answer(200, {"visits": [visit_json(v, with_code=True) for v in new_series]}, events=events)

        return self.database.run_in_transaction(work)

    # --- cancel ----------------------------------------------------------------------------

    def cancel(self, visit_id: str, actor_patient_id: str | None, now: datetime) -> Answer:
        def work(transaction: Any) -> Answer:
            patient, visit, series = self._visit_for_change(
                transaction, visit_id, actor_patient_id, now, allow_cancelled=True
            )
            if visit.status == VisitStatus.CANCELLED:
                return Answer(204, {}, replayed=True)
            # Later doses depend on this one: they go with it.
            cancelled = [v.with_status(VisitStatus.CANCELLED) for v in series if v.dose >= visit.dose and v.is_active]
            slots = SlotChanges(self.store, transaction)
            for v in cancelled:
                slots.release(v.point_id, v.starts_at, v.vaccine)
            region = slots.get(visit.point_id, visit.starts_at, visit.vaccine)
            slots.save()
            self.store.update_visits(transaction, cancelled)
            events = []
            if region is not None:
                regions = {v.point_id: region for v in cancelled}
                events = visit_events(VISIT_CANCELLED, cancelled, regions, patient.birth_date, cancelled, now)
                self.store.add_to_outbox(transaction, events)
            return Answer(204, {}, events=events)

        return self.database.run_in_transaction(work)

    # --- read ------------------------------------------------------------------------------

    def list_for_patient(self, patient_id: str) -> list[Visit]:
        with self.database.snapshot() as snapshot:
            visits = self.store.patient_visits(snapshot, patient_id)
        return sorted(visits, key=lambda v: (v.starts_at, v.dose))

    def day_list(self, point_id: str, day: date) -> list[tuple[Visit, PatientRecord | None]]:
        """A point's visits on one local day, earliest first, with whom they are for."""
        start = datetime(day.year, day.month, day.day, tzinfo=WARSAW)
        end = start + timedelta(days=1)
        with self.database.snapshot() as snapshot:
            keys = self.store.point_visits(snapshot, point_id, start.astimezone(UTC), end.astimezone(UTC))
        with self.database.snapshot() as snapshot:
            visits = self.store.visits_by_keys(snapshot, keys)
        patients: dict[str, PatientRecord | None] = {}
        for patient_id in {v.patient_id for v in visits}:
            with self.database.snapshot() as snapshot:
                patients[patient_id] = self.patients.get(snapshot, patient_id)
        return [(v, patients[v.patient_id]) for v in sorted(visits, key=lambda v: (v.starts_at, v.visit_id))]

    # --- shared ----------------------------------------------------------------------------

    def _patient(self, transaction: Any, patient_id: str) -> PatientRecord:
        patient = self.patients.get(transaction, patient_id)
        if patient is None:
            raise Refused(RefusalKind.NOT_FOUND, "patient_not_found", "Nie ma takiego pacjenta")
        return patient

    def _visit_for_change(
        self,
        transaction: Any,
        visit_id: str,
        actor_patient_id: str | None,
        now: datetime,
        allow_cancelled: bool = False,
    ) -> tuple[PatientRecord, Visit, list[Visit]]:
        owner = self.store.visit_owner(transaction, visit_id)
        if owner is None:
            raise Refused(RefusalKind.NOT_FOUND, "visit_not_found", "Nie ma takiej wizyty")
        if actor_patient_id is not None and owner != actor_patient_id:
            raise Refused(RefusalKind.FORBIDDEN, "not_your_visit", "To nie jest Twoja wizyta")
        patient = self._patient(transaction, owner)
        visits = self.store.patient_visits(transaction, owner)
        visit = next(v for v in visits if v.visit_id == visit_id)
        if not (allow_cancelled and visit.status == VisitStatus.CANCELLED):
            check_may_change(visit, now)
        series = sorted((v for v in visits if v.series_id == visit.series_id), key=lambda v: v.dose)
        return patient, visit, series
