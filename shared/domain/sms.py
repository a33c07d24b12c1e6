"""SMS texts in Polish, their encoding and their cost in segments. No I/O.

Polish letters are not in the GSM-7 alphabet, so one of them turns the whole message into UCS-2
(70 characters a segment instead of 160). Where the operator wants it, texts are transliterated to
GSM-7 first. Every message's segment count is known: it is what the national system paid for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.domain.local_time import WARSAW
from shared.domain.messages import PoisonMessage

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
POLISH_TO_ASCII = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”–", 'acelnoszzACELNOSZZ""-')

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SmsText:
    text: str
    encoding: Encoding
    segments: int


def encode(text: str, transliterate: bool) -> SmsText:
    if transliterate:
        text = text.translate(POLISH_TO_ASCII)
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return SmsText(text, "GSM-7", 1 if units <= 160 else math.ceil(units / 153))
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return SmsText(text, "UCS-2", 1 if units <= 70 else math.ceil(units / 67))


def _when(moment: datetime) -> str:
    local = moment.astimezone(WARSAW)
    return f"{local:%d.%m.%Y} godz. {local:%H:%M}"


@dataclass(frozen=True)
class VisitFacts:
    """What a message says about one visit."""

    dose: int
    starts_at: datetime
    vaccine_name: str
    point_name: str
    address: str
    check_in_code: str


def booked_text(first: VisitFacts, next_doses: list[VisitFacts], pending_from: datetime | None) -> str:
    text = (
        f"e-Rejestracja: szczepienie {first.vaccine_name}, dawka {first.dose}: {_when(first.starts_at)}, "
        f"{first.point_name}, {first.address}. Kod: {first.check_in_code}."
    )
    for visit in next_doses:
        text += f" Dawka {visit.dose}: {_when(visit.starts_at)}"
        text += "." if visit.address == first.address else f", {visit.address}."
    if pending_from is not None:
        text += f" Termin kolejnej dawki umów od {pending_from.astimezone(WARSAW):%d.%m.%Y}."
    return text


def moved_text(visit: VisitFacts) -> str:
    return (
        f"e-Rejestracja: nowy termin szczepienia (dawka {visit.dose}): {_when(visit.starts_at)}, "
        f"{visit.point_name}, {visit.address}. Kod: {visit.check_in_code}."
    )


def cancelled_text(visit: VisitFacts) -> str:
    return (
        f"e-Rejestracja: odwołano szczepienie (dawka {visit.dose}) {_when(visit.starts_at)}, {visit.address}. "
        "Nowy termin: pacjent.gov.pl lub infolinia 989."
    )


def reminder_text(visit: VisitFacts) -> str:
    return (
        f"e-Rejestracja: przypominamy o szczepieniu jutro, {_when(visit.starts_at)}, {visit.point_name}, "
        f"{visit.address}. Kod: {visit.check_in_code}. Zabierz dowód osobisty."
    )


class SmsRequest(BaseModel):
    """A message on ``sms-requests``: what ``send_sms`` sends, at most once per ``request_id``."""

    model_config = ConfigDict(frozen=True, extra="ignore", title="SmsRequest")

    request_id: str = Field(description="event-<event_id> for a change, reminder-<visit_id>-<day> for a reminder")
    to: str = Field(description="the patient's mobile number")
    text: str
    kind: str = Field(description="the event type, or Reminder")
    visit_id: str | None = None
    encoding: Encoding | None = None
    segments: int | None = Field(default=None, ge=1)

    @classmethod
    def compose(cls, request_id: str, to: str, text: str, kind: str, visit_id: str, transliterate: bool) -> SmsRequest:
        """The request for a Polish text: encoded (transliterated where wanted) and its cost counted."""
        message = encode(text, transliterate)
        return cls(
            request_id=request_id, to=to, text=message.text, kind=kind, visit_id=visit_id,
            encoding=message.encoding, segments=message.segments,
        )  # fmt: skip

    @classmethod
    def parse(cls, payload: Any) -> SmsRequest:
        try:
            return cls.model_validate(payload, strict=True)
        except ValidationError:
            raise PoisonMessage("not an SMS request") from None

    def message(self) -> tuple[bytes, dict[str, str]]:
        """The Pub/Sub message: the JSON body and its attributes."""
        return self.model_dump_json().encode(), {"request_id": self.request_id}

    @property
    def details(self) -> dict[str, Any]:
        """What the SMS log keeps about it (never the number or the text)."""
        return {"kind": self.kind, "visit_id": self.visit_id, "encoding": self.encoding, "segments": self.segments}


def phone_changed_text(new_phone: str) -> str:
    """To the number a patient had on file, when the hotline gave another: never silently replaced."""
    return (
        f"e-Rejestracja: numer telefonu do powiadomien o szczepieniu zmieniono na koncowke {new_phone[-3:]}. "
        "Jesli to pomylka, zadzwon na infolinie 989."
    )


def change_request_id(event_id: str) -> str:
    return f"event-{event_id}"


def reminder_request_id(visit_id: str, day: date) -> str:
    return f"reminder-{visit_id}-{day.isoformat()}"


def opening_text(opens_at: datetime) -> str:
    """For a patient who asked to be told when their cohort opens."""
    return (
        f"e-Rejestracja: od {_when(opens_at)} możesz umówić szczepienie przeciw COVID-19: "
        "pacjent.gov.pl lub infolinia 989."
    )
