"""`mark_no_shows` (no-show-ticks, nightly): every visit of a past day still BOOKED becomes NO_SHOW.

The tick may carry ``{"before": "YYYY-MM-DD"}`` (a day not after today); by default, today in
Europe/Warsaw. Paged, resumed after its last page done (a checkpoint), and idempotent: a second tick
finds nothing left to mark.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import functions_framework
from cloudevents.http import CloudEvent

from shared.bootstrap import get_container
from shared.domain.messages import PoisonMessage
from shared.domain.vaccination import local_day
from shared.entrypoints.pubsub_push import message_json

log = logging.getLogger(__name__)


@functions_framework.cloud_event
def mark_no_shows(event: CloudEvent) -> None:
    tick = message_json(event)
    now = datetime.now(UTC)
    today = local_day(now)
    before = today
    if isinstance(tick, dict) and tick.get("before"):
        try:
            before = date.fromisoformat(str(tick["before"]))
        except ValueError:
            raise PoisonMessage("the tick's day is not a date") from None
        if before > today:
            raise PoisonMessage("visits of today or later cannot be no-shows yet")
    run = get_container().no_shows.run(before, now)
    log.info(
        "no-shows before %s: %d marked in this run, %d in all%s", before.isoformat(), run.done, run.total,
        "" if run.finished else " (out of time: a new tick goes on)",
    )  # fmt: skip
