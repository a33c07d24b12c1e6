"""Programme administration on the emulators: versions and audit in Firestore, the opening minute
seen by a running container, a bulk e-referral job over 20,000 patients, and the opening SMS."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from tenacity import retry, stop_after_delay, wait_fixed

from emulators.provision import provision, remove_pubsub
from emulators.seed import demo_programme, seed_bulk_patients
from shared.adapters.firestore_db import AUDIT_LOG
from shared.bootstrap import Container, build_container
from shared.domain.booking import Channel
from shared.domain.programme import Programme, ProgrammeContent
from shared.domain.refusals import Refused
from shared.services.referrals import ReferralIssuer
from shared.services.visits import BookingRequest
from shared.topology import REFERRAL_CHUNKS, REFERRAL_EVENTS, SMS_REQUESTS
from tests.conftest import isolated_settings
from tests.integration.conftest import NOW, add_patient, add_point, at
from tests.integration.test_messaging import pull_all, subscribe


@pytest.fixture
def backends(emulator_env: dict[str, str]) -> Iterator[Container]:
    """As the shared fixture, but without push subscriptions: these tests pull what they publish, and
    pushes to a host that is not there would only keep the Pub/Sub emulator busy retrying."""
    container = build_container(isolated_settings())
    provision(container.settings, container.warehouse.client, push=False)
    yield container
    remove_pubsub(container.settings)
    container.spanner.database.drop()
    container.warehouse.client.delete_dataset(
        f"{container.settings.project_id}.{container.settings.bigquery_dataset}", delete_contents=True
    )


def with_adults_opening(programme: Programme, opens_at: datetime) -> ProgrammeContent:
    cohorts = [c.model_copy(update={"opens_at": opens_at}) if c.code == "adults" else c for c in programme.cohorts]
    return ProgrammeContent.model_validate(programme.model_copy(update={"cohorts": cohorts}).content().model_dump())


def test_versions_are_kept_stale_writes_refused_and_every_change_audited(backends: Container) -> None:
    admin = backends.programme_admin
    first = admin.replace(demo_programme(NOW).content(), 0, "staff-a", NOW)
    second = admin.replace(with_adults_opening(first, NOW + timedelta(days=3)), 1, "staff-b", NOW)
    with pytest.raises(Refused) as refused:
        admin.replace(first.content(), 1, "staff-c", NOW)  # based on version 1, which moved on
    assert refused.value.code == "stale_version"
    assert (first.version, second.version, admin.current().version) == (1, 2, 2)
    assert admin.version(1) == first and admin.version(2) == second
    audit = backends.firestore_audit.collection(AUDIT_LOG).document("programme-v2").get().to_dict()
    assert not backends.firestore.client.collection(AUDIT_LOG).document("programme-v2").get().exists
    assert audit is not None and audit["staff_id"] == "staff-b" and audit["based_on"] == 1
    assert [d["path"] for d in audit["diff"]] == ["cohorts[adults].opens_at"]


def test_a_cohort_opening_refuses_a_minute_before_and_books_a_minute_after_without_restart(
    backends: Container,
) -> None:
    backends.programme_admin.replace(with_adults_opening(demo_programme(NOW), NOW + timedelta(days=30)), 0, "a", NOW)
    # A function instance of its own (another process in the cloud) that re-reads the programme every 0.5 s.
    function = build_container(backends.settings.model_copy(update={"programme_cache_s": 0.5}))
    point_id = add_point(backends, [(at(3, 9), "jcovden", 5)])
    patient_id = add_patient(backends, birth=date(1980, 5, 5))
    request = BookingRequest(point_id, at(3, 9), "jcovden", "+48601234567")
    opening = at(1, 20)  # tomorrow 20:00 in Warsaw, the minute the adults' registration opens

    with pytest.raises(Refused) as refused:
        function.visits.book(patient_id, request, Channel.WEB, opening + timedelta(minutes=1))
    assert refused.value.code == "cohort_not_open"  # version 1: the cohort opens in a month

    backends.programme_admin.replace(with_adults_opening(function.programme() or demo_programme(NOW), opening), 1,
                                     "admin", NOW)  # fmt: skip

    @retry(stop=stop_after_delay(10), wait=wait_fixed(0.1), reraise=True)
    def picked_up() -> None:
        programme = function.programme()
        assert programme is not None and programme.version == 2

    picked_up()
    with pytest.raises(Refused) as refused:
        function.visits.book(patient_id, request, Channel.WEB, opening - timedelta(minutes=1))
    assert refused.value.code == "cohort_not_open"
    answer = function.visits.book(patient_id, request, Channel.WEB, opening + timedelta(minutes=1))
    assert [v.dose for v in answer.visits] == [1] and not answer.replayed


def referrals_by_patient(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    with container.spanner.snapshot() as snapshot:
        for row in snapshot.execute_sql("SELECT PatientId, ReferralId, ValidUntil, IssuedBy FROM Referrals"):
            found.setdefault(row[0], []).append(tuple(row))
    return found


def run_job(container: Container, issuer: ReferralIssuer, key: str, subscription: str, now: datetime) -> str:
    """Start a job and work its chunks off the topic, the first five delivered twice."""
    job_id = issuer.start("adults", key, "staff-admin", now).job.job_id
    messages = pull_all(container.settings.project_id, subscription, issuer.jobs.get(job_id).chunks)  # type: ignore[union-attr]
    bodies = [json.loads(m.data) for m in messages]
    for body in bodies + bodies[:5]:
        issuer.handle_chunk(body, now)
    return job_id


def test_a_referral_job_over_20000_patients_issues_exactly_the_missing_ones_and_a_second_run_none(
    backends: Container,
) -> None:
    backends.firestore.publish_programme(demo_programme(NOW))  # adults: born 1962-2008, open
    patients = seed_bulk_patients(backends.spanner, 20_000, NOW)
    chunks_subscription = subscribe(backends, REFERRAL_CHUNKS, "chunks-under-test")
    events_subscription = subscribe(backends, REFERRAL_EVENTS, "events-under-test")
    issuer = build_container(backends.settings.model_copy(update={"referral_chunk_prefix_length": 1})).referral_issuer
    started = time.perf_counter()

    job_id = run_job(backends, issuer, "opening-adults-1", chunks_subscription, NOW)

    progress = issuer.progress(job_id)
    adults = {p for p, (birth, _) in patients.items() if 1962 <= birth.year <= 2008}
    missing = {p for p in adults if patients[p][1] != "valid"}
    assert (progress.status, progress.done, progress.failed, progress.job.chunks) == ("DONE", 16, 0, 16)
    assert progress.issued == len(missing) and progress.patients == len(adults)
    after_first = referrals_by_patient(backends)
    issued = {p for p, rows in after_first.items() if any(r[3] == f"job:{job_id}" for r in rows)}
    assert issued == missing
    assert all(len([r for r in after_first[p] if r[3].startswith("job:")]) == 1 for p in missing)
    events = [json.loads(m.data) for m in pull_all(backends.settings.project_id, events_subscription, 21)]
    assert {e["chunk"] for e in events} == set(range(16)) and len({e["event_id"] for e in events}) == 16

    second = run_job(backends, issuer, "opening-adults-2", chunks_subscription, NOW + timedelta(minutes=1))
    assert issuer.progress(second).issued == 0
    assert referrals_by_patient(backends) == after_first
    assert time.perf_counter() - started < 60


def test_the_opening_sms_goes_out_once_to_each_interested_patient(backends: Container, emulator_env) -> None:
    opening = at(1, 20)
    backends.programme_admin.replace(with_adults_opening(demo_programme(NOW), opening), 0, "admin", NOW)
    container = build_container(backends.settings.model_copy(update={"interest_sms_per_tick": 2}))
    phones = [f"+4860{random.randrange(10**7):07d}" for _ in range(3)]
    for phone in phones:
        container.interest.register(add_patient(backends, birth=date(1985, 3, 3)), phone, NOW)
    subscription = subscribe(backends, SMS_REQUESTS, "opening-sms")

    tick = container.programme_tick
    assert tick.run(opening - timedelta(minutes=1)).sms_requested == 0
    assert tick.run(opening + timedelta(minutes=1)).sms_requested == 2  # paced: two a tick
    assert tick.run(opening + timedelta(minutes=2)).sms_requested == 1
    assert tick.run(opening + timedelta(minutes=3)).sms_requested == 0

    requested = [json.loads(m.data) for m in pull_all(backends.settings.project_id, subscription, 3)]
    assert sorted(r["to"] for r in requested) == sorted(phones)
    outcomes = Counter(container.sms_sender.handle(r, datetime.now(UTC)) for r in requested + requested)
    assert outcomes == {"sent": 3, "duplicate": 3}  # a redelivered request sends nothing
    gateway = emulator_env["EREG_SMS_PROVIDER_URL"]
    import requests

    for phone in phones:
        messages = requests.get(f"{gateway}/messages", params={"to": phone}, timeout=5).json()["messages"]
        assert len(messages) == 1 and "20:00" in messages[0]["text"]


def test_the_same_key_again_does_not_publish_the_unfinished_chunks_again(backends: Container) -> None:
    """Issue 21: a repeated start (an admin's retry) leaves the chunks on their way alone."""
    backends.firestore.publish_programme(demo_programme(NOW))
    subscription = subscribe(backends, REFERRAL_CHUNKS, "chunks-repeat")
    issuer = build_container(backends.settings.model_copy(update={"referral_chunk_prefix_length": 1})).referral_issuer
    first = issuer.start("adults", "repeat-key", "staff-a", NOW)
    chunks = [json.loads(m.data) for m in pull_all(backends.settings.project_id, subscription, 16)]
    assert sorted(c["chunk"] for c in chunks) == list(range(16))  # none handled yet: all unfinished
    again = issuer.start("adults", "repeat-key", "staff-a", NOW + timedelta(seconds=30))
    assert again.job.job_id == first.job.job_id
    # A marker after the repeat: everything the repeat published arrives before it.
    backends.bus.publish(REFERRAL_CHUNKS, b'{"marker": true}')
    after = [json.loads(m.data) for m in pull_all(backends.settings.project_id, subscription, 1)]
    assert after == [{"marker": True}]
