"""The peak benchmark's invariant check (bench/invariants.py) on the emulators and a real Redis.

A small database made consistent by hand (the test plays the event consumers: an SMS at a gateway of
its own for each booking, a BigQuery row for each event, the projection rebuilt), then each kind of
violation planted in turn: the check must pass on the first and name exactly the broken invariant.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from bench.invariants import Report, check
from emulators.ports import LOOPBACK, free_port
from emulators.sms_gateway import DEFAULT_TOKEN, create_gateway
from shared.adapters.spanner_outbox import SpannerOutbox
from shared.bootstrap import Container
from shared.domain.availability import SlotState
from shared.domain.booking import Channel
from shared.domain.sms import VisitFacts, booked_text, change_request_id, encode
from shared.services.visits import BookingRequest
from tests.integration.conftest import CapturedEvents, add_patient, add_point, at, visit_service

PHONE = "+48601234567"  # add_patient's
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
# A confirmation as the gateway receives it (transliterated).
CONFIRMATION = encode(
    booked_text(
        VisitFacts(1, datetime(2026, 12, 1, 9, tzinfo=UTC), "Comirnaty", "Punkt", "ul. Długa 1", "0427"), [], None
    ),
    transliterate=True,
).text


@pytest.fixture
def gateway() -> Iterator[str]:
    """An SMS gateway of this test's own (the shared one holds every other test's messages)."""
    port = free_port()
    server = make_server(LOOPBACK, port, create_gateway(DEFAULT_TOKEN), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{LOOPBACK}:{port}"
    server.shutdown()


def text(gateway: str, events: list[dict[str, Any]]) -> None:
    """What notify and send_sms do: one confirmation for each booking, under its request id."""
    for event in events:
        if event["event_type"] == "VisitBooked" and event["visit_id"] == event["changed"][0]:
            body = {"id": change_request_id(event["event_id"]), "to": PHONE, "text": CONFIRMATION}
            requests.post(f"{gateway}/messages", json=body, headers=AUTH, timeout=5).raise_for_status()


def stream(container: Container, events: list[dict[str, Any]]) -> None:
    for event in events:
        container.streamer.handle(event, datetime.now(UTC))


def book(container: Container, point: str, captured: CapturedEvents) -> list[dict[str, Any]]:
    before = len(captured.events)
    request = BookingRequest(point, at(2, 9), "comirnaty", None)
    visit_service(container, events=captured).book(
        add_patient(container), request, Channel.WEB, at(0, 0), str(uuid.uuid4())
    )
    events = captured.events[before:]
    SpannerOutbox(container.spanner).mark_published([e["event_id"] for e in events])  # as the relay does
    return events


def looked(container: Container, gateway: str) -> Report:
    return check(container, gateway, wait_s=2)


def test_the_check_passes_when_consistent_and_names_each_broken_invariant(backends: Container, gateway: str) -> None:
    availability, projection = backends.availability, backends.projection
    assert availability is not None and projection is not None, "the emulator stack's Redis is configured"
    point = add_point(backends, [(at(2, 9), "comirnaty", 3), (at(23, 9), "comirnaty", 3)])
    captured = CapturedEvents()
    events = book(backends, point, captured) + book(backends, point, captured)
    text(gateway, events)
    stream(backends, events)
    availability.rebuild()

    report = looked(backends, gateway)
    assert report.ok, report.lines()
    assert (report.bookings, report.booked_events, report.sms_confirmations, report.bigquery_rows) == (2, 4, 2, 4)
    assert (report.places_taken, report.active_visits, report.slots_compared) == (4, 4, 2)

    # The projection off: Redis holds a newer state that Spanner never had.
    [dose_1] = [s for s in availability.states.of_point(point) if s.slot.starts_at == at(2, 9)]
    projection.apply([SlotState(replace(dose_1.slot, booked=0), dose_1.version + 1)])
    assert looked(backends, gateway).kinds() == {"projection"}
    availability.rebuild()

    # A second confirmation for one booking.
    duplicate = {"id": "again", "to": PHONE, "text": CONFIRMATION}
    requests.post(f"{gateway}/messages", json=duplicate, headers=AUTH, timeout=5).raise_for_status()
    assert looked(backends, gateway).kinds() == {"sms_duplicate"}
    requests.delete(f"{gateway}/messages", timeout=5)
    text(gateway, events)
    assert looked(backends, gateway).ok

    # A booking whose events never reached BigQuery, and one whose SMS never came.
    third = book(backends, point, captured)
    text(gateway, third)
    availability.rebuild()
    report = looked(backends, gateway)
    assert report.kinds() == {"bigquery_missing"}
    assert len(report.violations) == 2  # both doses' events
    stream(backends, third)
    requests.delete(f"{gateway}/messages", timeout=5)
    text(gateway, events)
    assert looked(backends, gateway).kinds() == {"sms_missing"}
    text(gateway, third)
    assert looked(backends, gateway).ok

    # A booked count that is not its visits' (and over capacity): only a write outside a booking can.
    with backends.spanner.batch() as batch:
        batch.update("Slots", ("PointId", "StartsAt", "Vaccine", "Booked"), [(point, at(2, 9), "comirnaty", 4)])
    assert looked(backends, gateway).kinds() == {"booked_count", "over_capacity", "projection"}
