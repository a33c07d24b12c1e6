"""Login's patient registry (``shared.services.identity.Patients``), two implementations: the fake the
unit tests use and the Spanner adapter give the same current e-referral for every case here. The
Spanner adapter keeps it on the patient's row (0008_current_referral.sql): the last tests check that
a returning patient is one read, that rows written before that migration are settled on their first
lookup, and that the bulk e-referral job keeps the row in step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from google.cloud import spanner
from google.cloud.spanner_v1.services.spanner import client as spanner_gapic

from emulators.seed import pesel_for
from shared.adapters.spanner_patients import CURRENT_COLUMNS, PatientRepository
from shared.adapters.spanner_referrals import SpannerCohortReferrals
from shared.bootstrap import Container
from shared.domain.identity import Person
from shared.domain.patients import Referral
from shared.domain.referrals import IssuedReferral
from tests.integration.conftest import NOW
from tests.unit.fakes import FakePatients

BIRTH = date(1961, 3, 9)


@pytest.fixture(params=["fake", "spanner"])
def registry(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "fake":
        yield FakePatients()
    else:
        yield request.getfixturevalue("backends").patients


def person(n: int, given: str = "Anna") -> Person:
    return Person(pesel_for(BIRTH, n, female=True), given, "Lis")


def test_an_unknown_pesel_has_no_patient_and_no_referral(registry: Any) -> None:
    assert registry.current(person(401).pesel) == (None, None)


def test_a_patient_without_a_referral_has_no_current_one(registry: Any) -> None:
    patient, issued = registry.register(person(402), NOW, False, 180, "login")
    assert issued is None
    assert registry.current(patient.pesel) == (patient, None)


def test_the_current_referral_is_the_one_issued_and_a_later_one_replaces_it_once_it_lapsed(registry: Any) -> None:
    patient, first = registry.register(person(403), NOW, True, 180, "login")
    assert first is not None and registry.current(patient.pesel) == (patient, first)

    # Still valid: a second registration (a new name) issues nothing and keeps it.
    renamed, again = registry.register(person(403, given="Anna Maria"), NOW + timedelta(days=10), True, 180, "login")
    assert again == first and renamed.given_name == "Anna Maria"
    assert registry.current(patient.pesel) == (renamed, first)

    # Lapsed and not reissued: it stays current, and is no longer valid.
    later = NOW + timedelta(days=200)
    registry.register(person(403, given="Anna Maria"), later, False, 180, "login")
    _, lapsed = registry.current(patient.pesel)
    assert lapsed == first and lapsed is not None and not lapsed.is_valid(later)

    _, second = registry.register(person(403, given="Anna Maria"), later, True, 180, "hotline")
    assert second is not None and second != first and second.is_valid(later)
    assert registry.current(patient.pesel) == (renamed, second)
    found, every = registry.lookup(patient.pesel)  # the callers that need every referral still get them
    assert found == renamed and sorted(every, key=lambda r: r.valid_until) == [first, second]


# --- the Spanner adapter: the row keeps the current referral -------------------------------------


def spanner_reads(monkeypatch: pytest.MonkeyPatch, backends: Container) -> list[str]:
    """Names of the Spanner RPCs made from now on: the library's (reads, queries, commits) and the
    patients' own ``RowReader``'s."""
    made: list[str] = []

    def counted(original: Any, name: str) -> Any:
        def counting(*args: Any, **kwargs: Any) -> Any:
            made.append(name)
            return original(*args, **kwargs)

        return counting

    for method in ("streaming_read", "execute_streaming_sql", "begin_transaction", "commit"):
        monkeypatch.setattr(
            spanner_gapic.SpannerClient, method, counted(getattr(spanner_gapic.SpannerClient, method), method)
        )
    rows = backends.patients.rows
    read, create_session = rows._calls()
    monkeypatch.setattr(rows, "_read", counted(read, "streaming_read"))
    monkeypatch.setattr(rows, "_create_session", counted(create_session, "create_session"))
    return made


def row_current(backends: Container, patient_id: str) -> tuple[Any, ...]:
    with backends.spanner.snapshot() as snapshot:
        rows = list(snapshot.read("Patients", CURRENT_COLUMNS, spanner.KeySet(keys=[[patient_id]])))
    return tuple(rows[0])


def test_a_returning_patient_is_one_index_read(backends: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    patient, referral = backends.patients.register(person(404), NOW, True, 180, "login")
    backends.patients.current(patient.pesel)  # the reader's session is made once a process
    made = spanner_reads(monkeypatch, backends)
    assert backends.patients.current(patient.pesel) == (patient, referral)
    assert made == ["streaming_read"]


def legacy_patient(backends: Container, n: int, referrals: list[tuple[int, str]]) -> tuple[str, str]:
    """A patient written as before 0008 (no current referral on the row), with referrals valid for
    (days from NOW, status); returns (PESEL, patient id)."""
    pesel, patient_id = person(n).pesel, str(uuid.uuid4())
    with backends.spanner.batch() as batch:
        batch.insert(
            "Patients",
            ("PatientId", "Pesel", "GivenName", "FamilyName", "BirthDate", "CreatedAt", "UpdatedAt"),
            [(patient_id, pesel, "Anna", "Lis", BIRTH, spanner.COMMIT_TIMESTAMP, spanner.COMMIT_TIMESTAMP)],
        )
        if referrals:
            batch.insert(
                "Referrals",
                ("PatientId", "ReferralId", "Vaccine", "Status", "IssuedAt", "ValidUntil", "IssuedBy"),
                [(patient_id, str(uuid.uuid4()), None, status, NOW - timedelta(days=180), NOW + timedelta(days=days),
                  "seed") for days, status in referrals],
            )  # fmt: skip
    return pesel, patient_id


def test_a_row_from_before_the_migration_is_settled_by_its_first_lookup(
    backends: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three referrals: one lapsed, the one valid longest, one valid longer but no longer ACTIVE.
    pesel, patient_id = legacy_patient(backends, 405, [(-5, "ACTIVE"), (40, "ACTIVE"), (90, "CANCELLED")])
    assert row_current(backends, patient_id) == (None, None, None, None, None)
    every = backends.patients.lookup(pesel)[1]
    longest = next(r for r in every if r.status == "ACTIVE" and r.valid_until > NOW)

    made = spanner_reads(monkeypatch, backends)
    patient, current = backends.patients.current(pesel)
    assert patient is not None and patient.patient_id == patient_id and current == longest
    assert "commit" in made  # the row was written
    assert row_current(backends, patient_id) == (True, longest.referral_id, None, longest.issued_at,
                                                 longest.valid_until)  # fmt: skip

    made.clear()
    assert backends.patients.current(pesel) == (patient, longest)
    assert made == ["streaming_read"]


def test_a_row_from_before_the_migration_without_referrals_is_settled_as_having_none(backends: Container) -> None:
    pesel, patient_id = legacy_patient(backends, 406, [])
    assert backends.patients.current(pesel)[1] is None
    assert row_current(backends, patient_id) == (True, None, None, None, None)


def test_registering_a_row_from_before_the_migration_keeps_its_current_referral(backends: Container) -> None:
    pesel, patient_id = legacy_patient(backends, 407, [(-5, "ACTIVE")])
    patients: PatientRepository = backends.patients
    _, issued = patients.register(Person(pesel, "Anna", "Lis"), NOW, True, 180, "login")
    assert issued is not None and issued.patient_id == patient_id
    assert row_current(backends, patient_id)[:2] == (True, issued.referral_id)


def test_the_bulk_job_s_writes_keep_each_patient_s_current_referral(backends: Container) -> None:
    patient, lapsed = backends.patients.register(person(408), NOW - timedelta(days=200), True, 180, "login")
    assert lapsed is not None and not lapsed.is_valid(NOW)
    issued = Referral(patient.patient_id, str(uuid.uuid4()), None, "ACTIVE", NOW, NOW + timedelta(days=90))
    SpannerCohortReferrals(backends.spanner).write_referrals([IssuedReferral(issued, "job:test")])
    assert backends.patients.current(patient.pesel) == (patient, issued)
