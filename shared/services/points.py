"""The vaccination points' back office: schedules, deliveries and stock, vaccinations, no-shows.

Use cases only: they depend on the transaction port (``shared/services/transaction.py``), never on
a client library. Each change is one transaction that checks its rules, writes its rows and its
outbox events together.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from shared.domain.booking import (
    Channel,
    DoseWindow,
    Slot,
    Visit,
    VisitStatus,
    next_dose_window,
    same_time_of_day,
)
from shared.domain.events import (
    VISIT_BOOKED,
    VISIT_CANCELLED,
    VISIT_COMPLETED,
    VISIT_MOVED,
    VISIT_NO_SHOW,
    vaccination_voided_event,
    visit_events,
)
from shared.domain.patients import PatientRecord
from shared.domain.points import Point
from shared.domain.programme import Programme, Vaccine, require_programme
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.schedule import (
    ScheduleBlock,
    ScheduleChange,
    day_bounds,
    plan_schedule,
    schedule_changed_events,
    validate_blocks,
)
from shared.domain.stock import Delivery, StockLevel, check_within_stock, stock_level
from shared.domain.vaccination import (
    Actor,
    IdentityCheck,
    Vaccination,
    check_in_code_refusal,
    check_may_mark_no_show,
    check_may_vaccinate,
    check_may_void,
    check_point,
    later_doses,
    local_day,
    orphans,
)
from shared.services.ports import EventPublisher, SlotChangeListener
from shared.services.slot_ledger import SlotLedger
from shared.services.transaction import BookedRef, Changes, Committed, Transaction, Transactions

# How far ahead "from now" reaches when the stock rule sums a point's published places.
STOCK_HORIZON = timedelta(days=400)


@dataclass(frozen=True)
class VaccinationRecorded:
    """A dose recorded and its series after it: the other open visits of the dose it cancelled, and
    the window of the next dose when no place was found for it (it is booked later)."""

    vaccination: Vaccination
    series: list[Visit]
    cancelled: list[str] = field(default_factory=list)
    next_dose: DoseWindow | None = None
    identity_checked: bool | None = None  # None: the answer to a retried request, which does not say


@dataclass(frozen=True)
class VaccinationVoided:
    visit: Visit  # booked again
    vaccination: Vaccination
    voided_at: datetime
    reason: str
    series: list[Visit]


@dataclass(frozen=True)
class DayCancelled:
    point_id: str
    day: date
    cancelled: int  # patients whose visits were cancelled
    moved: int  # patients whose visits were moved
    slots_removed: int
    reason: str


@dataclass(frozen=True)
class NoShowMarked:
    visit: Visit
    cancelled: list[str]  # the later doses cancelled with it


@dataclass(frozen=True)
class _Vaccinating:
    visit_id: str
    lot: str
    check_in_code: str | None
    actor: Actor
    now: datetime
    identity_reason: str | None
    programme: Programme


@dataclass(frozen=True)
class _DayCancelling:
    point_id: str
    day: date
    reason: str
    move_to: date | None
    actor: Actor
    now: datetime
    programme: Programme
    start: datetime  # the rest of the day: [start, end)
    end: datetime


class PointService:
    def __init__(
        self,
        transactions: Transactions,
        programme: Callable[[], Programme | None],
        events: EventPublisher,
        availability: SlotChangeListener | None = None,
        identity_checks_per_day: int = 20,
    ) -> None:
        self.transactions = transactions
        self.changes = Changes(transactions, events, availability)
        self.programme = programme
        self.identity_checks_per_day = identity_checks_per_day

    def _programme(self) -> Programme:
        return require_programme(self.programme())

    @staticmethod
    def _point(tx: Transaction, point_id: str, actor: Actor) -> Point:
        check_point(actor, point_id)
        point = tx.point(point_id)
        if point is None:
            raise Refused(RefusalKind.NOT_FOUND, "point_not_found", "Nie ma takiego punktu szczepień")
        return point

    # --- schedule ----------------------------------------------------------------------------

    def schedule(self, point_id: str, start: datetime, end: datetime, actor: Actor) -> list[Slot]:
        def work(tx: Transaction) -> list[Slot]:
            self._point(tx, point_id, actor)
            return tx.point_slots(point_id, start, end)

        return self.transactions.read(work)

    def publish_schedule(
        self, point_id: str, blocks: Sequence[ScheduleBlock], actor: Actor, now: datetime
    ) -> ScheduleChange:
        """Make the blocks' days hold exactly the blocks' slots, or change nothing."""
        programme = self._programme()
        if not blocks:
            raise Refused(RefusalKind.INVALID, "no_blocks", "Podaj co najmniej jeden blok terminów", field="blocks")

        def work(tx: Transaction) -> Committed[ScheduleChange]:
            point = self._point(tx, point_id, actor)
            if not point.active:
                detail = "Punkt szczepień jest zawieszony: nie publikuje nowych terminów"
                raise Refused(RefusalKind.CONFLICT, "point_suspended", detail)
            validate_blocks(blocks, point, (v.code for v in programme.vaccines), local_day(now))
            days = {b.day for b in blocks}
            # One range read serves both the days' slots and the stock rule (slots that have started
            # are not read: the plan keeps them, and they are not its business).
            end = max(day_bounds(max(days))[1], now + STOCK_HORIZON)
            future = tx.point_slots(point_id, now, end)
            existing = [s for s in future if local_day(s.starts_at) in days]
            change = plan_schedule(point, blocks, existing, now)
            grown = {s.vaccine for s in change.created}
            before = {s.key: s for s in existing}
            grown |= {s.vaccine for s in change.changed if s.capacity > before[s.key].capacity}
            if grown:
                after = {s.key: s for s in future if s.starts_at < now + STOCK_HORIZON}
                for slot in change.removed:
                    after.pop(slot.key, None)
                after.update({s.key: s for s in [*change.created, *change.changed]})
                check_within_stock(grown, tx.deliveries(point_id), tx.administered(point_id), list(after.values()), now)
            tx.insert_slots(change.created)
            tx.set_capacities(change.changed)
            tx.delete_slots(change.removed)
            events = schedule_changed_events(point, change, now, actor.staff_id)
            tx.add_to_outbox(events)
            return Committed(change, events)

        return self.changes.commit(work)

    # --- stock ---------------------------------------------------------------------------------

    def record_delivery(
        self, point_id: str, vaccine: str, doses: int, lot: str, delivered_at: datetime, actor: Actor, now: datetime
    ) -> tuple[Delivery, StockLevel]:
        if self._programme().vaccine(vaccine) is None:
            raise Refused(RefusalKind.INVALID, "unknown_vaccine", "Nieznana szczepionka", field="vaccine")
        if delivered_at > now + timedelta(days=92):
            raise Refused(
                RefusalKind.RULE, "delivery_too_far_ahead", "Dostawa najwyżej 92 dni naprzód", field="delivered_at"
            )

        def work(tx: Transaction) -> tuple[Delivery, StockLevel]:
            point = self._point(tx, point_id, actor)
            if vaccine not in point.vaccines:
                raise Refused(
                    RefusalKind.RULE, "vaccine_not_at_point", "Ten punkt nie podaje tej szczepionki", field="vaccine"
                )
            delivery = Delivery(point_id, str(uuid.uuid4()), vaccine, doses, lot, delivered_at)
            tx.add_delivery(delivery, actor.staff_id)
            deliveries = [*tx.deliveries(point_id), delivery]
            level = stock_level(
                vaccine,
                deliveries,
                tx.administered(point_id).get(vaccine, 0),
                tx.point_slots(point_id, now, now + STOCK_HORIZON),
                now,
            )
            return delivery, level

        return self.transactions.run(work)

    def stock(self, point_id: str, actor: Actor, now: datetime) -> list[StockLevel]:
        def work(tx: Transaction) -> list[StockLevel]:
            point = self._point(tx, point_id, actor)
            deliveries = tx.deliveries(point_id)
            administered = tx.administered(point_id)
            future = tx.point_slots(point_id, now, now + STOCK_HORIZON)
            return [stock_level(v, deliveries, administered.get(v, 0), future, now) for v in point.vaccines]

        return self.transactions.read(work)

    # --- vaccination -----------------------------------------------------------------------------

    def record_vaccination(
        self,
        visit_id: str,
        lot: str,
        check_in_code: str | None,
        actor: Actor,
        now: datetime,
        identity_reason: str | None = None,
    ) -> VaccinationRecorded:
        """Complete the visit with its vaccination record, or refuse; a wrong code is counted even so.

        Without the code, ``identity_reason`` says why the point checked an identity document instead:
        recorded with the vaccination, at most ``identity_checks_per_day`` per staff member and day."""
        ask = _Vaccinating(visit_id, lot, check_in_code, actor, now, identity_reason, self._programme())
        result = self.changes.commit(lambda tx: self._vaccinate(tx, ask))
        if isinstance(result, Refused):
            raise result
        return result

    def _vaccinate(self, tx: Transaction, ask: _Vaccinating) -> Committed[VaccinationRecorded | Refused]:
        patient, visit, visits = self._visit(tx, ask.visit_id)
        if visit.status == VisitStatus.COMPLETED:
            done = tx.vaccination(patient.patient_id, ask.visit_id)
            if done is not None and done.lot == ask.lot and ask.actor.acts_on(visit.point_id):
                return Committed(VaccinationRecorded(done, _series(visits, done.series_id)))  # a retry: same answer
        check_may_vaccinate(ask.actor, visit, ask.now)
        refusal = self._identity_refusal(tx, ask, patient, visit)
        if refusal is None:
            refusal = _lot_refusal(tx, ask, visit)
        if refusal is not None:
            return Committed(refusal)  # committed (a wrong code is counted), then raised
        vaccination = _record_dose(tx, ask, visit)
        slots = SlotLedger(tx)
        home = slots.get(visit.point_id, visit.starts_at, visit.vaccine)
        completed = visit.with_status(VisitStatus.COMPLETED)
        # Other open visits of this dose (and what depends on them) only hold places now.
        stale = [v.with_status(VisitStatus.CANCELLED) for v in orphans(visit, visits)]
        slots.release_visits(stale)
        booked, pending = _next_doses(slots, ask.programme.vaccine(visit.vaccine), completed, visits, home)
        slots.save()
        tx.update_visits([completed, *stale])
        tx.insert_visits(booked)
        series = _series(_changed(visits, [*booked, completed, *stale]), visit.series_id)
        events = _vaccination_events(slots.regions(home), patient, ask, completed, booked, stale, series)
        tx.add_to_outbox(events)
        cancelled = [v.visit_id for v in stale]
        recorded = VaccinationRecorded(vaccination, series, cancelled, pending, ask.identity_reason is not None)
        return Committed(recorded, events)

    def _identity_refusal(
        self, tx: Transaction, ask: _Vaccinating, patient: PatientRecord, visit: Visit
    ) -> Refused | None:
        """Who is vaccinated: the check-in code (a wrong one is counted), or an identity document
        checked instead, within the staff member's daily number of such checks."""
        if ask.identity_reason is not None:
            made = tx.identity_checks_made(ask.actor.staff_id, local_day(ask.now))
            return IdentityCheck(ask.identity_reason, made, self.identity_checks_per_day).refusal()
        attempts = tx.wrong_code_attempts(patient.patient_id, ask.visit_id)
        refusal = check_in_code_refusal(visit, ask.check_in_code or "", attempts)
        if refusal is not None and refusal.code == "wrong_check_in_code":
            tx.set_wrong_code_attempts(patient.patient_id, ask.visit_id, attempts + 1)
        return refusal

    def void_vaccination(self, visit_id: str, reason: str, actor: Actor, now: datetime) -> VaccinationVoided:
        """A point manager voids a dose recorded in the last 24 hours: the record stays, marked void;
        the visit is booked again, as before the record (it may be recorded again today; otherwise the
        nightly job marks it missed, with the doses after it); the dose goes back to the stock; the
        later doses already booked stay, as they were before the record."""

        def work(tx: Transaction) -> Committed[VaccinationVoided]:
            patient, visit, visits = self._visit(tx, visit_id)
            vaccination = tx.vaccination(patient.patient_id, visit_id)
            check_may_void(actor, visit, vaccination, now)
            assert vaccination is not None
            reopened = visit.with_status(VisitStatus.BOOKED)
            tx.void_vaccination(vaccination, now, actor.staff_id, reason)
            tx.update_visits([reopened])
            administered = tx.administered(visit.point_id).get(visit.vaccine, 0)
            tx.set_administered(visit.point_id, visit.vaccine, max(0, administered - 1))
            events = [vaccination_voided_event(reopened, now, reason)]
            tx.add_to_outbox(events)
            series = _series(_changed(visits, [reopened]), visit.series_id)
            return Committed(VaccinationVoided(reopened, vaccination, now, reason, series), events)

        return self.changes.commit(work)

    # --- a cancelled day -------------------------------------------------------------------------

    def cancel_day(
        self, point_id: str, day: date, reason: str, move_to: date | None, actor: Actor, now: datetime
    ) -> DayCancelled:
        """A point manager cancels what is left of a day (a delivery failed): each booked visit moves to
        ``move_to`` at the same point (the place nearest its hour) or, without it, is cancelled; the
        doses after it follow (moved into their window, or cancelled with it); each patient gets one SMS
        (their change's first event carries it); the day's slots without visits are removed, so
        search stops offering them. All or nothing: when ``move_to`` lacks places for every visit,
        409 ``no_place_on_move_to`` and nothing changes."""
        _check_may_cancel_day(point_id, day, move_to, actor, now)
        start, end = day_bounds(day)
        # What has started is the point's own business (vaccinated or missed).
        ask = _DayCancelling(point_id, day, reason, move_to, actor, now, self._programme(), max(start, now), end)
        return self.changes.commit(lambda tx: self._cancel_day(tx, ask))

    def _cancel_day(self, tx: Transaction, ask: _DayCancelling) -> Committed[DayCancelled]:
        point = self._point(tx, ask.point_id, ask.actor)
        slots = SlotLedger(tx)
        day_slots = slots.at_point(ask.point_id, ask.start, ask.end)
        targets = slots.at_point(ask.point_id, *day_bounds(ask.move_to)) if ask.move_to else []
        home = day_slots[0] if day_slots else None
        events: list[dict[str, Any]] = []
        done: list[str] = []
        for patient_id in dict.fromkeys(tx.day_visit_patients(ask.point_id, ask.start, ask.end)):
            change = _cancel_patients_day(tx, slots, ask, patient_id, home, targets)
            if change is not None:
                done.append(change[0])
                events += change[1]
        slots.save()
        # The day's places go: search stops offering them (a slot still holding a visit stays).
        removed = [slots.slots[s.key] for s in day_slots if slots.slots[s.key].booked == 0]
        tx.delete_slots(removed)
        events += schedule_changed_events(point, ScheduleChange(removed=removed), ask.now, ask.actor.staff_id)
        tx.add_to_outbox(events)
        result = DayCancelled(
            ask.point_id, ask.day, done.count("cancelled"), done.count("moved"), len(removed), ask.reason
        )
        return Committed(result, events)

    # --- no-shows ------------------------------------------------------------------------------

    def mark_no_show(self, visit_id: str, actor: Actor, now: datetime) -> NoShowMarked:
        def work(tx: Transaction) -> Committed[NoShowMarked]:
            patient, visit, visits = self._visit(tx, visit_id)
            if visit.status == VisitStatus.NO_SHOW and actor.acts_on(visit.point_id):
                return Committed(NoShowMarked(visit, []))
            check_may_mark_no_show(actor, visit, now)
            slots = SlotLedger(tx)
            marked, events = self._no_show(tx, slots, patient, visit, visits, now)
            slots.save()
            return Committed(marked, events)

        return self.changes.commit(work)

    def mark_past_no_shows(self, today: date, now: datetime, page: int = 200) -> int:
        """Every visit still BOOKED on a day before ``today`` becomes NO_SHOW; page by page, and
        running it again changes nothing."""
        total = 0
        after: BookedRef | None = None
        while True:
            refs = self.transactions.booked_before(today, after, page)
            if not refs:
                return total
            total += self.mark_no_shows_page(refs, today, now)
            after = refs[-1]

    def mark_no_shows_page(self, refs: Sequence[BookedRef], today: date, now: datetime) -> int:
        """One page of the nightly marking, in one transaction: those of ``refs`` still BOOKED on a
        day before ``today`` become NO_SHOW; returns how many did."""
        work = functools.partial(self._no_shows_if_past, refs=list(refs), today=today, now=now)
        return self.changes.commit(work)

    def _no_shows_if_past(self, tx: Transaction, refs: list[BookedRef], today: date, now: datetime) -> Committed[int]:
        slots = SlotLedger(tx)  # one view of the slots for the page: two visits may free the same slot
        count = 0
        events: list[dict[str, Any]] = []
        # A page is a few reads, not a few per visit: its patients, their visits, the slots of those.
        patient_ids = list(dict.fromkeys(ref[2] for ref in refs))
        patients, visits_of = tx.patients(patient_ids), tx.visits_of(patient_ids)
        slots.confirm([(v.point_id, v.starts_at, v.vaccine) for vs in visits_of.values() for v in vs if v.is_active])
        for patient_id in patient_ids:
            patient = patients.get(patient_id)
            visits = visits_of.get(patient_id, [])
            wanted = {ref[1] for ref in refs if ref[2] == patient_id}
            for visit in sorted((v for v in visits if v.visit_id in wanted), key=lambda v: v.dose):
                current = next(v for v in visits if v.visit_id == visit.visit_id)
                if patient is None or not current.is_active or local_day(current.starts_at) >= today:
                    continue
                marked, written = self._no_show(tx, slots, patient, current, visits, now)
                events += written
                changed = {marked.visit.visit_id: marked.visit}
                changed.update({v: replace_status(visits, v) for v in marked.cancelled})
                visits = [changed.get(v.visit_id, v) for v in visits]
                count += 1
        slots.save()
        return Committed(count, events)

    @staticmethod
    def _no_show(
        tx: Transaction, slots: SlotLedger, patient: PatientRecord, visit: Visit, visits: list[Visit], now: datetime
    ) -> tuple[NoShowMarked, list[dict[str, Any]]]:
        """Mark the visit NO_SHOW and cancel the doses that depend on it (with their events); the caller
        saves ``slots``."""
        missed = visit.with_status(VisitStatus.NO_SHOW)
        # Later doses depend on this one: they go, and their places come free.
        dropped = [v.with_status(VisitStatus.CANCELLED) for v in later_doses(visit, visits)]
        home = slots.get(visit.point_id, visit.starts_at, visit.vaccine)
        slots.release_visits(dropped)
        tx.update_visits([missed, *dropped])
        events: list[dict[str, Any]] = []
        regions = slots.regions(home)
        if visit.point_id in regions:
            events += visit_events(VISIT_NO_SHOW, [missed], regions, patient.birth_date, [missed, *dropped], now)
            if dropped:
                events += visit_events(VISIT_CANCELLED, dropped, regions, patient.birth_date, dropped, now)
        tx.add_to_outbox(events)
        return NoShowMarked(missed, [v.visit_id for v in dropped]), events

    # --- shared ----------------------------------------------------------------------------------

    @staticmethod
    def _visit(tx: Transaction, visit_id: str) -> tuple[PatientRecord, Visit, list[Visit]]:
        owner = tx.visit_owner(visit_id)
        patient = tx.patient(owner) if owner else None
        if owner is None or patient is None:
            raise Refused(RefusalKind.NOT_FOUND, "visit_not_found", "Nie ma takiej wizyty")
        visits = tx.patient_visits(owner)
        return patient, next(v for v in visits if v.visit_id == visit_id), visits


