"""The invariants a booking system must keep, checked on one database after a run.

    .venv/bin/python -m bench.invariants --database NAME [--gateway URL] [--wait 120]

- every slot's booked count equals its active (not cancelled) visits, and never exceeds its capacity;
- the availability projection in Redis equals Spanner (every slot's capacity, booked count and
  version), and is marked ready;
- every booking (a VisitBooked event that speaks for its change) has exactly one confirmation SMS at
  the gateway, under its request id, and its patient got no other confirmation;
- every VisitBooked event has a row in BigQuery's ``visit_events`` (the reporting views count each
  event id once; the raw table may hold a redelivery twice, which is reported, not a violation).

The asynchronous chain (outbox -> Pub/Sub -> notify -> send_sms -> gateway; -> stream_events ->
BigQuery; -> update_availability -> Redis) is awaited first: a condition polled until it holds or the
wait is over, never a fixed sleep. Exits 1 when any invariant is broken.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
import requests
from google.cloud.spanner_v1.keyset import KeySet

from emulators.waiting import poll_until
from shared.adapters.redis_availability import RedisAvailability
from shared.adapters.spanner_availability import SpannerSlotStates
from shared.bootstrap import Container, build_container
from shared.config import Settings
from shared.domain.events import VISIT_BOOKED
from shared.domain.sms import change_request_id, is_booked_text

KINDS = ("over_capacity", "booked_count", "projection", "sms_missing", "sms_duplicate", "bigquery_missing")


@dataclass(frozen=True)
class Violation:
    kind: str
    detail: str


@dataclass(frozen=True)
class Booking:
    event_id: str
    patient_id: str
    carries_message: bool  # the first visit of a change: its event is the one that is texted


@dataclass
class Report:
    slots_taken: int = 0  # slots with at least one place taken
    places_taken: int = 0
    active_visits: int = 0
    slots_compared: int = 0  # slots compared between Redis and Spanner
    bookings: int = 0  # bookings (changes) and the VisitBooked events they made (one per dose)
    booked_events: int = 0
    sms_confirmations: int = 0
    bigquery_rows: int = 0
    bigquery_redelivered: int = 0
    drained_s: float = 0.0  # waiting for the asynchronous chain
    checked_s: float = 0.0  # waiting and checking
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def kinds(self) -> set[str]:
        return {v.kind for v in self.violations}

    def lines(self) -> list[str]:
        counts = Counter(v.kind for v in self.violations)
        lines = [
            f"invariants: {self.places_taken} places taken in {self.slots_taken} slots, {self.active_visits} active "
            f"visits; over capacity {counts['over_capacity']}, booked count off {counts['booked_count']}",
            f"invariants: projection vs Spanner, {self.slots_compared} slots compared, {counts['projection']} differ",
            f"invariants: {self.bookings} bookings ({self.booked_events} VisitBooked events); "
            f"{self.sms_confirmations} confirmation SMS at the gateway, missing {counts['sms_missing']}, "
            f"duplicated {counts['sms_duplicate']}",
            f"invariants: BigQuery visit_events holds {self.bigquery_rows} rows of them, missing "
            f"{counts['bigquery_missing']} (redelivered rows, counted once by the views: {self.bigquery_redelivered})",
            f"invariants: {'HOLD' if self.ok else 'BROKEN'} (chain drained in {self.drained_s:.1f} s, "
            f"checked in {self.checked_s:.1f} s)",
        ]
        lines += [f"  {v.kind}: {v.detail}" for v in self.violations[:20]]
        return lines


# --- reads --------------------------------------------------------------------------------------


def slot_violations(container: Container, report: Report) -> list[Violation]:
    """Booked count against active visits and capacity, slot by slot."""
    with container.spanner.snapshot(multi_use=True) as snapshot:
        slots = list(
            snapshot.execute_sql("SELECT PointId, StartsAt, Vaccine, Capacity, Booked FROM Slots WHERE Booked != 0")
        )
        visits = list(
            snapshot.execute_sql(
                "SELECT PointId, StartsAt, Vaccine, COUNT(*) FROM Visits WHERE Status != 'CANCELLED' "
                "GROUP BY PointId, StartsAt, Vaccine"
            )
        )
    active = {(r[0], r[1], r[2]): int(r[3]) for r in visits}
    booked = {(r[0], r[1], r[2]): (int(r[3]), int(r[4])) for r in slots}
    report.slots_taken = len(booked)
    report.places_taken = sum(b for _, b in booked.values())
    report.active_visits = sum(active.values())
    found = []
    for key in sorted(set(booked) | set(active)):
        capacity, taken = booked.get(key, (None, 0))
        if capacity is not None and taken > capacity:
            found.append(Violation("over_capacity", f"slot {_slot(key)}: {taken} booked of {capacity}"))
        if taken != active.get(key, 0):
            found.append(
                Violation("booked_count", f"slot {_slot(key)}: booked {taken}, active visits {active.get(key, 0)}")
            )
    return found


def projection_violations(container: Container, parallel: int = 8) -> tuple[int, list[Violation]]:
    """Every slot of every point, as Redis holds it and as Spanner does: (slots compared, differences)."""
    url = container.settings.redis_url
    if not url:
        return 0, [Violation("projection", "no Redis configured (EREG_REDIS_URL)")]
    # A patient client of its own: the functions' short timeout is for serving, not for a check.
    projection = RedisAvailability(redis.Redis.from_url(url, socket_timeout=30), container.settings.redis_key_prefix)
    states = SpannerSlotStates(container.spanner)
    points = states.point_ids()

    def one(point_id: str) -> tuple[int, list[Violation]]:
        truth = {  # a suspended point's slots are out of search: compared as removed ones
            s.slot.key: (s.slot.capacity, s.slot.booked, s.version) for s in states.of_point(point_id) if not s.closed
        }
        held = projection.states([point_id])
        wrong = [
            Violation("projection", f"slot {_slot(key)}: Spanner {truth.get(key)}, Redis {held.get(key)}")
            for key in sorted(set(truth) | set(held))
            if truth.get(key) != held.get(key) and (key in truth or held[key][:2] != (0, 0))
        ]  # a removed slot stays in Redis as capacity 0 at its last version
        return len(truth), wrong

    found = [] if projection.is_ready() else [Violation("projection", "not marked ready (search reads Spanner)")]
    compared = 0
    with ThreadPoolExecutor(parallel) as pool:
        for seen, wrong in pool.map(one, points):
            compared += seen
            found += wrong
    return compared, found


def bookings(container: Container) -> list[Booking]:
    with container.spanner.snapshot() as snapshot:
        rows = list(snapshot.execute_sql("SELECT Payload FROM Outbox WHERE EventType = @t", params={"t": VISIT_BOOKED},
                                         param_types={"t": _string_type()}))  # fmt: skip
    found = []
    for (payload,) in rows:
        event = json.loads(payload)
        changed = event.get("changed") or [event["visit_id"]]
        found.append(Booking(event["event_id"], event["patient_ref"], event["visit_id"] == changed[0]))
    return found


def phones(container: Container, patient_ids: Iterable[str]) -> dict[str, str]:
    """patient id -> phone, for those with a phone on file."""
    wanted = sorted(set(patient_ids))
    if not wanted:
        return {}
    with container.spanner.snapshot() as snapshot:
        rows = snapshot.read("Patients", ("PatientId", "Phone"), KeySet(keys=[[p] for p in wanted]))
        return {str(r[0]): str(r[1]) for r in rows if r[1]}


def gateway_messages(gateway_url: str, numbers: set[str]) -> list[dict[str, Any]]:
    listed = requests.get(f"{gateway_url}/messages", timeout=60).json()["messages"]
    return [m for m in listed if m["to"] in numbers]


def bigquery_counts(container: Container) -> Counter[str]:
    """VisitBooked event id -> rows in the raw visit_events table."""
    settings = container.settings
    table = f"`{settings.project_id}.{settings.bigquery_dataset}.visit_events`"
    query = f"SELECT event_id, COUNT(*) AS n FROM {table} WHERE event_type = 'VisitBooked' GROUP BY event_id"  # noqa: S608 - names from settings
    return Counter({str(row["event_id"]): int(row["n"]) for row in container.warehouse.client.query(query).result()})


def pending_outbox(container: Container) -> int:
    with container.spanner.snapshot() as snapshot:
        return len(list(snapshot.read("Outbox", ("EventId",), KeySet(all_=True), index="PendingOutbox", limit=1000)))


# --- the check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Where the asynchronous chain stands: what it still owes."""

    pending_outbox: int
    sms_owed: int
    bigquery_owed: int

    @property
    def done(self) -> bool:
        return not (self.pending_outbox or self.sms_owed or self.bigquery_owed)


