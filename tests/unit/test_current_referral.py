"""The referral a patient's row keeps (``current_referral``): valid at a moment exactly when any of
the patient's referrals is, so a login decides on it alone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from shared.domain.patients import Referral, current_referral

NOW = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)


def referral(n: int, days: int, status: str = "ACTIVE") -> Referral:
    return Referral("p", f"r{n}", None, status, NOW - timedelta(days=180), NOW + timedelta(days=days))


def test_the_current_referral_is_the_active_one_valid_longest() -> None:
    lapsed, valid, longest, cancelled = referral(1, -3), referral(2, 10), referral(3, 40), referral(4, 90, "CANCELLED")
    assert current_referral([lapsed, longest, cancelled, valid]) == longest
    assert current_referral([lapsed]) == lapsed  # kept, though no longer valid
    assert current_referral([cancelled]) is None
    assert current_referral([]) is None


def test_the_current_referral_is_valid_exactly_when_one_of_the_patient_s_is() -> None:
    pool = [referral(1, -3), referral(2, 10), referral(3, 40), referral(4, 90, "CANCELLED"), referral(5, 1)]
    moments = [NOW + timedelta(days=d) for d in (-1, 0, 2, 11, 39, 41, 100)]
    for size in range(len(pool) + 1):
        for held in itertools.combinations(pool, size):
            current = current_referral(held)
            for moment in moments:
                assert (current is not None and current.is_valid(moment)) == any(r.is_valid(moment) for r in held)
