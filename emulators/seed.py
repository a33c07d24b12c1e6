"""Deterministic demo data: vaccination points in all 16 voivodeships, slots, programme, patients.

The same seed and scale give the same data. ``points`` is the scale knob: a few hundred for the
demo, 6,000 for the national-scale benchmarks. Rows go to Spanner as bulk mutations.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, timedelta

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.firestore_db import FirestoreDocuments
from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_patients import CURRENT_COLUMNS, current_values
from shared.adapters.spanner_points import POINT_COLUMNS as POINT_COLUMNS
from shared.domain.local_time import WARSAW
from shared.domain.patients import Referral
from shared.domain.points import Point
from shared.domain.programme import Cohort, Programme, Vaccine

# Cities with county rights, by voivodeship: TERYT county code, name, postal code prefix.
# Their municipality code is the county code + "011" (e.g. Warszawa 1465 -> 1465011).
CITIES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "02": ("dolnośląskie", [("0264", "Wrocław", "50"), ("0262", "Legnica", "59"), ("0265", "Wałbrzych", "58"),
                           ("0261", "Jelenia Góra", "58")]),
    "04": ("kujawsko-pomorskie", [("0461", "Bydgoszcz", "85"), ("0463", "Toruń", "87"), ("0464", "Włocławek", "87"),
                                 ("0462", "Grudziądz", "86")]),
    "06": ("lubelskie", [("0663", "Lublin", "20"), ("0662", "Chełm", "22"), ("0664", "Zamość", "22"),
                        ("0661", "Biała Podlaska", "21")]),
    "08": ("lubuskie", [("0862", "Zielona Góra", "65"), ("0861", "Gorzów Wielkopolski", "66")]),
    "10": ("łódzkie", [("1061", "Łódź", "90"), ("1062", "Piotrków Trybunalski", "97"), ("1063", "Skierniewice", "96")]),
    "12": ("małopolskie", [("1261", "Kraków", "30"), ("1263", "Tarnów", "33"), ("1262", "Nowy Sącz", "33")]),
    "14": ("mazowieckie", [("1465", "Warszawa", "00"), ("1463", "Radom", "26"), ("1462", "Płock", "09"),
                          ("1464", "Siedlce", "08"), ("1461", "Ostrołęka", "07")]),
    "16": ("opolskie", [("1661", "Opole", "45")]),
    "18": ("podkarpackie", [("1863", "Rzeszów", "35"), ("1862", "Przemyśl", "37"), ("1861", "Krosno", "38"),
                           ("1864", "Tarnobrzeg", "39")]),
    "20": ("podlaskie", [("2061", "Białystok", "15"), ("2063", "Suwałki", "16"), ("2062", "Łomża", "18")]),
    "22": ("pomorskie", [("2261", "Gdańsk", "80"), ("2262", "Gdynia", "81"), ("2263", "Słupsk", "76"),
                        ("2264", "Sopot", "81")]),
    "24": ("śląskie", [("2469", "Katowice", "40"), ("2464", "Częstochowa", "42"), ("2466", "Gliwice", "44"),
                      ("2461", "Bielsko-Biała", "43"), ("2462", "Bytom", "41")]),
    "26": ("świętokrzyskie", [("2661", "Kielce", "25")]),
    "28": ("warmińsko-mazurskie", [("2862", "Olsztyn", "10"), ("2861", "Elbląg", "82")]),
    "30": ("wielkopolskie", [("3064", "Poznań", "60"), ("3061", "Kalisz", "62"), ("3062", "Konin", "62"),
                            ("3063", "Leszno", "64")]),
    "32": ("zachodniopomorskie", [("3262", "Szczecin", "70"), ("3261", "Koszalin", "75"),
                                 ("3263", "Świnoujście", "72")]),
}  # fmt: skip

STREETS = ["ul. Szpitalna", "ul. Zdrowia", "al. Jana Pawła II", "ul. Kościuszki", "ul. Mickiewicza",
           "ul. Słowackiego", "ul. Sienkiewicza", "ul. Piłsudskiego", "ul. Lipowa", "ul. Kolejowa",
           "ul. Ogrodowa", "ul. Polna", "ul. Długa", "ul. Armii Krajowej", "ul. 3 Maja"]  # fmt: skip
KINDS = ["Punkt Szczepień Powszechnych", "Przychodnia Rejonowa", "Centrum Medyczne", "Szpital Miejski",
         "Niepubliczny Zakład Opieki Zdrowotnej", "Poradnia Podstawowej Opieki Zdrowotnej"]  # fmt: skip

SLOT_HOURS = range(8, 16)  # eight one-hour slots a day, local time


def demo_programme(now: datetime) -> Programme:
    opened = (now - timedelta(days=30)).replace(microsecond=0)
    return Programme(
        version=1,
        vaccines=[
            Vaccine(code="comirnaty", name="Comirnaty (Pfizer-BioNTech)", doses=2, interval_min_days=21,
                    interval_max_days=42, min_age=12),
            Vaccine(code="spikevax", name="Spikevax (Moderna)", doses=2, interval_min_days=28, interval_max_days=42),
            Vaccine(code="vaxzevria", name="Vaxzevria (AstraZeneca)", doses=2, interval_min_days=28,
                    interval_max_days=84),
            Vaccine(code="jcovden", name="Jcovden (Janssen)", doses=1),
        ],
        cohorts=[
            Cohort(code="seniors", name="Seniorzy", birth_year_from=1900, birth_year_to=1961, opens_at=opened),
            Cohort(code="adults", name="Dorośli", birth_year_from=1962, birth_year_to=2008, opens_at=opened),
            Cohort(code="teens", name="Młodzież 12-17", birth_year_from=2009, birth_year_to=2014, opens_at=opened),
        ],
    )  # fmt: skip


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate_points(count: int, seed: int = 2021) -> list[Point]:
    rng = random.Random(seed)
    voivodeships = sorted(CITIES)
    vaccine_sets = [["comirnaty"], ["comirnaty", "spikevax"], ["vaxzevria", "jcovden"], ["comirnaty", "jcovden"],
                    ["spikevax"]]  # fmt: skip
    points = []
    for index in range(count):
        voivodeship = voivodeships[index % len(voivodeships)]
        county, city, postal = rng.choice(CITIES[voivodeship][1])
        points.append(
            Point(
                point_id=_uuid(rng),
                name=f"{rng.choice(KINDS)} nr {index + 1}, {city}",
                voivodeship=voivodeship,
                county=county,
                municipality=f"{county}011",
                city=city,
                street=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
                postal_code=f"{postal}-{rng.randint(1, 999):03d}",
                vaccines=rng.choice(vaccine_sets),
                active=True,
            )
        )
    return points


# Second doses come 21 to 84 days after the first, so besides the days open for first doses the
# schedules also hold a block of days three weeks on (DESIGN's "two weeks of slots" plus dose 2).
SECOND_DOSE_BLOCK_OFFSET = 21


def slot_days(first_day: date, days: int, second_dose_days: int) -> list[date]:
    offsets = list(range(days)) + [SECOND_DOSE_BLOCK_OFFSET + i for i in range(second_dose_days)]
    return [first_day + timedelta(days=offset) for offset in sorted(set(offsets))]


def slot_rows(point: Point, days: list[date], capacity: int) -> Iterator[tuple[object, ...]]:
    for day in days:
        for hour in SLOT_HOURS:
            starts_at = datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)
            vaccine = point.vaccines[hour % len(point.vaccines)]
            yield (point.point_id, starts_at, vaccine, capacity, 0, point.voivodeship, point.county,
                   point.municipality, True)  # fmt: skip


DELIVERY_COLUMNS = ("PointId", "DeliveryId", "Vaccine", "Doses", "Lot", "DeliveredAt", "RecordedBy", "RecordedAt")


def demo_lot(vaccine: str) -> str:
    """The lot every demo delivery of a vaccine carries (staff type it when recording a vaccination)."""
    return f"DEMO-{vaccine.upper()}-01"


def delivery_rows(point: Point, days: list[date], capacity: int, now: datetime) -> Iterator[tuple[object, ...]]:
    """One delivery per vaccine of the point, twice the places it publishes: the stock rule holds."""
    places: dict[str, int] = {}
    for row in slot_rows(point, days, capacity):
        places[str(row[2])] = places.get(str(row[2]), 0) + capacity
    for vaccine, total in sorted(places.items()):
        delivery_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-delivery:{point.point_id}:{vaccine}"))
        yield (point.point_id, delivery_id, vaccine, 2 * total, demo_lot(vaccine), now - timedelta(days=1), "seed",
               spanner.COMMIT_TIMESTAMP)  # fmt: skip


SLOT_COLUMNS = ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked", "Voivodeship", "County", "Municipality",
                "FreeMarker")  # fmt: skip


def pesel_for(birth: date, serial: int, female: bool) -> str:
    """A PESEL with a valid checksum (test data only)."""
    month = birth.month + {1800: 80, 1900: 0, 2000: 20, 2100: 40, 2200: 60}[birth.year // 100 * 100]
    serial = serial % 1000
    sex_digit = (serial % 5) * 2 + (0 if female else 1)
    digits = f"{birth.year % 100:02d}{month:02d}{birth.day:02d}{serial:03d}{sex_digit}"
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10) % 10
    return digits + str(check)


GIVEN = [("Anna", True), ("Maria", True), ("Katarzyna", True), ("Małgorzata", True), ("Zofia", True),
         ("Jan", False), ("Piotr", False), ("Krzysztof", False), ("Andrzej", False), ("Tomasz", False)]  # fmt: skip
FAMILY = [("Nowak", "Nowak"), ("Kowalska", "Kowalski"), ("Wiśniewska", "Wiśniewski"), ("Wójcik", "Wójcik"),
          ("Kamińska", "Kamiński"), ("Lewandowska", "Lewandowski"), ("Zielińska", "Zieliński")]  # fmt: skip


@dataclass(frozen=True)
class DemoPatient:
    patient_id: str
    pesel: str
    given_name: str
    family_name: str
    birth_date: date


def generate_patients(count: int, seed: int = 1989) -> list[DemoPatient]:
    rng = random.Random(seed)
    patients = []
    seen: set[str] = set()
    for index in range(count):
        birth = date(rng.randint(1935, 2005), rng.randint(1, 12), rng.randint(1, 28))
        given, female = GIVEN[index % len(GIVEN)]
        family = rng.choice(FAMILY)[0 if female else 1]
        pesel, serial = pesel_for(birth, index, female), index
        while pesel in seen:  # same birth date and serial: take the next serial
            serial += 1
            pesel = pesel_for(birth, serial, female)
        seen.add(pesel)
        patients.append(DemoPatient(_uuid(rng), pesel, given, family, birth))
    return patients


@dataclass(frozen=True)
class SeedSummary:
    points: int
    slots: int
    patients: int
    seconds: float


def seed(
    database: SpannerDatabase,
    documents: FirestoreDocuments,
    *,
    points: int = 300,
    days: int = 14,
    second_dose_days: int = 14,
    capacity: int = 6,
    patients: int = 50,
    now: datetime | None = None,
    points_per_batch: int = 50,
    today: bool = False,
) -> SeedSummary:
    """``today``: slots today too (``make run``: the point's day can be tried by hand)."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    documents.publish_programme(demo_programme(now))
    first_day = now.astimezone(WARSAW).date() + timedelta(days=1)
    open_days = ([first_day - timedelta(days=1)] if today else []) + slot_days(first_day, days, second_dose_days)
    all_points = generate_points(points)
    slot_count = 0
    for chunk_start in range(0, len(all_points), points_per_batch):
        chunk = all_points[chunk_start : chunk_start + points_per_batch]
        rows = [row for point in chunk for row in slot_rows(point, open_days, capacity)]
        with database.batch() as batch:
            batch.insert_or_update(
                "Points",
                columns=POINT_COLUMNS,
                values=[(p.point_id, p.name, p.voivodeship, p.county, p.municipality, p.city, p.street,
                         p.postal_code, p.vaccines, True) for p in chunk],
            )  # fmt: skip
            batch.insert_or_update("Slots", columns=SLOT_COLUMNS, values=rows)
            batch.insert_or_update(
                "Deliveries",
                columns=DELIVERY_COLUMNS,
                values=[row for point in chunk for row in delivery_rows(point, open_days, capacity, now)],
            )
        slot_count += len(rows)
    demo_patients = generate_patients(patients)
    if demo_patients:
        _insert_patients(database, demo_patients, now)
    return SeedSummary(len(all_points), slot_count, len(demo_patients), round(time.perf_counter() - started, 1))


def _insert_patients(database: SpannerDatabase, demo_patients: list[DemoPatient], now: datetime) -> None:
    rng = random.Random(7)
    referrals = [
        Referral(p.patient_id, _uuid(rng), None, "ACTIVE", now, now + timedelta(days=180)) for p in demo_patients
    ]
    with database.batch() as batch:
        batch.insert_or_update(
            "Patients",
            columns=("PatientId", "Pesel", "GivenName", "FamilyName", "BirthDate", "CreatedAt", "UpdatedAt",
                     *CURRENT_COLUMNS),
            values=[(p.patient_id, p.pesel, p.given_name, p.family_name, p.birth_date, spanner.COMMIT_TIMESTAMP,
                     spanner.COMMIT_TIMESTAMP, *current_values(r))
                    for p, r in zip(demo_patients, referrals, strict=True)],
        )  # fmt: skip
        batch.insert_or_update(
            "Referrals",
            columns=("PatientId", "ReferralId", "Vaccine", "Status", "IssuedAt", "ValidUntil", "IssuedBy"),
            values=[(r.patient_id, r.referral_id, r.vaccine, r.status, r.issued_at, r.valid_until, "seed")
                    for r in referrals],
        )  # fmt: skip


def top_up_today(database: SpannerDatabase, points: int, capacity: int = 6, now: datetime | None = None) -> int:
    """Add today's slots (and the deliveries covering them) to demo data seeded on an earlier day;
    slots that exist keep their bookings. Returns the slots added."""
    now = now or datetime.now(UTC)
    today = now.astimezone(WARSAW).date()
    start = datetime(today.year, today.month, today.day, tzinfo=WARSAW).astimezone(UTC)
    end = start + timedelta(days=1)
    added = 0
    all_points = generate_points(points)
    for chunk_start in range(0, len(all_points), 50):
        chunk = all_points[chunk_start : chunk_start + 50]
        ranges = [KeyRange(start_closed=[p.point_id, start], end_open=[p.point_id, end]) for p in chunk]
        with database.snapshot() as snapshot:
            existing = {(r[0], r[1], r[2]) for r in snapshot.read("Slots", SLOT_COLUMNS[:3], KeySet(ranges=ranges))}
        rows = [r for p in chunk for r in slot_rows(p, [today], capacity) if (r[0], r[1], r[2]) not in existing]
        with database.batch() as batch:
            if rows:
                batch.insert("Slots", columns=SLOT_COLUMNS, values=rows)
            extra = [
                (p.point_id, str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-delivery:{p.point_id}:{today}:{v}")), v,
                 2 * capacity * len(SLOT_HOURS), demo_lot(v), now - timedelta(hours=1), "seed",
                 spanner.COMMIT_TIMESTAMP)
                for p in chunk for v in p.vaccines
            ]  # fmt: skip
            batch.insert_or_update("Deliveries", columns=DELIVERY_COLUMNS, values=extra)
        added += len(rows)
    return added


# On the emulator a commit's cost grows faster than its size for Patients (its unique PESEL index):
# 2,000 rows took 13 s in one commit and 1.6 s in twenty commits of 100.
PATIENT_BATCH = 100
REFERRAL_STATES = ("valid", "lapsed", "none")


def seed_bulk_patients(
    database: SpannerDatabase, count: int, now: datetime, seed: int = 11, progress: bool = False
) -> dict[str, tuple[date, str]]:
    """``count`` patients born 1940-1999 (mutations only, no transaction per person); every tenth holds
    a valid e-referral, about one in seven a lapsed one. Returns patient id -> (birth date, state)."""
    rng = random.Random(seed)
    patients: dict[str, tuple[date, str]] = {}
    columns = ("PatientId", "Pesel", "GivenName", "FamilyName", "BirthDate", "CreatedAt", "UpdatedAt", *CURRENT_COLUMNS)
    referral_columns = ("PatientId", "ReferralId", "Vaccine", "Status", "IssuedAt", "ValidUntil", "IssuedBy")
    started = time.perf_counter()
    for start in range(0, count, PATIENT_BATCH):
        rows, referrals = [], []
        for n in range(start, min(count, start + PATIENT_BATCH)):
            patient_id = _uuid(rng)
            birth = date(1940 + n % 60, 1 + n % 12, 1 + n % 28)
            state = "valid" if n % 10 == 3 else "lapsed" if n % 7 == 1 else "none"
            patients[patient_id] = (birth, state)
            referral = None
            if state != "none":
                until = now + timedelta(days=30) if state == "valid" else now - timedelta(days=1)
                referral = Referral(patient_id, _uuid(rng), None, "ACTIVE", until - timedelta(days=180), until)
                referrals.append((*astuple(referral), "seed"))
            rows.append((patient_id, f"9{n:010d}", "Jan", "Testowy", birth, spanner.COMMIT_TIMESTAMP,
                         spanner.COMMIT_TIMESTAMP, *current_values(referral)))  # fmt: skip
        with database.batch() as batch:
            batch.insert("Patients", columns, rows)
            if referrals:
                batch.insert("Referrals", referral_columns, referrals)
        if progress and (start // PATIENT_BATCH) % 100 == 99:
            print(f"  {start + len(rows):,} patients in {time.perf_counter() - started:.0f} s", flush=True)
    return patients
