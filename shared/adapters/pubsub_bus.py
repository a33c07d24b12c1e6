"""Pub/Sub: publishing messages to the project's topics."""

from __future__ import annotations

from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.config import Settings


class MessageBus:
    def __init__(self, publisher: pubsub_v1.PublisherClient, settings: Settings) -> None:
        self.publisher = publisher
        self._project_id = settings.project_id
        self._settings = settings

    def topic_path(self, name: str) -> str:
        return str(self.publisher.topic_path(self._project_id, self._settings.topic(name)))

    def publish(self, topic: str, data: bytes, timeout_s: float = 10.0, **attributes: str) -> str:
        """Publish one message and wait for its id; raises if Pub/Sub did not take it."""
        future = self.publisher.publish(self.topic_path(topic), data, **attributes)
        return str(future.result(timeout=timeout_s))

    def ping(self, timeout_s: float) -> None:
        self.publisher.get_topic(topic=self.topic_path("visit-events"), timeout=timeout_s)
