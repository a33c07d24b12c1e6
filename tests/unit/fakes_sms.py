"""In-memory fakes of the SMS dialogue's own ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.domain.booking import Slot
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Town
from shared.domain.sms_dialogue import Dialogue, ReminderWindow
from tests.unit.fakes import FakeFreeSlots, FakeStore


class FakeConversations:
    """DialogueStore, the reminder windows and the opt-outs, in dictionaries."""

    def __init__(self) -> None:
        self.dialogues: dict[str, Dialogue] = {}
        self.handled_replies: dict[str, list[str]] = {}
        self.windows: dict[str, ReminderWindow] = {}
        self.opted: dict[str, datetime] = {}

    def handled(self, message_id: str) -> list[str] | None:
        return self.handled_replies.get(message_id)

    def dialogue(self, sender: str) -> Dialogue | None:
        return self.dialogues.get(sender)

    def record(
        self, message_id: str, sender: str, dialogue: Dialogue | None, replies: list[str], now: datetime
    ) -> None:
        if dialogue is None:
            self.dialogues.pop(sender, None)
        else:
            self.dialogues[sender] = dialogue
        self.handled_replies[message_id] = list(replies)

    def reminder(self, sender: str) -> ReminderWindow | None:
        return self.windows.get(sender)

    def opt_out(self, sender: str, now: datetime) -> None:
        self.opted[sender] = now

    def remember(self, windows: Sequence[tuple[str, ReminderWindow]]) -> None:
        self.windows.update(windows)

    def opted_out(self, phone: str) -> bool:
        return phone in self.opted


class StoreRegistry:
    """Patients by PESEL over the booking store's patients."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def lookup(self, pesel: str) -> tuple[PatientRecord | None, list[Referral]]:
        patient = next((p for p in self.store.state.patients.values() if p.pesel == pesel), None)
        return patient, list(self.store.state.referrals.get(patient.patient_id, [])) if patient else []


class StoreFreeSlots(FakeFreeSlots):
    """Search's reads over the booking store's slots: a booking or cancel shows at once (the projection)."""

    def __init__(self, store: FakeStore) -> None:
        super().__init__()
        self.store = store

    @property  # type: ignore[override]
    def slots(self) -> dict[Any, Slot]:
        return self.store.state.slots

    @slots.setter
    def slots(self, value: dict[Any, Slot]) -> None:
        pass


class FakeTowns:
    def __init__(self, towns: Sequence[Town]) -> None:
        self.listed = list(towns)

    def towns(self) -> list[Town]:
        return self.listed
