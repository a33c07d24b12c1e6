"""Programme rules and the programme administration use cases, through in-memory fakes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from emulators.seed import demo_programme
from shared.config import Settings
from shared.domain.booking import check_may_book
from shared.domain.identity import eligibility
from shared.domain.patients import Referral
from shared.domain.programme import (
    Programme,
    ProgrammeContent,
    cohorts_opened_between,
    programme_diff,
    programme_problems,
)
from shared.domain.refusals import RefusalKind, Refused
from shared.services.programme_admin import ProgrammeAdmin
from tests.unit.fakes_admin import FakeVersions

NOW = datetime(2021, 4, 1, 8, 0, tzinfo=UTC)


def content(**changes: Any) -> dict[str, Any]:
    body = demo_programme(NOW).model_dump(mode="json", exclude={"version"})
    for path, value in changes.items():
        target: Any = body
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return body


def problems_of(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.code, p.field) for p in programme_problems(ProgrammeContent.model_validate(body))]


def test_the_demo_programme_is_valid() -> None:
    assert problems_of(content()) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"vaccines.0.interval_min_days": 50}, ("interval_min_above_max", "vaccines.0.interval_min_days")),
        ({"vaccines.0.interval_min_days": 0}, ("interval_missing", "vaccines.0.interval_min_days")),
        ({"cohorts.1.birth_year_from": 1950}, ("cohorts_overlap", "cohorts.1.birth_year_from")),
        ({"cohorts.2.birth_year_from": 2020}, ("birth_years_reversed", "cohorts.2.birth_year_from")),
        ({"cohorts.0.vaccines": ["comirnaty", "sputnik"]}, ("unknown_vaccine", "cohorts.0.vaccines.1")),
        ({"cohorts.1.code": "seniors"}, ("duplicate_cohort", "cohorts.1.code")),
        ({"vaccines.1.code": "comirnaty"}, ("duplicate_vaccine", "vaccines.1.code")),
        ({"vaccines": []}, ("no_vaccines", "vaccines")),
    ],
)
def test_each_invalid_programme_names_its_field(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in problems_of(content(**changes))


def test_a_stored_programme_cannot_break_the_rules() -> None:
    with pytest.raises(ValidationError):
        Programme.model_validate({**content(**{"vaccines.0.interval_min_days": 50}), "version": 2})


def test_the_diff_matches_vaccines_and_cohorts_by_code() -> None:
    before = ProgrammeContent.model_validate(content())
    reordered = content()
    reordered["cohorts"].reverse()
    assert programme_diff(before, ProgrammeContent.model_validate(reordered)) == []
    after = ProgrammeContent.model_validate(content(**{"cohorts.1.opens_at": "2021-05-01T20:00:00+02:00"}))
    [change] = programme_diff(before, after)
    assert change["path"] == "cohorts[adults].opens_at"
    assert change["after"] == "2021-05-01T20:00:00+02:00"


def test_cohorts_opened_between_takes_the_opening_minute_once() -> None:
    body = content(**{"cohorts.1.opens_at": "2021-04-01T10:00:00+02:00"})
    programme = Programme.model_validate({**body, "version": 1})
    opening = datetime(2021, 4, 1, 8, 0, tzinfo=UTC)
    assert [c.code for c in cohorts_opened_between(programme, opening - timedelta(minutes=1), opening)] == ["adults"]
    assert cohorts_opened_between(programme, opening, opening + timedelta(minutes=1)) == []


def _admin() -> tuple[ProgrammeAdmin, FakeVersions]:
    versions = FakeVersions({1: demo_programme(NOW)})
    return ProgrammeAdmin(versions), versions


def test_a_replacement_becomes_the_next_version_with_its_audit() -> None:
    admin, versions = _admin()
    changed = ProgrammeContent.model_validate(content(referral_valid_days=90))
    stored = admin.replace(changed, 1, "staff-1", NOW)
    assert stored.version == 2 and admin.current().referral_valid_days == 90
    assert admin.version(1).referral_valid_days == 180
    [change] = versions.changes
    assert (change.changed_by, change.changed_at, change.based_on) == ("staff-1", NOW, 1)
    assert change.diff == [{"path": "referral_valid_days", "before": 180, "after": 90}]


def test_a_stale_version_is_refused_and_nothing_changes() -> None:
    admin, versions = _admin()
    admin.replace(ProgrammeContent.model_validate(content(referral_valid_days=90)), 1, "staff-1", NOW)
    with pytest.raises(Refused) as refused:
        admin.replace(ProgrammeContent.model_validate(content(referral_valid_days=30)), 1, "staff-2", NOW)
    assert (refused.value.kind, refused.value.code) == (RefusalKind.STALE, "stale_version")
    assert admin.current().referral_valid_days == 90 and len(versions.changes) == 1


def test_a_race_lost_at_the_write_is_stale_too() -> None:
    admin, versions = _admin()
    versions.interloper = Programme.model_validate({**content(referral_valid_days=60), "version": 2})
    with pytest.raises(Refused) as refused:
        admin.replace(ProgrammeContent.model_validate(content(referral_valid_days=30)), 1, "staff-2", NOW)
    assert refused.value.code == "stale_version"
    assert admin.current().referral_valid_days == 60


def test_an_invalid_programme_is_refused_with_its_field() -> None:
    admin, versions = _admin()
    with pytest.raises(Refused) as refused:
        admin.replace(ProgrammeContent.model_validate(content(**{"cohorts.1.birth_year_from": 1950})), 1, "s", NOW)
    assert (refused.value.kind, refused.value.field) == (RefusalKind.INVALID, "cohorts.1.birth_year_from")
    assert versions.changes == []


def test_unknown_versions_are_not_found() -> None:
    admin, _ = _admin()
    with pytest.raises(Refused) as refused:
        admin.version(7)
    assert refused.value.kind == RefusalKind.NOT_FOUND
    with pytest.raises(Refused):
        ProgrammeAdmin(FakeVersions()).current()


def test_the_first_programme_is_based_on_version_zero() -> None:
    admin = ProgrammeAdmin(FakeVersions())
    assert admin.replace(ProgrammeContent.model_validate(content()), 0, "staff-1", NOW).version == 1


def _may_book(programme: Programme, vaccine_code: str, now: datetime) -> None:
    vaccine = programme.vaccine(vaccine_code)
    check_may_book(
        vaccine=vaccine, eligibility=eligibility(programme, date(1980, 1, 1), now),
        referral=Referral("pt", "r", None, "ACTIVE", now, now + timedelta(days=1)), birth_date=date(1980, 1, 1),
        visits=[], slot_starts_at=now + timedelta(days=2), now=now,
    )  # fmt: skip


def test_a_cohort_books_from_its_opening_minute_and_only_the_vaccines_it_is_offered() -> None:
    opening = datetime(2021, 5, 10, 18, 0, tzinfo=UTC)  # 20:00 in Warsaw
    programme = Programme.model_validate(
        {**content(**{"cohorts.1.opens_at": opening.isoformat(), "cohorts.1.vaccines": ["vaxzevria"]}), "version": 1}
    )
    with pytest.raises(Refused) as refused:
        _may_book(programme, "vaxzevria", opening - timedelta(minutes=1))
    assert refused.value.code == "cohort_not_open" and "10.05.2021 20:00" in refused.value.detail
    _may_book(programme, "vaxzevria", opening)
    with pytest.raises(Refused) as refused:
        _may_book(programme, "comirnaty", opening + timedelta(minutes=1))
    assert (refused.value.code, refused.value.field) == ("vaccine_not_for_cohort", "vaccine")


def test_every_process_rereads_the_programme_within_30_seconds_by_default() -> None:
    assert 0 < Settings().programme_cache_s <= 30
