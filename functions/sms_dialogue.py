"""`sms_dialogue` (sms-inbound -> the dialogue -> sms-requests): registration by SMS, answers to reminders."""

from __future__ import annotations

from datetime import UTC, datetime

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.domain.sms_dialogue import InboundSms
from shared.entrypoints.pubsub_push import message_json


@functions_framework.cloud_event
def sms_dialogue(event: CloudEvent) -> None:
    message = InboundSms.parse(message_json(event))
    get_container().sms_dialogue.handle(message.inbound(), datetime.now(UTC))
