"""`send_immunizations` (visit-events -> e-health platform): one FHIR Immunization per vaccination."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.entrypoints.pubsub_push import message_json


@functions_framework.cloud_event
def send_immunizations(event: CloudEvent) -> None:
    get_container().immunization_sender.handle(message_json(event))
