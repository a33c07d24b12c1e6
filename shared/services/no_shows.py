"""no-show-ticks: every visit of a past day still BOOKED becomes NO_SHOW, a page a transaction, as
a nightly job that resumes after its last page done (shared/services/night_jobs.py)."""

from __future__ import annotations

from datetime import date, datetime

from shared.services.night_jobs import Cursor, JobRun, NightJobs, PagedJob
from shared.services.points import PointService
from shared.services.transaction import BookedRef, Transactions
from shared.topology import NO_SHOW_TICKS


class NightlyNoShows:
    def __init__(self, transactions: Transactions, points: PointService, jobs: NightJobs, page: int = 200) -> None:
        self.transactions = transactions
        self.points = points
        self.jobs = jobs
        self.page = page

    def run(self, before: date, now: datetime) -> JobRun:
        """Mark the visits of days before ``before``; ``done`` counts the visits marked."""
        job = PagedJob[BookedRef](
            job_id=f"no-shows-before-{before.isoformat()}",
            next_page=lambda after: self.transactions.booked_before(before, _ref(after), self.page),
            cursor_of=lambda ref: (ref[0].isoformat(), ref[1], ref[2]),
            work=lambda refs: self.points.mark_no_shows_page(refs, before, now),
            tick_topic=NO_SHOW_TICKS,
            tick={"before": before.isoformat()},
            again_when_finished=True,  # the index holds only BOOKED visits: a fresh pass reads what is new
        )
        return self.jobs.run(job)


def _ref(cursor: Cursor | None) -> BookedRef | None:
    return None if cursor is None else (date.fromisoformat(cursor[0]), cursor[1], cursor[2])
