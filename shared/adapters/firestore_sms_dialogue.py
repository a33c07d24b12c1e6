"""SMS conversations in Firestore: the dialogue store of ``shared.services.sms_dialogue``, the reminder
windows that ``Reminders`` writes, and the opt-outs ``SmsSender`` reads.

Documents are keyed by an HMAC of the phone number (never the number itself); each carries
``expire_at`` for Firestore's TTL policy, which deletes it some time after (the service itself treats
a dialogue as forgotten after 15 minutes of silence, whatever the TTL sweep has done).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore

from shared.domain.sms_dialogue import SILENCE, Dialogue, Offer, ReminderWindow, Step

DIALOGUES = "sms_dialogues"
INBOUND = "sms_inbound"
REMINDED = "sms_reminded"
OPT_OUTS = "sms_opt_outs"
KEEP_HANDLED = timedelta(days=7)  # the operator redelivers within hours; Pub/Sub within 7 days


def _dialogue_doc(dialogue: Dialogue) -> dict[str, Any]:
    return {
        "step": str(dialogue.step),
        "updated_at": dialogue.updated_at,
        "expire_at": dialogue.updated_at + SILENCE,
        "patient_id": dialogue.patient_id,
        "vaccines": list(dialogue.vaccines),
        "voivodeship": dialogue.voivodeship,
        "county": dialogue.county,
        "offered": [{"point_id": o.point_id, "starts_at": o.starts_at, "vaccine": o.vaccine} for o in dialogue.offered],
    }


def _dialogue(doc: dict[str, Any]) -> Dialogue:
    return Dialogue(
        step=Step(doc["step"]),
        updated_at=doc["updated_at"],
        patient_id=doc.get("patient_id"),
        vaccines=tuple(doc.get("vaccines", ())),
        voivodeship=doc.get("voivodeship"),
        county=doc.get("county"),
        offered=tuple(Offer(o["point_id"], o["starts_at"], o["vaccine"]) for o in doc.get("offered", ())),
    )


class FirestoreSmsConversations:
    def __init__(self, client: firestore.Client, key: str) -> None:
        self.client = client
        self._key = key.encode()

    def _id(self, phone: str) -> str:
        return hmac.new(self._key, phone.encode(), hashlib.sha256).hexdigest()

    # --- DialogueStore ---------------------------------------------------------------------

    def handled(self, message_id: str) -> list[str] | None:
        snapshot = self.client.collection(INBOUND).document(message_id).get()
        return list(snapshot.get("replies")) if snapshot.exists else None

    def dialogue(self, sender: str) -> Dialogue | None:
        snapshot = self.client.collection(DIALOGUES).document(self._id(sender)).get()
        return _dialogue(snapshot.to_dict() or {}) if snapshot.exists else None

    def record(
        self, message_id: str, sender: str, dialogue: Dialogue | None, replies: list[str], now: datetime
    ) -> None:
        batch = self.client.batch()
        reference = self.client.collection(DIALOGUES).document(self._id(sender))
        if dialogue is None:
            batch.delete(reference)
        else:
            batch.set(reference, _dialogue_doc(dialogue))
        batch.set(
            self.client.collection(INBOUND).document(message_id),
            {"replies": replies, "handled_at": now, "expire_at": now + KEEP_HANDLED},
        )
        batch.commit()

    def reminder(self, sender: str) -> ReminderWindow | None:
        snapshot = self.client.collection(REMINDED).document(self._id(sender)).get()
        if not snapshot.exists:
            return None
        doc = snapshot.to_dict() or {}
        return ReminderWindow(doc["visit_id"], doc["patient_id"], doc["until"])

    def opt_out(self, sender: str, now: datetime) -> None:
        self.client.collection(OPT_OUTS).document(self._id(sender)).set({"at": now})

    # --- Reminders' port -------------------------------------------------------------------

    def remember(self, windows: Sequence[tuple[str, ReminderWindow]]) -> None:
        for start in range(0, len(windows), 400):  # a batch takes at most 500 writes
            batch = self.client.batch()
            for phone, window in windows[start : start + 400]:
                batch.set(
                    self.client.collection(REMINDED).document(self._id(phone)),
                    {"visit_id": window.visit_id, "patient_id": window.patient_id, "until": window.until,
                     "expire_at": window.until},
                )  # fmt: skip
            batch.commit()

    # --- SmsSender's port ------------------------------------------------------------------

    def opted_out(self, phone: str) -> bool:
        return bool(self.client.collection(OPT_OUTS).document(self._id(phone)).get().exists)
