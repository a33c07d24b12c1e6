"""Start, stop and check the local emulators, the SMS gateway, the FHIR stand-in and Redis.

Spanner, Firestore and Pub/Sub are the official emulators of the machine's Google Cloud CLI;
BigQuery is ``bqemulator`` from PyPI; Redis is Debian's ``redis-server``. Each runs in its own
process group, so stopping it also ends the Java or C++ server behind the ``gcloud`` wrapper. An
emulator of the right kind that already answers on its port (say, one that ``make run`` started)
is reused and left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from emulators.ports import LOOPBACK, Ports, is_listening
from emulators.waiting import poll_until

REPO = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("EREG_STATE_DIR", REPO / ".local"))


class StackError(RuntimeError):
    """Something the person at the keyboard can act on; printed without a stack trace."""


@dataclass
class Service:
    name: str
    label: str
    ports: tuple[int, ...]
    command: Callable[[], list[str]]
    ready: Callable[[], bool]
    prepare: Callable[[], None] = lambda: None
    env: dict[str, str] = field(default_factory=dict)  # what clients need to find it
    process_env: dict[str, str] = field(default_factory=dict)  # what its own process needs


def _answers(url: str, check: Callable[[requests.Response], bool]) -> bool:
    try:
        response = requests.get(url, timeout=1.0)
    except requests.RequestException:
        return False
    try:
        return check(response)
    except ValueError:
        return False


def _sdk_root() -> Path:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise StackError(
            "The Google Cloud CLI (gcloud) is not on PATH. The Spanner, Firestore and Pub/Sub "
            "emulators come with it and cannot be installed from here: install the Google Cloud CLI "
            "with the cloud-spanner-emulator, cloud-firestore-emulator and pubsub-emulator components."
        )
    return Path(os.path.realpath(gcloud)).parent.parent


def _require(path: Path, component: str) -> None:
    if not path.exists():
        raise StackError(
            f"The gcloud component {component} is missing ({path} not found). "
            f"Install it with: gcloud components install {component}"
        )


def _bqemulator() -> str:
    executable = Path(sys.executable).parent / "bqemulator"
    if not executable.exists():
        raise StackError(f"bqemulator is not installed in {Path(sys.executable).parent}: run `make install`.")
    return str(executable)


def _install_duckdb_spatial() -> None:
    """bqemulator loads DuckDB's spatial extension and would download it: copy the packaged one."""
    import duckdb
    import duckdb_extension_spatial

    version = f"v{duckdb.__version__}"
    source = Path(duckdb_extension_spatial.__file__).parent / "extensions" / version / "spatial.duckdb_extension"
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    target_dir = Path.home() / ".duckdb" / "extensions" / version / f"linux_{arch}"
    target = target_dir / source.name
    if not source.exists():
        raise StackError(f"DuckDB's spatial extension is not in {source}: run `make install`.")
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        target_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _redis_server() -> str:
    executable = shutil.which("redis-server")
    if executable is None:
        raise StackError(
            "redis-server is not installed. `make install` installs it with "
            "`apt-get update && apt-get install -y redis-server` (as root); on another system install "
            "Redis 7 and put redis-server on PATH."
        )
    return executable


def redis_answers(port: int) -> bool:
    """Whether a Redis server answers PING on ``port`` (a raw RESP exchange: no client needed)."""
    import socket

    try:
        with socket.create_connection((LOOPBACK, port), timeout=1.0) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_command(port: int) -> list[str]:
    # No persistence: the buckets (and later the projection) are rebuilt from nothing.
    return [
        _redis_server(), "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
        "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning",
    ]  # fmt: skip


