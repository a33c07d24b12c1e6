"""The booking rules through VisitService, on in-memory fakes of its ports (no emulator)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from emulators.seed import demo_programme
from shared.domain.availability import SlotState
from shared.domain.booking import WARSAW, Channel, Slot, VisitStatus
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Point
from shared.domain.programme import Programme
from shared.domain.refusals import RefusalKind, Refused
from shared.services.notifications import Notifier
from shared.services.visits import BookingRequest, VisitsChanged, VisitService
from shared.topology import SMS_REQUESTS
from tests.unit.fakes import FakeBus, FakeEventPublisher, FakePointDirectory, FakeStore

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
HERE, NEXT_DOOR, ELSEWHERE = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
REGIONS = {HERE: ("14", "1465", "1465011"), NEXT_DOOR: ("14", "1465", "1465011"), ELSEWHERE: ("12", "1261", "1261011")}


def at(days: int, hour: int = 9) -> datetime:
    day = NOW.astimezone(WARSAW).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)


class World:
    """A service over fakes, with helpers to lay out slots and patients."""

    def __init__(self, programme: Programme | None = None) -> None:
        self.store = FakeStore()
        self.events = FakeEventPublisher()
        self.programme = programme or demo_programme(NOW)
        points = [
            Point(p, f"Punkt {n}", *REGIONS[p], "Warszawa", "ul. Długa 1", "00-001", ["comirnaty", "jcovden"], True)
            for n, p in enumerate(REGIONS)
        ]
        self.service = VisitService(
            self.store, self.store, self.store, FakePointDirectory(points), self.events, lambda: self.programme
        )

    def slot(self, point_id: str, starts_at: datetime, vaccine: str = "comirnaty", capacity: int = 1) -> Slot:
        return self.store.add_slot(Slot(point_id, starts_at, vaccine, capacity, 0, *REGIONS[point_id]))

    def patient(self, birth: date = date(1980, 1, 1), phone: str | None = "+48601234567") -> str:
        patient_id = str(uuid.uuid4())
        referral = Referral(
            patient_id, str(uuid.uuid4()), None, "ACTIVE", NOW - timedelta(days=1), NOW + timedelta(days=90)
        )
        self.store.add_patient(PatientRecord(patient_id, "80010112345", "Jan", "Testowy", birth, phone), [referral])
        return patient_id

    def book(self, patient_id: str, slot: Slot, key: str | None = None, phone: str | None = None) -> VisitsChanged:
        request = BookingRequest(slot.point_id, slot.starts_at, slot.vaccine, phone)
        return self.service.book(patient_id, request, Channel.WEB, NOW, key or str(uuid.uuid4()), f"hash-{slot.key}")


def refused(call: object) -> Refused:
    assert callable(call)
    with pytest.raises(Refused) as refusal:
        call()
    return refusal.value


# --- booking ---------------------------------------------------------------------------------


def test_a_one_dose_vaccine_books_one_visit_takes_its_place_and_publishes_its_event() -> None:
    world = World()
    slot = world.slot(HERE, at(2), "jcovden")
    patient = world.patient()

    booked = world.book(patient, slot)

    [visit] = booked.visits
    assert (visit.patient_id, visit.dose, visit.status, visit.channel) == (patient, 1, VisitStatus.BOOKED, Channel.WEB)
    assert len(visit.check_in_code) == 4
    assert booked.next_dose is None and not booked.replayed
    assert booked.points[HERE].name == "Punkt 0"
    assert world.store.booked(slot) == 1
    [event] = world.store.state.outbox
    assert (event["event_type"], event["visit_id"], event["patient_ref"]) == ("VisitBooked", visit.visit_id, patient)
    assert world.events.published == [event]


def test_dose_two_goes_to_the_earliest_free_place_in_its_window_at_the_same_point() -> None:
    world = World()
    first = world.slot(HERE, at(2))
    world.slot(HERE, at(2 + 20))  # a day too early for comirnaty (21-42 days)
    later = world.slot(HERE, at(2 + 30))
    earliest = world.slot(HERE, at(2 + 21, hour=15))
    world.slot(NEXT_DOOR, at(2 + 21, hour=8))  # earlier, but the same point comes first

    told: list[SlotState] = []
    world.service.changes.availability = SimpleNamespace(slots_written=told.extend)  # type: ignore[assignment]

    booked = world.book(world.patient(), first)

    assert [(v.dose, v.starts_at, v.point_id) for v in booked.visits] == [
        (1, first.starts_at, HERE),
        (2, earliest.starts_at, HERE),
    ]
    # Search is told the slots whose places it took, as committed: no read back.
    assert [s.slot.key for s in told] == sorted([first.key, earliest.key])
    assert [(s.slot.booked, s.version, s.closed) for s in told] == [(1, world.store.version, False)] * 2
    assert len({v.series_id for v in booked.visits}) == 1
    assert (world.store.booked(earliest), world.store.booked(later)) == (1, 0)
    assert [e["dose"] for e in world.store.state.outbox] == [1, 2]


def test_dose_two_goes_elsewhere_in_the_municipality_when_the_point_has_no_place() -> None:
    world = World()
    first = world.slot(HERE, at(2))
    world.slot(ELSEWHERE, at(2 + 22))  # another municipality: never
    nearby = world.slot(NEXT_DOOR, at(2 + 25))

    booked = world.book(world.patient(), first)

    assert [(v.dose, v.point_id) for v in booked.visits] == [(1, HERE), (2, NEXT_DOOR)]
    assert world.store.booked(nearby) == 1
    assert set(booked.points) == {HERE, NEXT_DOOR}


def test_with_no_place_for_dose_two_dose_one_stands_and_the_window_is_named() -> None:
    world = World()
    first = world.slot(HERE, at(2))

    booked = world.book(world.patient(), first)

    assert [v.dose for v in booked.visits] == [1]
    assert booked.next_dose is not None and booked.next_dose.dose == 2
    assert (
        booked.next_dose.earliest.astimezone(WARSAW).date()
        == (first.starts_at + timedelta(days=21)).astimezone(WARSAW).date()
    )
    assert world.store.state.outbox[0]["next_dose_from"] == booked.next_dose.earliest.isoformat()


def test_the_phone_given_with_a_booking_is_kept_on_the_patient() -> None:
    world = World()
    patient = world.patient(phone=None)
    world.book(patient, world.slot(HERE, at(2), "jcovden"), phone="+48601000111")
    assert world.store.state.patients[patient].phone == "+48601000111"


@pytest.mark.parametrize(
    ("situation", "kind", "code"),
    [
        ("unknown_vaccine", RefusalKind.INVALID, "unknown_vaccine"),
        ("no_such_slot", RefusalKind.NOT_FOUND, "slot_not_found"),
        ("slot_full", RefusalKind.CONFLICT, "slot_full"),
        ("already_booked", RefusalKind.CONFLICT, "already_booked"),
        ("no_phone", RefusalKind.INVALID, "phone_required"),
        ("no_referral", RefusalKind.FORBIDDEN, "no_referral"),
        ("unknown_patient", RefusalKind.NOT_FOUND, "patient_not_found"),
        ("slot_in_past", RefusalKind.RULE, "slot_in_past"),
    ],
)
def test_a_refused_booking_changes_nothing(situation: str, kind: RefusalKind, code: str) -> None:
    world = World()
    slot = world.slot(HERE, at(2), "jcovden", capacity=1)
    patient = world.patient(phone=None if situation == "no_phone" else "+48601234567")
    if situation == "slot_full":
        world.book(world.patient(), slot)
    if situation == "already_booked":
        world.book(patient, world.slot(HERE, at(3), "jcovden"))
    if situation == "no_referral":
        world.store.state.referrals[patient] = []
    if situation == "slot_in_past":
        slot = world.slot(HERE, at(-1), "jcovden")
    before = (dict(world.store.state.slots), dict(world.store.state.visits), list(world.store.state.outbox))
    published = list(world.events.published)
    vaccine = {"unknown_vaccine": "moderna-x"}.get(situation, slot.vaccine)
    starts_at = at(5) if situation == "no_such_slot" else slot.starts_at
    who = str(uuid.uuid4()) if situation == "unknown_patient" else patient

    refusal = refused(
        lambda: world.service.book(who, BookingRequest(HERE, starts_at, vaccine, None), Channel.WEB, NOW, "key", "hash")
    )

    assert (refusal.kind, refusal.code) == (kind, code)
    assert (world.store.state.slots, world.store.state.visits, world.store.state.outbox) == before
    assert world.events.published == published


def test_a_cohort_not_open_yet_is_refused_until_its_minute() -> None:
    programme = demo_programme(NOW)
    for cohort in programme.cohorts:
        cohort.opens_at = NOW + timedelta(minutes=1)
    world = World(programme)
    slot = world.slot(HERE, at(2), "jcovden")
    refusal = refused(lambda: world.book(world.patient(), slot))
    assert (refusal.kind, refusal.code) == (RefusalKind.RULE, "cohort_not_open")


def test_without_a_programme_booking_is_unavailable_not_an_error() -> None:
    world = World()
    world.service.programme = lambda: None
    refusal = refused(lambda: world.book(world.patient(), world.slot(HERE, at(2), "jcovden")))
    assert (refusal.kind, refusal.code) == (RefusalKind.UNAVAILABLE, "programme_unavailable")


def test_a_retried_booking_with_the_same_key_returns_the_same_visits_and_books_nothing_more() -> None:
    world = World()
    slot = world.slot(HERE, at(2), "jcovden", capacity=5)
    patient = world.patient()

    first = world.book(patient, slot, key="retry-me")
    again = world.book(patient, slot, key="retry-me")

    assert again.replayed and not first.replayed
    assert again.visits == first.visits
    assert again.points == first.points
    assert world.store.booked(slot) == 1
    assert len(world.store.state.outbox) == 1
    assert len(world.events.published) == 1


def test_the_same_key_with_another_request_is_a_conflict() -> None:
    world = World()
    patient = world.patient()
    world.book(patient, world.slot(HERE, at(2), "jcovden"), key="k")
    other = world.slot(HERE, at(3), "jcovden")
    refusal = refused(lambda: world.book(patient, other, key="k"))
    assert (refusal.kind, refusal.code) == (RefusalKind.CONFLICT, "idempotency_key_reused")
    assert world.store.booked(other) == 0


def test_a_booking_stands_when_the_bus_is_down_and_its_events_wait_in_the_outbox() -> None:
    world = World()
    world.events.down = True
    booked = world.book(world.patient(), world.slot(HERE, at(2), "jcovden"))
    assert [e["visit_id"] for e in world.store.state.outbox] == [booked.visits[0].visit_id]
    assert world.events.published == []


# --- moving ----------------------------------------------------------------------------------


def test_moving_dose_one_keeps_dose_two_while_it_still_fits_its_window() -> None:
    world = World()
    first, second = world.slot(HERE, at(2)), world.slot(HERE, at(2 + 30))
    target = world.slot(HERE, at(4))
    patient = world.patient()
    booked = world.book(patient, first)

    moved = world.service.move(booked.visits[0].visit_id, HERE, target.starts_at, patient, NOW)

    assert [(v.dose, v.starts_at) for v in moved.visits] == [(1, target.starts_at), (2, second.starts_at)]
    assert (world.store.booked(first), world.store.booked(target), world.store.booked(second)) == (0, 1, 1)
    assert [e["event_type"] for e in world.store.state.outbox] == ["VisitBooked", "VisitBooked", "VisitMoved"]


def test_moving_dose_one_moves_dose_two_that_no_longer_fits() -> None:
    world = World()
    first, second = world.slot(HERE, at(2)), world.slot(HERE, at(2 + 21))
    target = world.slot(HERE, at(10))
    new_second = world.slot(HERE, at(10 + 25))
    patient = world.patient()
    booked = world.book(patient, first)
    assert booked.visits[1].starts_at == second.starts_at

    moved = world.service.move(booked.visits[0].visit_id, HERE, target.starts_at, patient, NOW)

    assert [v.starts_at for v in moved.visits] == [target.starts_at, new_second.starts_at]
    assert [world.store.booked(s) for s in (first, second, target, new_second)] == [0, 0, 1, 1]


def test_a_move_with_no_place_for_the_next_dose_is_refused_and_changes_nothing() -> None:
    world = World()
    first, second = world.slot(HERE, at(2)), world.slot(HERE, at(2 + 21))
    target = world.slot(HERE, at(10))
    patient = world.patient()
    booked = world.book(patient, first)
    before = dict(world.store.state.slots)

    refusal = refused(lambda: world.service.move(booked.visits[0].visit_id, HERE, target.starts_at, patient, NOW))

    assert (refusal.kind, refusal.code) == (RefusalKind.CONFLICT, "no_place_for_next_dose")
    assert world.store.state.slots == before
    assert world.store.booked(second) == 1


def test_dose_two_cannot_move_outside_its_window() -> None:
    world = World()
    first = world.slot(HERE, at(2))
    world.slot(HERE, at(2 + 21))
    too_late = world.slot(HERE, at(2 + 50))
    patient = world.patient()
    booked = world.book(patient, first)
    refusal = refused(lambda: world.service.move(booked.visits[1].visit_id, HERE, too_late.starts_at, patient, NOW))
    assert (refusal.kind, refusal.code) == (RefusalKind.RULE, "outside_dose_window")


def test_nobody_moves_or_cancels_another_patients_visit() -> None:
    world = World()
    owner, stranger = world.patient(), world.patient()
    booked = world.book(owner, world.slot(HERE, at(2), "jcovden"))
    target = world.slot(HERE, at(3), "jcovden")
    visit_id = booked.visits[0].visit_id
    for call in (
        lambda: world.service.move(visit_id, HERE, target.starts_at, stranger, NOW),
        lambda: world.service.cancel(visit_id, stranger, NOW),
    ):
        assert refused(call).code == "not_your_visit"
    assert world.store.state.visits[visit_id].status == VisitStatus.BOOKED


# --- cancelling ------------------------------------------------------------------------------


def test_cancelling_dose_one_cancels_dose_two_and_frees_both_places() -> None:
    world = World()
    first, second = world.slot(HERE, at(2)), world.slot(HERE, at(2 + 21))
    patient = world.patient()
    booked = world.book(patient, first)

    cancelled = world.service.cancel(booked.visits[0].visit_id, patient, NOW)

    assert [(v.dose, v.status) for v in cancelled.visits] == [(1, VisitStatus.CANCELLED), (2, VisitStatus.CANCELLED)]
    assert (world.store.booked(first), world.store.booked(second)) == (0, 0)
    assert [e["event_type"] for e in world.store.state.outbox][-2:] == ["VisitCancelled", "VisitCancelled"]


def test_cancelling_again_changes_nothing() -> None:
    world = World()
    patient = world.patient()
    slot = world.slot(HERE, at(2), "jcovden", capacity=3)
    visit_id = world.book(patient, slot).visits[0].visit_id
    world.service.cancel(visit_id, patient, NOW)
    events = len(world.store.state.outbox)

    again = world.service.cancel(visit_id, patient, NOW)

    assert again.replayed and again.visits == []
    assert len(world.store.state.outbox) == events
    assert world.store.booked(slot) == 0


def test_a_visit_that_has_started_can_no_longer_be_cancelled() -> None:
    world = World()
    patient = world.patient()
    booked = world.book(patient, world.slot(HERE, at(1), "jcovden"))
    later = NOW + timedelta(days=3)
    refusal = refused(lambda: world.service.cancel(booked.visits[0].visit_id, patient, later))
    assert (refusal.kind, refusal.code) == (RefusalKind.RULE, "visit_started")


# --- reading ---------------------------------------------------------------------------------


def test_a_patient_sees_own_visits_earliest_first_with_their_points() -> None:
    world = World()
    patient = world.patient()
    world.slot(HERE, at(2 + 21))
    world.book(patient, world.slot(HERE, at(2)))
    listed = world.service.list_for_patient(patient)
    assert [v.dose for v in listed.visits] == [1, 2]
    assert set(listed.points) == {HERE}


def test_a_points_day_list_names_whom_each_visit_is_for() -> None:
    world = World()
    patient = world.patient()
    world.book(patient, world.slot(HERE, at(2, hour=10), "jcovden"))
    world.book(world.patient(), world.slot(HERE, at(3, hour=10), "jcovden"))  # another day
    day = at(2).astimezone(WARSAW).date()
    [(visit, whom)] = world.service.day_list(HERE, day)
    assert visit.patient_id == patient and whom is not None and whom.family_name == "Testowy"


def test_a_visit_whose_time_has_passed_no_longer_blocks_booking_and_its_later_dose_goes() -> None:
    world = World()
    missed_slot = world.slot(HERE, NOW - timedelta(hours=2))
    later_dose_slot = world.slot(HERE, NOW - timedelta(hours=2) + timedelta(days=21))
    patient = world.patient()
    request = BookingRequest(HERE, missed_slot.starts_at, "comirnaty", None)
    missed = world.service.book(patient, request, Channel.WEB, NOW - timedelta(days=1)).visits
    assert [v.dose for v in missed] == [1, 2] and world.store.booked(later_dose_slot) == 1

    again = world.book(patient, world.slot(HERE, at(1), "jcovden"))

    assert [v.dose for v in again.visits] == [1]
    statuses = {v.visit_id: v.status for v in world.store.visits_of_patient(patient)}
    # The missed visit waits for the nightly job (NO_SHOW); the dose after it is cancelled, its place freed.
    assert (statuses[missed[0].visit_id], statuses[missed[1].visit_id]) == (VisitStatus.BOOKED, VisitStatus.CANCELLED)
    assert world.store.booked(later_dose_slot) == 0
    cancelled = [e for e in world.store.state.outbox if e["event_type"] == "VisitCancelled"]
    assert [e["visit_id"] for e in cancelled] == [missed[1].visit_id]


def test_a_visit_still_ahead_blocks_booking() -> None:
    world = World()
    patient = world.patient()
    world.book(patient, world.slot(HERE, at(1), "jcovden"))
    assert refused(lambda: world.book(patient, world.slot(HERE, at(2), "jcovden"))).code == "already_booked"


def test_a_new_number_is_never_silent_the_old_one_is_told_through_the_outbox() -> None:
    world = World()
    patient = world.patient(phone="+48601000001")
    new_comer = world.patient(phone=None)
    world.book(new_comer, world.slot(HERE, at(2), "jcovden"), phone="+48601000777")  # a first number: nobody to tell
    world.book(patient, world.slot(HERE, at(3), "jcovden"), phone="+48601000999")

    changed = [e for e in world.store.state.outbox if e["event_type"] == "PhoneChanged"]
    assert [e["patient_ref"] for e in changed] == [patient]
    assert "+48601" not in str(changed)  # the event never carries a number
    assert world.store.state.previous_phones == {patient: "+48601000001"}
    bus = FakeBus()
    notifier = Notifier(world.store, world.store, FakePointDirectory([]), lambda: world.programme, bus, True,
                        phones=world.store)  # fmt: skip
    request_id = notifier.handle(changed[0])
    assert notifier.handle(changed[0]) == request_id  # redelivered: the same request, sent once
    told = bus.json(SMS_REQUESTS)[0]
    assert told["to"] == "+48601000001" and "999" in told["text"] and told["kind"] == "PhoneChanged"
