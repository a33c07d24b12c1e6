"""``python -m emulators run|start|stop|status|provision|seed``: the local stack from the shell."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType

from emulators.ports import LOOPBACK, Ports
from emulators.stack import STATE_DIR, LocalStack, StackError, stop_recorded
from shared.config import local_project_id


def _settings_env(stack: LocalStack, ports: Ports) -> dict[str, str]:
    env = {
        "EREG_DEPLOYMENT": "local",
        "GOOGLE_CLOUD_PROJECT": stack.project_id,
        "EREG_PUSH_ENDPOINT": f"http://{LOOPBACK}:{ports.host}",
        "EREG_DEV_IDP_JWKS_URL": f"http://{LOOPBACK}:{ports.host}/dev/idp/jwks.json",
        **stack.env(),
    }
    os.environ.update(env)
    return env


def _provision_and_seed(points: int, days: int, reseed: bool) -> None:
    from google.cloud.spanner_v1.keyset import KeySet

    from emulators.provision import provision
    from emulators.seed import seed, top_up_today
    from shared.bootstrap import get_container

    container = get_container()
    provision(container.settings, container.warehouse.client)
    with container.spanner.snapshot() as snapshot:
        has_points = any(True for _ in snapshot.read("Points", ("PointId",), KeySet(all_=True), limit=1))
    if has_points and not reseed:
        added = top_up_today(container.spanner, points)
        print(f"Demo data already present: not seeding again (use `python -m emulators seed` to reseed); "
              f"{added} slots added for today.")  # fmt: skip
    else:
        summary = seed(container.spanner, container.firestore, points=points, days=days, today=True)
        what = f"{summary.points} points, {summary.slots} slots, {summary.patients} patients"
        print(f"Seeded {what} in {summary.seconds} s.")
    _rebuild_availability()


def _rebuild_availability() -> None:
    """Load the search projection in Redis from Spanner (search reads Spanner until it is ready)."""
    from shared.bootstrap import get_container

    availability = get_container().availability
    if availability is None:
        print("No Redis configured: search reads Spanner.")
        return
    done = availability.rebuild()
    print(f"Search projection rebuilt in Redis: {done.slots} slots of {done.points} points in {done.seconds:.1f} s.")


def _scheduler(stopping: threading.Event) -> None:
    """Stands in for Cloud Scheduler: every schedule of infra/topology.yaml (programme tick and outbox
    sweep each minute, reconcile every five, reminders each evening, no-shows each night) on its cron."""
    from emulators.scheduler import LocalScheduler
    from shared.bootstrap import get_container
    from shared.topology import TOPOLOGY

    bus = get_container().bus
    LocalScheduler(TOPOLOGY.schedules, bus.publish, lambda: datetime.now(UTC)).run(stopping)


def run(args: argparse.Namespace) -> int:
    from emulators.host import start_host
    from emulators.seed import generate_patients

    ports = Ports.from_env()
    stack = LocalStack(ports, local_project_id())
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    host = None
    try:
        print(
            "Starting the emulators (Spanner, Firestore, Pub/Sub, BigQuery), the SMS gateway, the FHIR stand-in "
            "and Redis...",
            flush=True,
        )
        stack.start()
        if stack.reused:
            print(f"Reusing emulators already running: {', '.join(stack.reused)}")
        env = _settings_env(stack, ports)
        _provision_and_seed(args.points, args.days, reseed=False)
        host = start_host(env, ports.host)
        threading.Thread(target=_scheduler, args=(stopping,), daemon=True).start()
        base = f"http://{LOOPBACK}:{ports.host}"
        patient = generate_patients(1)[0]
        print(
            f"""
e-Registration is running.
  patient app    {base}/
  agent console  {base}/agent/
  point console  {base}/point/
  dashboard      {base}/dashboard/
  registry       {base}/admin/
  API            {base}/api/v1/...
  health         {base}/api/v1/health
  OpenAPI        {base}/openapi.yaml
  dev login node {base}/dev/idp/assertions
  SMS gateway    http://{LOOPBACK}:{ports.sms_gateway}/messages
  SMS, as a patient (then the PESEL below, a town, TAK or NIE; replies at /messages?to=%2B48601555123):
    curl -s -X POST http://{LOOPBACK}:{ports.sms_gateway}/inbound -H 'Content-Type: application/json' \
         -d '{{"from": "+48601555123", "text": "SZCZEPIMYSIE"}}'
  e-health FHIR  http://{LOOPBACK}:{ports.fhir}/fhir/Immunization

A demo login ({patient.given_name} {patient.family_name}, PESEL {patient.pesel}):
  B='{{"pesel": "{patient.pesel}", "given_name": "{patient.given_name}", "family_name": "{patient.family_name}"}}'
  A=$(curl -s -X POST {base}/dev/idp/assertions -H 'Content-Type: application/json' -d "$B" \\
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["assertion"])')
  curl -s -X POST {base}/api/v1/login -H 'Content-Type: application/json' -d "{{\\"assertion\\": \\"$A\\"}}"

Ctrl-C stops everything this command started.""",
            flush=True,
        )
        while not stopping.wait(1.0):
            if host.poll() is not None:
                print("The local function host exited.", file=sys.stderr)
                return 1
        return 0
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        print("Stopping...", flush=True)
        if host is not None and host.poll() is None:
            from emulators.stack import _kill_group

            _kill_group(host.pid)
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="emulators + schema + demo data + function host, until Ctrl-C")
    sub.add_parser("start", help="start the emulators and leave them running")
    sub.add_parser("stop", help="stop emulators that `start` left running")
    sub.add_parser("status", help="which emulators answer")
    sub.add_parser("provision", help="create the schema, topics and dataset on running emulators")
    seed_parser = sub.add_parser("seed", help="(re)load demo data into running emulators")
    availability_parser = sub.add_parser("availability", help="the search projection in Redis")
    availability_parser.add_argument("action", choices=["rebuild", "reconcile"])
    for p in (run_parser, seed_parser):
        p.add_argument("--points", type=int, default=int(os.environ.get("EREG_DEMO_POINTS", "300")))
        p.add_argument("--days", type=int, default=14)
    args = parser.parse_args(argv)
    os.environ["EREG_DEPLOYMENT"] = "local"  # the default is cloud (fail closed); this is the local stack

    ports = Ports.from_env()
    stack = LocalStack(ports, local_project_id())
    try:
        if args.command == "run":
            return run(args)
        if args.command == "start":
            stack.start()
            stack.started.clear()  # leave them running; `stop` finds them in the state files
            print("Emulators are up. Environment for clients:")
            for key, value in stack.env().items():
                print(f"export {key}={value}")
            return 0
        if args.command == "stop":
            stopped = stop_recorded(STATE_DIR)
            print(f"Stopped: {', '.join(stopped) or 'nothing'}")
            return 0
        if args.command == "status":
            for name, up in stack.status().items():
                print(f"{name:10} {'up' if up else 'down'}")
            return 0
        _settings_env(stack, ports)
        if args.command == "provision":
            from emulators.provision import provision
            from shared.bootstrap import get_container

            provision(get_container().settings, get_container().warehouse.client)
            return 0
        if args.command == "seed":
            _provision_and_seed(args.points, args.days, reseed=True)
            return 0
        if args.command == "availability":
            if args.action == "rebuild":
                _rebuild_availability()
            else:
                from shared.bootstrap import get_container

                availability = get_container().availability
                if availability is not None:
                    print(availability.reconcile())
            return 0
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
