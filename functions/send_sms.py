"""`send_sms` (sms-requests -> SMS provider), each request at most once."""

from __future__ import annotations

from datetime import UTC, datetime

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.entrypoints.pubsub_push import message_json


@functions_framework.cloud_event
def send_sms(event: CloudEvent) -> None:
    get_container().sms_sender.handle(message_json(event), datetime.now(UTC))
