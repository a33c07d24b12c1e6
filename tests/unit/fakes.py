"""In-memory fakes of the ports, for unit tests of the services without any emulator.

They keep the semantics the services rely on, and the contract tests in tests/integration run the
same cases against these fakes and the real adapters:
- a transaction reads what was committed when it started, and its writes apply at commit, all or
  none (as Spanner mutations: a transaction does not read its own writes);
- an exception inside the work leaves the store as it was.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from shared.domain.availability import Level, SlotQuery, SlotState
from shared.domain.booking import WARSAW, Slot, Visit
from shared.domain.identity import AssertionReplayed, Person, Session
from shared.domain.patients import PatientRecord, Referral, current_referral
from shared.domain.points import Point
from shared.domain.reports import CapacityUse, DailyCount
from shared.domain.stock import Delivery
from shared.domain.vaccination import Vaccination
from shared.services.availability import ProjectionUnavailable
from shared.services.idempotency import StoredResult
from shared.services.identity import SessionsUnavailable
from shared.services.sms import PermanentSmsError, TransientSmsError
from shared.services.transaction import BookedRef, SlotWrites

T = TypeVar("T")
SlotKey = tuple[str, datetime, str]


@dataclass
class StoreState:
    """What Spanner holds of points, slots, stock, patients and visits (one fake for the one port)."""

    points: dict[str, Point] = field(default_factory=dict)
    slots: dict[SlotKey, Slot] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    administered: dict[tuple[str, str], int] = field(default_factory=dict)
    patients: dict[str, PatientRecord] = field(default_factory=dict)
    referrals: dict[str, list[Referral]] = field(default_factory=dict)
    visits: dict[str, Visit] = field(default_factory=dict)  # by visit id
    wrong_codes: dict[str, int] = field(default_factory=dict)  # by visit id
    vaccinations: dict[str, Vaccination] = field(default_factory=dict)  # by visit id
    voids: dict[str, tuple[datetime, str, str]] = field(default_factory=dict)
    identity_checks: dict[tuple[str, date, str], tuple[str, str]] = field(default_factory=dict)
    results: dict[tuple[str, str], StoredResult] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    previous_phones: dict[str, str] = field(default_factory=dict)


class FakeSlotsInTransaction:
    """Points, slots and stock of one transaction: reads of what was committed when it started,
    writes applied at commit."""

    def __init__(self, committed: StoreState) -> None:
        self._read = committed
        self._writes: list[Callable[[StoreState], None]] = []
        self.written = SlotWrites()
        self.key_reads = 0  # reads of slots by key list (one call, however many keys)
        self.range_reads = 0  # range and index reads of slots

    def point(self, point_id: str) -> Point | None:
        return self._read.points.get(point_id)

    def closed_points(self) -> set[str]:
        """The suspended points among those of the slots written (a point unknown here is open)."""
        points = self._read.points
        return {p for p in self.written.point_ids() if p in points and not points[p].active}

    def slot(self, point_id: str, starts_at: datetime, vaccine: str) -> Slot | None:
        return self._read.slots.get((point_id, starts_at, vaccine))

    def slots_by_key(self, keys: Sequence[SlotKey]) -> list[Slot]:
        self.key_reads += 1
        return [self._read.slots[k] for k in keys if k in self._read.slots]

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        self.range_reads += 1
        found = [s for s in self._read.slots.values() if s.point_id == point_id and start <= s.starts_at < end]
        return sorted(found, key=lambda s: (s.starts_at, s.vaccine))

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        self.range_reads += 1
        return free_slots(self._read.slots.values(), query)

    def deliveries(self, point_id: str) -> list[Delivery]:
        return [d for d in self._read.deliveries if d.point_id == point_id]

    def administered(self, point_id: str) -> dict[str, int]:
        return {vaccine: n for (point, vaccine), n in self._read.administered.items() if point == point_id}

    def insert_slots(self, slots: Sequence[Slot]) -> None:
        new = list(slots)
        self.written.inserted(new)

        def write(state: StoreState) -> None:
            for slot in new:
                assert slot.key not in state.slots, "insert of an existing slot"
                state.slots[slot.key] = replace(slot, booked=0)

        self._writes.append(write)

    def set_capacities(self, slots: Sequence[Slot]) -> None:
        changed = [(s.key, s.capacity) for s in slots]
        self.written.capacities(slots)

        def write(state: StoreState) -> None:
            for key, capacity in changed:
                state.slots[key] = replace(state.slots[key], capacity=capacity)

        self._writes.append(write)

    def delete_slots(self, slots: Sequence[Slot]) -> None:
        keys = [s.key for s in slots]
        self.written.deleted(slots)

        def write(state: StoreState) -> None:
            for key in keys:
                del state.slots[key]

        self._writes.append(write)

    def save_booked(self, slots: Iterable[Slot]) -> None:
        saved = list(slots)
        counts = [(s.key, s.booked) for s in saved]
        self.written.booked(saved)

        def write(state: StoreState) -> None:
            for key, booked in counts:
                state.slots[key] = replace(state.slots[key], booked=booked)

        self._writes.append(write)

    def add_delivery(self, delivery: Delivery, staff_id: str) -> None:
        self._writes.append(lambda state: state.deliveries.append(delivery))

    def set_administered(self, point_id: str, vaccine: str, administered: int) -> None:
        self._writes.append(lambda state: state.administered.__setitem__((point_id, vaccine), administered))

    def commit(self, state: StoreState) -> None:
        staged = copy.deepcopy(state)
        for write in self._writes:
            write(staged)
        state.__dict__.update(staged.__dict__)


class FakeTransaction(FakeSlotsInTransaction):
    """The whole transaction port: the slots above, and patients, visits, vaccinations,
    idempotency records and the outbox."""

    def patient(self, patient_id: str) -> PatientRecord | None:
        return self._read.patients.get(patient_id)

    def patients(self, patient_ids: Sequence[str]) -> dict[str, PatientRecord]:
        return {p: self._read.patients[p] for p in patient_ids if p in self._read.patients}

    def referrals(self, patient_id: str) -> list[Referral]:
        return list(self._read.referrals.get(patient_id, []))

    def visit_owner(self, visit_id: str) -> str | None:
        visit = self._read.visits.get(visit_id)
        return visit.patient_id if visit else None

    def patient_visits(self, patient_id: str) -> list[Visit]:
        return [v for v in self._read.visits.values() if v.patient_id == patient_id]

    def visits_of(self, patient_ids: Sequence[str]) -> dict[str, list[Visit]]:
        return {p: self.patient_visits(p) for p in patient_ids}

    def day_visit_patients(self, point_id: str, start: datetime, end: datetime) -> list[str]:
        found = [v for v in self._read.visits.values() if v.point_id == point_id and start <= v.starts_at < end]
        return list(dict.fromkeys(v.patient_id for v in sorted(found, key=lambda v: (v.starts_at, v.visit_id))))

    def wrong_code_attempts(self, patient_id: str, visit_id: str) -> int:
        return self._read.wrong_codes.get(visit_id, 0)

    def vaccination(self, patient_id: str, visit_id: str) -> Vaccination | None:
        return self._read.vaccinations.get(visit_id)

    def identity_checks_made(self, staff_id: str, day: date) -> int:
        return sum(1 for staff, on, _ in self._read.identity_checks if (staff, on) == (staff_id, day))

    def stored_result(self, scope: str, key: str) -> StoredResult | None:
        return self._read.results.get((scope, key))

    def insert_visits(self, visits: Iterable[Visit]) -> None:
        new = list(visits)

        def write(state: StoreState) -> None:
            for visit in new:
                if visit.visit_id in state.visits:
                    raise AssertionError(f"visit {visit.visit_id} exists already")
                state.visits[visit.visit_id] = visit

        self._writes.append(write)

    def update_visits(self, visits: Iterable[Visit]) -> None:
        changed = list(visits)

        def write(state: StoreState) -> None:
            for visit in changed:
                stored = state.visits[visit.visit_id]
                state.visits[visit.visit_id] = replace(
                    stored, point_id=visit.point_id, starts_at=visit.starts_at, status=visit.status
                )

        self._writes.append(write)

    def save_phone(self, patient_id: str, phone: str, previous: str | None = None) -> None:
        def write(state: StoreState) -> None:
            state.patients[patient_id] = replace(state.patients[patient_id], phone=phone)
            if previous is not None:
                state.previous_phones[patient_id] = previous

        self._writes.append(write)

    def set_wrong_code_attempts(self, patient_id: str, visit_id: str, attempts: int) -> None:
        self._writes.append(lambda state: state.wrong_codes.__setitem__(visit_id, attempts))

    def add_vaccination(self, vaccination: Vaccination) -> None:
        self._writes.append(lambda state: state.vaccinations.__setitem__(vaccination.visit_id, vaccination))

    def void_vaccination(self, vaccination: Vaccination, voided_at: datetime, staff_id: str, reason: str) -> None:
        self._writes.append(lambda state: state.voids.__setitem__(vaccination.visit_id, (voided_at, staff_id, reason)))

    def add_identity_check(self, staff_id: str, day: date, visit_id: str, point_id: str, reason: str) -> None:
        check = (point_id, reason)
        self._writes.append(lambda state: state.identity_checks.__setitem__((staff_id, day, visit_id), check))

    def store_result(self, scope: str, key: str, result: StoredResult) -> None:
        def write(state: StoreState) -> None:
            if (scope, key) in state.results:
                raise AssertionError("idempotency record exists already")
            state.results[(scope, key)] = result

        self._writes.append(write)

    def add_to_outbox(self, events: Iterable[dict[str, Any]]) -> None:
        new = [dict(e) for e in events]
        self._writes.append(lambda state: state.outbox.extend(new))


def free_slots(slots: Iterable[Slot], query: SlotQuery) -> list[Slot]:
    region_of = "point_id" if query.level == Level.POINT else str(query.level)
    found = [
        s
        for s in slots
        if getattr(s, region_of) == query.region
        and s.vaccine == query.vaccine
        and s.free_places > 0
        and query.start <= s.starts_at <= query.end
        and query.follows(s)
    ]
    return sorted(found, key=lambda s: (s.starts_at, s.point_id))[: query.limit]


class FakeStore:
    """The transactions (``Transactions``) and the visit and patient readers over one in-memory state."""

    def __init__(self) -> None:
        self.state = StoreState()
        self.transactions_run = 0
        self.range_reads = 0  # slot range and index reads inside transactions, all attempts
        self.key_reads = 0
        self.version = 1_000  # the last commit's "timestamp": each commit takes the next one

    # --- Transactions ----------------------------------------------------------------------------

    def run(self, work: Callable[[Any], T]) -> T:
        return self.run_written(work)[0]

    def run_written(self, work: Callable[[Any], T]) -> tuple[T, list[SlotState]]:
        transaction = FakeTransaction(copy.deepcopy(self.state))
        try:
            result = work(transaction)
        finally:
            self.range_reads += transaction.range_reads
            self.key_reads += transaction.key_reads
        closed = transaction.closed_points()
        transaction.commit(self.state)
        self.transactions_run += 1
        self.version += 1
        return result, transaction.written.states(closed, self.version)

    def read(self, work: Callable[[Any], T]) -> T:
        return work(FakeTransaction(copy.deepcopy(self.state)))

    def booked_before(self, day: date, after: BookedRef | None, limit: int) -> list[BookedRef]:
        refs = sorted(
            (v.starts_at.astimezone(WARSAW).date(), v.visit_id, v.patient_id)
            for v in self.state.visits.values()
            if v.is_active and v.starts_at.astimezone(WARSAW).date() < day
        )
        return [r for r in refs if after is None or r[:2] > after[:2]][:limit]

    # --- VisitReader ---------------------------------------------------------------------------

    def visits_of_patient(self, patient_id: str) -> list[Visit]:
        return [v for v in self.state.visits.values() if v.patient_id == patient_id]

    def visits_at_point(self, point_id: str, start: datetime, end: datetime) -> list[Visit]:
        return [v for v in self.state.visits.values() if v.point_id == point_id and start <= v.starts_at < end]

    def booked_on_day(self, day: date, after_visit_id: str | None, limit: int) -> list[Visit]:
        booked = sorted(
            (v for v in self.state.visits.values() if v.is_active and v.starts_at.astimezone(WARSAW).date() == day),
            key=lambda v: v.visit_id,
        )
        return [v for v in booked if after_visit_id is None or v.visit_id > after_visit_id][:limit]

    # --- PatientReader -----------------------------------------------------------------------------

    def patient(self, patient_id: str) -> PatientRecord | None:
        return self.state.patients.get(patient_id)

    def previous_phone(self, patient_id: str) -> str | None:
        return self.state.previous_phones.get(patient_id)

    def patients(self, patient_ids: Iterable[str]) -> dict[str, PatientRecord]:
        return {p: self.state.patients[p] for p in set(patient_ids) if p in self.state.patients}

    # --- test set-up and inspection ----------------------------------------------------------

    def add_slot(self, slot: Slot) -> Slot:
        self.state.slots[slot.key] = slot
        return slot

    def add_patient(self, patient: PatientRecord, referrals: Sequence[Referral] = ()) -> PatientRecord:
        self.state.patients[patient.patient_id] = patient
        self.state.referrals[patient.patient_id] = list(referrals)
        return patient

    def booked(self, slot: Slot) -> int:
        return self.state.slots[slot.key].booked


class FakePointDirectory:
    def __init__(self, points: Iterable[Point] = ()) -> None:
        self.points = {p.point_id: p for p in points}

    def get_many(self, point_ids: Iterable[str]) -> dict[str, Point]:
        return {p: self.points[p] for p in set(point_ids) if p in self.points}

    def in_region(self, voivodeship: str, county: str | None, municipality: str | None) -> list[Point]:
        found = [
            p
            for p in self.points.values()
            if p.active
            and p.voivodeship == voivodeship
            and county in (None, p.county)
            and municipality in (None, p.municipality)
        ]
        return sorted(found, key=lambda p: (p.municipality, p.name))


class FakeEventPublisher:
    """Takes every event (or none while ``down``), and remembers what it took."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []
        self.down = False

    def publish(self, events: Sequence[dict[str, Any]]) -> int:
        if self.down:
            return 0
        self.published += events
        return len(events)


