"""Booking benchmark: bookings (dose 1 + dose 2) per second and latency through the local host.

    .venv/bin/python -m bench.booking [--points 300|6000] [--patients 4000] [--users 16] [--seconds 20]
                                      [--no-projection] [--probe 100]

Patients are registered and logged in beforehand, and the live availability projection is loaded
(unless --no-projection: the next-dose candidates then come from stale snapshot reads); then each
client books a free Comirnaty slot (dose 2 is booked in the same transaction). Many clients aim at
the same slots, so some get 409 slot_full, which is a right answer. Afterwards a probe books
--probe patients one at a time in this process, with the next-dose candidates chosen before the
transaction and, for comparison, chosen inside it by range reads, and prints what one booking's
read-write transaction costs: its duration and the Spanner reads inside it. At the end the database
is checked for overbooking.
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import redis

from bench.common import bench_stack, run_load
from emulators.seed import generate_patients, seed
from shared.adapters.redis_availability import RedisAvailability
from shared.adapters.spanner_availability import SpannerSlotStates
from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_reads import read_free_slots
from shared.adapters.spanner_transaction import SpannerTransactions
from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import Channel, local_iso
from shared.domain.refusals import Refused
from shared.services.availability import Availability
from shared.services.dose_candidates import NextDoseCandidates
from shared.services.identity import LoginResult
from shared.services.visits import BookingRequest, VisitService

T = TypeVar("T")

VOIVODESHIPS = ["02", "04", "06", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28", "30", "32"]


def booking_task(work: list[list[str]]) -> Callable[[Any], None]:
    queue = collections.deque(work)

    def task(client: Any) -> None:
        try:
            token, point_id, starts_at, vaccine = queue.popleft()
        except IndexError:
            return
        body = {"point_id": point_id, "starts_at": starts_at, "vaccine": vaccine, "phone": "601234567"}
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        with client.post("/api/v1/visits", json=body, headers=headers, catch_response=True) as response:
            if response.status_code == 409 and response.json().get("code") == "slot_full":
                response.success()
            elif response.status_code != 201:
                response.failure(f"{response.status_code} {response.text[:80]}")

    return task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--second-dose-days", type=int, default=7)
    parser.add_argument("--patients", type=int, default=4000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--probe", type=int, default=100, help="bookings per variant in the per-booking cost probe")
    parser.add_argument(
        "--no-projection", action="store_true", help="do not load the projection (candidates from stale snapshots)"
    )
    parser.add_argument(
        "--one-at-a-time", type=float, default=0, metavar="SECONDS",
        help="then one client alone through the host for this long: a booking's own latency, nothing queued",
    )  # fmt: skip
    parser.add_argument("--profile", default="", help="py-spy the host during --one-at-a-time into this SVG")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--no-consumers", action="store_true",
        help="attach no push subscriptions: measure booking alone, without the SMS and BigQuery consumers "
        "running on the same two cores",
    )  # fmt: skip
    args = parser.parse_args()

    with bench_stack(
        "booking", args.workers, args.threads, consumers=not args.no_consumers, private=("spanner",)
    ) as stack:
        container = stack.container
        summary = seed(
            container.spanner, container.firestore, points=args.points, days=args.days,
            second_dose_days=args.second_dose_days, patients=args.patients,
        )  # fmt: skip
        print(f"scale: {summary.points} points, {summary.slots} slots (seeded in {summary.seconds} s)", flush=True)
        if not args.no_projection and container.settings.redis_url:
            # A client of its own with a long timeout: the functions' 200 ms is for requests, not a bulk load.
            client = redis.Redis.from_url(container.settings.redis_url, socket_timeout=30)
            projection = RedisAvailability(client, container.settings.redis_key_prefix)
            loaded = Availability(projection, SpannerSlotStates(container.spanner)).rebuild()
            print(f"projection: {loaded.slots} slots loaded into Redis in {loaded.seconds:.1f} s", flush=True)
        logged_in = log_in_everyone(container, args.patients + 2 * args.probe)
        tokens = [token for token, _ in logged_in[: args.patients]]
        probe_patients = [patient_id for _, patient_id in logged_in[args.patients :]]
        slots = free_first_dose_slots(container, days=args.days)
        rng = random.Random(5)
        work = [[token, *rng.choice(slots)] for token in tokens]
        print(f"{len(tokens)} patients logged in; aiming at {len(slots)} slots; host: {args.workers} process(es) x "
              f"{args.threads} threads; load: {args.users} clients", flush=True)  # fmt: skip
        result = run_load(stack.base_url, args.users, args.seconds, "bench.booking:booking_task", work)
        label = "booking alone" if args.no_consumers else "booking with its event consumers on the same host"
        print(result.line(f"{label}, {summary.points} points"), flush=True)
        if args.one_at_a_time:
            # Patients the load did not reach (it books a few dozen a second), one request at a time.
            alone = work[-max(100, int(args.one_at_a_time * 30)) :]
            spy = None
            if args.profile:
                spy = subprocess.Popen(
                    [sys.executable.replace("python", "py-spy"), "record", "--pid", str(stack.host_pid),
                     "--subprocesses", "--duration", str(int(args.one_at_a_time)), "--rate", "200",
                     "--output", args.profile, "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                )  # fmt: skip
            single = run_load(stack.base_url, 1, args.one_at_a_time, "bench.booking:booking_task", alone)
            print(single.line(f"one booking at a time through the host, {summary.points} points"), flush=True)
            if spy is not None:
                spy.wait(timeout=args.one_at_a_time + 60)
                print(f"profile of the host: {args.profile}", flush=True)
        if args.probe:
            probe_cost(container, probe_patients, slots, args.probe)
        check_no_overbooking(container)


class CountingDatabase(SpannerDatabase):
    """The process's database handle, timing each read-write transaction (its turn held, every
    attempt) and counting the Spanner reads made inside it: by key, of the patient's own rows (key
    prefix of an interleaved table), and of slots by range or index (what candidates replace); and
    the mutations its commit carries (one a write call, of one table, however many rows)."""

    def __init__(self, inner: SpannerDatabase) -> None:
        super().__init__(inner.database, 1)
        self.seconds: list[float] = []
        self.key_reads: list[int] = []
        self.prefix_reads: list[int] = []
        self.range_reads: list[int] = []
        self.attempts: list[int] = []
        self.mutations: list[int] = []

    def run_in_transaction(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        counts = {"key": 0, "prefix": 0, "range": 0, "attempts": 0, "mutations": 0}

        def counted(transaction: Any) -> T:
            counts.update(key=0, prefix=0, range=0)
            counts["attempts"] += 1
            read = transaction.read

            def counting_read(table: str, columns: Any, keyset: Any, index: str = "", **more: Any) -> Any:
                by_key = not index and not keyset.ranges and not keyset.all_
                counts["key" if by_key else "range" if table == "Slots" else "prefix"] += 1
                return read(table, columns, keyset, index=index, **more)

            transaction.read = counting_read
            result = work(transaction, *args, **kwargs)
            counts["mutations"] = len(transaction._mutations)
            return result

        started = time.perf_counter()
        try:
            return super().run_in_transaction(counted)
        finally:
            self.seconds.append(time.perf_counter() - started)
            self.key_reads.append(counts["key"])
            self.prefix_reads.append(counts["prefix"])
            self.range_reads.append(counts["range"])
            self.attempts.append(counts["attempts"])
            self.mutations.append(counts["mutations"])


class Timed:
    """A stand-in for one of the booking service's collaborators that adds each call's wall time
    to ``spent[name]`` (so a booking's time splits into its steps)."""

    def __init__(self, inner: Any, name: str, spent: dict[str, float]) -> None:
        self._inner, self._name, self._spent = inner, name, spent

    def __getattr__(self, attribute: str) -> Any:
        found = getattr(self._inner, attribute)
        if not callable(found):
            return found

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return found(*args, **kwargs)
            finally:
                self._spent[self._name] = self._spent.get(self._name, 0.0) + time.perf_counter() - started

        return timed


def probe_cost(container: Any, patients: list[str], slots: list[tuple[str, str, str]], per_variant: int) -> None:
    """Book one at a time in this process, candidates chosen inside and before the transaction."""
    rng = random.Random(7)
    programme = container.programme
    variants = {
        "next dose chosen inside the transaction (range reads)": None,
        "next dose chosen before it (projection/snapshot), confirmed by key": NextDoseCandidates(
            container.free_slot_reads, container.points
        ),
    }
    for (label, candidates), group in zip(
        variants.items(), (patients[:per_variant], patients[per_variant : 2 * per_variant]), strict=True
    ):
        database = CountingDatabase(container.spanner)
        spent: dict[str, float] = {}
        service = VisitService(
            Timed(SpannerTransactions(database), "transaction (turn, reads, commit)", spent),
            container.visit_reader, container.patients, Timed(container.points, "point names", spent),
            Timed(container.post_commit, "publish after commit", spent), programme,
            Timed(container.availability, "projection update", spent) if container.availability else None,
            Timed(candidates, "next-dose candidates", spent) if candidates else None,  # type: ignore[arg-type]
        )  # fmt: skip
        booked = with_dose_two = refused = 0
        cpu_started = time.process_time()
        started = time.perf_counter()
        for patient_id in group:
            point_id, starts_at, vaccine = rng.choice(slots)
            request = BookingRequest(point_id, datetime.fromisoformat(starts_at), vaccine, "+48601234567")
            try:
                change = service.book(patient_id, request, Channel.WEB, datetime.now(UTC), str(uuid.uuid4()), "h")
            except Refused:
                refused += 1
                continue
            booked += 1
            with_dose_two += len(change.visits) > 1
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        ms = sorted(s * 1000 for s in database.seconds)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(
            f"probe, {label}: {booked} booked ({with_dose_two} with dose 2, {refused} refused) one at a time in "
            f"{wall:.1f} s = {booked / wall:.0f}/s; read-write transaction p50 {statistics.median(ms):.1f} ms, "
            f"p99 {p99:.1f} ms; Spanner reads inside it per booking: {statistics.mean(database.key_reads):.2f} by key, "
            f"{statistics.mean(database.prefix_reads):.2f} of the patient's rows, "
            f"{statistics.mean(database.range_reads):.2f} of slots by range/index; attempts "
            f"{statistics.mean(database.attempts):.2f}; mutations {statistics.mean(database.mutations):.2f}",
            flush=True,
        )
        tried = len(group)
        steps = ", ".join(f"{name} {seconds / tried * 1000:.1f} ms" for name, seconds in spent.items())
        print(f"  per booking: wall {wall / tried * 1000:.1f} ms ({steps}); CPU of this process (all its threads) "
              f"{cpu / tried * 1000:.1f} ms", flush=True)  # fmt: skip


def log_in_everyone(container: Any, count: int) -> list[tuple[str, str]]:
    """(session token, patient id) of ``count`` patients, logged in."""
    from bench.login import _sign

    patients = generate_patients(count)

    def login(pesel: str) -> tuple[str, str]:
        result: LoginResult = container.identity.login(_sign(pesel), datetime.now(UTC))
        assert result.patient is not None
        return result.session_token, result.patient.patient_id

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(login, [p.pesel for p in patients]))


