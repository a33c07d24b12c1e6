"""`notify` (visit-events -> sms-requests): the SMS that a booking, move or cancellation deserves."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.entrypoints.pubsub_push import message_json


@functions_framework.cloud_event
def notify(event: CloudEvent) -> None:
    get_container().notifier.handle(message_json(event))
