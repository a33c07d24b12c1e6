"""reminder-ticks -> sms-requests: a day-before reminder for every booked visit of a day.

The visits are read page by page from an index of booked visits by day (no table scan). The job
saves its checkpoint after each page's requests are taken by Pub/Sub and resumes after it (see
shared/services/night_jobs.py). A reminder's request id is derived from the visit and the day, so a
page replayed after a crash makes the same requests and the SMS log sends each once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from shared.domain.booking import Visit
from shared.domain.local_time import WARSAW
from shared.domain.sms import SmsRequest, reminder_request_id, reminder_text
from shared.domain.sms_dialogue import ReminderWindow
from shared.services.night_jobs import JobRun, NightJobs, PagedJob
from shared.services.notifications import visit_facts
from shared.services.ports import MessagePublisher, PatientReader, PointDirectory, VisitReader
from shared.topology import REMINDER_TICKS, SMS_REQUESTS

log = logging.getLogger(__name__)


class RemindersNotTaken(Exception):
    """Pub/Sub did not take every reminder of a page: the tick fails and is retried."""


def tomorrow(now: datetime) -> date:
    """The local day after ``now``: the day a tick without a day reminds of."""
    return (now.astimezone(WARSAW) + timedelta(days=1)).date()


class ReminderWindows(Protocol):
    """Where a reminder went: "NIE" from that phone cancels the visit until it starts."""

    def remember(self, windows: Sequence[tuple[str, ReminderWindow]]) -> None: ...


class Reminders:
    def __init__(
        self,
        visits: VisitReader,
        patients: PatientReader,
        points: PointDirectory,
        bus: MessagePublisher,
        transliterate: bool,
        jobs: NightJobs,
        page: int = 500,
        windows: ReminderWindows | None = None,
    ) -> None:
        self.windows = windows
        self.visits = visits
        self.patients = patients
        self.points = points
        self.bus = bus
        self.transliterate = transliterate
        self.jobs = jobs
        self.page = page

    def run(self, day: date) -> JobRun:
        """Request a reminder for each visit still booked on ``day``, from where an earlier run of the
        day's job stopped; ``done`` counts the requests made."""
        job = PagedJob[Visit](
            job_id=f"reminders-{day.isoformat()}",
            next_page=lambda after: self.visits.booked_on_day(day, after[0] if after else None, self.page),
            cursor_of=lambda visit: (visit.visit_id,),
            work=lambda visits: self._remind([v for v in visits if v.is_active], day),
            tick_topic=REMINDER_TICKS,
            tick={"day": day.isoformat()},
        )
        return self.jobs.run(job)

    def _remind(self, visits: list[Visit], day: date) -> int:
        if not visits:
            return 0
        patients = self.patients.patients({v.patient_id for v in visits})
        points = self.points.get_many(v.point_id for v in visits)
        messages = []
        windows = []
        for visit in visits:
            patient = patients.get(visit.patient_id)
            if patient is None or not patient.phone or visit.point_id not in points:
                continue
            [facts] = visit_facts([visit], points, None)  # a reminder names no vaccine
            request = SmsRequest.compose(
                reminder_request_id(visit.visit_id, day), patient.phone, reminder_text(facts), "Reminder",
                visit.visit_id, self.transliterate,
            )  # fmt: skip
            messages.append(request.message())
            windows.append((patient.phone, ReminderWindow(visit.visit_id, visit.patient_id, visit.starts_at)))
        if self.windows is not None and windows:
            self.windows.remember(windows)  # before the reminders go: an answer may come at once
        taken = self.bus.publish_many(SMS_REQUESTS, messages)
        if not all(taken):
            raise RemindersNotTaken(f"Pub/Sub took {sum(taken)} of {len(taken)} reminders")
        return len(messages)
