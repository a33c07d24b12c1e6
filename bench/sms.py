"""Booking -> SMS benchmark: time from a booking's commit to the SMS accepted by the gateway.

    .venv/bin/python -m bench.sms [--bookings 300] [--rate 20]

Bookings go through the local host at a steady rate; the confirmation travels outbox -> visit-events
-> notify -> sms-requests -> send_sms -> the local SMS gateway, through the Pub/Sub emulator's push
subscriptions. Each booking's time is taken when its 201 arrives (just after the commit); the
gateway stamps each message as it accepts it. Prints p50/p95/max, and how many were lost or doubled.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests

from bench.booking import free_first_dose_slots, log_in_everyone
from bench.common import bench_stack
from emulators.seed import seed
from emulators.waiting import poll_until


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20, help="bookings per second")
    parser.add_argument("--points", type=int, default=300)
    args = parser.parse_args()

    with bench_stack("sms", workers=1, threads=16) as stack:
        container = stack.container
        seed(container.spanner, container.firestore, points=args.points, days=14, second_dose_days=14,
             patients=args.bookings)  # fmt: skip
        tokens = [token for token, _ in log_in_everyone(container, args.bookings)]
        slots = free_first_dose_slots(container, days=14)
        gateway = stack.env["EREG_SMS_PROVIDER_URL"]
        run = uuid.uuid4().int % 1000
        phones = [f"+48602{run:03d}{i:03d}" for i in range(args.bookings)]
        booked_at: dict[str, float] = {}

        def book(index: int) -> None:
            point_id, starts_at, vaccine = slots[index % len(slots)]
            response = requests.post(
                f"{stack.base_url}/api/v1/visits",
                json={"point_id": point_id, "starts_at": starts_at, "vaccine": vaccine, "phone": phones[index]},
                headers={"Authorization": f"Bearer {tokens[index]}", "Idempotency-Key": str(uuid.uuid4())},
                timeout=30,
            )
            if response.status_code == 201:
                booked_at[phones[index]] = time.time()

        print(f"booking {args.bookings} visits at {args.rate:.0f}/s through {stack.base_url}...", flush=True)
        with ThreadPoolExecutor(8) as pool:
            for index in range(args.bookings):
                pool.submit(book, index)
                time.sleep(1 / args.rate)

        def arrivals() -> dict[str, list[float]]:
            received: dict[str, list[float]] = {}
            for message in requests.get(f"{gateway}/messages", timeout=10).json()["messages"]:
                if message["to"] in booked_at:
                    received.setdefault(message["to"], []).append(
                        datetime.fromisoformat(message["received_at"]).astimezone(UTC).timestamp()
                    )
            return received

        poll_until(arrivals, lambda got: len(got) == len(booked_at), timeout_s=60, every_s=0.5)
        # Watch a few seconds more, so that any duplicate shows itself.
        received = poll_until(arrivals, lambda got: any(len(t) > 1 for t in got.values()), timeout_s=3, every_s=0.5)
        latencies = sorted(min(times) - booked_at[phone] for phone, times in received.items())
        lost = len(booked_at) - len(received)
        doubled = sum(1 for times in received.values() if len(times) > 1)
        quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        print(
            f"booking -> SMS: {len(booked_at)} bookings, {len(received)} SMS received, lost {lost}, doubled {doubled}; "
            f"p50 {quantiles[49] * 1000:.0f} ms, p95 {quantiles[94] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
