"""``RowReader``: one row by key on raw protobuf, against the Spanner emulator; it must give what the
library's snapshot read gives, fall back to the library for what it does not decode, and survive a
lost session."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from google.api_core import exceptions as gexc
from google.cloud import spanner

from emulators.seed import pesel_for
from shared.adapters.spanner_patients import BY_PESEL_COLUMNS
from shared.adapters.spanner_points import POINT_COLUMNS
from shared.adapters.spanner_row import RowReader
from shared.bootstrap import Container
from shared.domain.identity import Person
from tests.integration.conftest import NOW


def library_row(
    backends: Container, table: str, columns: tuple[str, ...], key: list[str], index: str = ""
) -> list[object]:
    with backends.spanner.snapshot() as snapshot:
        rows = list(snapshot.read(table, columns, spanner.KeySet(keys=[key]), index=index))
    return list(rows[0]) if rows else []


def test_a_row_read_by_an_index_key_is_the_library_s_row(backends: Container) -> None:
    pesel = pesel_for(date(1950, 2, 3), 501, female=False)
    backends.patients.register(Person(pesel, "Zażółć", "Gęślą"), NOW, True, 180, "login")
    reader = RowReader(backends.spanner.database)

    row = reader.read_one("Patients", BY_PESEL_COLUMNS, [pesel], index="PatientsByPesel")

    assert row == library_row(backends, "Patients", BY_PESEL_COLUMNS, [pesel], "PatientsByPesel")
    assert row is not None and row[2] == "Zażółć" and row[4] == date(1950, 2, 3) and row[5] is None
    assert row[6] is True and isinstance(row[9], datetime) and row[9] == NOW.astimezone(UTC)
    assert reader.read_one("Patients", BY_PESEL_COLUMNS, ["00000000000"], index="PatientsByPesel") is None


def test_a_type_it_does_not_decode_is_read_through_the_library(backends: Container) -> None:
    point_id = str(uuid.uuid4())
    with backends.spanner.batch() as batch:
        values = (point_id, "Punkt", "14", "1465", "1465011", "Warszawa", "ul. A 1", "00-001", ["comirnaty"], True)
        batch.insert("Points", POINT_COLUMNS, [values])
    row = RowReader(backends.spanner.database).read_one("Points", POINT_COLUMNS, [point_id])
    assert row == library_row(backends, "Points", POINT_COLUMNS, [point_id]) and row is not None
    assert row[8] == ["comirnaty"]


def test_a_lost_session_is_replaced_and_other_errors_are_the_library_s(backends: Container) -> None:
    pesel = pesel_for(date(1951, 2, 3), 502, female=False)
    patient, _ = backends.patients.register(Person(pesel, "Jan", "Lis"), NOW, False, 180, "login")
    reader = RowReader(backends.spanner.database)
    assert reader.read_one("Patients", ("PatientId",), [patient.patient_id]) == [patient.patient_id]
    reader._session = f"{backends.spanner.database.name}/sessions/gone"  # as after the server dropped it

    assert reader.read_one("Patients", ("PatientId",), [patient.patient_id]) == [patient.patient_id]
    assert reader._session != f"{backends.spanner.database.name}/sessions/gone"
    with pytest.raises(gexc.NotFound):
        reader.read_one("NoSuchTable", ("PatientId",), [patient.patient_id])
