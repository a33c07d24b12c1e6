"""The vaccination points' back office: schedules, deliveries and stock, vaccinations, no-shows.

Use cases only: they depend on the transaction port (``shared/services/transaction.py``), never on
a client library. Each change is one transaction that checks its rules, writes its rows and its
outbox events together.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from shared.domain.booking import (
    Channel,
    DoseWindow,
    Slot,
    Visit,
    VisitStatus,
    local_iso,
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
class Outcome:
    """A change's answer body and the events it wrote (published right after commit)."""

    body: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)


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
    ) -> tuple[ScheduleChange, list[dict[str, Any]]]:
        """Make the blocks' days hold exactly the blocks' slots, or change nothing."""
        programme = self._programme()
        if not blocks:
            raise Refused(RefusalKind.INVALID, "no_blocks", "Podaj co najmniej jeden blok terminów", field="blocks")

        def work(tx: Transaction) -> Committed[tuple[ScheduleChange, list[dict[str, Any]]]]:
            point = self._point(tx, point_id, actor)
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
            changed = sorted(s.key for s in [*change.created, *change.changed, *change.removed])
            return Committed((change, events), events, changed)

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
    ) -> Outcome:
        """Complete the visit with its vaccination record, or refuse; a wrong code is counted even so.

        Without the code, ``identity_reason`` says why the point checked an identity document instead:
        recorded with the vaccination, at most ``identity_checks_per_day`` per staff member and day."""
        programme = self._programme()

        def work(tx: Transaction) -> Committed[Outcome | Refused]:
            patient, visit, visits = self._visit(tx, visit_id)
            if visit.status == VisitStatus.COMPLETED:
                done = tx.vaccination(patient.patient_id, visit_id)
                if done is not None and done.lot == lot and actor.acts_on(visit.point_id):
                    return Committed(Outcome(self._vaccination_body(done, visits)))  # a retried request: same answer
            check_may_vaccinate(actor, visit, now)
            if identity_reason is not None:
                made = tx.identity_checks_made(actor.staff_id, local_day(now))
                limited = IdentityCheck(identity_reason, made, self.identity_checks_per_day).refusal()
                if limited is not None:
                    return Committed(limited)
            else:
                attempts = tx.wrong_code_attempts(patient.patient_id, visit_id)
                refusal = check_in_code_refusal(visit, check_in_code or "", attempts)
                if refusal is not None:
                    if refusal.code == "wrong_check_in_code":
                        tx.set_wrong_code_attempts(patient.patient_id, visit_id, attempts + 1)
                    return Committed(refusal)  # committed (the try is counted), then raised
            if not any(d.lot == lot and d.vaccine == visit.vaccine for d in tx.deliveries(visit.point_id)):
                return Committed(
                    Refused(
                        RefusalKind.RULE,
                        "unknown_lot",
                        "Ta partia szczepionki nie została dostarczona do punktu",
                        "lot",
                    )
                )
            vaccination = Vaccination(
                patient.patient_id, visit_id, visit.series_id, visit.dose, visit.vaccine, visit.point_id, lot, now,
                actor.staff_id,
            )  # fmt: skip
            completed = visit.with_status(VisitStatus.COMPLETED)
            tx.add_vaccination(vaccination)
            if identity_reason is not None:
                tx.add_identity_check(actor.staff_id, local_day(now), visit_id, visit.point_id, identity_reason)
            administered = tx.administered(visit.point_id).get(visit.vaccine, 0)
            tx.set_administered(visit.point_id, visit.vaccine, administered + 1)
            slots = SlotLedger(tx)
            home = slots.get(visit.point_id, visit.starts_at, visit.vaccine)
            events: list[dict[str, Any]] = []
            # Other open visits of this dose (and what depends on them) only hold places now.
            stale = [v.with_status(VisitStatus.CANCELLED) for v in orphans(visit, visits)]
            for other in stale:
                slots.release(other.point_id, other.starts_at, other.vaccine)
            # The next dose, if the series has one and it is not booked yet.
            vaccine = programme.vaccine(visit.vaccine)
            booked: list[Visit] = []
            pending = None
            if vaccine is not None and home is not None:
                booked, pending = _next_doses(slots, vaccine, completed, visits, home)
            touched = slots.save()
            tx.update_visits([completed, *stale])
            tx.insert_visits(booked)
            after = {v.visit_id: v for v in [*visits, *booked]}
            after.update({v.visit_id: v for v in [completed, *stale]})
            series = sorted((v for v in after.values() if v.series_id == visit.series_id), key=lambda v: v.dose)
            regions = slots.regions(home)
            completed_events = visit_events(VISIT_COMPLETED, [completed], regions, patient.birth_date, series, now)
            completed_events[0]["lot"] = lot
            events += completed_events
            if booked:
                events += visit_events(VISIT_BOOKED, booked, regions, patient.birth_date, series, now)
            for series_id in dict.fromkeys(v.series_id for v in stale):  # a change (and a text) per series
                dropped = [v for v in stale if v.series_id == series_id]
                events += visit_events(VISIT_CANCELLED, dropped, regions, patient.birth_date, dropped, now)
            tx.add_to_outbox(events)
            body = self._vaccination_body(vaccination, list(after.values()))
            body["cancelled"] = [v.visit_id for v in stale]
            body["identity_checked"] = identity_reason is not None
            body["next_dose"] = (
                {
                    "dose": pending.dose,
                    "status": "TO_BE_BOOKED",
                    "earliest": local_iso(pending.earliest),
                    "latest": local_iso(pending.latest),
                }
                if pending
                else None
            )
            return Committed(Outcome(body, events), events, touched)

        result = self.changes.commit(work)
        if isinstance(result, Refused):
            raise result
        return result

    @staticmethod
    def _vaccination_body(vaccination: Vaccination, visits: Sequence[Visit]) -> dict[str, Any]:
        series = sorted((v for v in visits if v.series_id == vaccination.series_id), key=lambda v: v.dose)
        return {"vaccination": vaccination.as_json(), "series": series, "cancelled": [], "next_dose": None}

    def void_vaccination(self, visit_id: str, reason: str, actor: Actor, now: datetime) -> Outcome:
        """A point manager voids a dose recorded in the last 24 hours: the record stays, marked void;
        the visit is booked again, as before the record (it may be recorded again today; otherwise the
        nightly job marks it missed, with the doses after it); the dose goes back to the stock; the
        later doses already booked stay, as they were before the record."""

        def work(tx: Transaction) -> Committed[Outcome]:
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
            series = sorted((v for v in visits if v.series_id == visit.series_id), key=lambda v: v.dose)
            body = {
                "visit": reopened,
                "voided": {**vaccination.as_json(), "voided_at": local_iso(now), "reason": reason},
                "series": [reopened if v.visit_id == visit_id else v for v in series],
            }
            return Committed(Outcome(body, events), events)

        return self.changes.commit(work)

    # --- a cancelled day -------------------------------------------------------------------------

    def cancel_day(
        self, point_id: str, day: date, reason: str, move_to: date | None, actor: Actor, now: datetime
    ) -> Outcome:
        """A point manager cancels what is left of a day (a delivery failed): each booked visit moves to
        ``move_to`` at the same point (the place nearest its hour) or, without it, is cancelled; the
        doses after it follow (moved into their window, or cancelled with it); each patient gets one SMS
        (their change's first event carries it); the day's slots without visits are removed, so
        search stops offering them. All or nothing: when ``move_to`` lacks places for every visit,
        409 ``no_place_on_move_to`` and nothing changes."""
        if not actor.manages(point_id):
            check_point(actor, point_id)
            raise Refused(RefusalKind.FORBIDDEN, "not_point_manager", "Tylko kierownik punktu może odwołać dzień")
        today = local_day(now)
        if day < today:
            raise Refused(RefusalKind.RULE, "day_in_past", "Ten dzień już minął", field="day")
        if move_to is not None and (move_to <= today or move_to == day):
            raise Refused(RefusalKind.RULE, "invalid_move_to", "Przenieść można tylko na inny, przyszły dzień",
                          field="move_to")  # fmt: skip
        programme = self._programme()
        start, end = day_bounds(day)
        start = max(start, now)  # what has started is the point's own business (vaccinated or missed)

        def work(tx: Transaction) -> Committed[Outcome]:
            point = self._point(tx, point_id, actor)
            slots = SlotLedger(tx)
            day_slots = [slots.known(s) for s in tx.point_slots(point_id, start, end)]
            targets = [slots.known(s) for s in tx.point_slots(point_id, *day_bounds(move_to))] if move_to else []
            home = day_slots[0] if day_slots else None
            patients = dict.fromkeys(tx.day_visit_patients(point_id, start, end))
            events: list[dict[str, Any]] = []
            cancelled = moved = 0
            for patient_id in patients:
                patient = tx.patient(patient_id)
                visits = tx.patient_visits(patient_id)
                on_day = [v for v in visits if v.is_active and v.point_id == point_id and start <= v.starts_at < end]
                if patient is None or not on_day:
                    continue
                visit = min(on_day, key=lambda v: v.dose)  # the doses after it follow it
                region = home or slots.get(visit.point_id, visit.starts_at, visit.vaccine)
                if region is None:
                    continue
                vaccine = programme.vaccine(visit.vaccine)
                changed = _moved_with_later_doses(slots, visit, visits, targets, vaccine) if move_to else None
                if move_to is not None and changed is None:
                    raise Refused(
                        RefusalKind.CONFLICT, "no_place_on_move_to",
                        f"Brak wolnych miejsc {move_to:%d.%m.%Y} dla wszystkich wizyt tego dnia", field="move_to",
                    )  # fmt: skip
                regions = {v.point_id: region for v in [*visits, *(changed or [])]}
                if changed:
                    tx.update_visits(changed)
                    after = {v.visit_id: v for v in changed}
                    series = [after.get(v.visit_id, v) for v in visits if v.series_id == visit.series_id]
                    events += visit_events(
                        VISIT_MOVED, changed, regions, patient.birth_date, series, now, slots=sorted(slots.changed)
                    )
                    moved += 1
                else:
                    dropped = [v.with_status(VisitStatus.CANCELLED) for v in [visit, *later_doses(visit, visits)]]
                    for gone in dropped:
                        slots.release(gone.point_id, gone.starts_at, gone.vaccine)
                    tx.update_visits(dropped)
                    events += visit_events(
                        VISIT_CANCELLED, dropped, regions, patient.birth_date, dropped, now, slots=sorted(slots.changed)
                    )
                    cancelled += 1
            touched = slots.save()
            # The day's places go: search stops offering them (a slot still holding a visit stays).
            removed = [slots.slots[s.key] for s in day_slots if slots.slots[s.key].booked == 0]
            tx.delete_slots(removed)
            events += schedule_changed_events(point, ScheduleChange(removed=removed), now, actor.staff_id)
            tx.add_to_outbox(events)
            body = {"point_id": point_id, "day": day.isoformat(), "cancelled": cancelled, "moved": moved,
                    "slots_removed": len(removed), "reason": reason}  # fmt: skip
            return Committed(Outcome(body, events), events, sorted({*touched, *(s.key for s in removed)}))

        return self.changes.commit(work)

    # --- no-shows ------------------------------------------------------------------------------

    def mark_no_show(self, visit_id: str, actor: Actor, now: datetime) -> Outcome:
        def work(tx: Transaction) -> Committed[Outcome]:
            patient, visit, visits = self._visit(tx, visit_id)
            if visit.status == VisitStatus.NO_SHOW and actor.acts_on(visit.point_id):
                return Committed(Outcome({"visit": visit, "cancelled": []}))
            check_may_mark_no_show(actor, visit, now)
            slots = SlotLedger(tx)
            outcome = self._no_show(tx, slots, patient, visit, visits, now)
            return Committed(outcome, outcome.events, slots.save())

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
        marked = 0
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
                outcome = self._no_show(tx, slots, patient, current, visits, now)
                events += outcome.events
                changed = {v.visit_id: v for v in [outcome.body["visit"]]}
                changed.update({v: replace_status(visits, v) for v in outcome.body["cancelled"]})
                visits = [changed.get(v.visit_id, v) for v in visits]
                marked += 1
        return Committed(marked, events, slots.save())

    @staticmethod
    def _no_show(
        tx: Transaction, slots: SlotLedger, patient: PatientRecord, visit: Visit, visits: list[Visit], now: datetime
    ) -> Outcome:
        """Mark the visit NO_SHOW and cancel the doses that depend on it; the caller saves ``slots``."""
        missed = visit.with_status(VisitStatus.NO_SHOW)
        # Later doses depend on this one: they go, and their places come free.
        dropped = [v.with_status(VisitStatus.CANCELLED) for v in later_doses(visit, visits)]
        home = slots.get(visit.point_id, visit.starts_at, visit.vaccine)
        for later in dropped:
            slots.release(later.point_id, later.starts_at, later.vaccine)
        tx.update_visits([missed, *dropped])
        events: list[dict[str, Any]] = []
        regions = slots.regions(home)
        if visit.point_id in regions:
            events += visit_events(VISIT_NO_SHOW, [missed], regions, patient.birth_date, [missed, *dropped], now)
            if dropped:
                events += visit_events(VISIT_CANCELLED, dropped, regions, patient.birth_date, dropped, now)
        tx.add_to_outbox(events)
        return Outcome({"visit": missed, "cancelled": [v.visit_id for v in dropped]}, events)

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
    slots: SlotLedger, vaccine: Vaccine, completed: Visit, visits: Sequence[Visit], home: Slot
) -> tuple[list[Visit], DoseWindow | None]:
    """Book the series' next doses after a completed one if none is booked; returns them and the
    window of a dose still to book (no place in it), if any."""
    if completed.dose >= vaccine.doses or any(
        v.series_id == completed.series_id and v.dose > completed.dose and v.is_active for v in visits
    ):
        return [], None
    return slots.book_next_doses(vaccine, completed, home, Channel.POINT)


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
    for later in later_doses(visit, visits):
        window = next_dose_window(vaccine, later.dose, changed[-1].starts_at)
        if window.contains(later.starts_at):
            break
        choice = slots.earliest_free_in(vaccine.code, window, near=target)
        if choice is None:
            break
        slots.release(later.point_id, later.starts_at, later.vaccine)
        changed.append(later.moved_to(slots.take(choice)))
    return changed


def replace_status(visits: Sequence[Visit], visit_id: str) -> Visit:
    """The visit, cancelled (a later dose dropped with a no-show)."""
    return next(v for v in visits if v.visit_id == visit_id).with_status(VisitStatus.CANCELLED)
