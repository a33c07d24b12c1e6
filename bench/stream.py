"""visit-events -> BigQuery benchmark: events per second written through the `stream_events` push path.

    flock /tmp/ereg-load.lock .venv/bin/python -m bench.stream [--events 1000] [--clients 16]

Posts Pub/Sub push envelopes (as the emulator's push subscription does) carrying VisitBooked events
to the local host's `stream_events`, every tenth one twice (a redelivery), then checks that
`visit_events_unique` counts each event once. Prints events per second, accepted pushes per second
and the latency of a push (p50/p95).
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests

from bench.common import bench_stack
from shared.domain.events import VisitEvent


def event(n: int, now: datetime) -> dict[str, object]:
    visit_id, starts = str(uuid.uuid4()), (now + timedelta(days=1 + n % 14)).isoformat()
    payload = {
        "event_id": str(uuid.uuid4()), "schema_version": 1, "occurred_at": now.isoformat(),
        "event_type": "VisitBooked", "visit_id": visit_id, "series_id": visit_id, "patient_ref": str(uuid.uuid4()),
        "point_id": "bench-point", "voivodeship": f"{2 + 2 * (n % 16):02d}", "county": "1465",
        "municipality": "1465011", "vaccine": "comirnaty", "dose": 1, "channel": "WEB", "status": "BOOKED",
        "starts_at": starts, "age_band": "40-49", "changed": [visit_id],
        "series": [{"visit_id": visit_id, "dose": 1, "point_id": "bench-point", "starts_at": starts}],
    }  # fmt: skip
    return VisitEvent.model_validate(payload).model_dump(mode="json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()

    with bench_stack("stream", workers=1, threads=args.clients, consumers=False) as stack:
        settings = stack.container.settings
        topic = settings.topic("visit-events")
        url = f"{stack.base_url}/_push/stream_events/projects/{settings.project_id}/topics/{topic}"
        now = datetime.now(UTC)
        events = [event(n, now) for n in range(args.events)]
        deliveries = events + events[::10]
        session = requests.Session()
        latencies: list[float] = []

        def push(payload: dict[str, object]) -> int:
            data = base64.b64encode(VisitEvent.model_validate(payload).model_dump_json().encode()).decode()
            envelope = {
                "message": {"data": data, "messageId": str(uuid.uuid4()), "publishTime": now.isoformat(),
                            "attributes": {"event_id": str(payload["event_id"]), "event_type": "VisitBooked"}},
                "subscription": f"projects/{settings.project_id}/subscriptions/bench",
            }  # fmt: skip
            started = time.perf_counter()
            status = session.post(url, json=envelope, timeout=30).status_code
            latencies.append(time.perf_counter() - started)
            return status

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            statuses = list(pool.map(push, deliveries))
        elapsed = time.perf_counter() - started
        table = stack.container.warehouse.table_id("visit_events_unique")
        unique = stack.container.warehouse.query(f"SELECT COUNT(*) AS n FROM `{table}`")[0]["n"]  # noqa: S608
        stack.container.warehouse.client.delete_dataset(
            f"{settings.project_id}.{settings.bigquery_dataset}", delete_contents=True
        )
        accepted = sum(1 for s in statuses if 200 <= s < 300)
        cuts = statistics.quantiles(latencies, n=20)
        print(
            f"{len(deliveries)} pushes ({args.events} events, {len(events[::10])} redelivered) in {elapsed:.1f} s: "
            f"{accepted / elapsed:.0f} pushes/s, {args.events / elapsed:.0f} events/s; "
            f"push p50 {cuts[9] * 1000:.0f} ms, p95 {cuts[18] * 1000:.0f} ms; "
            f"{accepted} accepted; visit_events_unique counts {unique} (expected {args.events})"
        )


if __name__ == "__main__":
    main()
