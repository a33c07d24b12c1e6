"""The national peak on one machine: logins, searches, bookings (with dose 2), moves and cancels at
once, in the peak's proportions, at national scale; then the invariants.

    flock /tmp/ereg-load.lock .venv/bin/python -m bench.peak [--points 6000] [--seconds 45]
        [--mix skewed|uniform|skewed,uniform] [--fault redis|pubsub|sms|redis,pubsub,sms]

One database is seeded once and every phase runs on it in turn: one per search mix, then one per
fault (with the first mix). The Spanner emulator is the benchmark's own, started empty and stopped at
the end: the shared emulator never gives back what dropped databases used, so after a few runs a
national database (a million slots) no longer fit beside them in the machine's memory.
Each mix phase first measures the host's own ceiling on a trivial route
and search alone, then the whole mix. Per phase it prints each flow's rate, p50/p95/p99 and errors,
the time from a booking's or cancel's answer (201/204) to search showing it, and the invariants
(bench/invariants.py) once the asynchronous chain has drained.

Proportions (requests of each flow, ``WEIGHTS``): at the 2021 peak one hour held 122,000 bookings and
350,000 searches (2.9 searches a booking: 3); logins peaked at 750/s in the bursts at a cohort's
opening, when many patients log in, look and leave: 2 logins a booking; visits moved and cancelled
are taken as 10% and 5% of bookings (of 72 M visits created, 48 M were vaccinations; the rest were
moved, cancelled or missed over months, so at the booking peak changes are a small share).

Search mixes: ``skewed`` picks the region by population (the voivodeships' populations, GUS 2020,
declared once below), then a point of it, and asks at the voivodeship level 45%, county 35%,
municipality 12%, one point 8%, with a vaccine 60%, from a later day 20%; ``uniform`` (the worst case)
picks level, region and options uniformly.

Faults run against instances of this benchmark's own (Redis, Pub/Sub emulator and SMS gateway on free
ports; the shared ones are never touched), starting a third into the phase, for 20 s: ``redis``
stops Redis (search reads Spanner; when it is back the next reconcile, run here at once, reloads the
projection); ``pubsub`` freezes the Pub/Sub emulator (SIGSTOP/SIGCONT: like the real service, an outage
must not lose what it acknowledged, which killing the in-memory emulator would); ``sms`` makes the
gateway answer 503 to every send. The outbox sweep runs every minute, as Cloud Scheduler runs it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jwt
import requests
from google.cloud.spanner_v1.keyset import KeySet

from bench import invariants
from bench.booking import VOIVODESHIPS, free_first_dose_slots
from bench.common import BenchStack, LoadResult, bench_stack, run_flows
from bench.peak_flows import TRIVIAL_PATH
from emulators.seed import _insert_patients, generate_patients, generate_points, seed
from emulators.stack import _kill_group
from emulators.waiting import poll_until
from shared.adapters.spanner_reads import read_free_slots
from shared.bootstrap import build_container
from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import Slot, local_iso

WEIGHTS = {"login": 2.0, "search": 3.0, "book": 1.0, "move": 0.1, "cancel": 0.05}

# Population by voivodeship (TERYT code -> thousands of people), GUS, 31 December 2020.
POPULATION = {
    "02": 2892, "04": 2062, "06": 2095, "08": 1008, "10": 2437, "12": 3410, "14": 5423, "16": 976,
    "18": 2122, "20": 1173, "22": 2346, "24": 4492, "26": 1224, "28": 1416, "30": 3496, "32": 1688,
}  # fmt: skip
VACCINES = ["comirnaty", "spikevax", "vaxzevria", "jcovden"]
FAULT_AT, FAULT_FOR = 1 / 3, 20.0
LOGINS_PER_S = 160  # assertions prepared per second of a phase (more than the host logs in)


def query_mix(points: int, mix: str, count: int = 5000, seed_value: int = 11) -> list[str]:
    rng = random.Random(seed_value)
    demo = generate_points(points)
    by_region: dict[str, list[Any]] = {}
    for point in demo:
        by_region.setdefault(point.voivodeship, []).append(point)
    regions = {
        "voivodeship": sorted({p.voivodeship for p in demo}),
        "county": sorted({p.county for p in demo}),
        "municipality": sorted({p.municipality for p in demo}),
        "point_id": [p.point_id for p in demo],
    }
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    queries = []
    for _ in range(count):
        if mix == "skewed":
            voivodeship = rng.choices(sorted(POPULATION), weights=[POPULATION[v] for v in sorted(POPULATION)])[0]
            point = rng.choice(by_region[voivodeship])
            level = rng.choices(list(regions), weights=[45, 35, 12, 8])[0]
            region = getattr(point, level)
            with_vaccine, later = rng.random() < 0.6, rng.random() < 0.2
        else:
            level = rng.choice(list(regions))
            region = rng.choice(regions[level])
            with_vaccine, later = rng.random() < 0.5, rng.random() < 0.5
        params = f"{level}={region}"
        if with_vaccine:
            params += f"&vaccine={rng.choice(VACCINES)}"
        if later:
            params += "&from=" + quote((today + timedelta(days=rng.randint(1, 10))).isoformat())
        queries.append(f"/api/v1/slots?{params}&limit=20")
    return queries


def quantile_line(label: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{label}: no samples"
    ordered = sorted(seconds)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return (
        f"{label}: {len(ordered)} samples, p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )


SampleSlot = tuple[str, str, str, str, int]  # point, starts_at (local ISO), vaccine, municipality, free
FreeRead = Callable[[str, datetime, datetime, int], list[Slot]]  # voivodeship, start, end, limit -> comirnaty


@dataclass
class Visibility:
    """Books an untouched slot, polls search until it shows one place fewer; cancels, polls until it
    shows the place again. The polls ask what a patient would: the point's slots from that hour, the
    very same search after the booking and after the cancel (the projection is read uncached).

    The slots are ones no benchmark client books or moves to (``later_slots``), so the places the
    sampler expects are the only right answer; a slot its booking fills is rightly absent from search.
    ``truth`` (Spanner's free places of a slot) tells, for a sample not seen in time, whether search
    was behind Spanner (the projection late) or equal to it (the slot changed by someone else)."""

    base_url: str
    tokens: list[tuple[str, str]]  # (session, phone)
    slots: list[SampleSlot]
    truth: Callable[[str, str, str], int] | None = None  # point, starts_at, vaccine -> free places now
    booked: list[float] = field(default_factory=list)
    cancelled: list[float] = field(default_factory=list)
    unseen: int = 0
    behind: int = 0  # of the unseen: search still differed from Spanner (the projection was late)
    errors: int = 0

    def free_places(self, session: requests.Session, query: str, point_id: str, starts_at: str) -> int | None:
        found = session.get(f"{self.base_url}/api/v1/slots?{query}", timeout=10).json().get("slots", [])
        for slot in found:
            if slot["point_id"] == point_id and datetime.fromisoformat(slot["starts_at"]) == datetime.fromisoformat(
                starts_at
            ):
                return int(slot["free_places"])
        return None

    def lag(
        self, session: requests.Session, query: str, slot: tuple[str, str, str], expected: int, timeout_s: float = 10.0
    ) -> float | None:
        point_id, starts_at, vaccine = slot
        answered = time.monotonic()
        shown = expected or None  # search lists slots with free places only: a full one is absent
        seen = poll_until(
            lambda: self.free_places(session, query, point_id, starts_at), lambda f: f == shown, timeout_s, every_s=0.01
        )
        if seen != shown:
            self.unseen += 1
            if self.truth is not None and seen != (self.truth(point_id, starts_at, vaccine) or None):
                self.behind += 1
            return None
        return time.monotonic() - answered

    def run(self, stop: threading.Event) -> None:
        session = requests.Session()
        turn = 0
        while not stop.is_set() and self.slots:
            point_id, starts_at, vaccine, _, free = self.slots.pop()
            token, phone = self.tokens[turn % len(self.tokens)]
            turn += 1
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
            body = {"point_id": point_id, "starts_at": starts_at, "vaccine": vaccine, "phone": phone}
            try:
                response = session.post(f"{self.base_url}/api/v1/visits", json=body, headers=headers, timeout=30)
                if response.status_code != 201:
                    self.errors += 1
                    continue
                same_search = f"point_id={point_id}&vaccine={vaccine}&from={quote(starts_at)}&limit=1"
                took = self.lag(session, same_search, (point_id, starts_at, vaccine), free - 1)
                if took is not None:
                    self.booked.append(took)
                first = min(response.json()["visits"], key=lambda v: v["dose"])
                response = session.delete(
                    f"{self.base_url}/api/v1/visits/{first['visit_id']}", headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )  # fmt: skip
                if response.status_code != 204:
                    self.errors += 1
                    continue
                took = self.lag(session, same_search, (point_id, starts_at, vaccine), free)
                if took is not None:
                    self.cancelled.append(took)
            except (requests.RequestException, ValueError):
                self.errors += 1


class Fault:
    """Takes one backend of the benchmark's own away for a while, mid-phase, and brings it back."""

    def __init__(self, kind: str, stack: BenchStack, at_s: float, for_s: float) -> None:
        self.kind, self.stack, self.at_s, self.for_s = kind, stack, at_s, for_s
        self.log: list[str] = []
        self.started = time.monotonic()

    def note(self, what: str) -> None:
        self.log.append(f"  fault {self.kind}, t={time.monotonic() - self.started:.1f} s: {what}")
        print(self.log[-1], flush=True)

    def _pgid(self, name: str) -> int:
        assert self.stack.private is not None
        return next(s.pgid for s in self.stack.private.started if s.name == name)

    def run(self, stop: threading.Event) -> None:
        private = self.stack.private
        assert private is not None
        if stop.wait(self.at_s):
            return
        if self.kind == "redis":
            pgid = self._pgid("redis")
            _kill_group(pgid)
            private.started = [s for s in private.started if s.pgid != pgid]
            self.note("Redis stopped (search falls back to Spanner, buckets to the process)")
            stop.wait(self.for_s)
            private.start(["redis"])
            self.note("Redis back, empty; the reconcile reloads the projection")
            availability = self.stack.container.availability
            assert availability is not None
            done = availability.reconcile()
            self.note(f"projection reloaded: {done.slots} slots in {done.seconds:.1f} s; search reads Redis again")
        elif self.kind == "pubsub":
            pgid = self._pgid("pubsub")
            os.killpg(pgid, signal.SIGSTOP)
            self.note("Pub/Sub emulator frozen")
            try:
                stop.wait(self.for_s)
            finally:
                os.killpg(pgid, signal.SIGCONT)
            self.note("Pub/Sub emulator back")
        elif self.kind == "sms":
            gateway = self.stack.env["EREG_SMS_PROVIDER_URL"]
            requests.post(f"{gateway}/control/fail", json={"seconds": self.for_s, "status": 503}, timeout=5)
            self.note(f"SMS gateway answers 503 to every send for {self.for_s:.0f} s")
            stop.wait(self.for_s)
            self.note("SMS gateway accepts again")


def every(period_s: float, action: Callable[[], object], stop: threading.Event) -> None:
    while not stop.wait(period_s):
        try:
            action()
        except Exception as error:  # a tick that fails is tried at the next one
            print(f"  tick failed: {error!r}", flush=True)


def print_flows(total: LoadResult, flows: dict[str, LoadResult], label: str) -> None:
    print(total.line(f"{label}, all requests"), flush=True)
    for name in ("login", "search", "book", "move", "cancel", "trivial"):
        if name in flows:
            print(flows[name].line(f"  {name}"), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=6000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--second-dose-days", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=45, help="length of each phase's mixed load")
    parser.add_argument("--ceiling-seconds", type=float, default=10, help="trivial route, search alone")
    parser.add_argument("--mix", default="skewed", help="skewed, uniform or both (comma-separated)")
    parser.add_argument("--fault", default="", help="redis, pubsub, sms, or several (comma-separated)")
    parser.add_argument("--users", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    mixes = [m for m in args.mix.split(",") if m]
    faults = [f for f in args.fault.split(",") if f]
    if not mixes or set(mixes) - {"skewed", "uniform"} or set(faults) - {"redis", "pubsub", "sms"}:
        parser.error("--mix takes skewed and/or uniform; --fault redis, pubsub and/or sms")
    phases = [(mix, None) for mix in mixes] + [(mixes[0], fault) for fault in faults]
    per_phase = int(LOGINS_PER_S * args.seconds)

    with bench_stack("peak", args.workers, args.threads, private=("redis", "pubsub", "sms", "spanner")) as stack:
        # The benchmark's own tools (load, reconcile, checks) wait for Redis longer than a function does.
        container = build_container(stack.container.settings.model_copy(update={"redis_timeout_s": 30.0}))
        stack.container = container
        gateway = stack.env["EREG_SMS_PROVIDER_URL"]
        summary = seed(container.spanner, container.firestore, points=args.points, days=args.days,
                       second_dose_days=args.second_dose_days, patients=0)  # fmt: skip
        patients = generate_patients(per_phase * len(phases) + 200)
        started = time.perf_counter()
        for start in range(0, len(patients), 2000):
            _insert_patients(container.spanner, patients[start : start + 2000], datetime.now(UTC))
        print(f"scale: {summary.points} points, {summary.slots} slots (seeded in {summary.seconds} s); "
              f"{len(patients)} patients in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        availability = container.availability
        assert availability is not None, "Redis is configured"
        built = availability.rebuild()
        print(f"projection: {built.slots} slots of {built.points} points into Redis in {built.seconds:.1f} s")
        slots = [list(s) for s in free_first_dose_slots(container, days=args.days)]
        now = datetime.now(UTC)
        sampler_slots = later_slots(
            spanner_free_read(container), args.points, slots, now, now + timedelta(days=args.days)
        )
        print(f"host: {args.workers} process(es) x {args.threads} threads; load: {args.users} clients; "
              f"bookings aim at {len(slots)} slots; weights {WEIGHTS}; the visibility sampler at "
              f"{len(sampler_slots)} others", flush=True)  # fmt: skip
        last_sweep = [0.0]

        def sweep() -> None:  # the scheduler's outbox sweep, at most every 10 s while waiting
            if time.monotonic() - last_sweep[0] >= 10:
                last_sweep[0] = time.monotonic()
                container.relay.sweep(datetime.now(UTC))

        ceiling: float | None = None
        for index, (mix, fault) in enumerate(phases):
            label = f"phase {index + 1}: {mix} mix" + (f", fault {fault}" if fault else "")
            print(f"--- {label} (load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}) ---", flush=True)
            queries = query_mix(args.points, mix)
            if fault is None:
                if ceiling is None:
                    trivial, _ = run_flows(stack.base_url, args.users, args.ceiling_seconds,
                                           "bench.peak_flows:peak_task", {"weights": {"trivial": 1}})  # fmt: skip
                    print(trivial.line(f"host ceiling, GET {TRIVIAL_PATH} alone"), flush=True)
                    ceiling = trivial.per_second
                alone, _ = run_flows(stack.base_url, args.users, args.ceiling_seconds, "bench.peak_flows:peak_task",
                                     {"weights": {"search": 1}, "queries": queries})  # fmt: skip
                print(alone.line(f"search alone, {mix} mix"), flush=True)
                print(f"search alone = {alone.per_second / ceiling:.0%} of the trivial route's {ceiling:.0f}/s",
                      flush=True)  # fmt: skip
            mine = patients[index * per_phase : (index + 1) * per_phase]
            phones = [f"+48602{index:01d}{n:05d}" for n in range(len(mine))]
            signed = sign_all(mine)
            sampler_patients = patients[-200 + index * 20 : -200 + index * 20 + 10]
            visibility = Visibility(stack.base_url, log_in(container, sampler_patients, index), sampler_slots,
                                    spanner_free_places(container))  # fmt: skip
            stop = threading.Event()
            workers = [threading.Thread(target=visibility.run, args=(stop,), daemon=True),
                       threading.Thread(target=every, args=(60.0, sweep, stop), daemon=True)]  # fmt: skip
            if fault:
                workers.append(threading.Thread(target=Fault(fault, stack, args.seconds * FAULT_AT, FAULT_FOR).run,
                                                args=(stop,), daemon=True))  # fmt: skip
            for worker in workers:
                worker.start()
            payload = {"weights": WEIGHTS, "queries": queries, "slots": slots,
                       "assertions": [[a, p] for a, p in zip(signed, phones, strict=True)]}  # fmt: skip
            try:
                total, flows = run_flows(
                    stack.base_url, args.users, args.seconds, "bench.peak_flows:peak_task", payload
                )
            finally:
                stop.set()
                for worker in workers:
                    worker.join(timeout=300)
            print_flows(total, flows, label)
            print(quantile_line("  booking -> search shows it", visibility.booked), flush=True)
            print(quantile_line("  cancel -> search shows it", visibility.cancelled), flush=True)
            if visibility.unseen or visibility.errors:
                print(f"  visibility sampler: {visibility.unseen} not seen within 10 s ({visibility.behind} with "
                      f"search behind Spanner, the rest equal to it), {visibility.errors} errors")  # fmt: skip
            report = invariants.check(container, gateway, wait_s=300, while_waiting=sweep)
            print("\n".join(report.lines()), flush=True)
            print(f"  load average after the phase: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


def sign_as(patient: tuple[str, str, str]) -> str:
    """An assertion for a seeded patient, with the names the registry holds: a returning login
    (other names would make every login a read-write transaction that updates them)."""
    from emulators.dev_idp import key_id, signing_key
    from shared.config import get_settings

    pesel, given_name, family_name = patient
    settings, now = get_settings(), int(time.time())
    claims = {
        "iss": settings.dev_idp_issuer, "aud": settings.assertion_audience, "sub": pesel, "jti": str(uuid.uuid4()),
        "iat": now, "nbf": now, "exp": now + 600, "pesel": pesel, "given_name": given_name,
        "family_name": family_name,
    }  # fmt: skip
    return jwt.encode(claims, signing_key(), algorithm="RS256", headers={"kid": key_id()})


def sign_all(patients: list[Any]) -> list[str]:
    with multiprocessing.Pool(2) as pool:
        return pool.map(sign_as, [(p.pesel, p.given_name, p.family_name) for p in patients], chunksize=200)


def log_in(container: Any, patients: list[Any], phase: int) -> list[tuple[str, str]]:
    def one(patient: Any) -> str:
        assertion = sign_as((patient.pesel, patient.given_name, patient.family_name))
        return str(container.identity.login(assertion, datetime.now(UTC)).session_token)

    with ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(one, patients))
    return [(token, f"+48603{phase:01d}{n:05d}") for n, token in enumerate(tokens)]


def later_slots(read: FreeRead, points: int, load: list[list[str]], now: datetime, until: datetime) -> list[SampleSlot]:
    """Free Comirnaty slots no benchmark client books or moves to: in each voivodeship, after the
    last of the slots the load aims at (the earliest 400 there, which at a few hundred points reach
    days ahead) and at least 3 days on; before ``until`` (the second doses' days)."""
    demo = generate_points(points)
    municipality = {p.point_id: p.municipality for p in demo}
    voivodeship = {p.point_id: p.voivodeship for p in demo}
    aimed_at = {(point_id, starts_at, vaccine) for point_id, starts_at, vaccine in load}
    last: dict[str, datetime] = {}
    for point_id, starts_at, _ in load:
        moment = datetime.fromisoformat(starts_at)
        last[voivodeship[point_id]] = max(moment, last.get(voivodeship[point_id], moment))
    found = []
    for region in VOIVODESHIPS:
        start = max(now + timedelta(days=3), last[region] + timedelta(seconds=1) if region in last else now)
        found += [
            (s.point_id, local_iso(s.starts_at), s.vaccine, municipality[s.point_id], s.free_places)
            for s in read(region, start, until, 100)
            if (s.point_id, local_iso(s.starts_at), s.vaccine) not in aimed_at
        ]
    random.Random(3).shuffle(found)
    return found


def spanner_free_read(container: Any) -> FreeRead:
    def read(voivodeship: str, start: datetime, end: datetime, limit: int) -> list[Slot]:
        with container.spanner.snapshot() as snapshot:
            return read_free_slots(snapshot, SlotQuery(Level.VOIVODESHIP, voivodeship, "comirnaty", start, end, limit))

    return read


def spanner_free_places(container: Any) -> Callable[[str, str, str], int]:
    """A slot's free places in Spanner now (a strong read by key)."""

    def free(point_id: str, starts_at: str, vaccine: str) -> int:
        key = [point_id, datetime.fromisoformat(starts_at).astimezone(UTC), vaccine]
        with container.spanner.snapshot() as snapshot:
            rows = list(snapshot.read("Slots", ("Capacity", "Booked"), KeySet(keys=[key])))
        return int(rows[0][0]) - int(rows[0][1]) if rows else 0

    return free


if __name__ == "__main__":
    main()
