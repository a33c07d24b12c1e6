"""A peak night's jobs: the day-before reminders and the no-show marking, each killed half-way and resumed.

    flock /tmp/ereg-load.lock .venv/bin/python -m bench.reminders [--visits 500000] [--no-shows N]

Seeds ``--visits`` visits booked for tomorrow (one patient each, with a phone) and ``--no-shows``
visits still BOOKED yesterday (default: as many), straight into Spanner in batches of mutations, over
points with eight slots a day (about 25 visits a slot). Then, for each job, the service the function
calls (shared/services/reminders.py, shared/services/no_shows.py, their checkpoints in Firestore):
a first run that dies half-way (the publish of a page of reminders, the transaction of a page of
no-shows, raise), then runs from the checkpoint until the job is done (each run stops at the time
budget as in the cloud). It prints the time, the rate and what was asked for: every reminder request
id published, how many twice and how many missing; every visit marked once (Spanner's statuses and
the outbox's VisitNoShow events).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from google.cloud import spanner

from bench.common import bench_stack
from emulators.seed import POINT_COLUMNS, SLOT_COLUMNS, SLOT_HOURS, demo_programme, generate_points
from shared.adapters.firestore_night_jobs import FirestoreCheckpoints
from shared.adapters.spanner_reads import VISIT_COLUMNS
from shared.bootstrap import Container
from shared.domain.availability import SlotState
from shared.domain.events import VISIT_NO_SHOW
from shared.domain.local_time import WARSAW
from shared.domain.points import Point
from shared.domain.sms import reminder_request_id
from shared.services.night_jobs import JobRun, NightJobs
from shared.services.no_shows import NightlyNoShows
from shared.services.points import PointService
from shared.services.ports import MessagePublisher
from shared.services.reminders import Reminders
from shared.services.transaction import BookedRef
from shared.topology import SMS_REQUESTS

T = TypeVar("T")
BATCH = 500  # patients a commit (each with its visit or two)


class Killed(Exception):
    """The process died (or the function timed out) in the middle of the job."""


@dataclass
class CountingBus:
    """The real bus; records each reminder's request id it published, and dies on the page ``die_at``."""

    bus: MessagePublisher
    die_at: int | None
    pages: int = 0
    requested: Counter[str] = field(default_factory=Counter)

    def publish(self, topic: str, data: bytes, timeout_s: float = 10.0, **attributes: str) -> str:
        return self.bus.publish(topic, data, timeout_s, **attributes)

    def publish_many(
        self, topic: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout_s: float = 10.0
    ) -> list[bool]:
        self.pages += 1
        if self.pages == self.die_at:
            raise Killed(f"killed while publishing page {self.pages}")
        taken = self.bus.publish_many(topic, messages, timeout_s)
        if topic == SMS_REQUESTS:
            self.requested.update(
                json.loads(data)["request_id"] for (data, _), ok in zip(messages, taken, strict=True) if ok
            )
        return taken


class DyingOffice:
    """The real back office; dies in its transaction number ``die_at``."""

    def __init__(self, office: Any, die_at: int | None) -> None:
        self.office, self.die_at, self.transactions = office, die_at, 0

    def run(self, work: Callable[[Any], T]) -> T:
        return self.run_written(work)[0]

    def run_written(self, work: Callable[[Any], T]) -> tuple[T, list[SlotState]]:
        self.transactions += 1
        if self.transactions == self.die_at:
            raise Killed(f"killed in transaction {self.transactions}")
        result: tuple[T, list[SlotState]] = self.office.run_written(work)
        return result

    def read(self, work: Callable[[Any], T]) -> T:
        result: T = self.office.read(work)
        return result

    def booked_before(self, day: date, after: BookedRef | None, limit: int) -> list[BookedRef]:
        refs: list[BookedRef] = self.office.booked_before(day, after, limit)
        return refs


