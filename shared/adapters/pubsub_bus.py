"""Pub/Sub: publishing messages to the project's topics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.config import Settings


def publisher_client(settings: Settings) -> pubsub_v1.PublisherClient:
    """A publisher; on the emulator over an explicit insecure channel to this settings' host."""
    batching = pubsub_v1.types.BatchSettings(max_latency=settings.pubsub_batch_latency_s)
    if not settings.pubsub_emulator_host:
        return pubsub_v1.PublisherClient(batch_settings=batching)
    import grpc
    from google.auth.credentials import AnonymousCredentials
    from google.pubsub_v1.services.publisher.transports.grpc import PublisherGrpcTransport

    channel = grpc.insecure_channel(settings.pubsub_emulator_host)
    transport = PublisherGrpcTransport(channel=channel, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    return pubsub_v1.PublisherClient(batch_settings=batching, transport=transport)


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

    def publish_many(
        self, topic: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout_s: float = 10.0
    ) -> list[bool]:
        """Publish several messages at once; for each, whether Pub/Sub took it within the timeout.

        The timeout bounds the whole call, not each message: a hung Pub/Sub costs it once."""
        path = self.topic_path(topic)
        deadline = time.monotonic() + timeout_s
        futures: list[Any] = [self.publisher.publish(path, data, **attributes) for data, attributes in messages]
        taken = []
        for future in futures:
            try:
                future.result(timeout=max(0.0, deadline - time.monotonic()))
                taken.append(True)
            except (gexc.GoogleAPIError, FutureTimeout, RuntimeError):
                future.cancel()
                taken.append(False)
        return taken

    def ping(self, timeout_s: float) -> None:
        self.publisher.get_topic(topic=self.topic_path("visit-events"), timeout=timeout_s)
