"""`update_availability` (visit-events -> the search projection in Redis).

Each event names the slots its change touched; their states are read again from Spanner and applied
where newer. A lost fast path is repaired this way within seconds; redeliveries change nothing.
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.domain.events import parse_event
from shared.entrypoints.pubsub_push import message_json
from shared.services.availability import slots_of_event


@functions_framework.cloud_event
def update_availability(event: CloudEvent) -> None:
    payload = message_json(event)
    parse_event(payload)  # a message that is no known event is poison: retried, then dead-lettered
    availability = get_container().availability
    if availability is not None:
        availability.refresh(slots_of_event(payload))
