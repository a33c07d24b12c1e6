"""The vaccination points' back office: schedules, deliveries and stock, vaccinations, no-shows.

Use cases only: they depend on the ports declared here (``BackOffice`` opens a read-write
transaction or a read, handing the work a ``BackOfficeTx``), never on a client library. Each change
is one transaction that checks its rules, writes its rows and its outbox events together.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from shared.domain.availability import SlotQuery
from shared.domain.booking import (
    Channel,
    Slot,
    Visit,
    VisitStatus,
    local_iso,
    new_visit,
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
from shared.services.availability import slots_of_event
from shared.services.ports import EventPublisher, SlotChangeListener
from shared.services.slot_ledger import SlotLedger

T = TypeVar("T")
BookedRef = tuple[date, str, str]

# How far ahead "from now" reaches when the stock rule sums a point's published places.
STOCK_HORIZON = timedelta(days=400)


class BackOfficeTx(Protocol):
    """Reads and writes of one transaction (writes are applied at commit, all or nothing)."""

    # points, slots, stock
    def point(self, point_id: str) -> Point | None: ...
    def slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]: ...  # start <= starts_at < end
    def slot(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None: ...
    def slots_by_key(self, keys: Sequence[tuple[str, datetime, str]]) -> list[Slot]: ...  # in one read
    def free_slots(self, query: SlotQuery) -> list[Slot]: ...  # of a region (not a point), earliest first
    def deliveries(self, point_id: str) -> list[Delivery]: ...
    def administered(self, point_id: str) -> dict[str, int]: ...
    def insert_slots(self, slots: Sequence[Slot]) -> None: ...
    def set_capacities(self, slots: Sequence[Slot]) -> None: ...
    def delete_slots(self, slots: Sequence[Slot]) -> None: ...
    def save_booked(self, slots: Sequence[Slot]) -> None: ...
    def add_delivery(self, delivery: Delivery, staff_id: str) -> None: ...
    def set_administered(self, point_id: str, vaccine: str, administered: int) -> None: ...
    # visits
    def visit_owner(self, visit_id: str) -> str | None: ...
    def patient(self, patient_id: str) -> PatientRecord | None: ...
    def patient_visits(self, patient_id: str) -> list[Visit]: ...
    def patients(self, patient_ids: Sequence[str]) -> dict[str, PatientRecord]: ...  # in one read
    def visits_of(self, patient_ids: Sequence[str]) -> dict[str, list[Visit]]: ...  # each one's visits, one read
    def wrong_code_attempts(self, patient_id: str, visit_id: str) -> int: ...
    def set_wrong_code_attempts(self, patient_id: str, visit_id: str, attempts: int) -> None: ...
    def vaccination(self, patient_id: str, visit_id: str) -> Vaccination | None: ...
    def insert_visits(self, visits: Sequence[Visit]) -> None: ...
    def update_visits(self, visits: Sequence[Visit]) -> None: ...
    def add_vaccination(self, vaccination: Vaccination) -> None: ...
    def void_vaccination(self, vaccination: Vaccination, voided_at: datetime, staff_id: str, reason: str) -> None: ...
    def identity_checks_made(self, staff_id: str, day: date) -> int: ...
    def day_visit_patients(self, point_id: str, start: datetime, end: datetime) -> list[str]:
        """The patients with a BOOKED visit at the point starting in [start, end)."""
        ...

    def add_identity_check(self, staff_id: str, day: date, visit_id: str, point_id: str, reason: str) -> None: ...
    def add_to_outbox(self, events: Sequence[dict[str, Any]]) -> None: ...


class BackOffice(Protocol):
    def transaction(self, work: Callable[[BackOfficeTx], T]) -> T: ...
    def read(self, work: Callable[[BackOfficeTx], T]) -> T: ...

    def booked_before(self, day: date, after: BookedRef | None, limit: int) -> list[BookedRef]:
        """BOOKED visits of local days before ``day`` as (day, visit id, patient id), in that order,
        starting after ``after``."""
        ...


@dataclass(frozen=True)
class Outcome:
    """A change's answer body and the events it wrote (published right after commit)."""

    body: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)