def services(ports: Ports, project_id: str) -> list[Service]:
    def spanner_command() -> list[str]:
        _require(_sdk_root() / "bin" / "cloud_spanner_emulator" / "emulator_main", "cloud-spanner-emulator")
        return [
            "gcloud", "emulators", "spanner", "start", f"--host-port={LOOPBACK}:{ports.spanner_grpc}",
            f"--rest-port={ports.spanner_rest}", f"--project={project_id}",
        ]  # fmt: skip

    def firestore_command() -> list[str]:
        _require(_sdk_root() / "platform" / "cloud-firestore-emulator", "cloud-firestore-emulator")
        return [
            "gcloud", "emulators", "firestore", "start", f"--host-port={LOOPBACK}:{ports.firestore}",
            f"--project={project_id}",
        ]  # fmt: skip

    def pubsub_command() -> list[str]:
        _require(_sdk_root() / "platform" / "pubsub-emulator", "pubsub-emulator")
        return [
            "gcloud", "beta", "emulators", "pubsub", "start", f"--host-port={LOOPBACK}:{ports.pubsub}",
            f"--project={project_id}",
        ]  # fmt: skip

    def bigquery_command() -> list[str]:
        return [
            _bqemulator(), "start", "--ephemeral", f"--project={project_id}",
            f"--rest-host={LOOPBACK}", f"--rest-port={ports.bigquery_rest}",
            f"--grpc-host={LOOPBACK}", f"--grpc-port={ports.bigquery_grpc}", "--log-level=warning",
        ]  # fmt: skip

    def sms_command() -> list[str]:
        return [sys.executable, "-m", "emulators.sms_gateway", f"--port={ports.sms_gateway}"]

    def fhir_command() -> list[str]:
        return [sys.executable, "-m", "emulators.fhir_server", f"--port={ports.fhir}"]

    base = f"http://{LOOPBACK}"
    return [
        Service(
            "spanner", "Spanner emulator", (ports.spanner_grpc, ports.spanner_rest), spanner_command,
            lambda: is_listening(ports.spanner_grpc) and _answers(
                f"{base}:{ports.spanner_rest}/v1/projects/{project_id}/instances",
                lambda r: r.ok and isinstance(r.json(), dict),
            ),
            env={"SPANNER_EMULATOR_HOST": f"{LOOPBACK}:{ports.spanner_grpc}"},
        ),
        Service(
            "firestore", "Firestore emulator", (ports.firestore,), firestore_command,
            lambda: _answers(
                f"{base}:{ports.firestore}/v1/projects/{project_id}/databases/(default)/documents/health/probe",
                lambda r: r.json().get("error", {}).get("status") == "NOT_FOUND",
            ),
            env={"FIRESTORE_EMULATOR_HOST": f"{LOOPBACK}:{ports.firestore}"},
        ),
        Service(
            "pubsub", "Pub/Sub emulator", (ports.pubsub,), pubsub_command,
            lambda: _answers(
                f"{base}:{ports.pubsub}/v1/projects/{project_id}/subscriptions",
                lambda r: r.ok and isinstance(r.json(), dict),
            ),
            env={"PUBSUB_EMULATOR_HOST": f"{LOOPBACK}:{ports.pubsub}"},
        ),
        Service(
            "bigquery", "BigQuery emulator (bqemulator)", (ports.bigquery_rest, ports.bigquery_grpc),
            bigquery_command,
            lambda: _answers(
                f"{base}:{ports.bigquery_rest}/bigquery/v2/projects/{project_id}/datasets",
                lambda r: r.ok and r.json().get("kind") == "bigquery#datasetList",
            ),
            prepare=_install_duckdb_spatial,
            env={"BIGQUERY_EMULATOR_HOST": f"{LOOPBACK}:{ports.bigquery_rest}"},
        ),
        Service(
            "redis", "Redis (redis-server)", (ports.redis,), lambda: redis_command(ports.redis),
            lambda: redis_answers(ports.redis),
            env={"EREG_REDIS_URL": f"redis://{LOOPBACK}:{ports.redis}/0"},
        ),
        Service(
            "sms", "SMS gateway", (ports.sms_gateway,), sms_command,
            lambda: _answers(f"{base}:{ports.sms_gateway}/messages", lambda r: r.ok and "messages" in r.json()),
            env={"EREG_SMS_PROVIDER_URL": f"{base}:{ports.sms_gateway}"},
            process_env={
                "PYTHONPATH": str(REPO),
                "EREG_SMS_REPORT_URL": f"{base}:{ports.host}/api/v1/sms/delivery-reports",
                "EREG_SMS_INBOUND_URL": f"{base}:{ports.host}/api/v1/sms/inbound",
            },
        ),
        Service(
            "fhir", "e-health platform (FHIR stand-in)", (ports.fhir,), fhir_command,
            lambda: _answers(f"{base}:{ports.fhir}/admin/stats", lambda r: r.ok and "records" in r.json()),
            env={"EREG_FHIR_BASE_URL": f"{base}:{ports.fhir}/fhir"},
            process_env={"PYTHONPATH": str(REPO)},
        ),
    ]  # fmt: skip