def _next_doses(
    slots: SlotLedger, vaccine: Vaccine | None, completed: Visit, visits: Sequence[Visit], home: Slot | None
) -> tuple[list[Visit], DoseWindow | None]:
    """Book the series' next doses after a completed one if none is booked; returns them and the
    window of a dose still to book (no place in it), if any."""
    if vaccine is None or home is None or completed.dose >= vaccine.doses:
        return [], None
    if any(v.series_id == completed.series_id and v.dose > completed.dose and v.is_active for v in visits):
        return [], None
    return slots.book_next_doses(vaccine, completed, home, Channel.POINT)


def _series(visits: Iterable[Visit], series_id: str) -> list[Visit]:
    return sorted((v for v in visits if v.series_id == series_id), key=lambda v: v.dose)


def _changed(visits: Sequence[Visit], changes: Sequence[Visit]) -> list[Visit]:
    """The visits as these changes leave them (new ones at the end)."""
    after = {v.visit_id: v for v in visits}
    after.update({v.visit_id: v for v in changes})
    return list(after.values())


def _lot_refusal(tx: Transaction, ask: _Vaccinating, visit: Visit) -> Refused | None:
    if any(d.lot == ask.lot and d.vaccine == visit.vaccine for d in tx.deliveries(visit.point_id)):
        return None
    return Refused(RefusalKind.RULE, "unknown_lot", "Ta partia szczepionki nie została dostarczona do punktu", "lot")


