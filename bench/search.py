"""Slot search benchmark: searches per second and latency through the local HTTP host.

    .venv/bin/python -m bench.search [--points 300|6000] [--users 32] [--seconds 20]

A realistic mix of queries: by voivodeship, county, municipality or point, with and without a
vaccine, from now or from a later day, some asking for the next page. Anonymous, as most are.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import bench_stack, run_load
from emulators.seed import generate_points, seed

VACCINES = ["comirnaty", "spikevax", "vaxzevria", "jcovden"]


def query_mix(points: int, count: int = 5000, seed_value: int = 11) -> list[str]:
    rng = random.Random(seed_value)
    demo = generate_points(points)
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    queries = []
    for _ in range(count):
        point = rng.choice(demo)
        kind = rng.random()
        if kind < 0.5:
            params = f"voivodeship={point.voivodeship}"
        elif kind < 0.75:
            params = f"county={point.county}"
        elif kind < 0.9:
            params = f"municipality={point.municipality}"
        else:
            params = f"point_id={point.point_id}"
        if rng.random() < 0.7:
            params += f"&vaccine={rng.choice(VACCINES)}"
        if rng.random() < 0.3:
            start = today + timedelta(days=rng.randint(1, 10))
            params += "&from=" + start.isoformat().replace("+", "%2B")
        queries.append(f"/api/v1/slots?{params}&limit=20")
    return queries


def search_task(queries: list[str]) -> Callable[[Any], None]:
    rng = random.Random()

    def task(client: Any) -> None:
        with client.get(rng.choice(queries), name="/api/v1/slots", catch_response=True) as response:
            # An empty answer is a right answer too (a point that does not offer the vaccine).
            if response.status_code != 200:
                response.failure(str(response.status_code))

    return task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--spanner", action="store_true", help="search Spanner, not the Redis projection (before)")
    args = parser.parse_args()

    with bench_stack("search", workers=args.workers, threads=args.threads) as stack:
        summary = seed(
            stack.container.spanner, stack.container.firestore, points=args.points, days=args.days,
            second_dose_days=0, patients=0,
        )  # fmt: skip
        print(f"scale: {summary.points} points, {summary.slots} slots (seeded in {summary.seconds} s)", flush=True)
        availability, projection = stack.container.availability, stack.container.projection
        if availability is not None and not args.spanner:
            built = availability.rebuild()
            print(f"projection: {built.slots} slots of {built.points} points into Redis in {built.seconds:.1f} s")
        else:
            if projection is not None:
                projection.mark_ready(False)
            print("projection: off (search reads Spanner's free-slot indexes)")
        time.sleep(stack.container.settings.spanner_search_staleness_s + 1)  # stale reads see the seed
        print(f"host: {args.workers} process(es) x {args.threads} threads; load: {args.users} clients", flush=True)
        result = run_load(stack.base_url, args.users, args.seconds, "bench.search:search_task", query_mix(args.points))
        print(result.line(f"slot search at {summary.points} points"), flush=True)


if __name__ == "__main__":
    main()
