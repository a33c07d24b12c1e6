"""Login's lookup of a patient and their e-referrals: one query on the Spanner emulator."""

from __future__ import annotations

from datetime import date, timedelta

from emulators.seed import pesel_for
from shared.bootstrap import Container
from shared.domain.identity import Person
from tests.integration.conftest import NOW


def test_lookup_finds_the_patient_with_every_referral_in_one_query(backends: Container) -> None:
    patients = backends.patients
    pesel, other, unknown = (pesel_for(date(1960, 5, 5), n, female=n % 2 == 0) for n in (311, 312, 313))
    registered, referral = patients.register(Person(pesel, "Anna", "Lis"), NOW, True, 180, "login")
    patients.register(Person(other, "Jan", "Lis"), NOW, False, 180, "login")
    later, second = patients.register(Person(pesel, "Anna", "Lis"), NOW + timedelta(days=200), True, 180, "login")
    assert referral is not None and second is not None and later == registered

    found, referrals = patients.lookup(pesel)
    assert found == registered
    assert sorted(referrals, key=lambda r: r.referral_id) == sorted([referral, second], key=lambda r: r.referral_id)
    assert patients.lookup(other)[0] is not None and patients.lookup(other)[1] == []
    assert patients.lookup(unknown) == (None, [])