def _record_dose(tx: Transaction, ask: _Vaccinating, visit: Visit) -> Vaccination:
    """The vaccination record, the identity check it relied on (if any) and the stock it used."""
    vaccination = Vaccination(
        visit.patient_id, ask.visit_id, visit.series_id, visit.dose, visit.vaccine, visit.point_id, ask.lot, ask.now,
        ask.actor.staff_id,
    )  # fmt: skip
    tx.add_vaccination(vaccination)
    if ask.identity_reason is not None:
        tx.add_identity_check(ask.actor.staff_id, local_day(ask.now), ask.visit_id, visit.point_id, ask.identity_reason)
    administered = tx.administered(visit.point_id).get(visit.vaccine, 0)
    tx.set_administered(visit.point_id, visit.vaccine, administered + 1)
    return vaccination


def _vaccination_events(
    regions: dict[str, Slot],
    patient: PatientRecord,
    ask: _Vaccinating,
    completed: Visit,
    booked: list[Visit],
    stale: list[Visit],
    series: list[Visit],
) -> list[dict[str, Any]]:
    born, now = patient.birth_date, ask.now
    events = visit_events(VISIT_COMPLETED, [completed], regions, born, series, now)
    events[0]["lot"] = ask.lot
    if booked:
        events += visit_events(VISIT_BOOKED, booked, regions, born, series, now)
    for series_id in dict.fromkeys(v.series_id for v in stale):  # a change (and a text) per series
        dropped = [v for v in stale if v.series_id == series_id]
        events += visit_events(VISIT_CANCELLED, dropped, regions, born, dropped, now)
    return events


