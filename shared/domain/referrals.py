"""Bulk e-referrals: which patients of a cohort get one, and how the patient table is cut into chunks.

No I/O. A chunk is a range of patient keys (UUIDv4 strings, so a range of hexadecimal prefixes
holds about the same number of patients as any other); each chunk is one Pub/Sub message.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.domain.patients import Referral

WARSAW = ZoneInfo("Europe/Warsaw")
HEX = "0123456789abcdef"
# Stable namespace for referral ids derived from (cohort, patient, day): the same job run twice,
# or one chunk delivered twice at once, writes the same row instead of a second referral.
REFERRAL_NAMESPACE = uuid.UUID("7c0f4a4e-9a51-4c43-9f0b-2b1f0f7d1e21")


@dataclass(frozen=True)
class KeyRangeChunk:
    """Patients whose id is in [start, end); ``start`` None: from the first key, ``end`` None: to the last."""

    index: int
    start: str | None
    end: str | None


def key_range_chunks(prefix_length: int) -> list[KeyRangeChunk]:
    """16 ** prefix_length chunks that together cover every key exactly once."""
    if not 0 <= prefix_length <= 3:
        raise ValueError("prefix_length must be 0..3")
    prefixes = [""]
    for _ in range(prefix_length):
        prefixes = [p + h for p in prefixes for h in HEX]
    count = len(prefixes)
    return [
        KeyRangeChunk(i, prefixes[i] if i > 0 else None, prefixes[i + 1] if i + 1 < count else None)
        for i in range(count)
    ]


@dataclass(frozen=True)
class CohortBounds:
    """What a job keeps of its cohort: the programme may change while the job runs."""

    code: str
    birth_year_from: int
    birth_year_to: int

    def includes(self, birth_date: date) -> bool:
        return self.birth_year_from <= birth_date.year <= self.birth_year_to


@dataclass(frozen=True)
class IssuedReferral:
    referral: Referral
    issued_by: str


def referral_id_for(cohort: str, patient_id: str, issued_on: date) -> str:
    return str(uuid.uuid5(REFERRAL_NAMESPACE, f"{cohort}|{patient_id}|{issued_on.isoformat()}"))


def missing_referrals(
    patients: Iterable[tuple[str, date]],
    referrals: Iterable[Referral],
    cohort: CohortBounds,
    now: datetime,
    issued_at: datetime,
    valid_until: datetime,
    issued_by: str,
) -> list[IssuedReferral]:
    """A referral for each patient of the cohort who holds no valid one ``now``.

    A job passes its own start as ``issued_at``, so every run of a chunk writes the same rows."""
    issued_on = issued_at.astimezone(WARSAW).date()
    covered = {r.patient_id for r in referrals if r.is_valid(now)}
    return [
        IssuedReferral(
            Referral(
                patient_id, referral_id_for(cohort.code, patient_id, issued_on), None, "ACTIVE", issued_at, valid_until
            ),
            issued_by,
        )
        for patient_id, birth_date in patients
        if cohort.includes(birth_date) and patient_id not in covered
    ]
