"""Fakes for the nightly jobs: a checkpoint store that outlives a "process", a clock, a bus that dies."""

from __future__ import annotations

from collections.abc import Sequence

from shared.services.night_jobs import Checkpoint
from tests.unit.fakes import FakeBus


class FakeCheckpoints:
    def __init__(self) -> None:
        self.saved: dict[str, Checkpoint] = {}
        self.writes = 0

    def load(self, job_id: str) -> Checkpoint | None:
        return self.saved.get(job_id)

    def save(self, checkpoint: Checkpoint) -> None:
        self.saved[checkpoint.job_id] = checkpoint
        self.writes += 1


class SteppingClock:
    """Monotonic seconds that move on by ``step`` at every reading."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class Crash(Exception):
    """The process died (or the function timed out) in the middle of a job."""


class CrashingBus(FakeBus):
    """Takes ``pages`` calls of publish_many, then the process "dies" on the next one."""

    def __init__(self, pages: int) -> None:
        super().__init__()
        self.pages = pages

    def publish_many(
        self, topic: str, messages: Sequence[tuple[bytes, dict[str, str]]], timeout_s: float = 10.0
    ) -> list[bool]:
        if self.pages <= 0:
            raise Crash("killed while publishing")
        self.pages -= 1
        return super().publish_many(topic, messages, timeout_s)