def _check_may_cancel_day(point_id: str, day: date, move_to: date | None, actor: Actor, now: datetime) -> None:
    if not actor.manages(point_id):
        check_point(actor, point_id)
        raise Refused(RefusalKind.FORBIDDEN, "not_point_manager", "Tylko kierownik punktu może odwołać dzień")
    today = local_day(now)
    if day < today:
        raise Refused(RefusalKind.RULE, "day_in_past", "Ten dzień już minął", field="day")
    if move_to is not None and (move_to <= today or move_to == day):
        raise Refused(RefusalKind.RULE, "invalid_move_to", "Przenieść można tylko na inny, przyszły dzień",
                      field="move_to")  # fmt: skip


def _cancel_patients_day(
    tx: Transaction, slots: SlotLedger, ask: _DayCancelling, patient_id: str, home: Slot | None, targets: list[Slot]
) -> tuple[str, list[dict[str, Any]]] | None:
    """One patient's visit of the cancelled day, moved or cancelled with the doses after it:
    ("moved" or "cancelled", its events); None when the patient has no booked visit there."""
    patient = tx.patient(patient_id)
    visits = tx.patient_visits(patient_id)
    on_day = [v for v in visits if v.is_active and v.point_id == ask.point_id and ask.start <= v.starts_at < ask.end]
    if patient is None or not on_day:
        return None
    visit = min(on_day, key=lambda v: v.dose)  # the doses after it follow it
    region = home or slots.get(visit.point_id, visit.starts_at, visit.vaccine)
    if region is None:
        return None
    vaccine = ask.programme.vaccine(visit.vaccine)
    changed = _moved_with_later_doses(slots, visit, visits, targets, vaccine) if ask.move_to else None
    if ask.move_to is not None and changed is None:
        raise Refused(
            RefusalKind.CONFLICT, "no_place_on_move_to",
            f"Brak wolnych miejsc {ask.move_to:%d.%m.%Y} dla wszystkich wizyt tego dnia", field="move_to",
        )  # fmt: skip
    regions = {v.point_id: region for v in [*visits, *(changed or [])]}
    born = patient.birth_date
    if changed:
        tx.update_visits(changed)
        series = [v for v in _changed(visits, changed) if v.series_id == visit.series_id]
        return "moved", visit_events(VISIT_MOVED, changed, regions, born, series, ask.now, slots=sorted(slots.changed))
    dropped = [v.with_status(VisitStatus.CANCELLED) for v in [visit, *later_doses(visit, visits)]]
    slots.release_visits(dropped)
    tx.update_visits(dropped)
    return "cancelled", visit_events(
        VISIT_CANCELLED, dropped, regions, born, dropped, ask.now, slots=sorted(slots.changed)
    )


