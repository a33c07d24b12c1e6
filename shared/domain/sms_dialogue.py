"""The SMS dialogue: what a patient's words mean, where a conversation stands, and the replies. No I/O.

Words are compared without case, spaces or diacritics ("Szczepimy się" is SZCZEPIMYSIE). A
conversation keeps the patient's id (never the PESEL) and forgets itself after 15 minutes of silence.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shared.domain.messages import PoisonMessage
from shared.domain.sms import ONE_SEGMENT, VisitFacts, clip, fit_place, units, when_text

SILENCE = timedelta(minutes=15)
MAX_OFFERS = 3
START_WORD = "SZCZEPIMYSIE"


def normalised(text: str) -> str:
    """Upper case, no whitespace, no diacritics (ł has no decomposition: mapped by hand)."""
    text = text.replace("ł", "l").replace("Ł", "L")
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return "".join(plain.split()).upper()


class Word(StrEnum):
    START = "START"
    YES = "YES"
    NO = "NO"
    HELP = "HELP"
    STOP = "STOP"
    DIGITS = "DIGITS"  # a PESEL, or an attempt at one
    OTHER = "OTHER"  # a town, or nonsense


WORDS = {START_WORD: Word.START, "TAK": Word.YES, "NIE": Word.NO, "POMOC": Word.HELP, "STOP": Word.STOP}


def word_of(text: str) -> Word:
    plain = normalised(text).rstrip(".!")
    if plain in WORDS:
        return WORDS[plain]
    if plain.isdigit():
        return Word.DIGITS
    return Word.OTHER


class Step(StrEnum):
    PESEL = "PESEL"  # asked for the PESEL
    TOWN = "TOWN"  # asked for the town
    OFFER = "OFFER"  # offered a place: TAK or NIE


@dataclass(frozen=True)
class Offer:
    point_id: str
    starts_at: datetime
    vaccine: str


@dataclass(frozen=True)
class Dialogue:
    """Where one sender's registration stands."""

    step: Step
    updated_at: datetime
    patient_id: str | None = None
    vaccines: tuple[str, ...] = ()  # what the patient may book
    voivodeship: str | None = None
    county: str | None = None
    offered: tuple[Offer, ...] = ()  # every place offered so far, the last one standing

    def expired(self, now: datetime) -> bool:
        return now - self.updated_at >= SILENCE

    def advanced(self, now: datetime, **changes: object) -> Dialogue:
        return replace(self, updated_at=now, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ReminderWindow:
    """A reminder went to a phone: "NIE" from it cancels this visit until it starts."""

    visit_id: str
    patient_id: str
    until: datetime

    def open(self, now: datetime) -> bool:
        return now < self.until


@dataclass(frozen=True)
class Inbound:
    """One incoming SMS as the operator reported it."""

    message_id: str
    sender: str  # E.164
    text: str
    received_at: datetime


class InboundSms(BaseModel):
    """An incoming SMS on ``sms-inbound``: what the operator posted to ``/api/v1/sms/inbound``."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, title="InboundSms")

    # A Firestore document id too: no "/", not "__...__".
    message_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$", description="the operator's message id")
    sender: str = Field(alias="from", min_length=1, max_length=32, description="the patient's number")
    to: str = Field(default="", max_length=32, description="the national number it was sent to")
    text: str = Field(max_length=1600)
    received_at: AwareDatetime

    def inbound(self) -> Inbound:
        return Inbound(self.message_id, self.sender, self.text, self.received_at)

    @classmethod
    def parse(cls, payload: Any) -> InboundSms:
        try:
            return cls.model_validate(payload)
        except ValidationError:
            raise PoisonMessage("not an incoming SMS") from None

    def message(self) -> tuple[bytes, dict[str, str]]:
        return self.model_dump_json(by_alias=True).encode(), {"message_id": self.message_id}


# --- replies (Polish; every one a single GSM-7 segment once transliterated) ----------------------

P = "e-Rejestracja: "
ASK_PESEL = P + "podaj swój numer PESEL (11 cyfr)."
BAD_PESEL = P + "to nie jest poprawny numer PESEL. Podaj 11 cyfr numeru PESEL."
UNKNOWN_PATIENT = P + "nie znamy tego numeru PESEL. Zapisz się na infolinii 989."
OTHER_PHONE = P + "dla tego numeru PESEL zapisano inny telefon. Zapisz się na infolinii 989 lub na pacjent.gov.pl."
ASK_TOWN = P + "podaj miejscowość, w której chcesz się zaszczepić."
UNKNOWN_TOWN = P + "nie znamy punktów szczepień w tej miejscowości. Podaj inną miejscowość."
NO_PLACE = P + "brak wolnych terminów w tym powiecie. Podaj inną miejscowość lub zadzwoń na infolinię 989."
NO_MORE = P + "nie mamy innych terminów przez SMS. Zadzwoń na infolinię 989 lub wejdź na pacjent.gov.pl."
HELP = (
    P + "wyślij SZCZEPIMYSIE, podaj PESEL i miejscowość, a zaproponujemy termin: TAK - zapis, NIE - inny. "
    "Infolinia 989."
)
SHORT_HELP = P + "nie rozumiemy. Wyślij SZCZEPIMYSIE, aby umówić szczepienie, lub POMOC."
STOPPED = P + "nie wyślemy już powiadomień o otwarciu zapisów. Wizyty i przypomnienia bez zmian."
NOT_CANCELLED = P + "nie można już odwołać tej wizyty przez SMS. Zadzwoń na infolinię 989."
TAKEN = "Ten termin jest już zajęty. "


def offer_text(facts: VisitFacts, prefix: str = "") -> str:
    template = f"{P}{prefix}termin {when_text(facts.starts_at)}, {{place}}. Odpisz TAK, aby się zapisać, lub NIE."
    room = ONE_SEGMENT - units(template.replace("{place}", ""))
    return template.replace("{place}", fit_place(facts.point_name, facts.address, room))


def refused_text(detail: str) -> str:
    """A booking rule's own words (as online), with the hotline."""
    tail = " Infolinia 989."
    return P + clip(detail, ONE_SEGMENT - units(P + "." + tail)) + "." + tail


def dialogue_texts(facts: VisitFacts) -> dict[str, str]:
    """Every reply the dialogue sends, for a visit like ``facts`` (the segment budget test reads them)."""
    return {
        "ask_pesel": ASK_PESEL, "bad_pesel": BAD_PESEL, "unknown_patient": UNKNOWN_PATIENT,
        "other_phone": OTHER_PHONE, "ask_town": ASK_TOWN, "unknown_town": UNKNOWN_TOWN, "no_place": NO_PLACE,
        "no_more": NO_MORE, "help": HELP, "short_help": SHORT_HELP, "stopped": STOPPED,
        "not_cancelled": NOT_CANCELLED, "offer": offer_text(facts), "offer_after_taken": offer_text(facts, TAKEN),
        "refused": refused_text("Rejestracja dla Twojej grupy rusza 01.02.2027 08:00 " * 5),
    }  # fmt: skip
