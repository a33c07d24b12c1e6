"""CPU of one slot search in process: the `slots` handler over the emulators, no HTTP server.

    .venv/bin/python -m bench.search_cpu [--points 300] [--searches 3000] [--profile N]

Seeds the points, loads the projection, then calls the handler with the query mix of ``bench.search``
one at a time and prints the CPU seconds per search of this process (the handler, the Redis client,
the JSON); ``--profile N`` also prints the N costliest functions (cProfile, cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

from bench.common import bench_stack
from bench.search import query_mix
from emulators.seed import seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--searches", type=int, default=3000)
    parser.add_argument("--profile", type=int, default=0, help="print this many functions of a cProfile run")
    args = parser.parse_args()

    with bench_stack("search-cpu", workers=1, threads=1) as stack:
        seed(stack.container.spanner, stack.container.firestore, points=args.points, days=14, second_dose_days=0,
             patients=0)  # fmt: skip
        if stack.container.availability is not None:
            stack.container.availability.rebuild()
        os.environ.update(stack.env)  # this process's container: the benchmark's databases, no rate limits
        from flask import Flask, request

        import functions.slots as slots

        app = Flask(__name__)
        queries = query_mix(args.points, count=args.searches)

        def run() -> float:
            started = time.process_time()
            for query in queries:
                path, _, query_string = query.partition("?")
                with app.test_request_context(path, query_string=query_string):
                    slots.slots(request)
            return (time.process_time() - started) / len(queries) * 1000

        run()  # warm: connections, caches, imports
        print(f"slot search in process, {args.points} points: {run():.3f} ms CPU a search "
              f"({len(queries)} searches of the bench.search mix)", flush=True)  # fmt: skip
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(run)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
