"""Cloud Scheduler's local stand-in: each schedule of ``infra/topology.yaml`` publishes its tick on
its own cron, in its own time zone, as the jobs Terraform creates from the same declaration do
(``google_cloud_scheduler_job.tick`` in infra/functions.tf), with the same body (``{}``).

The clock is injected: tests step it; ``make run`` runs ``LocalScheduler.run`` in a thread. Like Cloud
Scheduler, a run that missed several fire times (the machine slept) fires once, then follows the cron
again; a publish that fails is tried again on the next poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from shared.topology import Schedule

log = logging.getLogger(__name__)
TICK_BODY = b"{}"


def next_fire(schedule: Schedule, after: datetime) -> datetime:
    """The first fire time of ``schedule`` strictly after ``after`` (an aware datetime)."""
    local = after.astimezone(ZoneInfo(schedule.time_zone))
    fire: datetime = croniter(schedule.cron, local).get_next(datetime)
    return fire


class LocalScheduler:
    def __init__(
        self,
        schedules: Sequence[Schedule],
        publish: Callable[[str, bytes], object],
        clock: Callable[[], datetime],
    ) -> None:
        self.schedules = list(schedules)
        self.publish = publish
        self.clock = clock
        started = clock()
        self.next_at = {s.name: next_fire(s, started) for s in self.schedules}

    def run_pending(self) -> list[str]:
        """Publish the tick of every schedule that is due; the names of those published."""
        now = self.clock()
        fired = []
        for schedule in self.schedules:
            if self.next_at[schedule.name] > now:
                continue
            try:
                self.publish(schedule.topic, TICK_BODY)
            except Exception as error:  # Pub/Sub away for a moment: the next poll tries again
                log.warning("tick not published", extra={"fields": {"schedule": schedule.name, "error": repr(error)}})
                continue
            self.next_at[schedule.name] = next_fire(schedule, now)
            fired.append(schedule.name)
        return fired

    def run(self, stopping: threading.Event, poll_s: float = 1.0) -> None:
        while not stopping.wait(poll_s):
            self.run_pending()
