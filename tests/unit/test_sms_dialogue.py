"""Registration by SMS and answers to reminders, through SmsDialogue over in-memory fakes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from emulators.seed import demo_programme, pesel_for
from shared.domain.booking import WARSAW, Channel, Slot, VisitStatus
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Point, Town
from shared.domain.ratelimit import Limit, RateLimiter
from shared.domain.sms import encode
from shared.domain.sms_dialogue import (
    ASK_PESEL,
    ASK_TOWN,
    HELP,
    NO_MORE,
    OTHER_PHONE,
    SHORT_HELP,
    STOPPED,
    UNKNOWN_TOWN,
    Inbound,
    ReminderWindow,
)
from shared.services.rate_limits import RateLimits
from shared.services.search import SlotSearch
from shared.services.sms_dialogue import SmsDialogue, reply_request_id
from shared.services.visits import BookingRequest, VisitService
from shared.topology import SMS_REQUESTS
from tests.unit.fakes import FakeBus, FakeEventPublisher, FakePointDirectory, FakeStore
from tests.unit.fakes_sms import FakeConversations, FakeTowns, StoreFreeSlots, StoreRegistry

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
SENDER = "+48601000001"
KRAKOW, TARNOW, WARSZAWA = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
POINTS = [
    Point(KRAKOW, "Przychodnia Rejonowa", "12", "1261", "1261011", "Kraków", "ul. Długa 1", "30-001",
          ["comirnaty"], True),
    Point(TARNOW, "Szpital Miejski", "12", "1263", "1263011", "Tarnów", "ul. Polna 2", "33-100", ["comirnaty"], True),
    Point(WARSZAWA, "Centrum Medyczne", "14", "1465", "1465011", "Warszawa", "ul. Lipowa 3", "00-001",
          ["comirnaty"], True),
]  # fmt: skip


def at(days: int, hour: int) -> datetime:
    day = NOW.astimezone(WARSAW).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)


class World:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.programme = demo_programme(NOW)
        directory = FakePointDirectory(POINTS)
        self.events = FakeEventPublisher()
        self.visits = VisitService(self.store, self.store, self.store, directory, self.events, lambda: self.programme)
        self.conversations = FakeConversations()
        self.bus = FakeBus()
        self.clock = NOW
        self.dialogue = SmsDialogue(
            self.conversations, StoreRegistry(self.store), self.store, self.visits,
            SlotSearch(StoreFreeSlots(self.store), directory, lambda: self.programme),
            FakeTowns([Town(p.city, p.voivodeship, p.county) for p in POINTS]), lambda: self.programme, self.bus,
            RateLimits(None, RateLimiter(), clock=lambda: self.clock.timestamp()), Limit(1.0, 20),
            timedelta(days=60),
        )  # fmt: skip
        self.messages = 0
        for days in (1, 2, 3):  # dose 1 places; and dose 2 places 21 days on
            for point, hour in ((KRAKOW, 9), (KRAKOW, 10), (TARNOW, 8), (WARSZAWA, 8)):
                self.slot(point, at(days, hour))
                self.slot(point, at(days + 21, hour))

    def slot(self, point_id: str, starts_at: datetime, capacity: int = 1) -> Slot:
        point = next(p for p in POINTS if p.point_id == point_id)
        return self.store.add_slot(
            Slot(point_id, starts_at, "comirnaty", capacity, 0, point.voivodeship, point.county, point.municipality)
        )

    def patient(self, phone: str | None = None, birth: date = date(1970, 3, 4)) -> PatientRecord:
        patient_id = str(uuid.uuid4())
        pesel = pesel_for(birth, len(self.store.state.patients) + 1, False)
        referral = Referral(patient_id, "r", None, "ACTIVE", NOW - timedelta(days=1), NOW + timedelta(days=90))
        return self.store.add_patient(PatientRecord(patient_id, pesel, "Jan", "Nowak", birth, phone), [referral])

    def send(self, text: str, sender: str = SENDER, message_id: str | None = None) -> str | None:
        """Send an SMS as ``sender``; the reply's text (transliterated), or None when there is none."""
        self.messages += 1
        message_id = message_id or f"m{self.messages}"
        before = len(self.bus.messages)
        self.dialogue.handle(Inbound(message_id, sender, text, self.clock), self.clock)
        replies = self.bus.json(SMS_REQUESTS)[before:] if len(self.bus.messages) > before else []
        assert len(replies) <= 1
        if not replies:
            return None
        assert replies[0]["request_id"] == reply_request_id(message_id) and replies[0]["to"] == sender
        return str(replies[0]["text"])


