"""Bulk e-referral jobs, interest SMS and the programme tick, through in-memory fakes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from emulators.seed import demo_programme
from shared.domain.patients import Referral
from shared.domain.programme import Programme
from shared.domain.referrals import key_range_chunks
from shared.domain.refusals import RefusalKind, Refused
from shared.services.interest import InterestService
from shared.services.programme_tick import ProgrammeTick
from shared.services.referrals import ReferralIssuer
from shared.topology import REFERRAL_CHUNKS, REFERRAL_EVENTS, SMS_REQUESTS
from tests.unit.fakes_admin import FakeBus, FakeCohortReferrals, FakeInterest, FakeJobs

NOW = datetime(2021, 4, 1, 8, 0, tzinfo=UTC)


def test_key_ranges_cover_every_key_once() -> None:
    chunks = key_range_chunks(2)
    assert len(chunks) == 256 and chunks[0].start is None and chunks[-1].end is None
    keys = [str(uuid.uuid4()) for _ in range(2000)] + ["", "0", "zzz"]
    for key in keys:
        holders = [c for c in chunks if (c.start is None or key >= c.start) and (c.end is None or key < c.end)]
        assert len(holders) == 1
    assert len(key_range_chunks(0)) == 1


def _programme(opens_in: timedelta = -timedelta(days=1)) -> Programme:
    programme = demo_programme(NOW)
    cohorts = [
        c.model_copy(update={"opens_at": NOW + opens_in}) if c.code == "adults" else c for c in programme.cohorts
    ]
    return programme.model_copy(update={"cohorts": cohorts})


class World:
    def __init__(self, patients: int = 300, opens_in: timedelta = -timedelta(days=1)) -> None:
        self.programme = _programme(opens_in)
        self.jobs, self.store, self.bus = FakeJobs(), FakeCohortReferrals(), FakeBus()
        self.issuer = ReferralIssuer(self.jobs, self.store, self.bus, lambda: self.programme, prefix_length=1)
        for n in range(patients):
            patient_id = str(uuid.UUID(int=n * 7919 * 2**100 % 2**128, version=4))
            # two thirds adults (born 1962-2008), one third seniors
            self.store.patients[patient_id] = date(1970 if n % 3 else 1950, 1, 1)

    def deliver_all(self, times: int = 1) -> None:
        for message in self.bus.on(REFERRAL_CHUNKS):
            for _ in range(times):
                self.issuer.handle_chunk(message, NOW)
        self.bus.published = [p for p in self.bus.published if p[0] != REFERRAL_CHUNKS]

    def referrals_of(self, patient_id: str) -> list[Referral]:
        return [r for (p, _), (r, _) in self.store.referrals.items() if p == patient_id]


def test_a_job_issues_exactly_the_missing_referrals_and_a_second_run_none() -> None:
    world = World()
    adults = sorted(p for p, b in world.store.patients.items() if b.year == 1970)
    seniors = [p for p, b in world.store.patients.items() if b.year == 1950]
    valid, expired = adults[0], adults[1]
    still_valid = Referral(valid, "r-valid", None, "ACTIVE", NOW, NOW + timedelta(days=9))
    lapsed = Referral(expired, "r-old", None, "ACTIVE", NOW - timedelta(days=200), NOW - timedelta(days=20))
    world.store.referrals[(valid, "r-valid")] = (still_valid, "login")
    world.store.referrals[(expired, "r-old")] = (lapsed, "login")

    started = world.issuer.start("adults", "key-1", "staff-1", NOW)
    assert (started.status, started.job.chunks, started.done) == ("RUNNING", 16, 0)
    assert len(world.bus.on(REFERRAL_CHUNKS)) == 16
    world.deliver_all(times=2)  # every chunk delivered twice

    progress = world.issuer.progress(started.job.job_id)
    assert (progress.status, progress.done, progress.failed) == ("DONE", 16, 0)
    assert progress.issued == len(adults) - 1 and progress.patients == len(adults)
    assert all(len([r for r in world.referrals_of(p) if r.is_valid(NOW)]) == 1 for p in adults)
    assert all(world.referrals_of(p) == [] for p in seniors)
    assert len(world.bus.on(REFERRAL_EVENTS)) == 32  # at least once: the same event id twice per chunk
    assert len({e["event_id"] for e in world.bus.on(REFERRAL_EVENTS)}) == 16
    assert sum(e["issued"] for e in world.bus.on(REFERRAL_EVENTS)) == 2 * (len(adults) - 1)

    before = dict(world.store.referrals)
    second = world.issuer.start("adults", "key-2", "staff-1", NOW + timedelta(minutes=5))
    world.deliver_all()
    assert world.store.referrals == before
    assert world.issuer.progress(second.job.job_id).issued == 0


def test_the_same_key_returns_the_same_job_and_resumes_only_what_is_not_done() -> None:
    world = World()
    first = world.issuer.start("adults", "key-1", "staff-1", NOW)
    messages = world.bus.on(REFERRAL_CHUNKS)
    for message in messages[:10]:
        world.issuer.handle_chunk(message, NOW)
    world.bus.published.clear()
    again = world.issuer.start("adults", "key-1", "staff-1", NOW)
    assert again.job.job_id == first.job.job_id and again.done == 10
    assert world.bus.on(REFERRAL_CHUNKS) == []  # the 6 unfinished chunks are on their way: not again
    resumed = world.issuer.start("adults", "key-1", "staff-1", NOW, resume_after=timedelta(0))  # a stale job
    assert resumed.job.job_id == first.job.job_id
    assert sorted(m["chunk"] for m in world.bus.on(REFERRAL_CHUNKS)) == list(range(10, 16))
    with pytest.raises(Refused) as refused:
        world.issuer.start("seniors", "key-1", "staff-1", NOW)
    assert (refused.value.kind, refused.value.code) == (RefusalKind.CONFLICT, "idempotency_key_reused")


def test_a_failed_chunk_is_counted_and_succeeds_on_redelivery() -> None:
    world = World()
    job = world.issuer.start("adults", "key-1", "staff-1", NOW).job
    world.store.fail_writes = 1
    message = next(
        m for m in world.bus.on(REFERRAL_CHUNKS) if world.store.patients_in_range(key_range_chunks(1)[m["chunk"]])
    )
    with pytest.raises(RuntimeError):
        world.issuer.handle_chunk(message, NOW)
    assert world.issuer.progress(job.job_id).failed == 1
    world.issuer.handle_chunk(message, NOW)
    progress = world.issuer.progress(job.job_id)
    assert (progress.failed, progress.done) == (0, 1)


def test_unknown_cohort_and_unknown_job() -> None:
    world = World(patients=0)
    with pytest.raises(Refused) as refused:
        world.issuer.start("nobody", "k", "s", NOW)
    assert (refused.value.kind, refused.value.field) == (RefusalKind.INVALID, "cohort")
    with pytest.raises(Refused) as refused:
        world.issuer.progress("0" * 32)
    assert refused.value.kind == RefusalKind.NOT_FOUND
    with pytest.raises(ValueError):
        world.issuer.handle_chunk({"job_id": "0" * 32, "chunk": 0}, NOW)
    with pytest.raises(ValueError):
        world.issuer.handle_chunk({"chunk": "x"}, NOW)


def test_a_queue_that_refuses_is_unavailable_and_the_key_resumes_later() -> None:
    world = World(patients=10)
    world.bus.refuse = True
    with pytest.raises(Refused) as refused:
        world.issuer.start("adults", "key-1", "s", NOW)
    assert refused.value.kind == RefusalKind.UNAVAILABLE
    world.bus.refuse = False
    world.issuer.start("adults", "key-1", "s", NOW)
    assert len(world.bus.on(REFERRAL_CHUNKS)) == 16


def _interest(opens_in: timedelta) -> tuple[InterestService, FakeInterest, FakeBus, dict[str, Any]]:
    state: dict[str, Any] = {"programme": _programme(opens_in)}
    store, bus = FakeInterest(), FakeBus()
    return InterestService(store, bus, lambda: state["programme"]), store, bus, state


def test_interest_is_taken_only_before_the_cohort_opens() -> None:
    service, store, _, _ = _interest(timedelta(hours=1))
    store.birth_dates.update({"p-adult": date(1970, 1, 1), "p-senior": date(1950, 1, 1), "p-none": date(2020, 1, 1)})
    cohort = service.register("p-adult", "601 234 567", NOW)
    assert cohort.code == "adults" and store.rows[("adults", "p-adult")] == ("+48601234567", True)
    for patient, phone, code in (("p-senior", "601234567", "cohort_already_open"),
                                 ("p-none", "601234567", "not_eligible"),
                                 ("p-adult", "22 123 45 67", "invalid_phone")):  # fmt: skip
        with pytest.raises(Refused) as refused:
            service.register(patient, phone, NOW)
        assert refused.value.code == code


def test_each_interested_patient_gets_one_paced_sms_when_the_cohort_opens() -> None:
    service, store, bus, _ = _interest(timedelta(minutes=1))
    for n in range(5):
        store.birth_dates[f"p{n}"] = date(1970, 1, 1)
        service.register(f"p{n}", f"60123456{n}", NOW)
    assert service.notify_opened(NOW, budget=10) == 0  # not open yet
    opened = NOW + timedelta(minutes=1)
    assert service.notify_opened(opened, budget=2) == 2  # the rate: two a tick
    assert service.notify_opened(opened, budget=2) == 2
    assert service.notify_opened(opened, budget=2) == 1
    assert service.notify_opened(opened, budget=2) == 0
    requests = bus.on(SMS_REQUESTS)
    assert sorted(r["to"] for r in requests) == [f"+4860123456{n}" for n in range(5)]
    assert len({r["request_id"] for r in requests}) == 5 and "pacjent.gov.pl" in requests[0]["text"]


def test_the_tick_starts_the_opening_cohorts_job_once() -> None:
    world = World(patients=30, opens_in=timedelta(minutes=1))
    interest_store, bus = FakeInterest(), world.bus
    interest = InterestService(interest_store, bus, lambda: world.programme)
    tick = ProgrammeTick(lambda: world.programme, world.issuer, interest, sms_per_tick=100)
    assert tick.run(NOW).jobs_started == []  # a minute before the opening
    opening = NOW + timedelta(minutes=1)
    first = tick.run(opening)
    assert len(first.jobs_started) == 1
    world.deliver_all()
    again = tick.run(opening + timedelta(minutes=1))
    assert again.jobs_started == first.jobs_started  # the same job: nothing to resume
    assert world.bus.on(REFERRAL_CHUNKS) == []


def test_a_later_tick_resumes_a_job_that_is_still_not_done_but_not_while_it_runs() -> None:
    world = World(patients=30, opens_in=timedelta(minutes=1))
    interest = InterestService(FakeInterest(), world.bus, lambda: world.programme)
    tick = ProgrammeTick(lambda: world.programme, world.issuer, interest, sms_per_tick=0,
                         resume_after=timedelta(minutes=10))  # fmt: skip
    opening = NOW + timedelta(minutes=1)
    tick.run(opening)
    world.bus.published.clear()  # the chunks were lost on their way
    tick.run(opening + timedelta(minutes=2))
    assert world.bus.on(REFERRAL_CHUNKS) == []  # still running: nothing is published twice
    tick.run(opening + timedelta(minutes=11))
    assert len(world.bus.on(REFERRAL_CHUNKS)) == 16
