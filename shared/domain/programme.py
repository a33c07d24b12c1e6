"""The vaccination programme: vaccines with their doses and intervals, and eligibility cohorts.

Admins change it at run time (a versioned document in Firestore); the rules read it as values.
``programme_problems`` is every rule a programme must pass, each naming the field it is about, so
that an admin's PUT is refused with the field and a stored programme can never break them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from shared.domain.refusals import RefusalKind, Refused


class Vaccine(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$")
    name: str = Field(min_length=1, max_length=200)
    doses: int = Field(ge=1, le=4)
    # Days between one dose and the next: the next dose is booked inside [min, max].
    interval_min_days: int = Field(default=0, ge=0, le=3650)
    interval_max_days: int = Field(default=0, ge=0, le=3650)
    min_age: int = Field(default=18, ge=0, le=120)


class Cohort(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$")
    name: str = Field(min_length=1, max_length=200)
    birth_year_from: int = Field(ge=1900, le=2100)
    birth_year_to: int = Field(ge=1900, le=2100)
    opens_at: AwareDatetime
    # Vaccine codes this cohort may book; empty: every vaccine of the programme.
    vaccines: list[str] = Field(default_factory=list, max_length=20)

    def includes(self, birth_date: date) -> bool:
        return self.birth_year_from <= birth_date.year <= self.birth_year_to

    def is_open(self, now: datetime) -> bool:
        return now >= self.opens_at

    def offers(self, vaccine: str) -> bool:
        return not self.vaccines or vaccine in self.vaccines


class ProgrammeContent(BaseModel):
    """What an admin writes: the whole configuration, without its version number."""

    vaccines: list[Vaccine] = Field(max_length=50)
    cohorts: list[Cohort] = Field(max_length=200)
    referral_valid_days: int = Field(default=180, ge=1, le=3650)


class Programme(ProgrammeContent):
    """A stored version: it always passes ``programme_problems``."""

    version: int = Field(ge=1)

    @model_validator(mode="after")
    def _rules_hold(self) -> Programme:
        problems = programme_problems(self)
        if problems:
            raise ValueError(f"{problems[0].field}: {problems[0].code}")
        return self

    def vaccine(self, code: str) -> Vaccine | None:
        return next((v for v in self.vaccines if v.code == code), None)

    def cohort_of(self, birth_date: date) -> Cohort | None:
        return next((c for c in self.cohorts if c.includes(birth_date)), None)

    def cohort(self, code: str) -> Cohort | None:
        return next((c for c in self.cohorts if c.code == code), None)

    def content(self) -> ProgrammeContent:
        return ProgrammeContent.model_validate(self.model_dump(exclude={"version"}))


@dataclass(frozen=True)
class ProgrammeProblem:
    code: str  # stable
    field: str  # dotted path into the document, as pydantic names it: "vaccines.0.interval_min_days"
    detail: str  # Polish, for the admin


def _interval_problem(vaccine: Vaccine, prefix: str) -> ProgrammeProblem | None:
    if vaccine.interval_min_days > vaccine.interval_max_days:
        return ProgrammeProblem(
            "interval_min_above_max",
            f"{prefix}interval_min_days",
            "Minimalny odstęp między dawkami jest dłuższy niż maksymalny",
        )
    if vaccine.doses > 1 and vaccine.interval_min_days == 0:
        return ProgrammeProblem(
            "interval_missing",
            f"{prefix}interval_min_days",
            "Szczepionka wielodawkowa wymaga odstępu między dawkami (co najmniej 1 dzień)",
        )
    return None


def programme_problems(content: ProgrammeContent) -> list[ProgrammeProblem]:
    """Every rule a whole programme must pass, in document order; empty when it is valid."""
    problems: list[ProgrammeProblem] = []
    if not content.vaccines:
        problems.append(
            ProgrammeProblem("no_vaccines", "vaccines", "Program musi zawierać co najmniej jedną szczepionkę")
        )
    seen_vaccines: set[str] = set()
    for index, vaccine in enumerate(content.vaccines):
        if vaccine.code in seen_vaccines:
            problems.append(
                ProgrammeProblem(
                    "duplicate_vaccine", f"vaccines.{index}.code", f"Szczepionka {vaccine.code} powtarza się"
                )
            )
        seen_vaccines.add(vaccine.code)
        interval = _interval_problem(vaccine, f"vaccines.{index}.")
        if interval is not None:
            problems.append(interval)
    known_vaccines = frozenset(seen_vaccines)
    seen_cohorts: set[str] = set()
    for index, cohort in enumerate(content.cohorts):
        prefix = f"cohorts.{index}."
        if cohort.code in seen_cohorts:
            problems.append(ProgrammeProblem("duplicate_cohort", f"{prefix}code", f"Grupa {cohort.code} powtarza się"))
        seen_cohorts.add(cohort.code)
        if cohort.birth_year_from > cohort.birth_year_to:
            problems.append(
                ProgrammeProblem(
                    "birth_years_reversed", f"{prefix}birth_year_from", "Rok urodzenia „od” jest późniejszy niż „do”"
                )
            )
        for earlier in content.cohorts[:index]:
            if cohort.birth_year_from <= earlier.birth_year_to and earlier.birth_year_from <= cohort.birth_year_to:
                problems.append(
                    ProgrammeProblem(
                        "cohorts_overlap",
                        f"{prefix}birth_year_from",
                        f"Roczniki grupy {cohort.code} nakładają się na grupę {earlier.code}",
                    )
                )
                break
        for position, code in enumerate(cohort.vaccines):
            if code not in known_vaccines:
                problems.append(
                    ProgrammeProblem(
                        "unknown_vaccine", f"{prefix}vaccines.{position}", f"Nieznana szczepionka {code} w grupie"
                    )
                )
    return problems


def _flat(value: Any, path: str, into: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            _flat(item, f"{path}.{key}" if path else str(key), into)
    elif isinstance(value, list) and value and all(isinstance(item, dict) and "code" in item for item in value):
        # Vaccines and cohorts are keyed by their code, so a reordering is no change.
        for item in value:
            _flat({k: v for k, v in item.items() if k != "code"}, f"{path}[{item['code']}]", into)
            into[f"{path}[{item['code']}]"] = True
    else:
        into[path] = value
    return into


def programme_diff(before: ProgrammeContent | None, after: ProgrammeContent) -> list[dict[str, Any]]:
    """What changed between two programmes, field by field: [{path, before, after}] (None where absent).

    Vaccines and cohorts are matched by code: ``cohorts[adults].opens_at``.
    """
    old = _flat(before.model_dump(mode="json", exclude={"version"}), "", {}) if before is not None else {}
    new = _flat(after.model_dump(mode="json", exclude={"version"}), "", {})
    changes = []
    for path in sorted(old.keys() | new.keys()):
        was, now = old.get(path), new.get(path)
        if was != now:
            changes.append({"path": path, "before": was, "after": now})
    return changes


def cohorts_opened_between(programme: Programme, start: datetime, end: datetime) -> list[Cohort]:
    """Cohorts whose opening minute falls in (start, end]: what a scheduler tick at ``end`` starts."""
    return [c for c in programme.cohorts if start < c.opens_at <= end]


def require_programme(programme: Programme | None) -> Programme:
    """The programme a rule needs: while there is none (not set up, or unreadable) the request is
    refused as unavailable, never answered by guesswork."""
    if programme is None:
        raise Refused(
            RefusalKind.UNAVAILABLE, "programme_unavailable", "Konfiguracja programu szczepień jest niedostępna"
        )
    return programme