def slot_keys(points: list[Point], day: date) -> list[tuple[Point, datetime, str]]:
    keys = []
    for point in points:
        for hour in SLOT_HOURS:
            starts_at = datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW).astimezone(UTC)
            keys.append((point, starts_at, point.vaccines[hour % len(point.vaccines)]))
    return keys


def seed_night(container: Container, visits: int, no_shows: int, points: int, today: date) -> dict[str, set[str]]:
    """Points, their slots yesterday and tomorrow, one patient per visit; returns the visit ids by day."""
    demo = generate_points(points)
    days = {"tomorrow": (today + timedelta(days=1), visits), "yesterday": (today - timedelta(days=1), no_shows)}
    by_id = {p.point_id: p for p in demo}
    booked: Counter[tuple[str, datetime, str]] = Counter()
    plan: dict[str, list[tuple[Point, datetime, str]]] = {}
    for name, (day, count) in days.items():
        keys = slot_keys(demo, day)
        plan[name] = [keys[n % len(keys)] for n in range(count)]
        booked.update((p.point_id, at, vaccine) for p, at, vaccine in plan[name])
    with container.spanner.batch() as batch:
        batch.insert(
            "Points",
            POINT_COLUMNS,
            [
                (
                    p.point_id,
                    p.name,
                    p.voivodeship,
                    p.county,
                    p.municipality,
                    p.city,
                    p.street,
                    p.postal_code,
                    p.vaccines,
                    True,
                )
                for p in demo
            ],
        )
        batch.insert(
            "Slots",
            SLOT_COLUMNS,
            [
                (
                    point_id,
                    at,
                    vaccine,
                    n,
                    n,
                    by_id[point_id].voivodeship,
                    by_id[point_id].county,
                    by_id[point_id].municipality,
                    None,
                )
                for (point_id, at, vaccine), n in booked.items()
            ],
        )
    rng = random.Random(25)
    ids: dict[str, set[str]] = {name: set() for name in days}
    columns = ("PatientId", "Pesel", "GivenName", "FamilyName", "BirthDate", "Phone", "CreatedAt", "UpdatedAt")
    for start in range(0, max(visits, no_shows), BATCH):
        patients, rows = [], []
        for n in range(start, min(max(visits, no_shows), start + BATCH)):
            patient_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            patients.append(
                (
                    patient_id,
                    f"8{n:010d}",
                    "Jan",
                    "Testowy",
                    date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
                    f"+48601{n % 1_000_000:06d}",
                    spanner.COMMIT_TIMESTAMP,
                    spanner.COMMIT_TIMESTAMP,
                )
            )
            for name, (day, count) in days.items():
                if n >= count:
                    continue
                point, starts_at, vaccine = plan[name][n]
                visit_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                ids[name].add(visit_id)
                rows.append(
                    (
                        patient_id,
                        visit_id,
                        str(uuid.uuid4()),
                        1,
                        vaccine,
                        point.point_id,
                        starts_at,
                        "BOOKED",
                        "WEB",
                        "1234",
                        day,
                        spanner.COMMIT_TIMESTAMP,
                        spanner.COMMIT_TIMESTAMP,
                    )
                )
        with container.spanner.batch() as batch:
            batch.insert("Patients", columns, patients)
            batch.insert("Visits", (*VISIT_COLUMNS, "BookedDay", "CreatedAt", "ChangedAt"), rows)
    return ids


