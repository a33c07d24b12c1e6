"""Firestore: the checkpoints of the nightly jobs, one document per job (``night_jobs/{job_id}``).

A job writes its document once a page (every few hundred items), so one document is far below
Firestore's sustained write rate per document.
"""

from __future__ import annotations

from google.cloud import firestore

from shared.services.night_jobs import Checkpoint

NIGHT_JOBS = "night_jobs"


class FirestoreCheckpoints:
    def __init__(self, client: firestore.Client) -> None:
        self.client = client

    def load(self, job_id: str) -> Checkpoint | None:
        snapshot = self.client.collection(NIGHT_JOBS).document(job_id).get()
        data = snapshot.to_dict() if snapshot.exists else None
        if not data:
            return None
        cursor = data.get("cursor")
        return Checkpoint(
            job_id, tuple(str(part) for part in cursor) if cursor else None, int(data.get("done", 0)),
            int(data.get("pages", 0)), int(data.get("runs", 0)), bool(data.get("finished", False)),
        )  # fmt: skip

    def save(self, checkpoint: Checkpoint) -> None:
        self.client.collection(NIGHT_JOBS).document(checkpoint.job_id).set(
            {
                "cursor": list(checkpoint.cursor) if checkpoint.cursor else None,
                "done": checkpoint.done,
                "pages": checkpoint.pages,
                "runs": checkpoint.runs,
                "finished": checkpoint.finished,
                "updated_at": firestore.SERVER_TIMESTAMP,
            }
        )
