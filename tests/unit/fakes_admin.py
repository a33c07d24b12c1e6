"""In-memory fakes of the ports the programme-administration services use."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.domain.patients import Referral
from shared.domain.programme import Programme
from shared.domain.referrals import IssuedReferral, KeyRangeChunk
from shared.services.interest import Interested
from shared.services.programme_admin import ProgrammeChange
from shared.services.referrals import ChunkResult, ReferralJob


@dataclass
class FakeVersions:
    versions: dict[int, Programme] = field(default_factory=dict)
    changes: list[ProgrammeChange] = field(default_factory=list)
    # Simulates another admin saving between our read and our write.
    interloper: Programme | None = None

    def current(self) -> Programme | None:
        return self.versions[max(self.versions)] if self.versions else None

    def version(self, number: int) -> Programme | None:
        return self.versions.get(number)

    def save(self, programme: Programme, change: ProgrammeChange) -> bool:
        if self.interloper is not None:
            self.versions[self.interloper.version] = self.interloper
            self.interloper = None
        current = self.current()
        if (current.version if current else 0) != change.based_on:
            return False
        self.versions[programme.version] = programme
        self.changes.append(change)
        return True


@dataclass
class FakeBus:
    published: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    refuse: bool = False

    def publish(self, topic: str, data: bytes, timeout_s: float = 10.0, **attributes: str) -> str:
        if self.refuse:
            raise RuntimeError("bus down")
        self.published.append((topic, json.loads(data), attributes))
        return str(len(self.published))

    def publish_many(
        self, topic: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout_s: float = 10.0
    ) -> list[bool]:
        if self.refuse:
            return [False] * len(messages)
        for data, attributes in messages:
            self.published.append((topic, json.loads(data), attributes))
        return [True] * len(messages)

    def on(self, topic: str) -> list[dict[str, Any]]:
        return [body for t, body, _ in self.published if t == topic]


@dataclass
class FakeJobs:
    jobs: dict[str, ReferralJob] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    chunks: dict[str, dict[int, ChunkResult]] = field(default_factory=dict)
    published: dict[str, set[int]] = field(default_factory=dict)

    def published_chunks(self, job_id: str) -> set[int]:
        return set(self.published.get(job_id, set()))

    def mark_published(self, job_id: str, indexes: Sequence[int]) -> None:
        self.published.setdefault(job_id, set()).update(indexes)

    def start(self, job: ReferralJob, key_hash: str) -> ReferralJob:
        if key_hash in self.keys:
            return self.jobs[self.keys[key_hash]]
        self.keys[key_hash] = job.job_id
        self.jobs[job.job_id] = job
        return job

    def get(self, job_id: str) -> ReferralJob | None:
        return self.jobs.get(job_id)

    def chunk_results(self, job_id: str) -> dict[int, ChunkResult]:
        return dict(self.chunks.get(job_id, {}))

    def chunk_result(self, job_id: str, index: int) -> ChunkResult | None:
        return self.chunks.get(job_id, {}).get(index)

    def record_chunk(self, job_id: str, result: ChunkResult) -> None:
        results = self.chunks.setdefault(job_id, {})
        if result.status != "DONE" and results.get(result.index, result).status == "DONE":
            return
        results[result.index] = result


def _in(chunk: KeyRangeChunk, key: str) -> bool:
    return (chunk.start is None or key >= chunk.start) and (chunk.end is None or key < chunk.end)


@dataclass
class FakeCohortReferrals:
    patients: dict[str, date] = field(default_factory=dict)
    referrals: dict[tuple[str, str], tuple[Referral, str]] = field(default_factory=dict)
    writes: int = 0
    fail_writes: int = 0

    def patients_in_range(self, chunk: KeyRangeChunk) -> list[tuple[str, date]]:
        return sorted((p, b) for p, b in self.patients.items() if _in(chunk, p))

    def referrals_in_range(self, chunk: KeyRangeChunk) -> list[tuple[Referral, str]]:
        return [value for (patient_id, _), value in sorted(self.referrals.items()) if _in(chunk, patient_id)]

    def write_referrals(self, referrals: Sequence[IssuedReferral]) -> None:
        if self.fail_writes:
            self.fail_writes -= 1
            raise RuntimeError("spanner down")
        self.writes += 1
        for issued in referrals:
            key = (issued.referral.patient_id, issued.referral.referral_id)
            self.referrals[key] = (issued.referral, issued.issued_by)


@dataclass
class FakeInterest:
    birth_dates: dict[str, date] = field(default_factory=dict)
    rows: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)

    def birth_date(self, patient_id: str) -> date | None:
        return self.birth_dates.get(patient_id)

    def save(self, interest: Interested) -> None:
        self.rows[(interest.cohort, interest.patient_id)] = (interest.phone, True)

    def pending(self, cohort: str, limit: int) -> list[Interested]:
        waiting = [Interested(c, p, phone) for (c, p), (phone, pending) in sorted(self.rows.items())
                   if c == cohort and pending]  # fmt: skip
        return waiting[:limit]

    def mark_requested(self, interests: Sequence[Interested]) -> None:
        for interest in interests:
            phone, _ = self.rows[(interest.cohort, interest.patient_id)]
            self.rows[(interest.cohort, interest.patient_id)] = (phone, False)
