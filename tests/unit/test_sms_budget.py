"""Every routine SMS fits its segment budget for the longest point the data can hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from emulators.seed import demo_programme, generate_points
from shared.domain.points import Point
from shared.domain.sms import (
    REMINDER_REPLY,
    VisitFacts,
    booked_text,
    cancelled_text,
    encode,
    moved_text,
    opening_text,
    reminder_text,
)
from shared.domain.sms_dialogue import dialogue_texts

NOW = datetime(2026, 12, 1, 7, 45, tzinfo=UTC)  # a visit at 08:45 local: two digits everywhere
VACCINE_NAMES = [v.name for v in demo_programme(NOW).vaccines]


def _longest_seeded() -> Point:
    return max(generate_points(6000), key=lambda p: len(p.name) + len(p.address))


def _registry_limit() -> Point:
    """As long as the Points table lets a name, street and city be (infra/schema/spanner: 300, 200, 100),
    with Polish letters and a character GSM-7 lacks."""
    name = ("Niepubliczny Zakład Opieki Zdrowotnej „Zdrowie” 😷 " * 10)[:300]
    street = ("al. Księcia Józefa Poniatowskiego " * 10)[:200]
    city = ("Kędzierzyn-Koźle Wielkopolski " * 5)[:100]
    return Point("p", name, "14", "1465", "1465011", city, street, "00-950", ["comirnaty"], True)


POINTS = {"longest seeded point": _longest_seeded(), "registry's length limits": _registry_limit()}


def _facts(point: Point, dose: int, days: int, vaccine: str) -> VisitFacts:
    return VisitFacts(dose, NOW + timedelta(days=days), vaccine, point.name, point.address, "0427")


def _elsewhere(point: Point) -> Point:
    return Point("q", point.name[::-1], "14", "1465", "1465011", point.city, point.street[::-1],
                 "00-951", ["comirnaty"], True)  # fmt: skip


# kind -> (text for a point and a vaccine name, budget in segments)
KINDS: dict[str, tuple[Callable[[Point, str], str], int]] = {
    "booked, one dose": (lambda p, v: booked_text(_facts(p, 1, 1, v), [], None), 1),
    "booked, next dose pending": (lambda p, v: booked_text(_facts(p, 1, 1, v), [], NOW + timedelta(days=21)), 1),
    "booked with dose 2 at the same point": (
        lambda p, v: booked_text(_facts(p, 1, 1, v), [_facts(p, 2, 22, v)], None), 2),
    "booked with dose 2 elsewhere": (
        lambda p, v: booked_text(_facts(p, 1, 1, v), [_facts(_elsewhere(p), 2, 22, v)], None), 2),
    "moved": (lambda p, v: moved_text(_facts(p, 1, 1, v)), 1),
    "cancelled": (lambda p, v: cancelled_text(_facts(p, 1, 1, v)), 1),
    "reminder": (lambda p, v: reminder_text(_facts(p, 1, 1, v)), 1),
    "cohort open": (lambda p, v: opening_text(NOW), 1),
}  # fmt: skip


@pytest.mark.parametrize("point", POINTS.values(), ids=POINTS.keys())
@pytest.mark.parametrize("vaccine", VACCINE_NAMES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_routine_text_fits_its_budget(kind: str, point: Point, vaccine: str) -> None:
    compose, budget = KINDS[kind]
    message = encode(compose(point, vaccine), transliterate=True)
    assert message.encoding == "GSM-7", message.text
    assert message.segments <= budget, f"{kind}: {message.segments} segments, {len(message.text)} chars"


@pytest.mark.parametrize("point", POINTS.values(), ids=POINTS.keys())
def test_texts_keep_date_time_code_and_address(point: Point) -> None:
    facts = _facts(point, 1, 1, VACCINE_NAMES[0])
    for text in (booked_text(facts, [], None), moved_text(facts), reminder_text(facts)):
        sent = encode(text, transliterate=True).text
        assert "02.12" in sent and "08:45" in sent and "Kod: 0427" in sent
        assert encode(point.street[:15], transliterate=True).text in sent  # the address leads the place
    assert encode(REMINDER_REPLY, True).text in encode(reminder_text(facts), True).text


def test_a_short_place_is_not_cut() -> None:
    point = Point("p", "Przychodnia Zdrowie", "14", "1465", "1465011", "Warszawa", "ul. Długa 1", "00-001", [], True)
    text = booked_text(_facts(point, 1, 1, "Comirnaty"), [], None)
    assert "Przychodnia Zdrowie, ul. Długa 1, 00-001 Warszawa" in text


@pytest.mark.parametrize("point", POINTS.values(), ids=POINTS.keys())
def test_every_dialogue_reply_fits_one_segment(point: Point) -> None:
    facts = _facts(point, 1, 1, VACCINE_NAMES[0])
    for name, text in dialogue_texts(facts).items():
        message = encode(text, transliterate=True)
        assert (message.encoding, message.segments) == ("GSM-7", 1), f"{name}: {message.text}"
