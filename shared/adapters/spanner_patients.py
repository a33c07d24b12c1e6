"""Patients and their e-referrals in Spanner, read by key through the Read API."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_row import RowReader
from shared.domain.identity import Person
from shared.domain.patients import PatientRecord, Referral, current_referral

PATIENT_COLUMNS = ("PatientId", "Pesel", "GivenName", "FamilyName", "BirthDate", "Phone")
REFERRAL_COLUMNS = ("PatientId", "ReferralId", "Vaccine", "Status", "IssuedAt", "ValidUntil")
# The patient's current e-referral kept on their row (0008_current_referral.sql), stored in PatientsByPesel.
CURRENT_COLUMNS = (
    "CurrentReferralKnown", "CurrentReferralId", "CurrentReferralVaccine", "CurrentReferralIssuedAt",
    "CurrentReferralValidUntil",
)  # fmt: skip


def _patient(row: list[Any]) -> PatientRecord:
    return PatientRecord(*row)


def _referral(row: list[Any]) -> Referral:
    return Referral(*row)


BY_PESEL_COLUMNS = (*PATIENT_COLUMNS, *CURRENT_COLUMNS)


@dataclass(frozen=True)
class FoundPatient:
    patient: PatientRecord
    known: bool  # False: the row predates 0008 and keeps no current referral yet (``current`` is None)
    current: Referral | None


def find_by_pesel(reader: Any, pesel: str) -> FoundPatient | None:
    """The patient with the current referral their row keeps, in one index read; ``reader`` is a
    transaction or a snapshot."""
    keys = KeySet(keys=[[pesel]])
    rows = list(reader.read("Patients", BY_PESEL_COLUMNS, keys, index="PatientsByPesel"))
    return _found(rows[0]) if rows else None


def _found(row: Sequence[Any]) -> FoundPatient:
    patient = _patient(list(row[: len(PATIENT_COLUMNS)]))
    known, referral_id, vaccine, issued_at, valid_until = row[len(PATIENT_COLUMNS) :]
    current = (
        Referral(patient.patient_id, referral_id, vaccine, "ACTIVE", issued_at, valid_until) if referral_id else None
    )
    return FoundPatient(patient, bool(known), current)


def current_values(referral: Referral | None) -> tuple[Any, ...]:
    """The row's ``CURRENT_COLUMNS`` for ``referral`` (the patient's ``current_referral``)."""
    if referral is None:
        return True, None, None, None, None
    return True, referral.referral_id, referral.vaccine, referral.issued_at, referral.valid_until


def keep_current(mutations: Any, currents: Iterable[tuple[str, Referral | None]]) -> None:
    """Write each (patient id, current referral) to the patient's row with the commit (``mutations``:
    a transaction or a batch)."""
    values = [(patient_id, *current_values(referral)) for patient_id, referral in currents]
    mutations.update("Patients", columns=("PatientId", *CURRENT_COLUMNS), values=values)


def read_patients(reader: Any, patient_ids: Iterable[str]) -> dict[str, PatientRecord]:
    keys = KeySet(keys=[[patient_id] for patient_id in set(patient_ids)])
    return {str(row[0]): _patient(row) for row in reader.read("Patients", PATIENT_COLUMNS, keys)}


def read_referrals(reader: Any, patient_id: str) -> list[Referral]:
    prefix = KeySet(ranges=[KeyRange(start_closed=[patient_id], end_closed=[patient_id])])
    return [_referral(row) for row in reader.read("Referrals", REFERRAL_COLUMNS, prefix)]


class PatientRepository:
    """Patients outside the booking transaction: login's lookup and registration, and reads by id."""

    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database
        self.rows = RowReader(database.database)

    def patient(self, patient_id: str) -> PatientRecord | None:
        return self.patients([patient_id]).get(patient_id)

    def previous_phone(self, patient_id: str) -> str | None:
        """The number the patient had before their last change (PhoneChanged texts it)."""
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("Patients", ("PreviousPhone",), KeySet(keys=[[patient_id]])))
        return str(rows[0][0]) if rows and rows[0][0] else None

    def patients(self, patient_ids: Iterable[str]) -> dict[str, PatientRecord]:
        wanted = list(patient_ids)
        if not wanted:
            return {}
        with self.database.snapshot() as snapshot:
            return read_patients(snapshot, wanted)

    def lookup(self, pesel: str) -> tuple[PatientRecord | None, list[Referral]]:
        """The patient and their referrals: two single-use snapshot reads, no locks.

        Not one multi-use snapshot: the emulator drops read-only transactions when others start. Not
        one query with the referrals as an array either: on the emulator it took 19 ms against 12 ms
        for the two reads, and 23 ms of the emulator's CPU per login (docs/decisions.md, issue 25).
        """
        with self.database.snapshot() as snapshot:
            found = find_by_pesel(snapshot, pesel)
        if found is None:
            return None, []
        with self.database.snapshot() as snapshot:
            return found.patient, read_referrals(snapshot, found.patient.patient_id)

    def current(self, pesel: str) -> tuple[PatientRecord | None, Referral | None]:
        """The patient and their current e-referral: one read of ``PatientsByPesel``, which stores it.

        A row from before 0008 keeps none yet: its referrals are read once, in a read-write
        transaction that writes the current one to the row (every later lookup is one read)."""
        row = self.rows.read_one("Patients", BY_PESEL_COLUMNS, [pesel], index="PatientsByPesel")
        if row is None:
            return None, None
        found = _found(row)
        if found.known:
            return found.patient, found.current
        return found.patient, self.database.run_in_transaction(self._settle, found.patient.patient_id)

    @staticmethod
    def _settle(transaction: Any, patient_id: str) -> Referral | None:
        referral = current_referral(read_referrals(transaction, patient_id))
        keep_current(transaction, [(patient_id, referral)])
        return referral

    def register(
        self, person: Person, now: datetime, issue_referral: bool, referral_valid_days: int, issued_by: str
    ) -> tuple[PatientRecord, Referral | None]:
        """Create or refresh the patient and, if asked and none is valid, issue an e-referral."""

        def work(transaction: Any) -> tuple[PatientRecord, Referral | None]:
            found = find_by_pesel(transaction, person.pesel)
            if found is None:
                patient = PatientRecord(
                    str(uuid.uuid4()), person.pesel, person.given_name, person.family_name, person.birth_date, None
                )
                referrals: list[Referral] = []
            else:
                existing = found.patient
                patient = existing
                if not existing.matches(person):
                    patient = PatientRecord(
                        existing.patient_id, existing.pesel, person.given_name, person.family_name,
                        existing.birth_date, existing.phone,
                    )  # fmt: skip
                referrals = read_referrals(transaction, patient.patient_id)
            referral = next((r for r in referrals if r.is_valid(now)), None)
            issued = None
            if referral is None and issue_referral:
                referral = issued = Referral(
                    patient.patient_id,
                    str(uuid.uuid4()),
                    None,
                    "ACTIVE",
                    now,
                    now + timedelta(days=referral_valid_days),
                )
                referrals.append(issued)
            _write_patient(transaction, found, patient, current_referral(referrals))
            if issued is not None:
                transaction.insert(
                    "Referrals",
                    columns=(*REFERRAL_COLUMNS, "IssuedBy"),
                    values=[(*_referral_values(issued), issued_by)],
                )
            return patient, referral

        return self.database.run_in_transaction(work)