class PointService:
    def __init__(
        self,
        office: BackOffice,
        programme: Callable[[], Programme | None],
        events: EventPublisher,
        availability: SlotChangeListener | None = None,
        identity_checks_per_day: int = 20,
    ) -> None:
        self.office = office
        self.programme = programme
        self.events = events
        self.availability = availability
        self.identity_checks_per_day = identity_checks_per_day

    def _committed(self, work: Callable[[BackOfficeTx], T], events: Callable[[T], list[dict[str, Any]]]) -> T:
        """Run a change; right after the commit, tell search which slots it changed and publish the
        events it wrote (the events and the outbox sweep cover a miss of either)."""
        result = self.office.transaction(work)
        written = events(result)
        if self.availability is not None:
            self.availability.slots_changed(sorted({key for event in written for key in slots_of_event(event)}))
        self.events.publish(written)
        return result

    def _programme(self) -> Programme:
        return require_programme(self.programme())

    @staticmethod
    def _point(tx: BackOfficeTx, point_id: str, actor: Actor) -> Point:
        check_point(actor, point_id)
        point = tx.point(point_id)
        if point is None:
            raise Refused(RefusalKind.NOT_FOUND, "point_not_found", "Nie ma takiego punktu szczepień")
        return point

    # --- schedule ----------------------------------------------------------------------------

    def schedule(self, point_id: str, start: datetime, end: datetime, actor: Actor) -> list[Slot]:
        def work(tx: BackOfficeTx) -> list[Slot]:
            self._point(tx, point_id, actor)
            return tx.slots(point_id, start, end)

        return self.office.read(work)

    def publish_schedule(
        self, point_id: str, blocks: Sequence[ScheduleBlock], actor: Actor, now: datetime
    ) -> tuple[ScheduleChange, list[dict[str, Any]]]:
        """Make the blocks' days hold exactly the blocks' slots, or change nothing."""
        programme = self._programme()
        if not blocks:
            raise Refused(RefusalKind.INVALID, "no_blocks", "Podaj co najmniej jeden blok terminów", field="blocks")

        def work(tx: BackOfficeTx) -> tuple[ScheduleChange, list[dict[str, Any]]]:
            point = self._point(tx, point_id, actor)
            validate_blocks(blocks, point, (v.code for v in programme.vaccines), local_day(now))
            days = {b.day for b in blocks}
            # One range read serves both the days' slots and the stock rule (slots that have started
            # are not read: the plan keeps them, and they are not its business).
            end = max(day_bounds(max(days))[1], now + STOCK_HORIZON)
            future = tx.slots(point_id, now, end)
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
            return change, events

        return self._committed(work, lambda result: result[1])

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

        def work(tx: BackOfficeTx) -> tuple[Delivery, StockLevel]:
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
                tx.slots(point_id, now, now + STOCK_HORIZON),
                now,
            )
            return delivery, level

        return self.office.transaction(work)

    def stock(self, point_id: str, actor: Actor, now: datetime) -> list[StockLevel]:
        def work(tx: BackOfficeTx) -> list[StockLevel]:
            point = self._point(tx, point_id, actor)
            deliveries = tx.deliveries(point_id)
            administered = tx.administered(point_id)
            future = tx.slots(point_id, now, now + STOCK_HORIZON)
            return [stock_level(v, deliveries, administered.get(v, 0), future, now) for v in point.vaccines]

        return self.office.read(work)

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

        def work(tx: BackOfficeTx) -> Outcome | Refused:
            patient, visit, visits = self._visit(tx, visit_id)
            if visit.status == VisitStatus.COMPLETED:
                done = tx.vaccination(patient.patient_id, visit_id)
                if done is not None and done.lot == lot and actor.acts_on(visit.point_id):
                    return Outcome(self._vaccination_body(done, visits))  # a retried request: same answer
            check_may_vaccinate(actor, visit, now)
            if identity_reason is not None:
                made = tx.identity_checks_made(actor.staff_id, local_day(now))
                limited = IdentityCheck(identity_reason, made, self.identity_checks_per_day).refusal()
                if limited is not None:
                    return limited
            else:
                attempts = tx.wrong_code_attempts(patient.patient_id, visit_id)
                refusal = check_in_code_refusal(visit, check_in_code or "", attempts)
                if refusal is not None:
                    if refusal.code == "wrong_check_in_code":
                        tx.set_wrong_code_attempts(patient.patient_id, visit_id, attempts + 1)
                    return refusal  # committed (the try is counted), then raised
            if not any(d.lot == lot and d.vaccine == visit.vaccine for d in tx.deliveries(visit.point_id)):
                return Refused(
                    RefusalKind.RULE, "unknown_lot", "Ta partia szczepionki nie została dostarczona do punktu", "lot"
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
            slots = _ledger(tx)
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
            slots.save()
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
            return Outcome(body, events)

        result = self._committed(work, lambda result: [] if isinstance(result, Refused) else result.events)
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

        def work(tx: BackOfficeTx) -> Outcome:
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
            return Outcome(body, events)

        return self._committed(work, lambda outcome: outcome.events)

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

        def work(tx: BackOfficeTx) -> Outcome:
            point = self._point(tx, point_id, actor)
            slots = _ledger(tx)
            day_slots = [slots.known(s) for s in tx.slots(point_id, start, end)]
            targets = [slots.known(s) for s in tx.slots(point_id, *day_bounds(move_to))] if move_to else []
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
            slots.save()
            # The day's places go: search stops offering them (a slot still holding a visit stays).
            removed = [slots.slots[s.key] for s in day_slots if slots.slots[s.key].booked == 0]
            tx.delete_slots(removed)
            events += schedule_changed_events(point, ScheduleChange(removed=removed), now, actor.staff_id)
            tx.add_to_outbox(events)
            body = {"point_id": point_id, "day": day.isoformat(), "cancelled": cancelled, "moved": moved,
                    "slots_removed": len(removed), "reason": reason}  # fmt: skip
            return Outcome(body, events)

        return self._committed(work, lambda outcome: outcome.events)

    # --- no-shows ------------------------------------------------------------------------------

    def mark_no_show(self, visit_id: str, actor: Actor, now: datetime) -> Outcome:
        def work(tx: BackOfficeTx) -> Outcome:
            patient, visit, visits = self._visit(tx, visit_id)
            if visit.status == VisitStatus.NO_SHOW and actor.acts_on(visit.point_id):
                return Outcome({"visit": visit, "cancelled": []})
            check_may_mark_no_show(actor, visit, now)
            slots = _ledger(tx)
            outcome = self._no_show(tx, slots, patient, visit, visits, now)
            slots.save()
            return outcome

        return self._committed(work, lambda outcome: outcome.events)

    def mark_past_no_shows(self, today: date, now: datetime, page: int = 200) -> int:
        """Every visit still BOOKED on a day before ``today`` becomes NO_SHOW; page by page, and
        running it again changes nothing."""
        total = 0
        after: BookedRef | None = None
        while True:
            refs = self.office.booked_before(today, after, page)
            if not refs:
                return total
            total += self.mark_no_shows_page(refs, today, now)
            after = refs[-1]

    def mark_no_shows_page(self, refs: Sequence[BookedRef], today: date, now: datetime) -> int:
        """One page of the nightly marking, in one transaction: those of ``refs`` still BOOKED on a
        day before ``today`` become NO_SHOW; returns how many did."""
        work = functools.partial(self._no_shows_if_past, refs=list(refs), today=today, now=now)
        marked, _ = self._committed(work, lambda result: result[1])
        return marked

    def _no_shows_if_past(
        self, tx: BackOfficeTx, refs: list[BookedRef], today: date, now: datetime
    ) -> tuple[int, list[dict[str, Any]]]:
        slots = _ledger(tx)  # one view of the slots for the page: two visits may free the same slot
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
        slots.save()
        return marked, events

    @staticmethod
    def _no_show(
        tx: BackOfficeTx, slots: SlotLedger, patient: PatientRecord, visit: Visit, visits: list[Visit], now: datetime
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
    def _visit(tx: BackOfficeTx, visit_id: str) -> tuple[PatientRecord, Visit, list[Visit]]:
        owner = tx.visit_owner(visit_id)
        patient = tx.patient(owner) if owner else None
        if owner is None or patient is None:
            raise Refused(RefusalKind.NOT_FOUND, "visit_not_found", "Nie ma takiej wizyty")
        visits = tx.patient_visits(owner)
        return patient, next(v for v in visits if v.visit_id == visit_id), visits


def _ledger(tx: BackOfficeTx) -> SlotLedger:
    return SlotLedger(
        tx.slot,
        lambda point_id, start, end: tx.slots(point_id, start, end + timedelta(seconds=1)),  # [start, end]
        tx.free_slots,
        tx.save_booked,
        tx.slots_by_key,
    )


def _next_doses(
    slots: SlotLedger, vaccine: Vaccine, completed: Visit, visits: Sequence[Visit], home: Slot
) -> tuple[list[Visit], Any]:
    """Book the series' next doses after a completed one if none is booked; returns them and the
    window of a dose still to book (no place in it), if any."""
    if completed.dose >= vaccine.doses or any(
        v.series_id == completed.series_id and v.dose > completed.dose and v.is_active for v in visits
    ):
        return [], None
    booked: list[Visit] = []
    previous = completed
    for dose in range(completed.dose + 1, vaccine.doses + 1):
        window = next_dose_window(vaccine, dose, previous.starts_at)
        choice = slots.earliest_free_in(vaccine.code, window, home)
        if choice is None:
            return booked, window
        previous = new_visit(completed.patient_id, completed.series_id, dose, slots.take(choice), Channel.POINT)
        booked.append(previous)
    return booked, None


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