class FakeFreeSlots:
    """Search's slot reads over a list of slots (the free-slot index holds only slots with places)."""

    def __init__(self, slots: Iterable[Slot] = ()) -> None:
        self.slots = {s.key: s for s in slots}
        self.reads = 0

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        self.reads += 1
        found = [s for s in self.slots.values() if s.point_id == point_id and start <= s.starts_at <= end]
        return sorted(found, key=lambda s: (s.starts_at, s.vaccine))

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        self.reads += 1
        return free_slots(self.slots.values(), query)


class FakeSessions:
    """Sessions by id; opening an id twice is a replay, as Firestore's create() refuses it.
    While ``down``, every call fails as a store that does not answer."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.profiles: dict[str, Any] = {}
        self.writes = 0
        self.down = False

    def __getattribute__(self, name: str) -> Any:
        if name in ("open", "get", "touch", "revoke") and object.__getattribute__(self, "down"):
            raise SessionsUnavailable("the fake store is down")
        return object.__getattribute__(self, name)

    def open(self, session: Session, staff_profile: Any = None) -> None:
        if session.session_id in self.sessions:
            raise AssertionReplayed(session.session_id)
        self.sessions[session.session_id] = session
        if staff_profile is not None and session.staff_id:
            self.profiles[session.staff_id] = staff_profile
        self.writes += 1

    def get(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    def touch(self, session_id: str, now: datetime) -> None:
        if session_id in self.sessions:
            self.sessions[session_id] = replace(self.sessions[session_id], last_seen_at=now)
            self.writes += 1

    def revoke(self, session_id: str, now: datetime) -> None:
        if session_id in self.sessions:
            self.sessions[session_id] = replace(self.sessions[session_id], revoked=True)
            self.writes += 1


class FakePatients:
    """The login's patient registry: lookup by PESEL, create or refresh, issue an e-referral."""

    def __init__(self) -> None:
        self.by_pesel: dict[str, PatientRecord] = {}
        self.referrals: dict[str, list[Referral]] = {}

    def lookup(self, pesel: str) -> tuple[PatientRecord | None, list[Referral]]:
        patient = self.by_pesel.get(pesel)
        return patient, list(self.referrals.get(patient.patient_id, [])) if patient else []

    def current(self, pesel: str) -> tuple[PatientRecord | None, Referral | None]:
        patient, referrals = self.lookup(pesel)
        return patient, current_referral(referrals)

    def register(
        self, person: Person, now: datetime, issue_referral: bool, referral_valid_days: int, issued_by: str
    ) -> tuple[PatientRecord, Referral | None]:
        existing = self.by_pesel.get(person.pesel)
        patient_id = existing.patient_id if existing else str(uuid.uuid4())
        phone = existing.phone if existing else None
        patient = PatientRecord(
            patient_id, person.pesel, person.given_name, person.family_name, person.birth_date, phone
        )
        self.by_pesel[person.pesel] = patient
        referrals = self.referrals.setdefault(patient_id, [])
        referral = next((r for r in referrals if r.is_valid(now)), None)
        if referral is None and issue_referral:
            referral = Referral(
                patient_id, str(uuid.uuid4()), None, "ACTIVE", now, now + timedelta(days=referral_valid_days)
            )
            referrals.append(referral)
        return patient, referral