def until_done(run: Callable[[], JobRun]) -> Iterator[JobRun | Killed]:
    """The first delivery, then each retry or tick that goes on, until the job is done."""
    while True:
        try:
            done = run()
        except Killed as killed:
            yield killed
            continue
        yield done
        if done.finished:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", type=int, default=500_000, help="visits booked for tomorrow")
    parser.add_argument("--no-shows", type=int, default=None, help="visits still BOOKED yesterday (default: --visits)")
    parser.add_argument("--points", type=int, default=None, help="default: a point per 200 visits")
    parser.add_argument("--budget-s", type=float, default=240.0, help="a run's time budget (as in the cloud)")
    args = parser.parse_args()
    no_shows = args.visits if args.no_shows is None else args.no_shows
    points = args.points or max(16, math.ceil(max(args.visits, no_shows) / 200))

    with bench_stack("reminders", consumers=False, private=("spanner",)) as stack:
        container = stack.container
        now = datetime.now(UTC)
        today = now.astimezone(WARSAW).date()
        container.firestore.publish_programme(demo_programme(now))
        started = time.perf_counter()
        ids = seed_night(container, args.visits, no_shows, points, today)
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        print(
            f"seeded {args.visits:,} visits for tomorrow and {no_shows:,} still booked yesterday at {points:,} "
            f"points in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        checkpoints = FirestoreCheckpoints(container.firestore.client)

        # --- reminders ---
        tomorrow = today + timedelta(days=1)
        page = 500
        bus = CountingBus(container.bus, die_at=math.ceil(args.visits / page) // 2 + 1)
        jobs = NightJobs(checkpoints, bus, time.monotonic, args.budget_s)
        reminders = Reminders(container.visit_reader, container.patients, container.points, bus, True, jobs, page)
        started = time.perf_counter()
        runs = list(until_done(lambda: reminders.run(tomorrow)))
        seconds = time.perf_counter() - started
        expected = {reminder_request_id(v, tomorrow) for v in ids["tomorrow"]}
        twice = sum(1 for n in bus.requested.values() if n > 1)
        missing = len(expected - set(bus.requested))
        print(
            f"reminders: {sum(bus.requested.values()):,} requests for {args.visits:,} visits in {seconds:.1f} s = "
            f"{args.visits / seconds:,.0f}/s over {len(runs)} runs ({describe(runs)}); "
            f"{twice} twice, {missing} missing, {len(set(bus.requested) - expected)} unexpected",
            flush=True,
        )

        # --- no-shows ---
        page = 200
        office = DyingOffice(container.transactions, die_at=math.ceil(no_shows / page) // 2 + 1)
        jobs = NightJobs(checkpoints, container.bus, time.monotonic, args.budget_s)
        point_service = PointService(office, container.programme, container.post_commit, container.availability)
        nightly = NightlyNoShows(office, point_service, jobs, page)
        started = time.perf_counter()
        runs = list(until_done(lambda: nightly.run(today, datetime.now(UTC))))
        seconds = time.perf_counter() - started
        with container.spanner.snapshot() as snapshot:
            marked = next(iter(snapshot.execute_sql("SELECT COUNT(*) FROM Visits WHERE Status = 'NO_SHOW'")))[0]
        with container.spanner.snapshot() as snapshot:
            rows = snapshot.execute_sql(
                "SELECT Payload FROM Outbox WHERE EventType = @type",
                params={"type": VISIT_NO_SHOW},
                param_types={"type": spanner.param_types.STRING},
            )
            events = Counter(json.loads(row[0])["visit_id"] for row in rows)
        last = runs[-1]
        total = last.total if isinstance(last, JobRun) else 0
        print(
            f"no-shows: {total:,} marked of {no_shows:,} visits in {seconds:.1f} s = {no_shows / seconds:,.0f}/s "
            f"over {len(runs)} runs ({describe(runs)}); Spanner holds {marked:,} NO_SHOW, the outbox "
            f"{sum(events.values()):,} VisitNoShow events for {len(events):,} visits",
            flush=True,
        )
        if (
            twice
            or missing
            or marked != no_shows
            or set(events) != ids["yesterday"]
            or max(events.values()) > 1
            or total != no_shows
        ):
            raise SystemExit("A JOB ASKED TWICE OR MISSED SOME")


def describe(runs: list[JobRun | Killed]) -> str:
    return ", ".join(
        f"killed: {r}"
        if isinstance(r, Killed)
        else f"{r.done:,} done{'' if r.finished else ', out of time'}, {r.total:,} in all"
        for r in runs
    )


if __name__ == "__main__":
    main()
