"""The Pub/Sub client holds a message only briefly before sending it (a booking's answer waits for it)."""

from __future__ import annotations

from shared.adapters.pubsub_bus import publisher_client
from shared.config import Settings


def test_the_publisher_batches_for_a_millisecond_not_the_library_default() -> None:
    local = publisher_client(Settings(deployment="local", pubsub_emulator_host="127.0.0.1:1"))  # type: ignore[call-arg]
    assert local.batch_settings.max_latency == 0.001  # the library's own default is 0.01 s


def test_the_batching_latency_comes_from_configuration() -> None:
    settings = Settings(deployment="local", pubsub_emulator_host="127.0.0.1:1", pubsub_batch_latency_s=0.005)  # type: ignore[call-arg]
    assert publisher_client(settings).batch_settings.max_latency == 0.005
