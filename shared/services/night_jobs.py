"""Nightly paged jobs (day-before reminders, no-show marking) that resume where they stopped.

A job walks an index in key order, a page at a time. After each page's work is done (its SMS
requests taken by Pub/Sub, its transaction committed) the job's checkpoint, the last key done, is
saved durably; a run after a crash or a timeout starts after that key, so a page is redone at most
once, and that page's requests carry the ids they carried the first time (downstream de-duplicates).

A run stops itself when its time budget is spent (shorter than the push subscription's ack deadline,
so Pub/Sub never redelivers a tick that is still running) and publishes a tick of its own that goes
on from the checkpoint. A finished job does nothing on a repeated tick, unless its index holds only
work still to do (the no-shows: BOOKED visits of past days): then a new tick starts a fresh pass that
finds only what appeared since (a dose voided after the night, a visit backdated by hand).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from shared.services.ports import MessagePublisher

log = logging.getLogger(__name__)

K = TypeVar("K")
Cursor = tuple[str, ...]


@dataclass(frozen=True)
class Checkpoint:
    job_id: str
    cursor: Cursor | None = None  # the last key done; None: nothing done yet
    done: int = 0  # items the job's pages handled so far (requests made, visits marked)
    pages: int = 0
    runs: int = 0  # runs that worked on the job (2 or more: it was resumed)
    finished: bool = False


class Checkpoints(Protocol):
    """Where a job's checkpoint survives the process (Firestore in the cloud and locally)."""

    def load(self, job_id: str) -> Checkpoint | None: ...
    def save(self, checkpoint: Checkpoint) -> None: ...


@dataclass(frozen=True)
class JobRun:
    """What one run did."""

    job_id: str
    done: int  # items of this run
    total: int  # items of every run of the job so far
    finished: bool
    resumed_after: Cursor | None  # where this run started (None: at the beginning)


@dataclass(frozen=True)
class PagedJob(Generic[K]):
    job_id: str
    next_page: Callable[[Cursor | None], Sequence[K]]  # the page after the cursor, empty at the end
    cursor_of: Callable[[K], Cursor]
    work: Callable[[Sequence[K]], int]  # does a page's work durably; returns the items it handled
    tick_topic: str  # where a run that ran out of time asks for the next one
    tick: dict[str, Any]
    # A tick for a finished job starts a fresh pass (for an index of work still to do only).
    again_when_finished: bool = False


class NightJobs:
    def __init__(
        self, checkpoints: Checkpoints, bus: MessagePublisher, clock: Callable[[], float], budget_s: float
    ) -> None:
        self.checkpoints = checkpoints
        self.bus = bus
        self.clock = clock  # monotonic seconds
        self.budget_s = budget_s

    def run(self, job: PagedJob[K]) -> JobRun:
        started = self.clock()
        checkpoint = self.checkpoints.load(job.job_id) or Checkpoint(job.job_id)
        if checkpoint.finished and job.again_when_finished:
            checkpoint = Checkpoint(job.job_id, done=checkpoint.done, runs=checkpoint.runs)
        if checkpoint.finished:
            return JobRun(job.job_id, 0, checkpoint.done, True, checkpoint.cursor)
        resumed_after = checkpoint.cursor
        checkpoint = replace(checkpoint, runs=checkpoint.runs + 1)
        done = 0
        while True:
            if self.clock() - started >= self.budget_s:
                self.checkpoints.save(checkpoint)
                self.bus.publish(job.tick_topic, json.dumps(job.tick).encode())
                log.info("%s: out of time after %d pages; a new tick goes on", job.job_id, checkpoint.pages)
                return JobRun(job.job_id, done, checkpoint.done, False, resumed_after)
            page = job.next_page(checkpoint.cursor)
            if not page:
                checkpoint = replace(checkpoint, finished=True)
                self.checkpoints.save(checkpoint)
                return JobRun(job.job_id, done, checkpoint.done, True, resumed_after)
            handled = job.work(page)
            done += handled
            checkpoint = replace(
                checkpoint,
                cursor=job.cursor_of(page[-1]),
                done=checkpoint.done + handled,
                pages=checkpoint.pages + 1,
            )
            self.checkpoints.save(checkpoint)
