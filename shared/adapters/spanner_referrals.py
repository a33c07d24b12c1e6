"""Spanner: patients and referrals by patient key range (bulk e-referrals), and interest in openings.

Reads are single-use snapshot reads of one key range (Referrals are interleaved in Patients, so
the same range holds a range's referrals); writes are blind mutations in batches, never a
transaction per person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_patients import keep_current
from shared.domain.patients import Referral
from shared.domain.referrals import IssuedReferral, KeyRangeChunk
from shared.services.interest import Interested

REFERRAL_COLUMNS = ("PatientId", "ReferralId", "Vaccine", "Status", "IssuedAt", "ValidUntil", "IssuedBy")


def chunk_keys(chunk: KeyRangeChunk) -> KeySet:
    # An empty key as a bound takes in everything on that side.
    bounds: dict[str, Any] = {"start_closed": [chunk.start] if chunk.start is not None else []}
    if chunk.end is not None:
        bounds["end_open"] = [chunk.end]
    else:
        bounds["end_closed"] = []
    return KeySet(ranges=[KeyRange(**bounds)])


class SpannerCohortReferrals:
    def __init__(self, database: SpannerDatabase, write_batch: int = 2000) -> None:
        self.database = database
        self.write_batch = write_batch

    def patients_in_range(self, chunk: KeyRangeChunk) -> list[tuple[str, date]]:
        with self.database.snapshot() as snapshot:
            return [(str(r[0]), r[1]) for r in snapshot.read("Patients", ("PatientId", "BirthDate"), chunk_keys(chunk))]

    def referrals_in_range(self, chunk: KeyRangeChunk) -> list[tuple[Referral, str]]:
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("Referrals", REFERRAL_COLUMNS, chunk_keys(chunk)))
        return [(Referral(*row[:6]), str(row[6])) for row in rows]

    def write_referrals(self, referrals: Sequence[IssuedReferral]) -> None:
        for start in range(0, len(referrals), self.write_batch):
            part = referrals[start : start + self.write_batch]
            with self.database.batch() as batch:
                batch.insert_or_update(
                    "Referrals",
                    columns=REFERRAL_COLUMNS,
                    values=[
                        (r.referral.patient_id, r.referral.referral_id, r.referral.vaccine, r.referral.status,
                         r.referral.issued_at, r.referral.valid_until, r.issued_by)
                        for r in part
                    ],
                )  # fmt: skip
                # A patient gets one only when they hold no valid one: it is their current referral.
                keep_current(batch, [(r.referral.patient_id, r.referral) for r in part])


INTEREST_COLUMNS = ("Cohort", "PatientId", "Phone")


class SpannerInterest:
    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def birth_date(self, patient_id: str) -> date | None:
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("Patients", ("BirthDate",), KeySet(keys=[[patient_id]])))
        return rows[0][0] if rows else None

    def save(self, interest: Interested) -> None:
        with self.database.batch() as batch:
            batch.insert_or_update(
                "Interest",
                columns=(*INTEREST_COLUMNS, "Pending", "CreatedAt"),
                values=[(interest.cohort, interest.patient_id, interest.phone, True, spanner.COMMIT_TIMESTAMP)],
            )

    def pending(self, cohort: str, limit: int) -> list[Interested]:
        keys = KeySet(ranges=[KeyRange(start_closed=[True, cohort], end_closed=[True, cohort])])
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("Interest", INTEREST_COLUMNS, keys, index="PendingInterest", limit=limit))
        return [Interested(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def mark_requested(self, interests: Sequence[Interested]) -> None:
        if not interests:
            return
        with self.database.batch() as batch:
            batch.update(
                "Interest",
                columns=("Cohort", "PatientId", "Pending", "RequestedAt"),
                values=[(i.cohort, i.patient_id, None, spanner.COMMIT_TIMESTAMP) for i in interests],
            )
