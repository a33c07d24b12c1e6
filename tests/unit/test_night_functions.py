"""The nightly functions take the tick a run publishes when out of time, and go on from the checkpoint."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from cloudevents.http import CloudEvent

import functions.mark_no_shows as mark_no_shows_function
import functions.send_reminders as send_reminders_function
from shared.domain.booking import VisitStatus
from shared.domain.messages import PoisonMessage
from shared.services.night_jobs import NightJobs
from shared.services.no_shows import NightlyNoShows
from shared.services.points import PointService
from shared.topology import NO_SHOW_TICKS, REMINDER_TICKS, SMS_REQUESTS
from tests.unit.fakes import FakeBus, FakeStore
from tests.unit.fakes_night_jobs import FakeCheckpoints, SteppingClock
from tests.unit.fakes_points import Published
from tests.unit.test_points import POINT, PROGRAMME, TODAY, add_visit, local
from tests.unit.test_reminders_and_feed import DAY, reminders_world


def pushed(body: bytes) -> CloudEvent:
    message = {"message": {"data": base64.b64encode(body).decode(), "messageId": "1"}}
    return CloudEvent({"type": "google.cloud.pubsub.topic.v1.messagePublished", "source": "//pubsub"}, message)


@dataclass
class FakeContainer:
    reminders: Any = None
    no_shows: Any = None


def deliver_ticks(bus: FakeBus, topic: str, function: Any) -> int:
    """Push each tick published to ``topic`` to the function, as Pub/Sub would, until none is new."""
    delivered = 0
    while delivered < len(ticks := [data for t, data, _ in bus.messages if t == topic]):
        function(pushed(ticks[delivered]))
        delivered += 1
    return delivered


def test_reminders_out_of_time_go_on_through_the_ticks_they_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    bus = FakeBus()
    service, _, reminded = reminders_world(page=2, bus=bus, booked=13, clock_step=30.0)  # 3 pages a run
    monkeypatch.setattr(send_reminders_function, "get_container", lambda: FakeContainer(reminders=service))
    send_reminders_function.send_reminders(pushed(f'{{"day": "{DAY.isoformat()}"}}'.encode()))
    assert deliver_ticks(bus, REMINDER_TICKS, send_reminders_function.send_reminders) == 2
    requests = [r["request_id"] for r in bus.json(SMS_REQUESTS)]
    assert sorted(requests) == sorted(f"reminder-{v}-{DAY.isoformat()}" for v in reminded)


def test_no_shows_out_of_time_go_on_through_the_ticks_they_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    office, bus = FakeStore(), FakeBus()
    office.state.points[POINT.point_id] = POINT
    past = [add_visit(office, local(TODAY - timedelta(days=d), 9), series=f"s{d}") for d in range(1, 8)]
    jobs = NightJobs(FakeCheckpoints(), bus, SteppingClock(30.0), budget_s=100.0)
    nightly = NightlyNoShows(office, PointService(office, lambda: PROGRAMME, Published()), jobs, page=2)
    monkeypatch.setattr(mark_no_shows_function, "get_container", lambda: FakeContainer(no_shows=nightly))
    mark_no_shows_function.mark_no_shows(pushed(f'{{"before": "{TODAY.isoformat()}"}}'.encode()))
    assert deliver_ticks(bus, NO_SHOW_TICKS, mark_no_shows_function.mark_no_shows) == 1  # 4 pages: 2 runs
    assert {office.state.visits[v.visit_id].status for v in past} == {VisitStatus.NO_SHOW}


def test_a_tick_without_a_date_is_poison() -> None:
    with pytest.raises(PoisonMessage):
        send_reminders_function.send_reminders(pushed(b'{"day": "tomorrow"}'))
    with pytest.raises(PoisonMessage):
        mark_no_shows_function.mark_no_shows(pushed(b'{"before": "yesterday"}'))