def _moved_with_later_doses(
    slots: SlotLedger, visit: Visit, visits: Sequence[Visit], targets: Sequence[Slot], vaccine: Vaccine | None
) -> list[Visit] | None:
    """The visit on a place of the target day nearest its hour, and the later doses moved into their
    windows where they no longer fit; None when the target day has no place for it (or it would leave
    its own dose window). A later dose with no place left in its window stays where it is: the point
    or the patient moves it (it is still booked, so it is not lost)."""
    free = [slots.slots[s.key] for s in targets]
    target = same_time_of_day(free, visit.vaccine, visit.starts_at)
    if target is None or vaccine is None:
        return None
    earlier = [v for v in visits if v.series_id == visit.series_id and v.dose == visit.dose - 1
               and v.status == VisitStatus.COMPLETED]  # fmt: skip
    if earlier and not next_dose_window(vaccine, visit.dose, earlier[0].starts_at).contains(target.starts_at):
        return None
    slots.release(visit.point_id, visit.starts_at, visit.vaccine)
    changed = [visit.moved_to(slots.take(target))]
    followed, _ = slots.move_later_doses(vaccine, changed[0], later_doses(visit, visits), target)
    return [*changed, *followed]


def replace_status(visits: Sequence[Visit], visit_id: str) -> Visit:
    """The visit, cancelled (a later dose dropped with a no-show)."""
    return next(v for v in visits if v.visit_id == visit_id).with_status(VisitStatus.CANCELLED)
