"""`reconcile_availability` (availability-ticks): compare the search projection with Spanner and
repair what differs; on an empty projection this is the rebuild."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container


@functions_framework.cloud_event
def reconcile_availability(event: CloudEvent) -> None:
    availability = get_container().availability
    if availability is not None:
        availability.reconcile()
