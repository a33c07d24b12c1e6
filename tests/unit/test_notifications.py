"""Notifier: which SMS text for which visit event, through fakes of its ports (no I/O)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.booking import VisitStatus
from shared.domain.events import VISIT_BOOKED, VISIT_CANCELLED, VISIT_MOVED
from shared.domain.messages import PoisonMessage
from shared.services.notifications import Notifier
from shared.topology import SMS_REQUESTS
from tests.unit.fakes import FakeBus, FakePointDirectory, FakeStore
from tests.unit.messaging_data import NOW, PHONE, POINT, PROGRAMME, events, patient, save, series, visit


class World:
    def __init__(self, transliterate: bool = False) -> None:
        self.store = FakeStore()
        self.bus = FakeBus()
        self.notifier = Notifier(
            self.store, self.store, FakePointDirectory([POINT]), lambda: PROGRAMME, self.bus, transliterate
        )

    def sent(self) -> list[dict[str, object]]:
        return self.bus.json(SMS_REQUESTS)


def test_a_booking_with_dose_two_names_both_doses_once_per_change() -> None:
    world = World()
    someone = patient()
    doses = series(someone.patient_id, NOW + timedelta(days=2))
    save(world.store, [someone], doses)
    first, second = events(VISIT_BOOKED, doses, doses)

    request_id = world.notifier.handle(first)
    assert world.notifier.handle(second) is None  # the first visit of the change carries the SMS

    [request] = world.sent()
    assert request_id == request["request_id"] == f"event-{first['event_id']}"
    assert request["to"] == PHONE and request["kind"] == "VisitBooked" and request["visit_id"] == doses[0].visit_id
    text = str(request["text"])
    assert "Comirnaty, dawka 1" in text and "Dawka 2: 24.12.2026 10:00." in text and "Kod: 0427" in text
    assert "Przychodnia Zdrowie" in text and "umów od" not in text
    assert request["encoding"] == "UCS-2" and request["segments"] == 3  # Polish letters, not transliterated
    [(_, _, attributes)] = world.bus.messages
    assert attributes == {"request_id": request_id}


def test_a_redelivered_event_makes_the_same_request() -> None:
    world = World(transliterate=True)
    someone = patient()
    doses = series(someone.patient_id, NOW + timedelta(days=2))
    save(world.store, [someone], doses)
    first = events(VISIT_BOOKED, doses, doses)[0]
    assert world.notifier.handle(first) == world.notifier.handle(first)
    one, two = world.sent()
    assert one == two and str(one["text"]).isascii() and one["encoding"] == "GSM-7"


def test_a_booking_whose_next_dose_is_pending_says_from_when_to_book_it() -> None:
    world = World()
    someone = patient()
    [dose_1] = series(someone.patient_id, NOW + timedelta(days=2), doses=1)
    save(world.store, [someone], [dose_1])
    [event] = events(VISIT_BOOKED, [dose_1], [dose_1], next_dose_from=NOW + timedelta(days=23))
    world.notifier.handle(event)
    [request] = world.sent()
    assert "Dawkę 2 umów od 24.12.2026." in str(request["text"])
    assert "Dawka 2" not in str(request["text"])


def test_a_move_and_a_cancellation_have_their_own_texts() -> None:
    world = World()
    someone = patient()
    moved = visit(someone.patient_id, NOW + timedelta(days=5))
    cancelled = visit(someone.patient_id, NOW + timedelta(days=6), status=VisitStatus.CANCELLED)
    save(world.store, [someone], [moved, cancelled])
    world.notifier.handle(events(VISIT_MOVED, [moved], [moved])[0])
    world.notifier.handle(events(VISIT_CANCELLED, [cancelled], [cancelled])[0])
    move, cancel = world.sent()
    assert move["kind"] == "VisitMoved" and str(move["text"]).startswith("e-Rejestracja: nowy termin, dawka 1")
    assert "06.12.2026 10:00" in str(move["text"]) and "Kod: 0427" in str(move["text"])
    assert cancel["kind"] == "VisitCancelled" and "odwołano szczepienie" in str(cancel["text"])
    assert "989" in str(cancel["text"]) and "Kod" not in str(cancel["text"])


def test_no_phone_on_file_sends_nothing() -> None:
    world = World()
    someone = patient(phone=None)
    doses = series(someone.patient_id, NOW + timedelta(days=2))
    save(world.store, [someone], doses)
    assert world.notifier.handle(events(VISIT_BOOKED, doses, doses)[0]) is None
    assert world.sent() == []


def test_an_unknown_patient_or_visit_sends_nothing() -> None:
    world = World()
    someone = patient()
    doses = series(someone.patient_id, NOW + timedelta(days=2))
    assert world.notifier.handle(events(VISIT_BOOKED, doses, doses)[0]) is None  # patient not found
    save(world.store, [someone])
    assert world.notifier.handle(events(VISIT_BOOKED, doses, doses)[0]) is None  # visits not found
    assert world.sent() == []


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "VisitBooked",
        {"event_type": "VisitBooked"},
        {"event_type": "VisitVanished"},
    ],
)
def test_a_message_that_is_no_visit_event_is_poison(payload: object) -> None:
    with pytest.raises(PoisonMessage):
        World().notifier.handle(payload)


def test_an_event_with_an_unknown_type_or_no_changed_visit_is_poison() -> None:
    someone = patient()
    doses = series(someone.patient_id, NOW + timedelta(days=2))
    event = events(VISIT_BOOKED, doses, doses)[0]
    for broken in ({**event, "event_type": "VisitVanished"}, {**event, "changed": []}, {**event, "dose": "one"}):
        with pytest.raises(PoisonMessage):
            World().notifier.handle(broken)