def free_first_dose_slots(container: Any, days: int) -> list[tuple[str, str, str]]:
    start = datetime.now(UTC) + timedelta(hours=1)
    end = start + timedelta(days=days)
    found = []
    for voivodeship in VOIVODESHIPS:
        with container.spanner.snapshot() as snapshot:
            slots = read_free_slots(snapshot, SlotQuery(Level.VOIVODESHIP, voivodeship, "comirnaty", start, end, 400))
        found += [(s.point_id, local_iso(s.starts_at), s.vaccine) for s in slots]
    return found


def check_no_overbooking(container: Any) -> None:
    with container.spanner.snapshot(multi_use=True) as snapshot:
        over = next(iter(snapshot.execute_sql("SELECT COUNT(*) FROM Slots WHERE Booked > Capacity")))[0]
        places = next(iter(snapshot.execute_sql("SELECT SUM(Booked) FROM Slots")))[0] or 0
        visits = next(iter(snapshot.execute_sql("SELECT COUNT(*) FROM Visits WHERE Status = 'BOOKED'")))[0]
    print(f"check: slots over capacity {over}; places taken {places}; booked visits {visits}", flush=True)
    if over or places != visits:
        raise SystemExit("OVERBOOKING OR COUNTER DRIFT")


if __name__ == "__main__":
    main()