@dataclass
class Started:
    name: str
    pgid: int
    log: str


class LocalStack:
    def __init__(self, ports: Ports, project_id: str, state_dir: Path = STATE_DIR, busy_wait_s: float = 10.0) -> None:
        self.ports = ports
        # How long a service whose port is taken may take to answer before the port is called taken
        # by another program (an emulator on a busy machine answers, only slowly).
        self.busy_wait_s = busy_wait_s
        self.project_id = project_id
        self.state_dir = state_dir
        self.log_dir = state_dir / "logs"
        self._services = {s.name: s for s in services(ports, project_id)}
        self.started: list[Started] = []
        self.reused: list[str] = []

    def env(self, names: Iterable[str] | None = None) -> dict[str, str]:
        env: dict[str, str] = {}
        for name in names or self._services:
            env.update(self._services[name].env)
        return env

    def start(self, names: Iterable[str] | None = None, timeout_s: float = 120.0) -> None:
        chosen = [self._services[n] for n in (names or self._services)]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        waiting: list[tuple[Service, subprocess.Popen[bytes], Path]] = []
        try:
            for service in chosen:
                if service.ready():
                    self.reused.append(service.name)
                    continue
                taken = [p for p in service.ports if is_listening(p)]
                if taken and _ready_within(service, self.busy_wait_s):
                    self.reused.append(service.name)
                    continue
                if taken:
                    raise StackError(
                        f"Port {taken[0]} for the {service.label} is already in use by another program. "
                        f"Stop that program or choose other ports (see the port table in README.md)."
                    )
                service.prepare()
                log_path = self.log_dir / f"{service.name}.log"
                with log_path.open("wb") as log:
                    process = subprocess.Popen(
                        service.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                        start_new_session=True, cwd=self.state_dir, env={**os.environ, **service.process_env},
                    )  # fmt: skip
                self.started.append(Started(service.name, process.pid, str(log_path)))
                waiting.append((service, process, log_path))
            self._save_state()
            deadline = time.monotonic() + timeout_s
            for service, process, log_path in waiting:
                poll_until(
                    lambda s=service, p=process: s.ready() or p.poll() is not None,  # type: ignore[misc]
                    bool,
                    max(0.0, deadline - time.monotonic()),
                )
                if not service.ready():
                    why = "exited" if process.poll() is not None else f"did not answer within {timeout_s:.0f} s"
                    raise StackError(f"The {service.label} {why}. Its log ({log_path}) ends with:\n{_tail(log_path)}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """End every process group this stack started (never one it reused)."""
        for started in reversed(self.started):
            _kill_group(started.pgid)
        self.started.clear()
        self._save_state()

    def status(self) -> dict[str, bool]:
        return {name: service.ready() for name, service in self._services.items()}

    def _save_state(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state = [vars(s) for s in self.started]
        (self.state_dir / f"stack-{os.getpid()}.json").write_text(json.dumps(state))
        if not state:
            (self.state_dir / f"stack-{os.getpid()}.json").unlink(missing_ok=True)


def stop_recorded(state_dir: Path = STATE_DIR) -> list[str]:
    """Stop what earlier runs recorded as started (``python -m emulators stop``)."""
    stopped = []
    for path in state_dir.glob("stack-*.json"):
        for started in json.loads(path.read_text() or "[]"):
            _kill_group(int(started["pgid"]))
            stopped.append(str(started["name"]))
        path.unlink(missing_ok=True)
    return stopped


def _kill_group(pgid: int, grace_s: float = 10.0) -> None:
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def gone() -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        _reap(pgid)
        return False

    if not poll_until(gone, bool, grace_s, every_s=0.1):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    _reap(pgid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _ready_within(service: Service, seconds: float) -> bool:
    return poll_until(service.ready, bool, seconds, every_s=0.5)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
