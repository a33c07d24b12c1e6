"""Bulk e-referrals: a job issues one to everyone in a cohort who has none.

Starting a job records it and publishes one message per patient key range; a worker handles one
range at a time (read the range, write the missing referrals with bulk mutations, record the
chunk, publish an event). Every step can run twice: chunks already recorded are not redone,
referral ids derive from (cohort, patient, day), and the event id from (job, chunk). So the job
survives redelivery and crashes, and resumes by publishing again the chunks not yet done.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from shared.domain.patients import Referral
from shared.domain.programme import Programme, require_programme
from shared.domain.referrals import CohortBounds, IssuedReferral, KeyRangeChunk, key_range_chunks, missing_referrals
from shared.domain.refusals import RefusalKind, Refused
from shared.services.ports import MessagePublisher
from shared.topology import REFERRAL_CHUNKS, REFERRAL_EVENTS

log = logging.getLogger(__name__)

REFERRALS_ISSUED = "ReferralsIssued"


@dataclass(frozen=True)
class ReferralJob:
    job_id: str
    cohort: CohortBounds
    programme_version: int
    chunks: int
    prefix_length: int
    created_at: datetime
    valid_until: datetime
    started_by: str
    request_hash: str

    @property
    def issued_by(self) -> str:
        return f"job:{self.job_id}"


@dataclass(frozen=True)
class ChunkResult:
    index: int
    status: str  # DONE or FAILED (the last attempt failed; Pub/Sub retries it)
    patients: int = 0  # patients of the cohort in the range
    issued: int = 0  # referrals this job issued in the range
    attempts: int = 1


@dataclass(frozen=True)
class JobProgress:
    job: ReferralJob
    done: int
    failed: int
    issued: int
    patients: int
    chunk_failures: list[int] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "DONE" if self.done >= self.job.chunks else "RUNNING"

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job.job_id,
            "kind": "referrals",
            "cohort": self.job.cohort.code,
            "programme_version": self.job.programme_version,
            "status": self.status,
            "total": self.job.chunks,
            "done": self.done,
            "failed": self.failed,
            "issued": self.issued,
            "patients": self.patients,
            "created_at": self.job.created_at.isoformat(),
            "started_by": self.job.started_by,
        }


class ReferralJobs(Protocol):
    def start(self, job: ReferralJob, key_hash: str) -> ReferralJob:
        """Record ``job`` under ``key_hash`` unless a job holds that key already; returns the job the key names."""
        ...

    def get(self, job_id: str) -> ReferralJob | None: ...

    def chunk_results(self, job_id: str) -> dict[int, ChunkResult]: ...

    def chunk_result(self, job_id: str, index: int) -> ChunkResult | None: ...

    def record_chunk(self, job_id: str, result: ChunkResult) -> None:
        """Store the chunk's result; a DONE result is final (a later FAILED does not replace it)."""
        ...

    def published_chunks(self, job_id: str) -> set[int]:
        """The chunks the queue has taken for the job (each published once unless the job is resumed)."""
        ...

    def mark_published(self, job_id: str, indexes: Sequence[int]) -> None: ...


class CohortReferrals(Protocol):
    def patients_in_range(self, chunk: KeyRangeChunk) -> list[tuple[str, date]]:
        """(patient id, birth date) of every patient whose id is in the chunk's range."""
        ...

    def referrals_in_range(self, chunk: KeyRangeChunk) -> list[tuple[Referral, str]]:
        """Every referral (with who issued it) of the patients in the chunk's range."""
        ...

    def write_referrals(self, referrals: Sequence[IssuedReferral]) -> None:
        """Blind bulk writes (insert or update: the ids are deterministic), in commits of bounded size."""
        ...


def request_hash(cohort: str) -> str:
    return hashlib.sha256(json.dumps({"cohort": cohort}).encode()).hexdigest()


