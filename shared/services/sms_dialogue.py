"""Incoming SMS: registration by text message and answers to reminders.

``sms-inbound`` delivers each operator message at least once. A message already handled is answered
again with the replies it got (the reply's request id derives from the message id, so the SMS log
sends it once); the booking it made is keyed by the message id too, so a redelivery books nothing
twice. Replies go through ``sms-requests`` like every other SMS. No PESEL or number is logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from rapidfuzz import fuzz, process

from shared.domain.booking import Channel, check_may_book
from shared.domain.contact import InvalidPhone, polish_mobile
from shared.domain.identity import eligibility, is_valid_pesel
from shared.domain.patients import PatientRecord, Referral
from shared.domain.points import Town
from shared.domain.programme import Programme, require_programme
from shared.domain.ratelimit import Limit
from shared.domain.refusals import Refused
from shared.domain.sms import SmsRequest, VisitFacts
from shared.domain.sms_dialogue import (
    ASK_PESEL,
    ASK_TOWN,
    BAD_PESEL,
    HELP,
    MAX_OFFERS,
    NO_MORE,
    NO_PLACE,
    NOT_CANCELLED,
    OTHER_PHONE,
    SHORT_HELP,
    STOPPED,
    TAKEN,
    UNKNOWN_PATIENT,
    UNKNOWN_TOWN,
    Dialogue,
    Inbound,
    Offer,
    ReminderWindow,
    Step,
    Word,
    normalised,
    offer_text,
    refused_text,
    word_of,
)
from shared.services.ports import MessagePublisher, VisitReader
from shared.services.search import SearchFilters, SearchPage
from shared.services.visits import BookingRequest, BookVisit, VisitsChanged
from shared.topology import SMS_REQUESTS

log = logging.getLogger(__name__)

# Refusals that speak of one vaccine: another vaccine may still be allowed.
_PER_VACCINE = frozenset({"vaccine_not_for_cohort", "too_young", "unknown_vaccine"})
# A town is recognised above this similarity (0-100, rapidfuzz's ratio of the plain upper-case names).
TOWN_SCORE = 75


# --- ports -------------------------------------------------------------------------------------


class DialogueStore(Protocol):
    """Conversations by sender, the messages handled, reminder windows and opt-outs."""

    def handled(self, message_id: str) -> list[str] | None:
        """The replies of a message already handled, or None if it was not."""
        ...

    def dialogue(self, sender: str) -> Dialogue | None: ...

    def record(
        self, message_id: str, sender: str, dialogue: Dialogue | None, replies: list[str], now: datetime
    ) -> None:
        """At once: the sender's dialogue (None forgets it) and the message marked handled with its replies."""
        ...

    def reminder(self, sender: str) -> ReminderWindow | None: ...

    def opt_out(self, sender: str, now: datetime) -> None: ...


class PatientRegistry(Protocol):
    def lookup(self, pesel: str) -> tuple[PatientRecord | None, list[Referral]]: ...


class TownDirectory(Protocol):
    def towns(self) -> list[Town]:
        """Every town with an active vaccination point."""
        ...


class PlaceSearch(Protocol):
    def search(self, filters: SearchFilters, page_token: str | None, now: datetime) -> SearchPage: ...


class Booking(BookVisit, Protocol):
    def cancel(self, visit_id: str, actor_patient_id: str | None, now: datetime) -> VisitsChanged: ...


class SenderLimits(Protocol):
    def check(self, scope: str, key: str, limit: Limit) -> int:
        """0 when allowed, else seconds to wait."""
        ...


def reply_request_id(message_id: str) -> str:
    return f"sms-in-{message_id}"


# --- the service -------------------------------------------------------------------------------


