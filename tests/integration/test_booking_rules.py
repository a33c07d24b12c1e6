"""Booking on the Spanner emulator: races for the last places, and the counters' invariant."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from google.cloud.spanner_v1.keyset import KeyRange, KeySet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulators.seed import demo_programme
from shared.adapters.spanner_reads import SpannerVisitReader
from shared.bootstrap import Container, build_container
from shared.domain.booking import Channel
from shared.domain.refusals import RefusalKind, Refused
from shared.services.visits import BookingRequest
from tests.integration.conftest import NOW, add_patient, add_point, at, visit_service


def slot_counts(container: Container, point_id: str) -> dict[tuple[object, ...], tuple[int, int]]:
    keys = KeySet(ranges=[KeyRange(start_closed=[point_id], end_closed=[point_id])])
    with container.spanner.snapshot() as snapshot:
        rows = snapshot.read("Slots", ("PointId", "StartsAt", "Vaccine", "Capacity", "Booked"), keys)
        return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def booked_visits(container: Container, patients: list[str]) -> Counter[tuple[object, ...]]:
    reader = SpannerVisitReader(container.spanner)
    active: Counter[tuple[object, ...]] = Counter()
    for patient_id in patients:
        for visit in reader.visits_of_patient(patient_id):
            if visit.is_active:
                active[(visit.point_id, visit.starts_at, visit.vaccine)] += 1
    return active


def test_many_clients_racing_for_the_last_places_never_overbook(backends: Container) -> None:
    capacity, clients = 3, 12
    point_id = add_point(backends, [(at(2, 9), "jcovden", capacity)])
    patients = [add_patient(backends) for _ in range(clients)]
    # Three process-like containers: separate transaction caps, so the emulator sees real contention.
    containers = [build_container(backends.settings) for _ in range(3)]
    services = [visit_service(c) for c in containers]
    start = threading.Barrier(clients)

    def attempt(index: int) -> str:
        service = services[index % len(services)]
        start.wait()
        try:
            service.book(
                patients[index], BookingRequest(point_id, at(2, 9), "jcovden", None), Channel.WEB, NOW,
                idempotency_key=str(uuid.uuid4()),
            )  # fmt: skip
        except Refused as refusal:
            return refusal.code
        return "booked"

    with ThreadPoolExecutor(clients) as pool:
        outcomes = Counter(pool.map(attempt, range(clients)))
    assert outcomes == {"booked": capacity, "slot_full": clients - capacity}
    assert slot_counts(backends, point_id) == {(point_id, at(2, 9), "jcovden"): (capacity, capacity)}
    assert sum(booked_visits(backends, patients).values()) == capacity


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["book", "move", "cancel"]), st.integers(0, 2), st.integers(0, 5)),
    min_size=1,
    max_size=10,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_any_book_move_cancel_sequence_keeps_counters_equal_to_active_visits(
    backends: Container, operations: list[tuple[str, int, int]]
) -> None:
    slots = [
        (at(1, 9), "comirnaty", 2), (at(2, 10), "comirnaty", 1), (at(23, 9), "comirnaty", 1),
        (at(24, 11), "comirnaty", 2), (at(1, 12), "jcovden", 1), (at(3, 12), "jcovden", 2),
    ]  # fmt: skip
    point_id = add_point(backends, slots)
    patients = [add_patient(backends) for _ in range(3)]
    service = visit_service(backends)
    for operation, who, which in operations:
        patient_id = patients[who]
        start, vaccine, _ = slots[which]
        mine = [v for v in service.list_for_patient(patient_id).visits if v.is_active]
        try:
            if operation == "book":
                service.book(
                    patient_id, BookingRequest(point_id, start, vaccine, None), Channel.WEB, NOW, str(uuid.uuid4())
                )
            elif operation == "move" and mine:
                service.move(mine[0].visit_id, point_id, start, patient_id, NOW)
            elif operation == "cancel" and mine:
                service.cancel(mine[-1].visit_id, patient_id, NOW)
        except Refused as refusal:
            assert refusal.kind != RefusalKind.UNAVAILABLE
        counts = slot_counts(backends, point_id)
        active = booked_visits(backends, patients)
        for key, (capacity, booked) in counts.items():
            assert 0 <= booked <= capacity
            assert booked == active[key], (operation, key)


def test_a_cancelled_place_can_be_booked_by_someone_else(backends: Container) -> None:
    point_id = add_point(backends, [(at(2, 9), "jcovden", 1)])
    first, second = add_patient(backends), add_patient(backends)
    service = visit_service(backends)
    request = BookingRequest(point_id, at(2, 9), "jcovden", None)
    visit_id = service.book(first, request, Channel.WEB, NOW, "k1").visits[0].visit_id
    try:
        service.book(second, request, Channel.WEB, NOW, "k2")
    except Refused as refusal:
        assert refusal.code == "slot_full"
    else:
        raise AssertionError("a full slot took another booking")
    service.cancel(visit_id, first, NOW)
    assert [v.patient_id for v in service.book(second, request, Channel.WEB, NOW, "k3").visits] == [second]
    assert slot_counts(backends, point_id)[(point_id, at(2, 9), "jcovden")] == (1, 1)


def test_booking_writes_its_events_to_the_outbox_in_the_same_transaction(backends: Container) -> None:
    point_id = add_point(backends, [(at(2, 9), "comirnaty", 5), (at(25, 9), "comirnaty", 5)])
    patient_id = add_patient(backends)
    booked = visit_service(backends).book(
        patient_id, BookingRequest(point_id, at(2, 9), "comirnaty", None), Channel.WEB, NOW, "k"
    )
    visit_ids = {v.visit_id for v in booked.visits}
    with backends.spanner.snapshot() as snapshot:
        rows = list(snapshot.read("Outbox", ("EventType", "Payload", "Pending"), KeySet(all_=True)))
    events = [__import__("json").loads(r[1]) for r in rows if r[0] == "VisitBooked" and r[2]]
    assert {e["visit_id"] for e in events} == visit_ids
    assert all(e["patient_ref"] == patient_id and "pesel" not in e for e in events)


def test_a_cohort_not_open_yet_cannot_book_and_nothing_changes(backends: Container) -> None:
    point_id = add_point(backends, [(at(2, 9), "jcovden", 3)])
    patient_id = add_patient(backends)
    programme = demo_programme(NOW)
    for cohort in programme.cohorts:
        cohort.opens_at = NOW + timedelta(days=1)
    service = visit_service(backends, programme)
    try:
        service.book(patient_id, BookingRequest(point_id, at(2, 9), "jcovden", None), Channel.WEB, NOW, "k")
    except Refused as refusal:
        assert (refusal.kind, refusal.code) == (RefusalKind.RULE, "cohort_not_open")
    else:
        raise AssertionError("a closed cohort booked a visit")
    assert slot_counts(backends, point_id)[(point_id, at(2, 9), "jcovden")] == (3, 0)
    assert service.list_for_patient(patient_id).visits == []