def delivery(container: Container, gateway_url: str) -> Delivery:
    made = bookings(container)
    numbers = phones(container, (b.patient_id for b in made))
    texted = {change_request_id(b.event_id) for b in made if b.carries_message and b.patient_id in numbers}
    arrived = {m["id"] for m in gateway_messages(gateway_url, set(numbers.values()))}
    streamed = bigquery_counts(container)
    return Delivery(
        pending_outbox(container), len(texted - arrived), sum(1 for b in made if b.event_id not in streamed)
    )


def check(
    container: Container,
    gateway_url: str,
    wait_s: float = 120.0,
    while_waiting: Callable[[], None] | None = None,
) -> Report:
    """Wait (up to ``wait_s``) for the chain to deliver what it owes, then check every invariant.

    ``while_waiting`` runs before each look (a benchmark passes the outbox sweep the scheduler runs).
    """
    started = datetime.now(UTC)

    def probe() -> Delivery:
        if while_waiting is not None:
            while_waiting()
        return delivery(container, gateway_url)

    poll_until(probe, lambda d: d.done, timeout_s=wait_s, every_s=1.0)
    report = Report(drained_s=(datetime.now(UTC) - started).total_seconds())
    report.violations += slot_violations(container, report)
    # The projection is fed by its own consumer: give it the same chance to catch up.
    report.slots_compared, projection = poll_until(
        lambda: projection_violations(container), lambda result: not result[1], timeout_s=wait_s / 4, every_s=2.0
    )
    report.violations += projection

    made = bookings(container)
    numbers = phones(container, (b.patient_id for b in made))
    report.bookings = sum(1 for b in made if b.carries_message)
    report.booked_events = len(made)
    messages = gateway_messages(gateway_url, set(numbers.values()))
    ids = Counter(m["id"] for m in messages)
    confirmations = Counter(m["to"] for m in messages if is_booked_text(m["text"]))
    report.sms_confirmations = sum(confirmations.values())
    expected: Counter[str] = Counter()
    for booking in made:
        if not booking.carries_message or booking.patient_id not in numbers:
            continue
        expected[numbers[booking.patient_id]] += 1
        if not ids[change_request_id(booking.event_id)]:
            report.violations.append(Violation("sms_missing", f"booking event {booking.event_id}: no SMS"))
    for phone, count in confirmations.items():
        if count > expected[phone]:
            report.violations.append(
                Violation("sms_duplicate", f"a patient got {count} confirmations for {expected[phone]} bookings")
            )  # never the number itself

    streamed = bigquery_counts(container)
    booked_ids = {b.event_id for b in made}
    report.bigquery_rows = sum(n for event_id, n in streamed.items() if event_id in booked_ids)
    report.bigquery_redelivered = sum(n - 1 for event_id, n in streamed.items() if event_id in booked_ids and n > 1)
    report.violations += [
        Violation("bigquery_missing", f"VisitBooked event {b.event_id}: no row")
        for b in made
        if not streamed[b.event_id]
    ]
    return report


