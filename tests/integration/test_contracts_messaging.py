"""The same cases against each messaging fake of tests/unit/fakes.py and its real adapter on the emulators
(outbox, SMS log, point directory; the visit and patient readers are in test_contracts_transaction.py).

Every fixture is parametrised over ``fake`` and ``real``: a case that passes on one and fails on the
other means the fake has drifted, and the unit tests built on it would prove nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulators.provision import provision, remove_pubsub
from shared.adapters.firestore_db import FirestoreSmsLog
from shared.adapters.spanner_outbox import SpannerOutbox
from shared.adapters.spanner_points import POINT_COLUMNS, SpannerPointDirectory
from shared.bootstrap import Container, build_container
from shared.domain.points import Point
from shared.services.outbox import OutboxStore
from shared.services.ports import PointDirectory
from tests.conftest import isolated_settings
from tests.unit.fakes import FakeOutbox, FakePointDirectory, FakeSmsLog

SIDES = ["fake", "real"]


@pytest.fixture(scope="module")
def spanner_backends(emulator_env: dict[str, str]) -> Iterator[Container]:
    """One provisioned database for the real side of this module's cases (each case uses ids of its own)."""
    container = build_container(isolated_settings())
    provision(container.settings, container.warehouse.client)
    yield container
    remove_pubsub(container.settings)
    container.spanner.database.drop()
    container.warehouse.client.delete_dataset(
        f"{container.settings.project_id}.{container.settings.bigquery_dataset}", delete_contents=True
    )


def real(request: pytest.FixtureRequest) -> Container:
    return request.getfixturevalue("spanner_backends")  # type: ignore[no-any-return]


# --- OutboxStore -------------------------------------------------------------------------------------


class Outbox:
    """An OutboxStore and a way to write events to it (as a committed booking does)."""

    def __init__(self, store: OutboxStore, add: Callable[[list[dict[str, Any]]], None]) -> None:
        self.store, self.add = store, add


@pytest.fixture(params=SIDES)
def outbox(request: pytest.FixtureRequest) -> Outbox:
    if request.param == "fake":
        fake = FakeOutbox()
        return Outbox(fake, fake.add)
    adapter = SpannerOutbox(real(request).spanner)
    return Outbox(adapter, adapter.add)


def new_events(count: int) -> list[dict[str, Any]]:
    return [{"event_id": str(uuid.uuid4()), "event_type": "VisitBooked", "n": n, "ok": True} for n in range(count)]


def by_id(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda e: str(e["event_id"]))


def test_outbox_pending_are_the_oldest_unpublished_before_the_cutoff(outbox: Outbox) -> None:
    later = datetime.now(UTC) + timedelta(minutes=1)
    outbox.store.mark_published([e["event_id"] for e in outbox.store.pending(later, 10_000)])  # other cases'
    before = datetime.now(UTC) - timedelta(seconds=1)
    first, second = new_events(2), new_events(2)
    outbox.add(first)
    outbox.add(second)  # committed after the first two
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert outbox.store.pending(before, 10) == []  # all younger than that cutoff
    assert by_id(outbox.store.pending(later, 100)) == by_id(first + second)  # the payloads as written
    assert by_id(outbox.store.pending(later, 2)) == by_id(first)  # oldest first


def test_outbox_marked_events_are_no_longer_pending(outbox: Outbox) -> None:
    events = new_events(3)
    outbox.add(events)
    later = datetime.now(UTC) + timedelta(minutes=1)
    outbox.store.mark_published([events[0]["event_id"], events[2]["event_id"]])
    outbox.store.mark_published([])
    ids = {e["event_id"] for e in events}
    assert [e for e in outbox.store.pending(later, 1000) if e["event_id"] in ids] == [events[1]]
    outbox.store.mark_published([events[1]["event_id"]])
    assert [e for e in outbox.store.pending(later, 1000) if e["event_id"] in ids] == []


# --- SmsLog --------------------------------------------------------------------------------------------


@pytest.fixture(params=SIDES)
def sms_log(request: pytest.FixtureRequest) -> FakeSmsLog | FirestoreSmsLog:
    if request.param == "fake":
        return FakeSmsLog()
    return FirestoreSmsLog(real(request).firestore.client)