# --- messaging: bus, outbox, SMS log, SMS provider, warehouse (readers and points: see above) ----


class FakeBus:
    """MessagePublisher that keeps what it took; ``takes`` limits how many more it accepts (None: all)."""

    def __init__(self, takes: int | None = None) -> None:
        self.takes = takes
        self.messages: list[tuple[str, bytes, dict[str, str]]] = []
        self.attempts = 0

    def _take(self) -> bool:
        self.attempts += 1
        if self.takes is None:
            return True
        if self.takes <= 0:
            return False
        self.takes -= 1
        return True

    def publish(self, topic: str, data: bytes, timeout_s: float = 10.0, **attributes: str) -> str:
        if not self._take():
            raise TimeoutError("the bus did not take the message")
        self.messages.append((topic, data, dict(attributes)))
        return str(len(self.messages))

    def publish_many(
        self, topic: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout_s: float = 10.0
    ) -> list[bool]:
        taken = []
        for data, attributes in messages:
            ok = self._take()
            if ok:
                self.messages.append((topic, data, dict(attributes)))
            taken.append(ok)
        return taken

    def json(self, topic: str) -> list[Any]:
        """The JSON bodies published to a topic, in order."""
        return [json.loads(data) for t, data, _ in self.messages if t == topic]


class FakeOutbox:
    """OutboxStore; ``add`` stamps events with the clock, as a commit timestamp would."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[datetime, dict[str, Any], bool]] = {}  # id -> (created, event, pending)
        self.marks: list[list[str]] = []  # each mark_published call, for tests of batching
        self._last = datetime.min.replace(tzinfo=UTC)  # commit timestamps only grow

    def add(self, events: Iterable[dict[str, Any]], created_at: datetime | None = None) -> None:
        stamp = created_at or max(datetime.now(UTC), self._last + timedelta(microseconds=1))
        self._last = max(self._last, stamp)
        for event in events:
            created = stamp
            self.rows[event["event_id"]] = (created, json.loads(json.dumps(event, default=str)), True)

    def pending(self, created_before: datetime, limit: int) -> list[dict[str, Any]]:
        found = sorted(
            (created, event_id, event)
            for event_id, (created, event, pending) in self.rows.items()
            if pending and created < created_before
        )
        return [event for _, _, event in found[:limit]]

    def mark_published(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            self.marks.append(list(event_ids))
        for event_id in event_ids:
            if event_id in self.rows:
                created, event, _ = self.rows[event_id]
                self.rows[event_id] = (created, event, False)


FINAL_SMS_STATES = frozenset({"SENT", "DELIVERED", "FAILED", "REJECTED"})


class FakeSmsLog:
    """SmsLog, with the Firestore adapter's states and lease."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def claim(self, request_id: str, details: dict[str, Any], now: datetime, lease_s: float = 60) -> str:
        current = self.records.get(request_id)
        if current and current.get("status") in FINAL_SMS_STATES:
            return "done"
        if current and current.get("status") == "SENDING" and current["lease_until"] > now:
            return "busy"
        fields = {
            **details,
            "status": "SENDING",
            "attempts": int(current.get("attempts", 0)) + 1 if current else 1,
            "lease_until": now + timedelta(seconds=lease_s),
            "updated_at": now,
        }
        if current is None:
            fields["created_at"] = now
        self.records[request_id] = {**(current or {}), **fields}
        return "send"

    def mark(self, request_id: str, status: str, now: datetime, **fields: Any) -> None:
        self.records[request_id] = {**self.records.get(request_id, {}), "status": status, "updated_at": now, **fields}

    def get(self, request_id: str) -> dict[str, Any] | None:
        record = self.records.get(request_id)
        return dict(record) if record is not None else None


