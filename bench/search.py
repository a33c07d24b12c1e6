"""Slot search benchmark: searches per second and latency through the local HTTP host.

    .venv/bin/python -m bench.search [--points 300|6000] [--users 32] [--seconds 20] [--ceiling] [--py-spy FILE]

A realistic mix of queries: by voivodeship, county, municipality or point, with and without a
vaccine, from now or from a later day, some asking for the next page. Anonymous, as most are.
``--warm S`` searches for S seconds first, unmeasured: a host process keeps each query's answer while
its slots are unchanged, so a short run measures mostly first-time misses without it (the mix has about
2,000 different queries). ``--ceiling`` first measures the host on a trivial route with the same clients (the same run's
ceiling); the search phase also prints its CPU per search by process group and Redis commands per
search. ``--py-spy FILE`` samples the host's workers during the search phase.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import bench_stack, run_load
from bench.login import costs, print_command, print_costs, start_py_spy
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
    parser.add_argument("--ceiling", action="store_true", help="measure a trivial route of the host first")
    parser.add_argument("--py-spy", dest="py_spy", help="sample the host during the search phase into this file")
    parser.add_argument("--gil", action="store_true", help="py-spy samples only the thread holding the GIL")
    parser.add_argument(
        "--warm",
        type=float,
        default=0,
        help="search this many seconds first, unmeasured (each host process keeps answers)",
    )
    parser.add_argument("--spanner", action="store_true", help="search Spanner, not the Redis projection (before)")
    args = parser.parse_args()
    print_command("bench.search")

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
        redis_client = stack.container.redis
        ceiling = None
        if args.ceiling:
            with costs(stack.host_pid, redis_client) as found:
                ceiling = run_load(stack.base_url, args.users, 10, "bench.login:trivial_task", None)
            print(ceiling.line("host ceiling, trivial route (GET /dev/idp/jwks.json)"), flush=True)
            print_costs("request", ceiling.requests, found)
        if args.warm:
            warm = run_load(stack.base_url, args.users, args.warm, "bench.search:search_task", query_mix(args.points))
            print(warm.line(f"warm-up, not counted ({args.warm:.0f} s)"), flush=True)
        spy = start_py_spy(stack.host_pid, args.seconds, args.py_spy, args.gil) if args.py_spy else None
        with costs(stack.host_pid, redis_client) as found:
            result = run_load(
                stack.base_url, args.users, args.seconds, "bench.search:search_task", query_mix(args.points)
            )
        print(result.line(f"slot search at {summary.points} points"), flush=True)
        print_costs("search", result.requests, found)
        if ceiling is not None and ceiling.per_second:
            print(f"  search = {result.per_second / ceiling.per_second:.2f} of the trivial route's "
                  f"{ceiling.per_second:.0f}/s in the same run", flush=True)  # fmt: skip
        if spy is not None:
            spy.wait(timeout=60)


if __name__ == "__main__":
    main()
