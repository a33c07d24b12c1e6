"""`relay_outbox` (outbox-sweep-ticks): publish the outbox events the fast path missed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container

log = logging.getLogger(__name__)


@functions_framework.cloud_event
def relay_outbox(event: CloudEvent) -> None:
    published = get_container().relay.sweep(datetime.now(UTC))
    if published:
        log.info("outbox sweep published %d event(s)", published)
