"""`programme_tick` (programme-ticks, every minute): cohorts opening now get their bulk e-referral
job, and patients who asked get their paced "your cohort is open" SMS."""

from __future__ import annotations

from datetime import UTC, datetime

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.entrypoints.pubsub_push import message_json


@functions_framework.cloud_event
def programme_tick(event: CloudEvent) -> None:
    message_json(event)  # the tick carries nothing; a malformed one still fails loudly
    get_container().programme_tick.run(datetime.now(UTC))