class FakeSmsProvider:
    """SmsProvider answering from a script: each call takes the next outcome ('ok', 'transient',
    'permanent'); 'ok' once the script is used up."""

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, str, str]] = []

    def send(self, message_id: str, to: str, text: str) -> str:
        outcome = self.script.pop(0) if self.script else "ok"
        if outcome == "transient":
            raise TransientSmsError("HTTP 503")
        if outcome == "permanent":
            raise PermanentSmsError("HTTP 400")
        self.sent.append((message_id, to, text))
        return f"provider-{message_id}"


class FakeWarehouse:
    """Warehouse keeping rows per table, with their insert ids."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]], row_ids: Sequence[str]) -> None:
        self.rows.setdefault(table, []).extend((i, dict(r)) for i, r in zip(row_ids, rows, strict=True))


# --- end of messaging fakes ------------------------------------------------------------------------


class FakeProjection:
    """The availability projection in memory, applying a slot's state only if it is newer."""

    def __init__(self) -> None:
        self.held: dict[SlotKey, SlotState] = {}
        self.ready = False
        self.down = False
        self.versions: dict[str, int] = {}  # changes heard per scope, as RedisSlotChanges counts them
        self.clears = 0

    def _check(self) -> None:
        if self.down:
            raise ProjectionUnavailable("down")

    def _changed(self, slot: Slot) -> None:
        for scope in (f"voivodeship:{slot.voivodeship}", f"point:{slot.point_id}"):
            self.versions[scope] = self.versions.get(scope, 0) + 1

    def version(self, scope: str) -> str | None:
        self._check()
        return f"{self.clears}.{self.versions.get(scope, 0)}"

    def apply(self, states: Sequence[SlotState]) -> int:
        self._check()
        applied = 0
        for state in states:
            held = self.held.get(state.slot.key)
            if held is None or held.version < state.version:
                self.held[state.slot.key] = state
                self._changed(state.slot)
                applied += 1
        return applied

    def remove(self, keys: Sequence[SlotKey], versions: Sequence[int] | None = None) -> int:
        self._check()
        removed = 0
        for key, at in zip(keys, versions if versions is not None else [None] * len(keys), strict=True):
            held = self.held.get(key)
            if held is None:
                if at is not None:  # a tombstone: no state older than the removal comes in
                    self.held[key] = SlotState(Slot(*key, 0, 0), at)
                continue
            if at is not None and held.version > at:
                continue  # a newer state is held
            places = bool(held.slot.capacity or held.slot.booked)
            if places or (at is not None and held.version < at):
                kept = held.version if at is None else at
                self.held[key] = SlotState(replace(held.slot, capacity=0, booked=0), kept)
            if places:
                self._changed(held.slot)
                removed += 1
        return removed

    def states(self, point_ids: Iterable[str]) -> dict[SlotKey, tuple[int, int, int]]:
        self._check()
        wanted = set(point_ids)
        return {key: (s.slot.capacity, s.slot.booked, s.version) for key, s in self.held.items() if key[0] in wanted}

    def is_ready(self) -> bool:
        self._check()
        return self.ready

    def mark_ready(self, ready: bool) -> None:
        self._check()
        self.ready = ready

    def clear(self) -> None:
        self._check()
        self.held.clear()
        self.clears += 1

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        self._check()
        # What the projection holds of a free slot: its free places, not its region codes.
        return [
            Slot(s.point_id, s.starts_at, s.vaccine, s.free_places, 0)
            for s in free_slots((held.slot for held in self.held.values()), query)
        ]

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        self._check()
        found = [s.slot for s in self.held.values() if s.slot.point_id == point_id and start <= s.slot.starts_at <= end]
        return sorted(found, key=lambda s: (s.starts_at, s.vaccine))


