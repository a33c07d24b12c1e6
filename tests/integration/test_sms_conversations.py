"""The SMS conversations' Firestore adapter and the towns of the point directory, on the emulators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.adapters.firestore_sms_dialogue import DIALOGUES, FirestoreSmsConversations
from shared.adapters.spanner_points import SpannerPointDirectory
from shared.bootstrap import Container
from shared.domain.points import Town
from shared.domain.sms_dialogue import Dialogue, Offer, ReminderWindow, Step
from tests.integration.conftest import add_point

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
PHONE, OTHER = "+48601000001", "+48601000002"


def test_a_dialogue_and_the_message_that_moved_it_are_recorded_together(backends: Container) -> None:
    store = FirestoreSmsConversations(backends.firestore.client, "key")
    dialogue = Dialogue(
        Step.OFFER, NOW, "patient-1", ("comirnaty",), "14", "1465", (Offer("p1", NOW + timedelta(days=1), "comirnaty"),)
    )
    assert store.handled("m1") is None and store.dialogue(PHONE) is None
    store.record("m1", PHONE, dialogue, ["reply"], NOW)
    assert store.handled("m1") == ["reply"] and store.dialogue(PHONE) == dialogue
    assert store.dialogue(OTHER) is None
    store.record("m2", PHONE, None, [], NOW)  # the dialogue ended
    assert store.dialogue(PHONE) is None and store.handled("m2") == []
    # Documents are named by the keyed hash of the number, never by the number.
    names = [d.id for d in backends.firestore.client.collection(DIALOGUES).list_documents()]
    assert all(PHONE not in name and PHONE[3:] not in name for name in names)


def test_reminder_windows_and_opt_outs_by_number(backends: Container) -> None:
    store = FirestoreSmsConversations(backends.firestore.client, "key")
    window = ReminderWindow("visit-1", "patient-1", NOW + timedelta(hours=20))
    store.remember([(PHONE, window)])
    assert store.reminder(PHONE) == window and store.reminder(OTHER) is None
    assert not store.opted_out(PHONE)
    store.opt_out(PHONE, NOW)
    assert store.opted_out(PHONE) and not store.opted_out(OTHER)


def test_towns_are_those_with_an_active_point(backends: Container) -> None:
    add_point(backends, [(NOW + timedelta(days=1), "comirnaty", 5)])
    assert SpannerPointDirectory(backends.spanner).towns() == [Town("Warszawa", "14", "1465")]