def test_a_patient_registers_entirely_by_sms_with_a_typo_in_the_town() -> None:
    world = World()
    patient = world.patient(phone=None)
    assert world.send("Szczepimy się") == plain_reply(ASK_PESEL)
    assert world.send(f" {patient.pesel} ") == plain_reply(ASK_TOWN)
    first = world.send("krakw")  # Kraków with a typo, no diacritics
    assert first is not None and "Przychodnia Rejonowa" in first and "26.11.2026 09:00" in first
    second = world.send("nie")
    assert second is not None and "26.11.2026 10:00" in second
    assert world.send("TAK") is None  # the booking's own confirmation follows (from its event)
    [visit, dose2] = sorted(world.store.visits_of_patient(patient.patient_id), key=lambda v: v.dose)
    assert (visit.point_id, visit.starts_at, visit.channel) == (KRAKOW, at(1, 10), Channel.SMS)
    assert dose2.dose == 2 and dose2.status == VisitStatus.BOOKED
    assert world.store.state.patients[patient.patient_id].phone == SENDER  # the sender's number is now on file
    assert [e["event_type"] for e in world.events.published][:1] == ["VisitBooked"]
    assert SENDER not in world.conversations.dialogues  # the dialogue is over


def plain_reply(text: str) -> str:
    """A reply as sent: transliterated to GSM-7."""
    return encode(text, transliterate=True).text


def test_the_same_message_delivered_again_books_once_and_replies_with_the_same_request() -> None:
    world = World()
    patient = world.patient(phone=SENDER)
    world.send("SZCZEPIMYSIE")
    world.send(patient.pesel)
    world.send("Tarnów")
    world.send("TAK", message_id="yes")
    world.dialogue.handle(Inbound("yes", SENDER, "TAK", NOW), NOW)  # a redelivery
    assert len([v for v in world.store.visits_of_patient(patient.patient_id) if v.dose == 1]) == 1
    again = world.send("Tarnów", message_id="m3")  # the town's message again: its reply again, same id
    assert again is not None and "Szpital Miejski" in again


def test_another_mobile_on_file_stops_the_dialogue() -> None:
    world = World()
    patient = world.patient(phone="+48601999999")
    world.send("SZCZEPIMYSIE")
    assert world.send(patient.pesel) == plain_reply(OTHER_PHONE)
    assert world.send("Kraków") == plain_reply(SHORT_HELP)  # nothing goes on: the dialogue ended
    assert world.store.visits_of_patient(patient.patient_id) == []


@pytest.mark.parametrize(
    ("birth", "referral", "expected"),
    [(date(1970, 3, 4), False, "e-skierowania"), (date(2020, 1, 1), True, "uprawnionej")],
)
def test_the_rules_of_online_booking_apply(birth: date, referral: bool, expected: str) -> None:
    world = World()
    patient = world.patient(birth=birth)
    if not referral:
        world.store.state.referrals[patient.patient_id] = []
    world.send("SZCZEPIMYSIE")
    reply = world.send(patient.pesel)
    assert reply is not None and plain_reply(expected) in reply and "989" in reply


def test_a_wrong_pesel_and_an_unknown_town_ask_again() -> None:
    world = World()
    patient = world.patient()
    world.send("SZCZEPIMYSIE")
    assert "PESEL" in (world.send("12345678901") or "")
    assert world.send(patient.pesel) == plain_reply(ASK_TOWN)
    assert world.send("Zakopane") == plain_reply(UNKNOWN_TOWN)
    assert "Szpital Miejski" in (world.send("TARNOW") or "")


