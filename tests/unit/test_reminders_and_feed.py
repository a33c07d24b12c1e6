"""Reminders and the reporting feed through fakes of their ports (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.domain.booking import VisitStatus
from shared.domain.events import VISIT_BOOKED, VISIT_MOVED
from shared.domain.local_time import WARSAW
from shared.domain.messages import PoisonMessage
from shared.services.night_jobs import NightJobs
from shared.services.reminders import Reminders, RemindersNotTaken, tomorrow
from shared.services.reporting_feed import EventStreamer
from shared.topology import REMINDER_TICKS, SMS_REQUESTS
from tests.unit.fakes import FakeBus, FakePointDirectory, FakeStore, FakeWarehouse
from tests.unit.fakes_night_jobs import Crash, CrashingBus, FakeCheckpoints, SteppingClock
from tests.unit.fakes_sms import FakeConversations
from tests.unit.messaging_data import NOW, POINT, events, patient, save, series, visit

DAY = date(2026, 12, 3)
AT_NINE = datetime(2026, 12, 3, 9, tzinfo=WARSAW)


class PagedReader(FakeStore):
    """Records each page asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[tuple[str | None, int]] = []

    def booked_on_day(self, day: date, after_visit_id: str | None, limit: int) -> list:  # type: ignore[type-arg]
        self.pages.append((after_visit_id, limit))
        return super().booked_on_day(day, after_visit_id, limit)


def reminders_world(
    page: int, bus: FakeBus, checkpoints: FakeCheckpoints | None = None, booked: int = 3, clock_step: float = 0.0
) -> tuple[Reminders, PagedReader, list[str]]:
    """``booked`` patients booked on DAY, one cancelled, one without phone, one booked the day after."""
    visits = PagedReader()
    reminded = []
    for index in range(booked + 3):
        someone = patient(phone=None if index == booked + 1 else "+48601234567")
        when = AT_NINE + timedelta(days=1 if index == booked + 2 else 0, minutes=10 * index)
        status = VisitStatus.CANCELLED if index == booked else VisitStatus.BOOKED
        one = visit(someone.patient_id, when.astimezone(UTC), status=status)
        save(visits, [someone], [one])
        if index < booked:
            reminded.append(one.visit_id)
    jobs = NightJobs(checkpoints or FakeCheckpoints(), bus, SteppingClock(clock_step), budget_s=100.0)
    service = Reminders(visits, visits, FakePointDirectory([POINT]), bus, False, jobs, page=page)
    return service, visits, reminded


def test_reminders_page_through_the_day_and_skip_cancelled_visits_and_missing_phones() -> None:
    bus = FakeBus()
    service, reader, reminded = reminders_world(page=2, bus=bus)
    assert service.run(DAY).done == 3
    requests = bus.json(SMS_REQUESTS)
    assert sorted(r["visit_id"] for r in requests) == sorted(reminded)
    assert {r["request_id"] for r in requests} == {f"reminder-{v}-2026-12-03" for v in reminded}
    assert all(r["kind"] == "Reminder" and "jutro" in r["text"] for r in requests)
    # Pages of two in visit id order, each after the last visit of the previous one, until one is empty.
    first, *more = sorted(v for v, booked in reader.state.visits.items() if booked.booked_day == DAY)
    assert [p[1] for p in reader.pages] == [2, 2, 2] and reader.pages[0][0] is None
    assert reader.pages[-1][0] == max(first, *more)


def test_a_second_tick_after_the_job_finished_asks_for_nothing() -> None:
    bus = FakeBus()
    service, reader, _ = reminders_world(page=500, bus=bus)
    first = service.run(DAY)
    pages_read = len(reader.pages)
    again = service.run(DAY)
    assert (first.done, first.finished) == (3, True)
    assert (again.done, again.total, again.finished) == (0, 3, True) and len(reader.pages) == pages_read
    assert len(bus.json(SMS_REQUESTS)) == 3


def test_a_job_killed_mid_way_resumes_after_its_checkpoint_none_twice_none_missing() -> None:
    checkpoints = FakeCheckpoints()
    dying = CrashingBus(pages=2)  # two pages of two are published, the process dies in the third
    service, reader, reminded = reminders_world(page=2, bus=dying, checkpoints=checkpoints, booked=9)
    with pytest.raises(Crash):
        service.run(DAY)
    [saved] = checkpoints.saved.values()
    first_run = [r["request_id"] for r in dying.json(SMS_REQUESTS)]
    assert (saved.done, saved.pages, saved.finished) == (len(first_run), 2, False)

    bus = FakeBus()  # the retried delivery: a new process, the same checkpoint store and visits
    jobs = NightJobs(checkpoints, bus, SteppingClock(0.0), budget_s=100.0)
    again = Reminders(reader, reader, FakePointDirectory([POINT]), bus, False, jobs, page=2)
    reader.pages.clear()
    run = again.run(DAY)
    second_run = [r["request_id"] for r in bus.json(SMS_REQUESTS)]
    assert saved.cursor is not None and reader.pages[0][0] == saved.cursor[0]  # not the first page again
    assert (run.done, run.total, run.finished, run.resumed_after) == (9 - len(first_run), 9, True, saved.cursor)
    assert len(first_run + second_run) == len(set(first_run + second_run)) == 9
    assert set(first_run + second_run) == {f"reminder-{v}-2026-12-03" for v in reminded}


