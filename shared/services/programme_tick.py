"""The scheduler's minute tick for the programme: at a cohort's opening minute, start its bulk
e-referral job, and send the paced "your cohort is open" SMS.

Ticks are at least once and may be missed: a job's Idempotency-Key is derived from the cohort and
its opening time, so every tick within the look-back window starts the same job at most once, and a
tick that was missed is made up by the next one. A later tick resumes a job that is still not done
after ``resume_after`` (chunks lost on the way are published again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.programme import Programme, cohorts_opened_between
from shared.services.interest import InterestService
from shared.services.referrals import ReferralIssuer

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"


@dataclass(frozen=True)
class TickOutcome:
    jobs_started: list[str]
    sms_requested: int


class ProgrammeTick:
    def __init__(
        self,
        programme: Callable[[], Programme | None],
        referrals: ReferralIssuer,
        interest: InterestService,
        sms_per_tick: int,
        look_back: timedelta = timedelta(hours=24),
        resume_after: timedelta = timedelta(minutes=10),
    ) -> None:
        self.programme = programme
        self.referrals = referrals
        self.interest = interest
        self.sms_per_tick = sms_per_tick
        self.look_back = look_back
        self.resume_after = resume_after

    def run(self, now: datetime) -> TickOutcome:
        programme = self.programme()
        started = []
        if programme is not None:
            for cohort in cohorts_opened_between(programme, now - self.look_back, now):
                key = f"opening:{cohort.code}:{cohort.opens_at.isoformat()}"
                progress = self.referrals.start(cohort.code, key, SCHEDULER, now, resume_after=self.resume_after)
                started.append(progress.job.job_id)
        requested = self.interest.notify_opened(now, self.sms_per_tick)
        log.info("programme tick: %d referral job(s), %d opening SMS requested", len(started), requested)
        return TickOutcome(started, requested)
