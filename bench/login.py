"""Login benchmark: logins per second and latency through the local HTTP host.

    .venv/bin/python -m bench.login [--users 64] [--seconds 20] [--patients 2000] [--workers 2]
                                    [--sessions redis|firestore] [--ceiling] [--py-spy FILE]

Phase 1 logs in patients for the first time (patient created, e-referral issued); phase 2 logs the
same patients in again with fresh assertions, the common case at a peak. Assertions are signed in
advance by the development identity provider's key, so signing costs the host nothing.

For phase 2 it also prints the CPU each process group spent per login (host, emulators, Redis, the
load generator: read from /proc) and the Redis commands per login. ``--ceiling`` first measures the
host on a trivial route (the development provider's JWKS document: no backend) with the same
clients; ``--py-spy FILE`` samples the host's workers during phase 2 (collapsed stacks).
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import jwt

from bench.common import LoadResult, bench_stack, run_load
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


def trivial_task(_: Any) -> Callable[[Any], None]:
    def task(client: Any) -> None:
        with client.get("/dev/idp/jwks.json", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(str(response.status_code))

    return task


PROCESS_GROUPS = {  # what a process's command line names -> the group its CPU is counted in
    "firestore": "Firestore emulator",
    "emulator_main": "Spanner emulator",
    "spanner": "Spanner emulator",
    "redis-server": "Redis",
    "pubsub": "Pub/Sub emulator",
    "bench.load": "load generator",
}


def _own_ports() -> tuple[str, ...]:
    """The ports of this run's emulators: on a shared machine, other engineers run emulators too."""
    from dataclasses import astuple

    from emulators.ports import Ports

    return tuple(f"{port}" for port in astuple(Ports.from_env())[1:])


def cpu_by_group(host_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of every process, by group; the host is its process group.
    An emulator counts only if its command line names one of this run's ports (others' are not ours)."""
    ticks = os.sysconf("SC_CLK_TCK")
    ports = _own_ports()
    totals: dict[str, float] = collections.defaultdict(float)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pgid, cpu = int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks
        if pgid == host_pid:
            totals["host (gunicorn)"] += cpu
            continue
        group = next((name for word, name in PROCESS_GROUPS.items() if word in command), None)
        if group and any(port in command for port in ports):
            totals[group] += cpu
    return totals


@contextmanager
def costs(host_pid: int, redis_client: Any) -> Iterator[dict[str, Any]]:
    """What happened while the block ran: CPU seconds by group, Redis commands, wall time."""
    found: dict[str, Any] = {}
    cpu_before, (commands_before, reads_before) = cpu_by_group(host_pid), _redis_counts(redis_client)
    started = time.monotonic()
    yield found
    found["wall"] = time.monotonic() - started
    cpu_after = cpu_by_group(host_pid)
    found["cpu"] = {g: cpu_after[g] - cpu_before.get(g, 0.0) for g in cpu_after}
    commands_after, reads_after = _redis_counts(redis_client)
    found["redis_commands"], found["redis_reads"] = commands_after - commands_before, reads_after - reads_before


def _redis_counts(client: Any) -> tuple[int, int]:
    """Commands (a script's own calls included) and read events (about one per round trip: a pipeline
    arrives as one) the server has processed so far."""
    if client is None:
        return 0, 0
    stats = client.info("stats")
    return int(stats["total_commands_processed"]), int(stats.get("total_reads_processed", 0))


def print_command(module: str) -> None:
    """The command that prints these figures, and the machine's load as it starts (the machine is shared)."""
    print(f"command: .venv/bin/python -m {module} {' '.join(sys.argv[1:])}".rstrip(), flush=True)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


def print_costs(label: str, requests: int, found: dict[str, Any]) -> None:
    if not requests:
        return
    per = {g: s * 1000 / requests for g, s in sorted(found["cpu"].items(), key=lambda i: -i[1]) if s > 0}
    total = sum(per.values())
    parts = ", ".join(f"{g} {ms:.2f}" for g, ms in per.items())
    print(f"  CPU ms per {label}: {total:.2f} in all ({parts}); machine CPU busy "
          f"{sum(found['cpu'].values()) / found['wall'] / (os.cpu_count() or 1) * 100:.0f}% of "
          f"{os.cpu_count()} cores; Redis commands per {label}: {found['redis_commands'] / requests:.2f}, "
          f"Redis read events (round trips) per {label}: {found['redis_reads'] / requests:.2f}",
          flush=True)  # fmt: skip


def start_py_spy(host_pid: int, seconds: float, output: str, gil: bool = False) -> subprocess.Popen[bytes]:
    """Sample the host's workers for ``seconds`` into ``output`` (collapsed stacks); with ``gil``, only
    the thread holding the GIL (where the CPU goes, not where threads wait)."""
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(host_pid), "--subprocesses",
         "--duration", str(int(seconds)), "--format", "raw", "--output", output, "--nonblocking",
         *(["--gil"] if gil else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=64, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="host processes")
    parser.add_argument("--threads", type=int, default=32, help="threads per host process")
    parser.add_argument("--sessions", choices=["redis", "firestore"], default="firestore", help="the session store")
    parser.add_argument("--ceiling", action="store_true", help="measure a trivial route of the host first")
    parser.add_argument("--py-spy", dest="py_spy", help="sample the host during phase 2 into this file")
    parser.add_argument("--gil", action="store_true", help="py-spy samples only the thread holding the GIL")
    args = parser.parse_args()
    os.environ["EREG_SESSION_STORE"] = args.sessions  # the host's and this process's container
    print_command("bench.login")

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

        print(f"host: {args.workers} process(es) x {args.threads} threads; load: {args.users} clients; "
              f"sessions in {args.sessions}", flush=True)  # fmt: skip
        redis_client = stack.container.redis
        trivial = LoadResult(0, 0, 0.0, 0.0, 0.0, 0.0)
        if args.ceiling:
            with costs(stack.host_pid, redis_client) as found:
                trivial = run_load(stack.base_url, args.users, 10, "bench.login:trivial_task", None)
            print(trivial.line("host ceiling, trivial route (GET /dev/idp/jwks.json)"), flush=True)
            print_costs("request", trivial.requests, found)
        # Long enough for every patient's first login, so that phase 2 measures returning logins only.
        first_seconds = max(5.0, args.patients / 80)
        first_run = run_load(stack.base_url, args.users, first_seconds, "bench.login:login_task", first)
        print(first_run.line("first login (patient + e-referral created)"), flush=True)
        if first_run.requests < len(first):
            print(f"  note: {len(first) - first_run.requests} first logins were left for phase 2", flush=True)
        spy = start_py_spy(stack.host_pid, args.seconds, args.py_spy, args.gil) if args.py_spy else None
        with costs(stack.host_pid, redis_client) as found:
            second_run = run_load(
                stack.base_url, args.users, seconds=args.seconds, task_factory="bench.login:login_task",
                payload=returning,
            )  # fmt: skip
        print(second_run.line("returning login"), flush=True)
        print_costs("login", second_run.requests, found)
        if trivial.per_second:
            print(f"  returning login = {second_run.per_second / trivial.per_second:.2f} of the trivial route's "
                  f"{trivial.per_second:.0f}/s in the same run", flush=True)  # fmt: skip
        if spy is not None:
            spy.wait(timeout=60)


if __name__ == "__main__":
    main()
