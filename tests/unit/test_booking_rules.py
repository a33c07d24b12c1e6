"""Booking rules without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from emulators.seed import demo_programme
from shared.domain.booking import (
    WARSAW,
    Channel,
    Slot,
    VisitStatus,
    check_may_book,
    earliest_free,
    new_visit,
    next_dose_window,
)
from shared.domain.contact import InvalidPhone, polish_mobile
from shared.domain.events import age_band
from shared.domain.identity import eligibility
from shared.domain.patients import Referral
from shared.domain.refusals import RefusalKind, Refused

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
PROGRAMME = demo_programme(NOW)
COMIRNATY = PROGRAMME.vaccine("comirnaty")


def slot(days: int, hour: int = 9, vaccine: str = "comirnaty", booked: int = 0, capacity: int = 2) -> Slot:
    day = NOW.astimezone(WARSAW).date() + timedelta(days=days)
    return Slot("p", datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW), vaccine, capacity, booked)


def test_taking_the_last_place_then_one_more_is_refused() -> None:
    last = slot(1, booked=1).taken()
    assert last.free_places == 0
    with pytest.raises(Refused) as refused:
        last.taken()
    assert (refused.value.kind, refused.value.code) == (RefusalKind.CONFLICT, "slot_full")
    assert last.released().free_places == 1
    assert slot(1).released().booked == 0


def test_second_dose_window_is_whole_local_days() -> None:
    assert COMIRNATY is not None
    window = next_dose_window(COMIRNATY, 2, slot(1, hour=15).starts_at)
    assert window.earliest.astimezone(WARSAW).hour == 0
    assert (window.earliest.date() - slot(1).starts_at.date()).days == 21
    assert window.contains(slot(22, hour=8).starts_at) and window.contains(slot(43, hour=18).starts_at)
    assert not window.contains(slot(21, hour=23).starts_at) and not window.contains(slot(44, hour=0).starts_at)


def test_earliest_free_picks_the_first_place_of_the_vaccine_inside_the_window() -> None:
    assert COMIRNATY is not None
    window = next_dose_window(COMIRNATY, 2, slot(1).starts_at)
    candidates = [slot(30), slot(23, booked=2), slot(24, vaccine="spikevax"), slot(25), slot(50)]
    assert earliest_free(candidates, window, "comirnaty") == slot(25)
    assert earliest_free([slot(23, booked=2)], window, "comirnaty") is None


def _referral(valid: bool = True, vaccine: str | None = None) -> Referral:
    return Referral("pt", "r", vaccine, "ACTIVE", NOW, NOW + timedelta(days=1 if valid else -1))


@pytest.mark.parametrize(
    ("case", "kind", "code"),
    [
        ({"vaccine": None}, RefusalKind.INVALID, "unknown_vaccine"),
        ({"slot_starts_at": NOW - timedelta(hours=1)}, RefusalKind.RULE, "slot_in_past"),
        ({"birth_date": date(2022, 1, 1)}, RefusalKind.FORBIDDEN, "not_eligible"),
        ({"referral": None}, RefusalKind.FORBIDDEN, "no_referral"),
        ({"referral": _referral(valid=False)}, RefusalKind.FORBIDDEN, "no_referral"),
        ({"referral": _referral(vaccine="spikevax")}, RefusalKind.FORBIDDEN, "no_referral"),
        ({"birth_date": date(2014, 12, 1)}, RefusalKind.RULE, "too_young"),
        ({"visits": "active"}, RefusalKind.CONFLICT, "already_booked"),
        ({"visits": "dose1_done"}, RefusalKind.CONFLICT, "dose_already_given"),
    ],
)
def test_booking_refusals(case: dict[str, object], kind: RefusalKind, code: str) -> None:
    birth = case.get("birth_date", date(1980, 1, 1))
    assert isinstance(birth, date)
    visit = new_visit("pt", "s", 1, slot(1), Channel.WEB)
    visits = {"active": [visit], "dose1_done": [visit.with_status(VisitStatus.COMPLETED)]}.get(
        str(case.get("visits")), []
    )
    arguments: dict[str, Any] = {
        "vaccine": COMIRNATY, "eligibility": eligibility(PROGRAMME, birth, NOW),
        "referral": _referral(), "birth_date": birth, "visits": visits, "slot_starts_at": slot(1).starts_at, "now": NOW,
    }  # fmt: skip
    arguments.update({k: v for k, v in case.items() if k not in ("visits", "birth_date")})
    with pytest.raises(Refused) as refused:
        check_may_book(**arguments)
    assert (refused.value.kind, refused.value.code) == (kind, code)


def test_cohort_not_open_yet_is_422_with_the_opening_date() -> None:
    programme = demo_programme(NOW)
    for cohort in programme.cohorts:
        cohort.opens_at = NOW + timedelta(days=2)
    with pytest.raises(Refused) as refused:
        check_may_book(
            vaccine=COMIRNATY, eligibility=eligibility(programme, date(1950, 1, 1), NOW),
            referral=_referral(), birth_date=date(1950, 1, 1), visits=[], slot_starts_at=slot(1).starts_at, now=NOW,
        )  # fmt: skip
    assert (refused.value.kind, refused.value.code) == (RefusalKind.RULE, "cohort_not_open")


def test_a_check_in_code_has_four_digits() -> None:
    codes = {new_visit("pt", "s", 1, slot(1), Channel.WEB).check_in_code for _ in range(50)}
    assert all(len(c) == 4 and c.isdigit() for c in codes) and len(codes) > 1


@pytest.mark.parametrize(
    ("birth", "band"), [(date(2010, 1, 1), "0-17"), (date(1990, 1, 1), "30-39"), (date(1930, 1, 1), "80+")]
)
def test_age_bands(birth: date, band: str) -> None:
    assert age_band(birth, date(2026, 11, 25)) == band


@pytest.mark.parametrize(
    ("raw", "e164"),
    [("601 234 567", "+48601234567"), ("+48 512-345-678", "+48512345678"), ("0048601234567", "+48601234567")],
)
def test_polish_mobiles_are_normalised(raw: str, e164: str) -> None:
    assert polish_mobile(raw) == e164


@pytest.mark.parametrize("raw", ["22 123 45 67", "+49 151 23456789", "12345", "telefon", ""])
def test_landlines_foreign_and_garbage_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        polish_mobile(raw)