def test_a_run_out_of_time_saves_its_place_and_asks_for_the_next_run() -> None:
    bus = FakeBus()
    # The clock is read at the start and before each page: at 30 s a reading, a 100 s run does 3 pages.
    service, _, reminded = reminders_world(page=2, bus=bus, booked=13, clock_step=30.0)
    runs = [service.run(DAY)]
    while not runs[-1].finished:
        runs.append(service.run(DAY))  # what the published tick does
    assert len(runs) == 3 and sum(r.done for r in runs) == runs[-1].total == 13  # 14 visits in 7 pages
    assert bus.json(REMINDER_TICKS) == [{"day": "2026-12-03"}, {"day": "2026-12-03"}]
    ids = [r["request_id"] for r in bus.json(SMS_REQUESTS)]
    assert sorted(ids) == sorted(f"reminder-{v}-2026-12-03" for v in reminded)


def test_reminders_fail_the_tick_when_pubsub_does_not_take_them_all() -> None:
    service, _, _ = reminders_world(page=500, bus=FakeBus(takes=2))
    with pytest.raises(RemindersNotTaken):
        service.run(DAY)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 1, 2)),  # already 1 January in Warsaw
        (datetime(2026, 12, 31, 10, 0, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 30)),  # the night the clocks go forward
    ],
)
def test_tomorrow_is_the_next_local_day(now: datetime, expected: date) -> None:
    assert tomorrow(now) == expected


def test_the_reporting_feed_writes_one_row_per_delivery_with_the_event_id_as_insert_id() -> None:
    warehouse = FakeWarehouse()
    streamer = EventStreamer(warehouse)
    someone = patient()
    doses = series(someone.patient_id, NOW + timedelta(days=2))
    first, second = events(VISIT_BOOKED, doses, doses)
    inserted_at = NOW + timedelta(seconds=3)
    streamer.handle(first, inserted_at)
    streamer.handle(second, inserted_at)
    streamer.handle(first, inserted_at)  # redelivered: the views count it once
    rows = warehouse.rows["visit_events"]
    assert [i for i, _ in rows] == [first["event_id"], second["event_id"], first["event_id"]]
    assert rows[0][1] == {
        "event_id": first["event_id"], "event_type": "VisitBooked", "schema_version": 1,
        "occurred_at": "2026-12-01T09:00:00+00:00", "visit_id": doses[0].visit_id, "patient_ref": someone.patient_id,
        "point_id": POINT.point_id, "voivodeship": "14", "county": "1465", "municipality": "1465011",
        "vaccine": "comirnaty", "dose": 1, "channel": "WEB", "starts_at": "2026-12-03T09:00:00+00:00",
        "age_band": "40-49", "status": "BOOKED", "lot": None, "inserted_at": "2026-12-01T09:00:03+00:00",
    }  # fmt: skip
    assert rows[1][1]["dose"] == 2


def test_the_reporting_feed_refuses_what_is_no_visit_event() -> None:
    streamer = EventStreamer(FakeWarehouse())
    someone = patient()
    [moved] = events(VISIT_MOVED, [visit(someone.patient_id, NOW)], [])
    for broken in ({"hello": "world"}, {**moved, "occurred_at": "yesterday"}, {**moved, "voivodeship": "mazowieckie"}):
        with pytest.raises(PoisonMessage):
            streamer.handle(broken, NOW)


def test_reminders_remember_where_each_went_so_that_nie_can_cancel_it() -> None:
    bus, windows = FakeBus(), FakeConversations()
    service, reader, reminded = reminders_world(page=10, bus=bus)
    service.windows = windows
    service.run(DAY)
    [(phone, window)] = windows.windows.items()  # the three reminded visits share one phone: one window
    assert phone == "+48601234567" and window.visit_id in reminded
    assert window.until == reader.state.visits[window.visit_id].starts_at
    assert "Odpisz NIE" in bus.json(SMS_REQUESTS)[0]["text"]
