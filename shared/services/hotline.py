"""The 989 hotline resends a visit's confirmation: to ``sms-requests`` like every other SMS (sent once
per request id), only to the number on file, at most once an hour per visit. (A new number given by
phone is told to the old one by the PhoneChanged event the booking writes: see the notifier.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from shared.domain.booking import Visit
from shared.domain.patients import PatientRecord
from shared.domain.programme import Programme
from shared.domain.ratelimit import Limit
from shared.domain.refusals import RefusalKind, Refused
from shared.domain.sms import SmsRequest, booked_text
from shared.services.notifications import visit_facts
from shared.services.ports import MessagePublisher, PointDirectory
from shared.services.transaction import Transaction, Transactions
from shared.topology import SMS_REQUESTS

RESEND_EVERY = timedelta(hours=1)
RESEND_LIMIT = Limit(1 / RESEND_EVERY.total_seconds(), 1)


class Limits(Protocol):
    """The shared rate limits (``shared.services.rate_limits.RateLimits``)."""

    def check(self, scope: str, key: str, limit: Limit) -> int: ...


class TooSoon(Refused):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            RefusalKind.CONFLICT,
            "sms_resent_recently",
            "Potwierdzenie tej wizyty wysłano ponownie w ciągu ostatniej godziny",
        )
        self.retry_after_s = retry_after_s


class Hotline:
    def __init__(
        self,
        transactions: Transactions,
        points: PointDirectory,
        programme: Callable[[], Programme | None],
        bus: MessagePublisher,
        limits: Limits,
        transliterate: bool,
    ) -> None:
        self.transactions = transactions
        self.points = points
        self.programme = programme
        self.bus = bus
        self.limits = limits
        self.transliterate = transliterate

    def resend_confirmation(self, visit_id: str, now: datetime) -> str:
        """Send the visit's confirmation (with the doses after it) again to the number on file; the
        request id. Refused: no such visit, not booked, no mobile on file, or sent within the hour."""

        def read(tx: Transaction) -> tuple[PatientRecord | None, list[Visit]]:
            owner = tx.visit_owner(visit_id)
            return (tx.patient(owner), tx.patient_visits(owner)) if owner else (None, [])

        patient, visits = self.transactions.read(read)
        visit = next((v for v in visits if v.visit_id == visit_id), None)
        if patient is None or visit is None:
            raise Refused(RefusalKind.NOT_FOUND, "visit_not_found", "Nie ma takiej wizyty")
        if not visit.is_active:
            raise Refused(RefusalKind.CONFLICT, "visit_not_active", "Ta wizyta nie jest już umówiona")
        if patient.phone is None:
            raise Refused(
                RefusalKind.CONFLICT, "no_mobile_on_file", "Pacjent nie ma numeru komórkowego: odczytaj wizytę"
            )
        wait = self.limits.check("sms_resend:visit", visit_id, RESEND_LIMIT)
        if wait:
            raise TooSoon(wait)
        later = [v for v in visits if v.series_id == visit.series_id and v.dose > visit.dose and v.is_active]
        facts = visit_facts(
            [visit, *later], self.points.get_many(v.point_id for v in [visit, *later]), self.programme()
        )
        slot = int(now.timestamp() // RESEND_EVERY.total_seconds())
        request = SmsRequest.compose(
            f"resend-{visit_id}-{slot}", patient.phone, booked_text(facts[0], facts[1:], None), "Resend", visit_id,
            self.transliterate,
        )  # fmt: skip
        data, _ = request.message()
        self.bus.publish(SMS_REQUESTS, data, request_id=request.request_id)
        return request.request_id
