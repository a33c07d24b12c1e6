"""Firestore: bulk e-referral jobs, the Idempotency-Key that started each, and per-chunk results.

A chunk's result is its own document (``referral_jobs/{job}/chunks/{n}``), so hundreds of workers
never contend on one job document; progress is read by listing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from shared.services.referrals import ChunkResult, ReferralJob, job_from_json, job_json

JOBS = "referral_jobs"
JOB_KEYS = "referral_job_keys"
CHUNKS = "chunks"


class FirestoreReferralJobs:
    def __init__(self, client: firestore.Client) -> None:
        self.client = client

    def start(self, job: ReferralJob, key_hash: str) -> ReferralJob:
        key_ref = self.client.collection(JOB_KEYS).document(key_hash)
        batch = self.client.batch()
        batch.create(key_ref, {"job_id": job.job_id, "created_at": job.created_at})
        batch.create(self.client.collection(JOBS).document(job.job_id), job_json(job))
        try:
            batch.commit()
            return job
        except (gexc.AlreadyExists, gexc.Conflict):
            existing_id = str((key_ref.get().to_dict() or {})["job_id"])
            existing = self.get(existing_id)
            if existing is None:  # the key was recorded with its job in one commit
                raise RuntimeError(f"job {existing_id} named by a key is missing") from None
            return existing

    def get(self, job_id: str) -> ReferralJob | None:
        snapshot = self.client.collection(JOBS).document(job_id).get()
        data = snapshot.to_dict() if snapshot.exists else None
        return job_from_json(data) if data else None

    def published_chunks(self, job_id: str) -> set[int]:
        snapshot = self.client.collection(JOBS).document(job_id).get(field_paths=["published"])
        return {int(i) for i in (snapshot.to_dict() or {}).get("published", [])} if snapshot.exists else set()

    def mark_published(self, job_id: str, indexes: Sequence[int]) -> None:
        if indexes:
            self.client.collection(JOBS).document(job_id).update({"published": firestore.ArrayUnion(list(indexes))})

    def chunk_results(self, job_id: str) -> dict[int, ChunkResult]:
        chunks = self.client.collection(JOBS).document(job_id).collection(CHUNKS)
        results = [_chunk(snapshot.to_dict() or {}) for snapshot in chunks.stream()]
        return {result.index: result for result in results}

    def chunk_result(self, job_id: str, index: int) -> ChunkResult | None:
        snapshot = self.client.collection(JOBS).document(job_id).collection(CHUNKS).document(str(index)).get()
        return _chunk(snapshot.to_dict() or {}) if snapshot.exists else None

    def record_chunk(self, job_id: str, result: ChunkResult) -> None:
        reference = self.client.collection(JOBS).document(job_id).collection(CHUNKS).document(str(result.index))
        body = {
            "index": result.index,
            "status": result.status,
            "patients": result.patients,
            "issued": result.issued,
            "attempts": result.attempts,
            "updated_at": firestore.SERVER_TIMESTAMP,
        }
        if result.status == "DONE":
            reference.set(body)
            return

        @firestore.transactional  # type: ignore[untyped-decorator]
        def fail_in(transaction: firestore.Transaction) -> None:
            snapshot = reference.get(transaction=transaction)
            if snapshot.exists and (snapshot.to_dict() or {}).get("status") == "DONE":
                return  # another delivery finished it
            transaction.set(reference, body)

        fail_in(self.client.transaction())


def _chunk(data: dict[str, Any]) -> ChunkResult:
    return ChunkResult(
        int(data["index"]), str(data["status"]), int(data.get("patients", 0)), int(data.get("issued", 0)),
        int(data.get("attempts", 1)),
    )  # fmt: skip
