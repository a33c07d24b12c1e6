"""Login benchmark: logins per second and latency through the local HTTP host.

    .venv/bin/python -m bench.login [--users 64] [--seconds 20] [--patients 2000] [--workers 2]

Phase 1 logs in patients for the first time (patient created, e-referral issued); phase 2 logs the
same patients in again with fresh assertions, the common case at a peak. Assertions are signed in
advance by the development identity provider's key, so signing costs the host nothing.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import jwt

from bench.common import bench_stack, run_load
from emulators.seed import pesel_for, seed


def _sign(pesel: str) -> str:
    from emulators.dev_idp import key_id, signing_key
    from shared.config import get_settings

    settings = get_settings()
    now = int(time.time())
    claims = {
        "iss": settings.dev_idp_issuer, "aud": settings.assertion_audience, "sub": pesel, "jti": str(uuid.uuid4()),
        "iat": now, "nbf": now, "exp": now + 600, "pesel": pesel, "given_name": "Jan", "family_name": "Próbny",
    }  # fmt: skip
    return jwt.encode(claims, signing_key(), algorithm="RS256", headers={"kid": key_id()})


def _assertions(pesels: list[str]) -> list[str]:
    with multiprocessing.Pool(2) as pool:
        return pool.map(_sign, pesels, chunksize=200)


def login_task(assertions: list[str]) -> Callable[[Any], None]:
    """Each call logs in with the next unused assertion (runs in the load process)."""
    queue = collections.deque(assertions)

    def task(client: Any) -> None:
        try:
            assertion = queue.popleft()
        except IndexError:
            time.sleep(0.05)
            return
        with client.post("/api/v1/login", json={"assertion": assertion}, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(str(response.status_code))

    return task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=64, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="host processes")
    parser.add_argument("--threads", type=int, default=32, help="threads per host process")
    args = parser.parse_args()

    with bench_stack("login", workers=args.workers, threads=args.threads) as stack:
        seed(stack.container.spanner, stack.container.firestore, points=16, days=1, patients=0)
        pesels = [
            pesel_for(date(1940 + i % 60, 1 + i % 12, 1 + i % 28), i, female=i % 2 == 0) for i in range(args.patients)
        ]
        print(f"signing {args.patients} first-login assertions...", flush=True)
        first = _assertions(pesels)
        returning_count = int(args.seconds * 1000)
        print(f"signing {returning_count} returning-login assertions...", flush=True)
        returning = _assertions([pesels[i % len(pesels)] for i in range(returning_count)])

        print(f"host: {args.workers} process(es) x {args.threads} threads; load: {args.users} clients", flush=True)
        # Long enough for every patient's first login, so that phase 2 measures returning logins only.
        first_seconds = max(5.0, args.patients / 80)
        first_run = run_load(stack.base_url, args.users, first_seconds, "bench.login:login_task", first)
        print(first_run.line("first login (patient + e-referral created)"), flush=True)
        if first_run.requests < len(first):
            print(f"  note: {len(first) - first_run.requests} first logins were left for phase 2", flush=True)
        second_run = run_load(
            stack.base_url, args.users, seconds=args.seconds, task_factory="bench.login:login_task", payload=returning
        )
        print(second_run.line("returning login"), flush=True)


if __name__ == "__main__":
    main()
