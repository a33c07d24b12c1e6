"""SMS texts in Polish, their encoding and their cost in segments. No I/O.

Polish letters are not in the GSM-7 alphabet, so one of them turns the whole message into UCS-2
(70 characters a segment instead of 160). Where the operator wants it, texts are transliterated to
GSM-7 first. Every message's segment count is known: it is what the national system paid for.
"""

from __future__ import annotations

import math
import re
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
        # What has no GSM-7 form (an emoji in a point's name) would turn the whole text into UCS-2.
        text = "".join(ch if ch in GSM7_BASIC or ch in GSM7_EXTENDED else "?" for ch in text.translate(POLISH_TO_ASCII))
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return SmsText(text, "GSM-7", 1 if units <= 160 else math.ceil(units / 153))
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return SmsText(text, "UCS-2", 1 if units <= 70 else math.ceil(units / 67))


def when_text(moment: datetime) -> str:
    local = moment.astimezone(WARSAW)
    return f"{local:%d.%m.%Y} {local:%H:%M}"


# Segment budgets of routine texts: one GSM-7 segment; a confirmation that carries a later dose two.
ONE_SEGMENT = 160
TWO_SEGMENTS = 2 * 153
# Below this many characters for the place, a confirmation with a later dose takes its second segment.
MIN_PLACE = 60
_POSTAL_CODE = re.compile(r",\s*\d{2}-\d{3}\s+")


def units(text: str) -> int:
    """GSM-7 units of the text as sent with transliteration (extension characters count twice)."""
    return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text.translate(POLISH_TO_ASCII))


def clip(text: str, room: int) -> str:
    """The text cut to at most ``room`` units, at a word boundary where there is one."""
    if units(text) <= room:
        return text
    cut = text
    while cut and units(cut) > room:
        cut = cut[:-1]
    word = cut.rsplit(" ", 1)[0] if " " in cut.strip() else cut
    return word.rstrip(" ,.-")


def fit_place(name: str, address: str, room: int) -> str:
    """The point named within ``room`` units: the address first (without its postal code if need be),
    then as much of the name as fits. Names and streets in the registry may be hundreds of characters
    long; a text must still fit its segments."""
    short = _POSTAL_CODE.sub(", ", address)
    for candidate in (f"{name}, {address}", f"{name}, {short}"):
        if units(candidate) <= room:
            return candidate
    rest = f", {short}"
    if room - units(rest) >= 12:
        return clip(name, room - units(rest)) + rest
    return clip(short, room)


def _vaccine(name: str) -> str:
    """The vaccine's short name: its first word ("Comirnaty" of "Comirnaty (Pfizer-BioNTech)")."""
    return clip(name.split()[0] if name.split() else name, 20)


def _fitted(template: str, facts: VisitFacts, budget: int) -> str:
    """``template`` with ``{place}`` filled by as much of the point as the budget leaves."""
    room = budget - units(template.replace("{place}", ""))
    return template.replace("{place}", fit_place(facts.point_name, facts.address, room))


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
    """One segment, unless it names a later dose and one would leave the place under ``MIN_PLACE``: two."""
    head = (
        f"e-Rejestracja: {_vaccine(first.vaccine_name)}, dawka {first.dose}: {when_text(first.starts_at)}, "
        f"{{place}}. Kod: {first.check_in_code}."
    )
    tail = ""
    for visit in next_doses:
        tail += f" Dawka {visit.dose}: {when_text(visit.starts_at)}"
        tail += "." if visit.address == first.address else ", {other}."
    if pending_from is not None:
        tail += f" Dawkę {first.dose + 1} umów od {pending_from.astimezone(WARSAW):%d.%m.%Y}."
    other = next((v for v in next_doses if v.address != first.address), None)
    if other is not None:  # the later dose elsewhere: its address takes what the first place leaves
        fixed = units(head.replace("{place}", "") + tail.replace("{other}", ""))
        head = head.replace("{place}", fit_place(first.point_name, first.address, (TWO_SEGMENTS - fixed) // 2))
        room = TWO_SEGMENTS - units(head + tail.replace("{other}", ""))
        return head + tail.replace("{other}", clip(_POSTAL_CODE.sub(", ", other.address), room))
    room = ONE_SEGMENT - units(head.replace("{place}", "") + tail)
    if not next_doses or room >= min(MIN_PLACE, units(f"{first.point_name}, {first.address}")):
        return _fitted(head + tail, first, ONE_SEGMENT)
    return _fitted(head + tail, first, TWO_SEGMENTS)


# How a booking's confirmation begins, and no other text: "e-Rejestracja: Comirnaty, dawka 1: ".
_BOOKED = re.compile(r"^e-Rejestracja: [^\s,]+, dawka \d+: ")


def is_booked_text(text: str) -> bool:
    """Whether a text (as composed or as sent) is a booking's confirmation."""
    return bool(_BOOKED.match(text))


def moved_text(visit: VisitFacts) -> str:
    return _fitted(
        f"e-Rejestracja: nowy termin, dawka {visit.dose}: {when_text(visit.starts_at)}, {{place}}. "
        f"Kod: {visit.check_in_code}.",
        visit, ONE_SEGMENT,
    )  # fmt: skip


def cancelled_text(visit: VisitFacts) -> str:
    return _fitted(
        f"e-Rejestracja: odwołano szczepienie {when_text(visit.starts_at)}, {{place}}. "
        "Nowy termin: pacjent.gov.pl, 989 lub SMS SZCZEPIMYSIE.",
        visit, ONE_SEGMENT,
    )  # fmt: skip


REMINDER_REPLY = "Odpisz NIE, aby odwołać."


def reminder_text(visit: VisitFacts) -> str:
    local = visit.starts_at.astimezone(WARSAW)
    return _fitted(
        f"e-Rejestracja: jutro {local:%d.%m} {local:%H:%M} szczepienie, {{place}}. Kod: {visit.check_in_code}. "
        f"{REMINDER_REPLY}",
        visit, ONE_SEGMENT,
    )  # fmt: skip


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
    def compose(
        cls, request_id: str, to: str, text: str, kind: str, visit_id: str | None, transliterate: bool
    ) -> SmsRequest:
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
        f"e-Rejestracja: od {when_text(opens_at)} możesz umówić szczepienie przeciw COVID-19: "
        "pacjent.gov.pl lub infolinia 989."
    )
