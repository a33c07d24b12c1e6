"""Registry benchmark: what the registry of points and staff adds to a login and to an authorised request.

    .venv/bin/python -m bench.registry [--points 6000] [--staff 60000] [--samples 400]

Seeds ``--points`` points in Spanner and ``--staff`` staff grants in Firestore (each person at one
point: their ``staff_grants`` document, which the auth guard reads, and the point's ``point_staff``
entry), then measures, in this process against the emulators, with the real adapters:

- an authorised staff request: ``IdentityService.authenticate`` with the registry and without it
  (same session store), so the difference is the registry check;
- a returning patient's login with the registry and without it (the registry check tells a person
  granted at a point from a patient);
- the registry check alone (``grants_of``), and the Firestore round trips each path makes.

Per call: wall-clock p50/p99 and this process's CPU (what a function instance pays). The two variants
alternate call by call, so a busy machine slows both alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.common import bench_stack
from emulators.seed import generate_points, pesel_for
from shared.adapters.firestore_registry import POINT_STAFF, STAFF_GRANTS, FirestoreStaffStore
from shared.adapters.spanner_registry import REGISTRY_COLUMNS
from shared.bootstrap import Container
from shared.domain.identity import Role, SessionPolicy, StaffGrants, staff_id_for
from shared.services.identity import AssertionVerifier, IdentityService

ISSUER, AUDIENCE = "https://bench.registry.local", "e-rejestracja"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
POLICY = SessionPolicy(absolute=timedelta(hours=8), idle=timedelta(hours=1))


class BenchKey:
    def key_for(self, kid: str | None) -> jwt.PyJWK:
        return jwt.PyJWK.from_dict(
            {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "alg": "RS256"}
        )


class CountingRegistry:
    """The Firestore registry, counting its round trips (one document get per check)."""

    def __init__(self, store: FirestoreStaffStore) -> None:
        self.store = store
        self.calls = 0

    def grants_of(self, staff_id: str) -> StaffGrants:
        self.calls += 1
        return self.store.grants_of(staff_id)


def person(index: int) -> str:
    return pesel_for(date(1950, 1, 1) + timedelta(days=index // 1000), index % 1000, female=index % 2 == 0)


def seed_points(container: Container, count: int) -> list[str]:
    points = generate_points(count)
    for start in range(0, len(points), 500):
        with container.spanner.batch() as batch:
            batch.insert("Points", REGISTRY_COLUMNS, [
                (p.point_id, p.name, p.voivodeship, p.county, p.municipality, p.city, p.street, p.postal_code,
                 p.vaccines, True, 1) for p in points[start : start + 500]
            ])  # fmt: skip
    return [p.point_id for p in points]


def seed_grants(container: Container, point_ids: list[str], staff: int, key: str) -> None:
    client = container.firestore.client
    now = datetime.now(UTC)

    def chunk(start: int) -> None:
        batch = client.batch()
        for index in range(start, min(start + 250, staff)):  # two documents each: 500 writes a batch
            staff_id, point_id = staff_id_for(person(index), key), point_ids[index % len(point_ids)]
            role = "point_manager" if index % 10 == 0 else "point_staff"
            batch.set(client.collection(STAFF_GRANTS).document(staff_id), {"points": {point_id: role}})
            batch.set(client.collection(POINT_STAFF).document(f"{point_id}~{staff_id}"),
                      {"point_id": point_id, "staff_ref": staff_id, "role": role, "granted_at": now})  # fmt: skip
        batch.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(chunk, range(0, staff, 250)))


Timing = tuple[list[float], float]


def measure(*variants: list[Callable[[], Any]]) -> list[Timing]:
    """Per variant: the wall ms of each call, and this process's CPU ms per call. The variants take
    turns call by call, so a machine busy with other work slows them alike."""
    walls: list[list[float]] = [[] for _ in variants]
    cpu = [0.0 for _ in variants]
    for turn in zip(*variants, strict=True):
        for index, call in enumerate(turn):
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            walls[index].append((time.perf_counter() - started) * 1000)
            cpu[index] += time.process_time() - started_cpu
    return [(w, c * 1000 / max(1, len(w))) for w, c in zip(walls, cpu, strict=True)]


def line(label: str, walls: list[float], cpu_ms: float, trips: float) -> str:
    walls = sorted(walls)
    p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))]
    return (f"{label:<46} p50 {statistics.median(walls):6.2f} ms  p99 {p99:6.2f} ms  CPU {cpu_ms:5.2f} ms"
            f"  registry round trips {trips:.1f}")  # fmt: skip


def assertion(pesel: str, roles: list[str] | None = None) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "jti": str(uuid.uuid4()), "pesel": pesel,
              "given_name": "Jan", "family_name": "Próbny", "roles": roles or []}  # fmt: skip
    return jwt.encode(claims, KEY, algorithm="RS256")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=6000)
    parser.add_argument("--staff", type=int, default=60000)
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    with bench_stack("registry", consumers=False) as stack:
        container = stack.container
        key = container.settings.secret("audit_hash_key")
        started = time.monotonic()
        point_ids = seed_points(container, args.points)
        print(f"seeded {len(point_ids)} points in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        seed_grants(container, point_ids, args.staff, key)
        print(f"seeded {args.staff} staff grants in {time.monotonic() - started:.1f} s")

        registry = CountingRegistry(FirestoreStaffStore(container.firestore.client))

        def service(with_registry: bool) -> IdentityService:
            return IdentityService(
                AssertionVerifier({ISSUER: BenchKey()}, AUDIENCE), container.sessions, container.patients,
                container.programme, POLICY, POLICY, staff_id_of=lambda pesel: staff_id_for(pesel, key),
                registry=registry if with_registry else None,
            )  # fmt: skip

        with_registry, without = service(True), service(False)
        samples = min(args.samples, args.staff)
        step = max(1, args.staff // samples)
        people = [person(i * step) for i in range(samples)]
        now = datetime.now(UTC)

        # An authorised staff request: the session check, and with the registry its document get.
        tokens = [with_registry.login(assertion(p, ["agent"]), now).session_token for p in people]
        for token in tokens[:20]:  # warm both paths
            with_registry.authenticate(token, now)
            without.authenticate(token, now)
        registry.calls = 0
        (walls_with, cpu_with), (walls_without, cpu_without) = measure(
            [lambda t=t: with_registry.authenticate(t, now) for t in tokens],  # type: ignore[misc]
            [lambda t=t: without.authenticate(t, now) for t in tokens],  # type: ignore[misc]
        )
        trips = registry.calls / len(tokens)
        principal = with_registry.authenticate(tokens[0], now)
        assert Role.POINT_STAFF in principal.roles or Role.POINT_MANAGER in principal.roles, "grants not applied"
        print(line("authorised staff request, with the registry", walls_with, cpu_with, trips))
        print(line("authorised staff request, claims only", walls_without, cpu_without, 0))

        # A returning patient's login (the first login registered them).
        patients = [pesel_for(date(1940, 1, 1) + timedelta(days=i), 500, female=False) for i in range(samples)]
        for pesel in patients:
            without.login(assertion(pesel), now)
        registry.calls = 0
        signed = [(assertion(p), assertion(p)) for p in patients]  # signing is the provider's work, not ours
        (login_with, cpu_login_with), (login_without, cpu_login_without) = measure(
            [lambda a=a: with_registry.login(a, now) for a, _ in signed],  # type: ignore[misc]
            [lambda a=a: without.login(a, now) for _, a in signed],  # type: ignore[misc]
        )
        login_trips = registry.calls / len(patients)
        print(line("returning patient login, with the registry", login_with, cpu_login_with, login_trips))
        print(line("returning patient login, without", login_without, cpu_login_without, 0))

        store = FirestoreStaffStore(container.firestore.client)
        ids = [staff_id_for(p, key) for p in people]
        ((walls_check, cpu_check),) = measure([lambda s=s: store.grants_of(s) for s in ids])  # type: ignore[misc]
        print(line("the registry check alone (one document get)", walls_check, cpu_check, 1))
        added = statistics.median(walls_with) - statistics.median(walls_without)
        print(f"added per authorised staff request: {added:.2f} ms wall (p50), {cpu_with - cpu_without:.2f} ms CPU")
        added_login = statistics.median(login_with) - statistics.median(login_without)
        print(f"added per returning login: {added_login:.2f} ms wall (p50), "
              f"{cpu_login_with - cpu_login_without:.2f} ms CPU")  # fmt: skip


if __name__ == "__main__":
    main()