class ReferralIssuer:
    def __init__(
        self,
        jobs: ReferralJobs,
        store: CohortReferrals,
        bus: MessagePublisher,
        programme: Callable[[], Programme | None],
        prefix_length: int = 2,
    ) -> None:
        self.jobs = jobs
        self.store = store
        self.bus = bus
        self.programme = programme
        self.prefix_length = prefix_length
        self._known_jobs: dict[str, ReferralJob] = {}  # a recorded job never changes

    # --- start / resume --------------------------------------------------------------------

    def start(
        self,
        cohort_code: str,
        idempotency_key: str,
        actor: str,
        now: datetime,
        resume_after: timedelta | None = None,
    ) -> JobProgress:
        """Start the job the key names. A repeat publishes only the chunks the queue never took (the
        others are on their way, or done); with ``resume_after``, a job at least that old is resumed:
        every chunk not done is published again (chunks lost on the way)."""
        programme = require_programme(self.programme())
        cohort = programme.cohort(cohort_code)
        if cohort is None:
            raise Refused(RefusalKind.INVALID, "unknown_cohort", f"Nie ma grupy {cohort_code}", field="cohort")
        key_hash = hashlib.sha256(idempotency_key.encode()).hexdigest()
        chunks = key_range_chunks(self.prefix_length)
        proposed = ReferralJob(
            job_id=uuid.uuid4().hex,
            cohort=CohortBounds(cohort.code, cohort.birth_year_from, cohort.birth_year_to),
            programme_version=programme.version,
            chunks=len(chunks),
            prefix_length=self.prefix_length,
            created_at=now,
            valid_until=now + timedelta(days=programme.referral_valid_days),
            started_by=actor,
            request_hash=request_hash(cohort.code),
        )
        job = self.jobs.start(proposed, key_hash)
        if job.request_hash != proposed.request_hash:
            raise Refused(
                RefusalKind.CONFLICT,
                "idempotency_key_reused",
                "Ten klucz Idempotency-Key użyto już dla innego żądania",
                field="Idempotency-Key",
            )
        results = self.jobs.chunk_results(job.job_id)
        chunks = [c for c in key_range_chunks(job.prefix_length) if results.get(c.index, _NOT_DONE).status != "DONE"]
        stale = resume_after is not None and now - job.created_at >= resume_after
        if job.job_id != proposed.job_id and not stale:
            published = self.jobs.published_chunks(job.job_id)
            chunks = [c for c in chunks if c.index not in published]
        if chunks:
            self._publish_chunks(job, chunks)
        return self._progress(job, results)

    def _publish_chunks(self, job: ReferralJob, chunks: Sequence[KeyRangeChunk]) -> None:
        messages = [
            (
                json.dumps({"job_id": job.job_id, "chunk": c.index, "start": c.start, "end": c.end}).encode(),
                {"job_id": job.job_id},
            )
            for c in chunks
        ]
        taken = self.bus.publish_many(REFERRAL_CHUNKS, messages)
        self.jobs.mark_published(job.job_id, [c.index for c, ok in zip(chunks, taken, strict=True) if ok])
        if not all(taken):
            # The job is recorded: the same Idempotency-Key publishes the missing chunks again.
            raise Refused(
                RefusalKind.UNAVAILABLE,
                "queue_unavailable",
                f"Kolejka nie przyjęła {taken.count(False)} części zadania; ponów żądanie z tym samym kluczem",
            )

    def progress(self, job_id: str) -> JobProgress:
        job = self.jobs.get(job_id)
        if job is None:
            raise Refused(RefusalKind.NOT_FOUND, "unknown_job", "Nie ma takiego zadania")
        return self._progress(job, self.jobs.chunk_results(job_id))

    @staticmethod
    def _progress(job: ReferralJob, results: dict[int, ChunkResult]) -> JobProgress:
        done = [r for r in results.values() if r.status == "DONE"]
        failed = sorted(r.index for r in results.values() if r.status == "FAILED")
        return JobProgress(
            job, len(done), len(failed), sum(r.issued for r in done), sum(r.patients for r in done), failed
        )

    # --- one chunk ------------------------------------------------------------------------

    def handle_chunk(self, message: Any, now: datetime) -> ChunkResult:
        """Issue the missing referrals of one key range; safe to run any number of times."""
        job_id, index = _chunk_message(message)
        job = self._known_jobs.get(job_id) or self.jobs.get(job_id)
        if job is None:
            raise UnknownJob(job_id)
        if len(self._known_jobs) > 64:
            self._known_jobs.clear()
        self._known_jobs[job_id] = job
        chunks = key_range_chunks(job.prefix_length)
        if not 0 <= index < len(chunks):
            raise UnknownJob(f"{job_id}#{index}")
        chunk = chunks[index]
        previous = self.jobs.chunk_result(job_id, index)
        if previous is not None and previous.status == "DONE":
            self._publish_event(job, previous, now)  # the earlier delivery may have died before this
            return previous
        attempts = previous.attempts + 1 if previous else 1
        try:
            result = self._issue(job, chunk, now, attempts)
        except Exception:
            self.jobs.record_chunk(job_id, ChunkResult(index, "FAILED", attempts=attempts))
            raise
        self.jobs.record_chunk(job_id, result)
        self._publish_event(job, result, now)
        return result

    def _issue(self, job: ReferralJob, chunk: KeyRangeChunk, now: datetime, attempts: int) -> ChunkResult:
        patients = [(p, b) for p, b in self.store.patients_in_range(chunk) if job.cohort.includes(b)]
        existing = self.store.referrals_in_range(chunk)
        missing = missing_referrals(
            patients,
            [r for r, _ in existing],
            job.cohort,
            now,
            job.created_at,
            job.valid_until,
            job.issued_by,
        )
        if missing:
            self.store.write_referrals(missing)
        in_cohort = {p for p, _ in patients}
        earlier = {r.referral_id for r, by in existing if by == job.issued_by and r.patient_id in in_cohort}
        issued = len(earlier | {m.referral.referral_id for m in missing})
        return ChunkResult(chunk.index, "DONE", patients=len(patients), issued=issued, attempts=attempts)

    def _publish_event(self, job: ReferralJob, result: ChunkResult, now: datetime) -> None:
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"referral-job:{job.job_id}:{result.index}"))
        event = {
            "event_id": event_id,
            "event_type": REFERRALS_ISSUED,
            "schema_version": 1,
            "occurred_at": now.isoformat(),
            "job_id": job.job_id,
            "cohort": job.cohort.code,
            "chunk": result.index,
            "chunks": job.chunks,
            "patients": result.patients,
            "issued": result.issued,
            "valid_until": job.valid_until.isoformat(),
        }
        self.bus.publish(REFERRAL_EVENTS, json.dumps(event).encode(), event_id=event_id, event_type=REFERRALS_ISSUED)


