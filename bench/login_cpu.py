"""CPU of one returning login in process: the `login` handler over the emulators, no HTTP server.

    .venv/bin/python -m bench.login_cpu [--patients 300] [--profile N]

Logs ``--patients`` patients in once (patient and e-referral created), then each again with a fresh
assertion, one at a time, and prints this process's CPU seconds per returning login (the handler,
the clients of Redis, Spanner and Firestore, the JWT) and the backend round trips it made, counted
on the clients; ``--profile N`` also prints the N costliest functions (cProfile, cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from bench.common import bench_stack
from bench.login import _sign
from emulators.seed import pesel_for, seed


@contextmanager
def counted(container: Any) -> Iterator[Counter[str]]:
    """Round trips by backend while the block runs: the client calls that reach the network."""
    calls: Counter[str] = Counter()
    patches: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            calls[label] += 1
            return original(*args, **kwargs)

        patches.append((owner, name, original))
        setattr(owner, name, counting)

    from google.cloud.firestore_v1.services.firestore import client as firestore_gapic
    from google.cloud.spanner_v1.services.spanner import client as spanner_gapic

    for method in ("streaming_read", "execute_streaming_sql", "read", "execute_sql", "begin_transaction", "commit"):
        wrap(spanner_gapic.SpannerClient, method, f"Spanner {method}")
    for method in ("get_document", "batch_get_documents", "commit", "run_query"):
        wrap(firestore_gapic.FirestoreClient, method, f"Firestore {method}")
    rows = container.patients.rows  # the patients' own reader: raw protobuf on the library's channel
    read, create_session = rows._calls()
    rows._read, rows._create_session = read, create_session
    wrap(rows, "_read", "Spanner streaming_read")
    wrap(rows, "_create_session", "Spanner create_session")
    creator = getattr(container.sessions, "creator", None)  # a patient's session: raw protobuf too
    if creator is not None:
        creator._commit = creator._call()
        wrap(creator, "_commit", "Firestore commit")
    redis = container.redis
    if redis is not None:
        pool = redis.connection_pool
        wrap(pool, "get_connection", "Redis")
    try:
        yield calls
    finally:
        for owner, name, original in reversed(patches):
            setattr(owner, name, original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0, help="print this many functions of a cProfile run")
    args = parser.parse_args()

    with bench_stack("login-cpu", workers=1, threads=1, consumers=False) as stack:
        seed(stack.container.spanner, stack.container.firestore, points=16, days=1, patients=0)
        os.environ.update(stack.env)  # this process's container: the benchmark's databases, no rate limits
        from flask import Flask, request

        import functions.login as login
        from shared.bootstrap import get_container

        app = Flask(__name__)
        pesels = [pesel_for(date(1940 + i % 60, 1 + i % 12, 1 + i % 28), i, female=i % 2 == 0)
                  for i in range(args.patients)]  # fmt: skip

        def run(signed: list[str]) -> Callable[[], float]:
            def logins() -> float:
                started = time.process_time()
                for assertion in signed:
                    with app.test_request_context("/api/v1/login", method="POST", json={"assertion": assertion}):
                        response: Any = login.login(request)
                        assert response.status_code == 200, response.get_data(as_text=True)
                return (time.process_time() - started) / len(signed) * 1000

            return logins

        print(f"first logins of {args.patients} patients...", flush=True)
        run([_sign(p) for p in pesels])()
        run([_sign(p) for p in pesels])()  # warm: connections, caches, imports
        returning = [_sign(p) for p in pesels]
        with counted(get_container()) as calls:
            started = time.perf_counter()
            cpu = run(returning)()
            wall = (time.perf_counter() - started) / len(returning) * 1000
        trips = ", ".join(f"{name} {count / len(returning):.2f}" for name, count in sorted(calls.items()))
        print(f"returning login in process: {cpu:.3f} ms CPU, {wall:.2f} ms wall a login ({len(returning)} logins); "
              f"round trips a login: {sum(calls.values()) / len(returning):.2f} ({trips})", flush=True)  # fmt: skip
        if args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
            profiler.runcall(run([_sign(p) for p in pesels]))
            pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.profile)


if __name__ == "__main__":
    main()
