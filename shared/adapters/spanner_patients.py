"""Patients and their e-referrals in Spanner, read by key through the Read API."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from google.cloud import spanner
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_db import SpannerDatabase
from shared.domain.identity import Person
from shared.domain.patients import PatientRecord, Referral

PATIENT_COLUMNS = ("PatientId", "Pesel", "GivenName", "FamilyName", "BirthDate", "Phone")
REFERRAL_COLUMNS = ("PatientId", "ReferralId", "Vaccine", "Status", "IssuedAt", "ValidUntil")


def _patient(row: list[Any]) -> PatientRecord:
    return PatientRecord(*row)


def _referral(row: list[Any]) -> Referral:
    return Referral(*row)


def find_by_pesel(reader: Any, pesel: str) -> PatientRecord | None:
    """``reader`` is a transaction or a snapshot."""
    rows = list(reader.read("Patients", PATIENT_COLUMNS, KeySet(keys=[[pesel]]), index="PatientsByPesel"))
    return _patient(rows[0]) if rows else None


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
            patient = find_by_pesel(snapshot, pesel)
        if patient is None:
            return None, []
        with self.database.snapshot() as snapshot:
            return patient, read_referrals(snapshot, patient.patient_id)

    def register(
        self, person: Person, now: datetime, issue_referral: bool, referral_valid_days: int, issued_by: str
    ) -> tuple[PatientRecord, Referral | None]:
        """Create or refresh the patient and, if asked and none is valid, issue an e-referral."""

        def work(transaction: Any) -> tuple[PatientRecord, Referral | None]:
            existing = find_by_pesel(transaction, person.pesel)
            if existing is None:
                patient = PatientRecord(
                    str(uuid.uuid4()), person.pesel, person.given_name, person.family_name, person.birth_date, None
                )
                transaction.insert(
                    "Patients",
                    columns=(*PATIENT_COLUMNS, "CreatedAt", "UpdatedAt"),
                    values=[(*_values(patient), spanner.COMMIT_TIMESTAMP, spanner.COMMIT_TIMESTAMP)],
                )
                referrals: list[Referral] = []
            else:
                patient = existing
                if not existing.matches(person):
                    patient = PatientRecord(
                        existing.patient_id, existing.pesel, person.given_name, person.family_name,
                        existing.birth_date, existing.phone,
                    )  # fmt: skip
                    transaction.update(
                        "Patients",
                        columns=("PatientId", "GivenName", "FamilyName", "UpdatedAt"),
                        values=[
                            (patient.patient_id, patient.given_name, patient.family_name, spanner.COMMIT_TIMESTAMP)
                        ],
                    )
                referrals = read_referrals(transaction, patient.patient_id)
            referral = next((r for r in referrals if r.is_valid(now)), None)
            if referral is None and issue_referral:
                referral = Referral(
                    patient.patient_id,
                    str(uuid.uuid4()),
                    None,
                    "ACTIVE",
                    now,
                    now + timedelta(days=referral_valid_days),
                )
                transaction.insert(
                    "Referrals",
                    columns=(*REFERRAL_COLUMNS, "IssuedBy"),
                    values=[(*_referral_values(referral), issued_by)],
                )
            return patient, referral

        return self.database.run_in_transaction(work)


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
