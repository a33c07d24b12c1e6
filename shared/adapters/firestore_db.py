"""Firestore: sessions, staff, programme configuration, SMS log."""

from __future__ import annotations

from typing import Any

from google.cloud import firestore

from shared.domain.programme import Programme

PROGRAMME = "programme"
PROGRAMME_VERSIONS = "programme_versions"


class FirestoreDocuments:
    """The Firestore client and the few documents every function reads."""

    def __init__(self, client: firestore.Client) -> None:
        self.client = client

    def ping(self, timeout_s: float) -> None:
        self.client.collection("health").document("ping").get(timeout=timeout_s)

    def current_programme(self) -> Programme | None:
        snapshot = self.client.collection(PROGRAMME).document("current").get()
        return Programme.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def publish_programme(self, programme: Programme) -> None:
        """Write a new version; older versions stay for audit."""
        body: dict[str, Any] = programme.model_dump(mode="json")
        batch = self.client.batch()
        batch.set(self.client.collection(PROGRAMME_VERSIONS).document(str(programme.version)), body)
        batch.set(self.client.collection(PROGRAMME).document("current"), body)
        batch.commit()