class FakeSlotStates:
    """The authority's slot states (what Spanner holds), set by the test."""

    def __init__(self, states: Iterable[SlotState] = ()) -> None:
        self.truth = {s.slot.key: s for s in states}

    def set(self, state: SlotState) -> None:
        self.truth[state.slot.key] = state

    def drop(self, key: SlotKey) -> None:
        del self.truth[key]

    def suspend(self, point_id: str, version: int) -> None:
        """The point suspended by the commit of ``version``: its slots closed at it."""
        for key, state in self.truth.items():
            if key[0] == point_id:
                self.truth[key] = replace(state, version=version, closed=True)

    def of_slots(self, keys: Iterable[SlotKey]) -> list[SlotState]:
        return [self.truth[k] for k in keys if k in self.truth]

    def of_point(self, point_id: str) -> list[SlotState]:
        return [s for k, s in self.truth.items() if k[0] == point_id]

    def point_ids(self) -> list[str]:
        return sorted({k[0] for k in self.truth})


class FakeReportQueries:
    """The reporting views in memory: daily visit event counts, SMS figures, first doses per age band."""

    def __init__(self) -> None:
        self.counts: list[DailyCount] = []
        self.sms: dict[date, dict[str, int]] = {}
        self.first_doses: list[tuple[date, str]] = []
        self.vaccines: dict[date, dict[str, dict[str, int]]] = {}
        self.capacity: dict[date, dict[str, CapacityUse]] = {}
        self.closed_days: dict[date, tuple[list[DailyCount], dict[str, int]]] = {}
        self.closings: list[tuple[date, date]] = []
        self.calls = 0

    def daily_events(self, first: date, last: date, voivodeship: str | None) -> list[DailyCount]:
        self.calls += 1
        return [c for c in self.counts if first <= c.day <= last and voivodeship in (None, c.voivodeship)]

    def daily_sms(self, first: date, last: date) -> dict[date, dict[str, int]]:
        self.calls += 1
        return {day: figures for day, figures in self.sms.items() if first <= day <= last}

    def _first_doses(self, first: date, last: date) -> dict[date, dict[str, int]]:
        result: dict[date, dict[str, int]] = {}
        for given, band in self.first_doses:
            if first <= given <= last:
                result.setdefault(given, {})[band] = result.get(given, {}).get(band, 0) + 1
        return result

    def closed_through(self) -> date | None:
        self.calls += 1
        return max(self.closed_days) if self.closed_days else None

    def close_days(self, first: date, last: date) -> None:
        """What BigQuery's aggregates hold: a snapshot of the days' events when they were closed."""
        self.calls += 1
        self.closings.append((first, last))
        day = first
        while day <= last:
            if day in self.closed_days:
                raise AssertionError(f"{day} closed twice")
            self.closed_days[day] = (
                [c for c in self.counts if c.day == day],
                self._first_doses(day, day).get(day, {}),
            )
            day += timedelta(days=1)

    def closed_events(self, day: date) -> list[DailyCount]:
        self.calls += 1
        return list(self.closed_days[day][0]) if day in self.closed_days else []

    def closed_first_doses(self, last: date) -> dict[date, dict[str, int]]:
        self.calls += 1
        return {day: dict(doses) for day, (_, doses) in self.closed_days.items() if day <= last and doses}

    def live_first_doses(self, day: date) -> dict[str, int]:
        self.calls += 1
        return self._first_doses(day, day).get(day, {})

    def vaccine_events(self, day: date) -> dict[str, dict[str, int]]:
        self.calls += 1
        return self.vaccines.get(day, {})

    def capacity_use(self, day: date) -> dict[str, CapacityUse]:
        self.calls += 1
        return self.capacity.get(day, {})