def test_three_offers_then_the_hotline() -> None:
    world = World()
    patient = world.patient()
    for text in ("SZCZEPIMYSIE", patient.pesel, "Warszawa", "NIE", "NIE"):
        world.send(text)
    assert world.send("NIE") == plain_reply(NO_MORE)
    assert world.store.visits_of_patient(patient.patient_id) == []


def test_a_place_taken_meanwhile_is_replaced_by_the_next() -> None:
    world = World()
    patient, other = world.patient(), world.patient(phone="+48601000002")
    world.send("SZCZEPIMYSIE")
    world.send(patient.pesel)
    world.send("Tarnów")
    world.visits.book(other.patient_id, BookingRequest(TARNOW, at(1, 8), "comirnaty", None), Channel.WEB, NOW)
    reply = world.send("TAK")
    assert reply is not None and "zajety" in reply and "27.11.2026 08:00" in reply


def test_silence_of_fifteen_minutes_forgets_the_dialogue() -> None:
    world = World()
    patient = world.patient()
    world.send("SZCZEPIMYSIE")
    world.clock = NOW + timedelta(minutes=14, seconds=59)
    assert world.send(patient.pesel) == plain_reply(ASK_TOWN)
    world.clock += timedelta(minutes=15)
    assert world.send("Kraków") == plain_reply(SHORT_HELP)


def test_help_stop_and_anything_else() -> None:
    world = World()
    assert world.send("pomoc") == plain_reply(HELP)
    assert world.send("stop") == plain_reply(STOPPED)
    assert world.conversations.opted_out(SENDER)
    assert world.send("dzien dobry") == plain_reply(SHORT_HELP)


def test_no_to_a_reminder_cancels_the_visit_and_its_later_dose() -> None:
    world = World()
    patient = world.patient(phone=SENDER)
    booked = world.visits.book(
        patient.patient_id, BookingRequest(KRAKOW, at(1, 9), "comirnaty", None), Channel.WEB, NOW
    ).visits
    assert len(booked) == 2
    world.conversations.remember([(SENDER, ReminderWindow(booked[0].visit_id, patient.patient_id, at(1, 9)))])
    assert world.send("Nie") is None  # the cancellation's own SMS confirms it
    statuses = {v.status for v in world.store.visits_of_patient(patient.patient_id)}
    assert statuses == {VisitStatus.CANCELLED}
    assert world.store.booked(world.store.state.slots[(KRAKOW, at(1, 9), "comirnaty")]) == 0  # back in search


def test_no_after_the_visit_started_or_from_another_phone_cancels_nothing() -> None:
    world = World()
    patient = world.patient(phone=SENDER)
    [visit, _] = world.visits.book(
        patient.patient_id, BookingRequest(KRAKOW, at(1, 9), "comirnaty", None), Channel.WEB, NOW
    ).visits
    world.conversations.remember([(SENDER, ReminderWindow(visit.visit_id, patient.patient_id, at(1, 9)))])
    assert world.send("NIE", sender="+48601000002") == plain_reply(SHORT_HELP)
    world.clock = at(1, 9)
    assert "nie mozna" in (world.send("NIE") or "")
    assert {v.status for v in world.store.visits_of_patient(patient.patient_id)} == {VisitStatus.BOOKED}


def test_a_sender_over_the_rate_limit_gets_no_reply() -> None:
    world = World()
    replies = [world.send("xyz") for _ in range(25)]
    assert replies[:20] == [plain_reply(SHORT_HELP)] * 20 and replies[20:] == [None] * 5


def test_no_pesel_or_number_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    patient = world.patient()
    caplog.set_level("DEBUG")
    for text in ("SZCZEPIMYSIE", patient.pesel, "Kraków", "TAK"):
        world.send(text)
    logged = " ".join(f"{r.getMessage()} {json.dumps(getattr(r, 'fields', {}), default=str)}" for r in caplog.records)
    assert patient.pesel not in logged and SENDER not in logged and SENDER[3:] not in logged
