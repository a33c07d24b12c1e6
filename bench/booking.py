"""Booking benchmark: bookings (dose 1 + dose 2) per second and latency through the local host.

    .venv/bin/python -m bench.booking [--points 300|6000] [--patients 4000] [--users 16] [--seconds 20]

Patients are registered and logged in beforehand; then each client books a free Comirnaty slot
(dose 2 is booked in the same transaction). Many clients aim at the same slots, so some get
409 slot_full, which is a right answer. At the end the database is checked for overbooking.
"""

from __future__ import annotations

import argparse
import collections
import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import bench_stack, run_load
from emulators.seed import generate_patients, seed
from shared.adapters.spanner_booking import read_free_slots
from shared.domain.booking import local_iso
from shared.services.identity import LoginResult

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
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--no-consumers", action="store_true",
        help="attach no push subscriptions: measure booking alone, without the SMS and BigQuery consumers "
        "running on the same two cores",
    )  # fmt: skip
    args = parser.parse_args()

    with bench_stack("booking", args.workers, args.threads, consumers=not args.no_consumers) as stack:
        container = stack.container
        summary = seed(
            container.spanner, container.firestore, points=args.points, days=args.days,
            second_dose_days=args.second_dose_days, patients=args.patients,
        )  # fmt: skip
        print(f"scale: {summary.points} points, {summary.slots} slots (seeded in {summary.seconds} s)", flush=True)
        tokens = log_in_everyone(container, args.patients)
        slots = free_first_dose_slots(container, days=args.days)
        rng = random.Random(5)
        work = [[token, *rng.choice(slots)] for token in tokens]
        print(f"{len(tokens)} patients logged in; aiming at {len(slots)} slots; host: {args.workers} process(es) x "
              f"{args.threads} threads; load: {args.users} clients", flush=True)  # fmt: skip
        result = run_load(stack.base_url, args.users, args.seconds, "bench.booking:booking_task", work)
        label = "booking alone" if args.no_consumers else "booking with its event consumers on the same host"
        print(result.line(f"{label}, {summary.points} points"), flush=True)
        check_no_overbooking(container)


def log_in_everyone(container: Any, count: int) -> list[str]:
    from bench.login import _sign

    patients = generate_patients(count)

    def login(pesel: str) -> str:
        result: LoginResult = container.identity.login(_sign(pesel), datetime.now(UTC))
        return result.session_token

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(login, [p.pesel for p in patients]))


def free_first_dose_slots(container: Any, days: int) -> list[tuple[str, str, str]]:
    start = datetime.now(UTC) + timedelta(hours=1)
    end = start + timedelta(days=days)
    found = []
    for voivodeship in VOIVODESHIPS:
        with container.spanner.snapshot() as snapshot:
            slots = read_free_slots(snapshot, "voivodeship", voivodeship, "comirnaty", start, end, limit=400)
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