def _slot(key: tuple[Any, ...]) -> str:
    point_id, starts_at, vaccine = key
    moment = starts_at.isoformat() if isinstance(starts_at, datetime) else str(starts_at)
    return f"{point_id} {moment} {vaccine}"


def _string_type() -> Any:
    from google.cloud.spanner_v1 import param_types

    return param_types.STRING


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True, help="the Spanner database (a benchmark's is b<name><n>)")
    parser.add_argument("--firestore-database", help="default: the same name")
    parser.add_argument("--dataset", help="BigQuery dataset; default: the database's name with _ for -")
    parser.add_argument("--redis-prefix", help="default: the database's name and a colon, as the benchmarks use")
    parser.add_argument(
        "--gateway", default=None, help="SMS gateway URL; default: the local one (EREG_SMS_PROVIDER_URL)"
    )
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the chain to drain")
    args = parser.parse_args()
    from emulators.ports import Ports
    from emulators.stack import LocalStack
    from shared.config import local_project_id

    os.environ["EREG_DEPLOYMENT"] = "local"
    os.environ.setdefault("GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_FOR_RW", "false")
    stack = LocalStack(Ports.from_env(), local_project_id())
    for name, value in stack.env().items():
        os.environ.setdefault(name, value)  # reuse the running emulators; never start or stop them here
    settings = Settings(  # type: ignore[call-arg]
        deployment="local",
        spanner_database=args.database,
        firestore_database=args.firestore_database or args.database,
        bigquery_dataset=args.dataset or args.database.replace("-", "_"),
        redis_key_prefix=args.redis_prefix if args.redis_prefix is not None else f"{args.database}:",
    )
    container = build_container(settings)
    report = check(container, args.gateway or settings.sms_provider_url, wait_s=args.wait)
    print("\n".join(report.lines()), flush=True)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
