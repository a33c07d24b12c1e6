"""What every benchmark shares: the emulators, an isolated database, the host, a load generator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from emulators.host import host_env, start_host
from emulators.ports import LOOPBACK, Ports, free_port
from emulators.provision import provision
from emulators.stack import STATE_DIR, LocalStack, _kill_group, services
from shared.bootstrap import Container, build_container
from shared.config import Settings, local_project_id

# Benchmarks measure capacity, not the per-client limits, so those are lifted here.
NO_RATE_LIMITS = {key: (1e9, 1_000_000) for key in Settings(deployment="local").rate_limits}


# The fields of ``Ports`` of each service a benchmark may run privately.
PRIVATE_PORTS = {
    "redis": ("redis",), "pubsub": ("pubsub",), "sms": ("sms_gateway",), "spanner": ("spanner_grpc", "spanner_rest"),
}  # fmt: skip


@dataclass
class BenchStack:
    base_url: str
    container: Container
    env: dict[str, str]
    private: LocalStack | None = None  # this benchmark's own instances (which it may stop and start)
    host_pid: int = 0  # the host's process group (gunicorn master and workers)


@contextmanager
def bench_stack(
    name: str, workers: int = 1, threads: int = 32, consumers: bool = True, private: Sequence[str] = ()
) -> Iterator[BenchStack]:
    """Emulators (reused if up), a fresh database named for this benchmark, and a host over it.

    ``private`` names services ("redis", "pubsub", "sms", "spanner") this benchmark runs instances of
    its own of, on free ports, so that it may stop or fail them without disturbing anybody else. A
    private Spanner emulator starts empty and its memory goes with it at the end: the shared one keeps
    what every dropped database used (17 GB after a few national runs), which a national run cannot
    afford on a 24 GB machine.
    """
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # clean up on `kill` too
    os.environ["EREG_DEPLOYMENT"] = "local"  # the deployment defaults to cloud (fail closed)
    stack = LocalStack(Ports.from_env(), local_project_id())
    stack.start([s.name for s in services(Ports.from_env(), local_project_id()) if s.name not in private])
    os.environ.update(stack.env())
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    own = None
    if private:
        fields = [field for name in private for field in PRIVATE_PORTS[name]]
        ports = replace(Ports.from_env(), host=port, **{field: free_port() for field in fields})
        own = LocalStack(ports, local_project_id(), state_dir=STATE_DIR / f"bench-{name}-{os.getpid()}")
        own.start(private)
        os.environ.update(own.env(private))
    suffix = f"{name}{int(time.time()) % 100000}"
    settings = Settings(  # type: ignore[call-arg]
        deployment="local",
        redis_key_prefix=f"b{suffix}:",
        spanner_database=f"b{suffix}",
        firestore_database=f"b{suffix}",
        pubsub_prefix=f"b{suffix}-",
        bigquery_dataset=f"b{suffix}".replace("-", "_"),
        push_endpoint=base,
        dev_idp_jwks_url=f"{base}/dev/idp/jwks.json",
    )
    container = build_container(settings)
    # Without consumers, events still go to the outbox and Pub/Sub, but no push subscription makes
    # this host also run notify, send_sms and stream_events (in the cloud they run elsewhere).
    provision(settings, container.warehouse.client, push=consumers)
    env = {
        **stack.env(),
        **(own.env(private) if own else {}),
        **host_env(settings, base),
        "EREG_RATE_LIMITS": json.dumps(NO_RATE_LIMITS),
        "EREG_LOG_LEVEL": "WARNING",
    }
    host = None
    try:
        STATE_DIR.joinpath("logs").mkdir(parents=True, exist_ok=True)
        host = start_host(
            env, port, threads=threads, workers=workers, log_path=STATE_DIR / "logs" / f"bench-{name}.log"
        )
        yield BenchStack(base, container, env, own, host.pid)
    finally:
        if host is not None:
            _kill_group(host.pid)
        try:
            if "spanner" not in private:  # a private emulator goes with its data (a drop takes minutes)
                container.spanner.database.drop()
        finally:
            if own is not None:
                own.stop()
            stack.stop()


@dataclass
class LoadResult:
    requests: int
    failures: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self, label: str) -> str:
        return (
            f"{label}: {self.requests} requests in {self.seconds:.1f} s = {self.per_second:.0f}/s, "
            f"failures {self.failures}, p50 {self.p50_ms:.0f} ms, p95 {self.p95_ms:.0f} ms, p99 {self.p99_ms:.0f} ms"
        )


def run_load(base_url: str, users: int, seconds: float, task_factory: str, payload: Any) -> LoadResult:
    return run_flows(base_url, users, seconds, task_factory, payload)[0]


def run_flows(
    base_url: str, users: int, seconds: float, task_factory: str, payload: Any
) -> tuple[LoadResult, dict[str, LoadResult]]:
    """Closed-loop load: ``users`` clients each call ``task(client)`` in turn for ``seconds``; the
    figures of all requests, and of each request name (a flow).

    ``task_factory`` names "module:function" that turns ``payload`` into the task. The load runs in
    ``bench.load``, a process of its own, because locust patches the standard library with gevent,
    which the gRPC clients of this process must not see.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(payload, file)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "bench.load", base_url, str(users), str(seconds), task_factory, file.name],
            capture_output=True, text=True, timeout=seconds + 180, check=False,
        )  # fmt: skip
    finally:
        os.unlink(file.name)
    if completed.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{completed.stderr[-3000:]}")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    if figures["errors"]:
        print(f"  errors: {figures['errors']}", flush=True)
    flows = {name: LoadResult(**values) for name, values in figures.pop("flows", {}).items()}
    figures.pop("errors")
    return LoadResult(**figures), flows