def test_sms_log_claims_hold_a_lease_and_final_states_are_done(sms_log: FakeSmsLog | FirestoreSmsLog) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    request_id = f"contract-{uuid.uuid4()}"
    details = {"kind": "VisitBooked", "visit_id": "v-1", "encoding": "GSM-7", "segments": 1}
    assert sms_log.claim(request_id, details, now) == "send"
    assert sms_log.claim(request_id, details, now + timedelta(seconds=59)) == "busy"
    assert sms_log.claim(request_id, details, now + timedelta(seconds=61)) == "send"  # the lease ran out
    record = sms_log.get(request_id)
    assert record is not None
    assert (record["status"], record["attempts"], record["kind"], record["segments"]) == (
        "SENDING",
        2,
        "VisitBooked",
        1,
    )
    sms_log.mark(request_id, "RETRYING", now, reason="HTTP 503")
    assert sms_log.claim(request_id, details, now + timedelta(seconds=62)) == "send"  # RETRYING is not final
    sms_log.mark(request_id, "SENT", now, provider_id="p-1")
    for _ in range(2):
        assert sms_log.claim(request_id, details, now + timedelta(hours=1)) == "done"
    record = sms_log.get(request_id)
    assert record is not None and (record["status"], record["provider_id"], record["attempts"]) == ("SENT", "p-1", 3)


@pytest.mark.parametrize("final", ["FAILED", "REJECTED", "DELIVERED"])
def test_sms_log_marks_create_the_record_and_every_final_state_is_done(
    sms_log: FakeSmsLog | FirestoreSmsLog, final: str
) -> None:
    now = datetime.now(UTC)
    request_id = f"contract-{uuid.uuid4()}"
    assert sms_log.get(request_id) is None
    sms_log.mark(request_id, final, now, reason="r")
    record = sms_log.get(request_id)
    assert record is not None and (record["status"], record["reason"]) == (final, "r")
    assert sms_log.claim(request_id, {}, now) == "done"


# --- PointDirectory --------------------------------------------------------------------------------


@dataclass
class Points:
    directory: PointDirectory
    save: Callable[[Iterable[Point]], None]


@pytest.fixture(params=SIDES)
def points(request: pytest.FixtureRequest) -> Points:
    if request.param == "fake":
        fake = FakePointDirectory()
        return Points(fake, lambda new: fake.points.update((p.point_id, p) for p in new))
    database = real(request).spanner

    def save_real(new_points: Iterable[Point]) -> None:
        with database.batch() as batch:
            batch.insert(
                "Points",
                POINT_COLUMNS,
                [(p.point_id, p.name, p.voivodeship, p.county, p.municipality, p.city, p.street, p.postal_code,
                  p.vaccines, p.active) for p in new_points],
            )  # fmt: skip

    return Points(SpannerPointDirectory(database), save_real)


def test_points_by_id_and_by_region(points: Points) -> None:
    region = f"{uuid.uuid4().int % 90 + 10}"  # a voivodeship code of this case's own
    county, other_county = f"{region}01", f"{region}02"

    def point(name: str, county: str, municipality: str, active: bool = True) -> Point:
        return Point(str(uuid.uuid4()), name, region, county, municipality, "Miasto", "ul. Krótka 2", "00-002",
                     ["comirnaty", "jcovden"], active)  # fmt: skip

    b = point("B", county, f"{county}011")
    a = point("A", county, f"{county}011")
    c = point("C", county, f"{county}022")
    closed = point("Z", county, f"{county}011", active=False)
    far = point("F", other_county, f"{other_county}011")
    points.save([a, b, c, closed, far])
    unknown = str(uuid.uuid4())
    assert points.directory.get_many([a.point_id, closed.point_id, unknown]) == {a.point_id: a, closed.point_id: closed}
    assert points.directory.get_many([]) == {}
    assert points.directory.in_region(region, None, None) == [a, b, c, far]
    assert points.directory.in_region(region, county, None) == [a, b, c]
    assert points.directory.in_region(region, county, f"{county}011") == [a, b]
    assert points.directory.in_region(region, other_county, f"{county}011") == []
