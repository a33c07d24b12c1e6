"""Demo data: deterministic, national coverage, valid identifiers."""

from __future__ import annotations

import re
from datetime import date

from stdnum.pl import pesel

from emulators.seed import CITIES, SLOT_HOURS, generate_patients, generate_points, pesel_for, slot_days, slot_rows


def test_same_seed_same_points() -> None:
    assert generate_points(50) == generate_points(50)
    assert generate_points(50, seed=1) != generate_points(50, seed=2)


def test_points_cover_all_sixteen_voivodeships_with_consistent_teryt_codes() -> None:
    points = generate_points(300)
    assert {p.voivodeship for p in points} == set(CITIES) and len(CITIES) == 16
    for point in points:
        assert point.county.startswith(point.voivodeship)
        assert re.fullmatch(rf"{point.county}\d{{3}}", point.municipality)
        assert re.fullmatch(r"\d{2}-\d{3}", point.postal_code)
    assert len({p.point_id for p in points}) == 300


def test_national_scale_generates_six_thousand_distinct_points() -> None:
    assert len({p.point_id for p in generate_points(6000)}) == 6000


def test_two_weeks_of_slots_per_point_plus_a_second_dose_block() -> None:
    point = generate_points(1)[0]
    days = slot_days(date(2026, 12, 1), days=14, second_dose_days=14)
    assert days[0] == date(2026, 12, 1) and days[13] == date(2026, 12, 14)
    assert days[14] == date(2026, 12, 22) and len(days) == 28
    rows = list(slot_rows(point, days, capacity=6))
    assert len(rows) == 28 * len(SLOT_HOURS)
    assert all(row[2] in point.vaccines for row in rows)


def test_patients_have_distinct_valid_pesels_matching_their_birth_dates() -> None:
    assert len({p.pesel for p in generate_patients(20_000)}) == 20_000
    for patient in generate_patients(200):
        assert pesel.is_valid(patient.pesel)
        assert pesel.get_birth_date(patient.pesel) == patient.birth_date
    assert pesel.is_valid(pesel_for(date(2005, 2, 28), 7, female=True))
