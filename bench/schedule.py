"""Schedule benchmark: 600 points publish two weeks of schedule at once (slots per second).

    flock /tmp/ereg-load.lock .venv/bin/python -m bench.schedule [--points 600] [--days 14] [--clients 16]

On opening day 4,787 points published 1.5 million slots. Here every point sends one
PUT /api/v1/points/{id}/schedule with a block per day (08:00-16:00, --slot-minutes slots, one hour as
in the demo data) through the local host, all requests submitted together to --clients concurrent
HTTP clients; each PUT is one transaction that writes the point's slots and one ScheduleChanged
outbox event per slot, checked against the point's stock (recorded beforehand, not timed).
Prints slots created per second.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests
from google.cloud import spanner

from bench.common import bench_stack
from emulators.seed import POINT_COLUMNS, demo_programme, generate_points, pesel_for
from shared.domain.booking import WARSAW


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=600)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--slot-minutes", type=int, default=60)
    parser.add_argument("--places", type=int, default=6)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    with bench_stack("schedule", workers=1, threads=args.threads, consumers=False) as stack:
        container = stack.container
        now = datetime.now(UTC)
        container.firestore.publish_programme(demo_programme(now))
        points = generate_points(args.points, seed=600)
        slots_per_day = 8 * 60 // args.slot_minutes
        doses = 2 * args.days * slots_per_day * args.places
        for start in range(0, len(points), 100):
            chunk = points[start : start + 100]
            with container.spanner.batch() as batch:
                batch.insert(
                    "Points", columns=POINT_COLUMNS,
                    values=[(p.point_id, p.name, p.voivodeship, p.county, p.municipality, p.city, p.street,
                             p.postal_code, p.vaccines, True) for p in chunk],
                )  # fmt: skip
                batch.insert(
                    "Deliveries",
                    columns=("PointId", "DeliveryId", "Vaccine", "Doses", "Lot", "DeliveredAt", "RecordedBy",
                             "RecordedAt"),
                    values=[(p.point_id, str(uuid.uuid4()), p.vaccines[0], doses, "BENCH-1", now - timedelta(days=1),
                             "bench", spanner.COMMIT_TIMESTAMP) for p in chunk],
                )  # fmt: skip
        token = admin_session(stack.base_url)
        first_day = now.astimezone(WARSAW).date() + timedelta(days=1)
        bodies = {
            p.point_id: {
                "blocks": [
                    {"day": (first_day + timedelta(days=d)).isoformat(), "from": "08:00", "to": "16:00",
                     "slot_minutes": args.slot_minutes, "places": args.places, "vaccine": p.vaccines[0]}
                    for d in range(args.days)
                ]
            }
            for p in points
        }  # fmt: skip
        print(f"{args.points} points x {args.days} days x {slots_per_day} slots; {args.clients} clients; host: 1 "
              f"process x {args.threads} threads", flush=True)  # fmt: skip
        http = requests.Session()
        http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=args.clients))

        def publish(point_id: str) -> tuple[int, int, float]:
            started = time.perf_counter()
            response = http.put(
                f"{stack.base_url}/api/v1/points/{point_id}/schedule", json=bodies[point_id],
                headers={"Authorization": f"Bearer {token}"}, timeout=300,
            )  # fmt: skip
            created = len(response.json().get("created", [])) if response.status_code == 200 else 0
            return response.status_code, created, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(publish, bodies))
        elapsed = time.perf_counter() - started
        created = sum(r[1] for r in results)
        failed = [r[0] for r in results if r[0] != 200]
        latencies = sorted(r[2] for r in results)
        with container.spanner.snapshot(multi_use=True) as snapshot:
            stored = next(iter(snapshot.execute_sql("SELECT COUNT(*) FROM Slots")))[0]
            events = next(iter(snapshot.execute_sql(
                "SELECT COUNT(*) FROM Outbox WHERE EventType = 'ScheduleChanged'")))[0]  # fmt: skip
        print(
            f"schedule: {len(results)} PUTs ({len(failed)} failed {sorted(set(failed))}), {created} slots created in "
            f"{elapsed:.1f} s = {created / elapsed:.0f} slots/s; per PUT p50 "
            f"{statistics.median(latencies) * 1000:.0f} ms, p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms; "
            f"check: {stored} slots and {events} ScheduleChanged events stored",
            flush=True,
        )
        if failed or stored != created or events != created:
            raise SystemExit("SCHEDULE BENCHMARK CHECK FAILED")


def admin_session(base_url: str) -> str:
    pesel = pesel_for(datetime(1970, 1, 1).date(), 777, female=False)
    claims = {"pesel": pesel, "given_name": "Anna", "family_name": "Administratorka", "roles": ["admin"]}
    assertion = requests.post(f"{base_url}/dev/idp/assertions", json=claims, timeout=30).json()["assertion"]
    login = requests.post(f"{base_url}/api/v1/login", json={"assertion": assertion}, timeout=30)
    login.raise_for_status()
    return str(login.json()["session_token"])


if __name__ == "__main__":
    main()
