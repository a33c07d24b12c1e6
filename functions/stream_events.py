"""`stream_events` (visit-events -> BigQuery `reporting.visit_events`)."""

from __future__ import annotations

from datetime import UTC, datetime

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.entrypoints.pubsub_push import message_json


@functions_framework.cloud_event
def stream_events(event: CloudEvent) -> None:
    get_container().streamer.handle(message_json(event), datetime.now(UTC))
