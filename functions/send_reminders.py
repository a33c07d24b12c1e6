"""`send_reminders` (reminder-ticks): one reminder SMS request for each of tomorrow's visits."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.domain.messages import PoisonMessage
from shared.entrypoints.pubsub_push import message_json
from shared.services.reminders import tomorrow

log = logging.getLogger(__name__)


@functions_framework.cloud_event
def send_reminders(event: CloudEvent) -> None:
    tick = message_json(event)
    day = tomorrow(datetime.now(UTC))
    if isinstance(tick, dict) and tick.get("day"):
        try:
            day = date.fromisoformat(str(tick["day"]))
        except ValueError:
            raise PoisonMessage("the tick's day is not a date") from None
    run = get_container().reminders.run(day)
    log.info(
        "reminders for %s: %d requested in this run, %d in all%s", day.isoformat(), run.done, run.total,
        "" if run.finished else " (out of time: a new tick goes on)",
    )  # fmt: skip
