""" "Tell me when I can book": a patient whose cohort is not open yet leaves a mobile number, and
when the cohort opens each such patient gets one SMS, paced so that the booking peak is spread.

The SMS goes through the existing pipeline (``sms-requests``, then the SMS sender's log, which
sends each request id once); the request id is derived from (cohort, patient), so however often
a tick publishes it, one SMS goes out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from shared.domain.contact import InvalidPhone, polish_mobile
from shared.domain.programme import Cohort, Programme, require_programme
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.sms import encode, opening_text
from shared.services.ports import MessagePublisher
from shared.topology import SMS_REQUESTS


@dataclass(frozen=True)
class Interested:
    cohort: str
    patient_id: str
    phone: str


class InterestStore(Protocol):
    def birth_date(self, patient_id: str) -> date | None: ...

    def save(self, interest: Interested) -> None:
        """Record (or refresh) the interest; it stays pending until ``mark_requested``."""
        ...

    def pending(self, cohort: str, limit: int) -> list[Interested]:
        """Up to ``limit`` pending interests of the cohort, in patient id order."""
        ...

    def mark_requested(self, interests: Sequence[Interested]) -> None: ...


def request_id(cohort: str, patient_id: str) -> str:
    return f"interest-{cohort}-{patient_id}"


class InterestService:
    def __init__(
        self,
        store: InterestStore,
        bus: MessagePublisher,
        programme: Callable[[], Programme | None],
        transliterate: bool = True,
    ) -> None:
        self.store = store
        self.bus = bus
        self.programme = programme
        self.transliterate = transliterate

    def register(self, patient_id: str, phone: str, now: datetime) -> Cohort:
        try:
            number = polish_mobile(phone)
        except InvalidPhone:
            raise Refused(
                RefusalKind.INVALID, "invalid_phone", "Podaj polski numer telefonu komórkowego", field="phone"
            ) from None
        programme = require_programme(self.programme())
        birth_date = self.store.birth_date(patient_id)
        cohort = programme.cohort_of(birth_date) if birth_date else None
        if cohort is None:
            raise Refused(RefusalKind.FORBIDDEN, "not_eligible", "Nie należysz do grupy uprawnionej do szczepienia")
        if cohort.is_open(now):
            raise Refused(RefusalKind.RULE, "cohort_already_open", "Rejestracja dla Twojej grupy już trwa: umów wizytę")
        self.store.save(Interested(cohort.code, patient_id, number))
        return cohort

    def notify_opened(self, now: datetime, budget: int) -> int:
        """Publish up to ``budget`` SMS requests for cohorts open at ``now``; returns how many."""
        programme = self.programme()
        if programme is None or budget <= 0:
            return 0
        requested = 0
        for cohort in programme.cohorts:
            if not cohort.is_open(now):
                continue
            while requested < budget:
                batch = self.store.pending(cohort.code, min(500, budget - requested))
                if not batch:
                    break
                self._request(cohort, batch)
                requested += len(batch)
        return requested

    def _request(self, cohort: Cohort, batch: list[Interested]) -> None:
        message = encode(opening_text(cohort.opens_at), self.transliterate)
        messages = []
        for interest in batch:
            rid = request_id(interest.cohort, interest.patient_id)
            body = {
                "request_id": rid,
                "to": interest.phone,
                "text": message.text,
                "kind": "CohortOpened",
                "encoding": message.encoding,
                "segments": message.segments,
            }
            messages.append((json.dumps(body).encode(), {"request_id": rid}))
        taken = self.bus.publish_many(SMS_REQUESTS, messages)
        self.store.mark_requested([i for i, ok in zip(batch, taken, strict=True) if ok])
        if not all(taken):
            raise InterestNotDelivered(f"Pub/Sub took {sum(taken)} of {len(taken)} SMS requests")


class InterestNotDelivered(RuntimeError):
    """Some requests were not taken; they stay pending for the next tick."""
