"""The local Cloud Scheduler fires the schedules infra/topology.yaml declares, on their crons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from emulators.scheduler import LocalScheduler, next_fire
from shared.topology import PROGRAMME_TICKS, TOPOLOGY, Schedule


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_every_declared_schedule_fires_on_its_cron_in_its_time_zone() -> None:
    # 2026-11-28 is in winter time: Warsaw is UTC+1.
    clock = Clock(datetime(2026, 11, 28, 15, 59, 30, tzinfo=UTC))
    published: list[tuple[str, bytes]] = []
    scheduler = LocalScheduler(TOPOLOGY.schedules, lambda topic, body: published.append((topic, body)), clock)
    fired: dict[str, list[datetime]] = {s.name: [] for s in TOPOLOGY.schedules}
    end = clock.now + timedelta(days=1)
    while clock.now < end:
        clock.now += timedelta(seconds=30)
        for name in scheduler.run_pending():
            fired[name].append(clock.now)

    assert len(fired["programme-tick"]) == 24 * 60 and len(fired["outbox-sweep"]) == 24 * 60
    assert len(fired["availability-reconcile"]) == 24 * 12
    assert fired["day-before-reminders"] == [datetime(2026, 11, 28, 16, 0, tzinfo=UTC)]  # 17:00 in Warsaw
    assert fired["nightly-no-shows"] == [datetime(2026, 11, 29, 0, 30, tzinfo=UTC)]  # 01:30 in Warsaw
    assert (PROGRAMME_TICKS, b"{}") in published
    assert {topic for topic, _ in published} == {s.topic for s in TOPOLOGY.schedules}


def test_missed_fire_times_fire_once_and_a_failed_publish_is_tried_again() -> None:
    schedule = Schedule("every-minute", "programme-ticks", "* * * * *", "Etc/UTC")
    clock = Clock(datetime(2026, 11, 28, 12, 0, 10, tzinfo=UTC))
    attempts: list[str] = []
    failing = [True]

    def publish(topic: str, body: bytes) -> None:
        attempts.append(topic)
        if failing[0]:
            raise ConnectionError("pubsub away")

    scheduler = LocalScheduler([schedule], publish, clock)
    clock.now += timedelta(minutes=10)  # the machine slept through ten fire times
    assert scheduler.run_pending() == [] and len(attempts) == 1
    failing[0] = False
    assert scheduler.run_pending() == ["every-minute"]
    assert scheduler.run_pending() == []  # once, not ten times
    assert scheduler.next_at["every-minute"] == datetime(2026, 11, 28, 12, 11, tzinfo=UTC)


def test_a_daily_schedule_follows_warsaw_across_the_clock_change() -> None:
    reminders = next(s for s in TOPOLOGY.schedules if s.name == "day-before-reminders")
    summer = next_fire(reminders, datetime(2026, 7, 1, 12, tzinfo=UTC))
    winter = next_fire(reminders, datetime(2026, 12, 1, 12, tzinfo=UTC))
    assert (summer.astimezone(UTC).hour, winter.astimezone(UTC).hour) == (15, 16)