class SmsDialogue:
    def __init__(
        self,
        store: DialogueStore,
        registry: PatientRegistry,
        visits: VisitReader,
        booking: Booking,
        search: PlaceSearch,
        towns: TownDirectory,
        programme: Callable[[], Programme | None],
        bus: MessagePublisher,
        limits: SenderLimits,
        sender_limit: Limit,
        horizon: timedelta,
        transliterate: bool = True,
    ) -> None:
        self.store = store
        self.registry = registry
        self.visits = visits
        self.booking = booking
        self.search = search
        self.towns = towns
        self.programme = programme
        self.bus = bus
        self.limits = limits
        self.sender_limit = sender_limit
        self.horizon = horizon
        self.transliterate = transliterate

    def handle(self, message: Inbound, now: datetime) -> str:
        """Handle one incoming SMS and publish its reply; returns what happened (for logs and tests)."""
        fields: dict[str, Any] = {"message_id": message.message_id}
        try:
            sender = polish_mobile(message.sender)
        except InvalidPhone:
            log.info("incoming SMS not from a Polish mobile: ignored", extra={"fields": fields})
            return "ignored"
        replies = self.store.handled(message.message_id)
        outcome = "replayed"
        if replies is None:
            if self.limits.check("sms:sender", _digest(sender), self.sender_limit) > 0:
                log.warning("incoming SMS over the sender's rate limit: no reply", extra={"fields": fields})
                self.store.record(message.message_id, sender, self.store.dialogue(sender), [], now)
                return "rate_limited"
            current = self.store.dialogue(sender)
            if current is not None and current.expired(now):
                current = None
            dialogue, reply, outcome = self._step(message, sender, current, now)
            replies = [reply] if reply else []
            self.store.record(message.message_id, sender, dialogue, replies, now)
        for text in replies:  # at most one: its request id is the message's
            request = SmsRequest.compose(
                reply_request_id(message.message_id), sender, text, "SmsReply", None, self.transliterate
            )
            data, _ = request.message()
            self.bus.publish(SMS_REQUESTS, data, request_id=request.request_id)
        log.info("incoming SMS handled", extra={"fields": {**fields, "outcome": outcome}})
        return outcome

    # --- one step ----------------------------------------------------------------------------

    def _step(
        self, message: Inbound, sender: str, dialogue: Dialogue | None, now: datetime
    ) -> tuple[Dialogue | None, str | None, str]:
        word = word_of(message.text)
        if word == Word.START:
            return Dialogue(Step.PESEL, now), ASK_PESEL, "started"
        if word == Word.HELP:
            return dialogue and dialogue.advanced(now), HELP, "help"
        if word == Word.STOP:
            self.store.opt_out(sender, now)
            return dialogue, STOPPED, "stopped"
        if dialogue is None:
            if word == Word.NO:
                return None, *self._cancel_reminded(sender, now)
            return None, SHORT_HELP, "short_help"
        if dialogue.step == Step.PESEL:
            if word != Word.DIGITS:
                return dialogue.advanced(now), BAD_PESEL, "bad_pesel"
            return self._pesel(normalised(message.text), sender, dialogue, now)
        if dialogue.step == Step.TOWN:
            if word != Word.OTHER:
                return dialogue.advanced(now), ASK_TOWN, "ask_town"
            return self._town(message.text, dialogue, now)
        if word == Word.YES:
            return self._book(message.message_id, sender, dialogue, now)
        if word == Word.NO:
            if len(dialogue.offered) >= MAX_OFFERS:
                return None, NO_MORE, "no_more"
            return self._offer(dialogue, now)
        return dialogue.advanced(now), SHORT_HELP, "short_help"

    def _pesel(self, pesel: str, sender: str, dialogue: Dialogue, now: datetime) -> tuple[Dialogue | None, str, str]:
        if not is_valid_pesel(pesel):
            return dialogue.advanced(now), BAD_PESEL, "bad_pesel"
        patient, referrals = self.registry.lookup(pesel)
        if patient is None:
            return None, UNKNOWN_PATIENT, "unknown_patient"
        if patient.phone is not None and patient.phone != sender:
            # Someone else's phone must not book for them.
            return None, OTHER_PHONE, "other_phone"
        programme = require_programme(self.programme())
        visits = self.visits.visits_of_patient(patient.patient_id)
        referral = next((r for r in referrals if r.is_valid(now)), None)
        allowed, refusals = [], []
        for vaccine in programme.vaccines:
            try:
                check_may_book(
                    vaccine=vaccine, eligibility=eligibility(programme, patient.birth_date, now), referral=referral,
                    birth_date=patient.birth_date, visits=visits, slot_starts_at=now + timedelta(days=1), now=now,
                )  # fmt: skip
                allowed.append(vaccine.code)
            except Refused as refused:
                refusals.append(refused)
        if not allowed:
            refusal = next((r for r in refusals if r.code not in _PER_VACCINE), refusals[0] if refusals else None)
            detail = refusal.detail if refusal else "Nie możesz teraz umówić szczepienia"
            return None, refused_text(detail), f"refused:{refusal.code if refusal else 'none'}"
        return (
            dialogue.advanced(now, step=Step.TOWN, patient_id=patient.patient_id, vaccines=tuple(allowed)),
            (ASK_TOWN),
            "ask_town",
        )

    def _town(self, text: str, dialogue: Dialogue, now: datetime) -> tuple[Dialogue | None, str, str]:
        towns = self.towns.towns()
        match = process.extractOne(
            normalised(text), [normalised(t.name) for t in towns], scorer=fuzz.ratio, score_cutoff=TOWN_SCORE
        )
        if match is None:
            return dialogue.advanced(now), UNKNOWN_TOWN, "unknown_town"
        town = towns[match[2]]
        return self._offer(dialogue.advanced(now, voivodeship=town.voivodeship, county=town.county, offered=()), now)

    def _offer(self, dialogue: Dialogue, now: datetime, prefix: str = "") -> tuple[Dialogue | None, str, str]:
        """The earliest free place in the town's county not offered yet."""
        seen = set(dialogue.offered)
        filters = SearchFilters(
            voivodeship=dialogue.voivodeship, county=dialogue.county, municipality=None, point_id=None, vaccine=None,
            start=now, end=now + self.horizon, limit=len(seen) + 20,
        )  # fmt: skip
        for slot, point in self.search.search(filters, None, now).slots:
            offer = Offer(slot.point_id, slot.starts_at, slot.vaccine)
            if offer in seen or slot.vaccine not in dialogue.vaccines:
                continue
            facts = VisitFacts(1, slot.starts_at, slot.vaccine, point.name, point.address, "")
            offered = (*dialogue.offered, offer)
            return dialogue.advanced(now, step=Step.OFFER, offered=offered), offer_text(facts, prefix), "offered"
        if dialogue.offered:
            return None, NO_MORE, "no_more"
        return dialogue.advanced(now, step=Step.TOWN), NO_PLACE, "no_place"

    def _book(
        self, message_id: str, sender: str, dialogue: Dialogue, now: datetime
    ) -> tuple[Dialogue | None, str | None, str]:
        offer = dialogue.offered[-1]
        assert dialogue.patient_id is not None
        request = BookingRequest(offer.point_id, offer.starts_at, offer.vaccine, sender)
        fingerprint = hashlib.sha256(f"{offer.point_id}|{offer.starts_at.isoformat()}|{offer.vaccine}".encode())
        try:
            self.booking.book(
                dialogue.patient_id, request, Channel.SMS, now, f"sms-{message_id}", fingerprint.hexdigest()
            )
        except Refused as refusal:
            if refusal.code in ("slot_full", "slot_not_found", "slot_in_past"):
                return self._offer(dialogue, now, prefix=TAKEN)
            return None, refused_text(refusal.detail), f"refused:{refusal.code}"
        return None, None, "booked"  # the usual confirmation follows from the booking's event

    def _cancel_reminded(self, sender: str, now: datetime) -> tuple[str | None, str]:
        window = self.store.reminder(sender)
        if window is None:
            return SHORT_HELP, "short_help"
        if not window.open(now):
            return NOT_CANCELLED, "too_late"
        try:
            self.booking.cancel(window.visit_id, window.patient_id, now)
        except Refused as refusal:
            return NOT_CANCELLED, f"refused:{refusal.code}"
        return None, "cancelled"  # the usual cancellation SMS follows from the event


def _digest(phone: str) -> str:
    """A rate-limit key that is not the number."""
    return hashlib.sha256(f"sms-sender|{phone}".encode()).hexdigest()[:32]
