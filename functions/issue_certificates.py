"""`issue_certificates` (visit-events): an EU DCC per recorded dose, withdrawn when the dose is voided."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.entrypoints.pubsub_push import message_json


@functions_framework.cloud_event
def issue_certificates(event: CloudEvent) -> None:
    get_container().certificate_issuer.handle(message_json(event))