class UnknownJob(ValueError):
    """A chunk message names no recorded job: no retry helps, it belongs in the dead-letter topic."""


class MalformedChunk(ValueError):
    """A chunk message that cannot be read."""


_NOT_DONE = ChunkResult(-1, "PENDING")


def _chunk_message(message: Any) -> tuple[str, int]:
    if not isinstance(message, dict):
        raise MalformedChunk("not an object")
    job_id, index = message.get("job_id"), message.get("chunk")
    if not isinstance(job_id, str) or not isinstance(index, int) or isinstance(index, bool):
        raise MalformedChunk("job_id and chunk are required")
    return job_id, index


def job_json(job: ReferralJob) -> dict[str, Any]:
    """The job as stored (adapters): dates as ISO strings."""
    data = asdict(job)
    data["created_at"] = job.created_at.isoformat()
    data["valid_until"] = job.valid_until.isoformat()
    return data


def job_from_json(data: dict[str, Any]) -> ReferralJob:
    return ReferralJob(
        job_id=str(data["job_id"]),
        cohort=CohortBounds(**data["cohort"]),
        programme_version=int(data["programme_version"]),
        chunks=int(data["chunks"]),
        prefix_length=int(data["prefix_length"]),
        created_at=datetime.fromisoformat(str(data["created_at"])),
        valid_until=datetime.fromisoformat(str(data["valid_until"])),
        started_by=str(data["started_by"]),
        request_hash=str(data["request_hash"]),
    )