def _write_patient(
    transaction: Any, found: FoundPatient | None, patient: PatientRecord, current: Referral | None
) -> None:
    """The patient's row as ``register`` leaves it, written before any referral of theirs (mutations
    apply in order, and an interleaved row needs its parent)."""
    if found is None:
        transaction.insert(
            "Patients",
            columns=(*PATIENT_COLUMNS, "CreatedAt", "UpdatedAt", *CURRENT_COLUMNS),
            values=[(*_values(patient), spanner.COMMIT_TIMESTAMP, spanner.COMMIT_TIMESTAMP, *current_values(current))],
        )
        return
    if patient != found.patient:
        transaction.update(
            "Patients",
            columns=("PatientId", "GivenName", "FamilyName", "UpdatedAt"),
            values=[(patient.patient_id, patient.given_name, patient.family_name, spanner.COMMIT_TIMESTAMP)],
        )
    if not found.known or found.current != current:
        keep_current(transaction, [(patient.patient_id, current)])


def _values(patient: PatientRecord) -> tuple[Any, ...]:
    return (
        patient.patient_id,
        patient.pesel,
        patient.given_name,
        patient.family_name,
        patient.birth_date,
        patient.phone,
    )


def _referral_values(referral: Referral) -> tuple[Any, ...]:
    return (
        referral.patient_id, referral.referral_id, referral.vaccine, referral.status, referral.issued_at,
        referral.valid_until,
    )  # fmt: skip
