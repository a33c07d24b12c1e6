"""The vaccination programme: vaccines with their doses and intervals, and eligibility cohorts.

Admins change it at run time (a versioned document in Firestore); the rules read it as values.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field, model_validator


class Vaccine(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$")
    name: str
    doses: int = Field(ge=1, le=4)
    # Days between one dose and the next: the next dose is booked inside [min, max].
    interval_min_days: int = Field(default=0, ge=0)
    interval_max_days: int = Field(default=0, ge=0)
    min_age: int = Field(default=18, ge=0, le=120)

    @model_validator(mode="after")
    def _interval_fits(self) -> Vaccine:
        if self.doses > 1 and not 0 < self.interval_min_days <= self.interval_max_days:
            raise ValueError("a multi-dose vaccine needs 0 < interval_min_days <= interval_max_days")
        return self


class Cohort(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9-]{2,40}$")
    name: str
    birth_year_from: int = Field(ge=1900, le=2100)
    birth_year_to: int = Field(ge=1900, le=2100)
    opens_at: AwareDatetime

    def includes(self, birth_date: date) -> bool:
        return self.birth_year_from <= birth_date.year <= self.birth_year_to

    def is_open(self, now: datetime) -> bool:
        return now >= self.opens_at


class Programme(BaseModel):
    version: int = Field(ge=1)
    vaccines: list[Vaccine]
    cohorts: list[Cohort]
    referral_valid_days: int = Field(default=180, ge=1)

    def vaccine(self, code: str) -> Vaccine | None:
        return next((v for v in self.vaccines if v.code == code), None)

    def cohort_of(self, birth_date: date) -> Cohort | None:
        return next((c for c in self.cohorts if c.includes(birth_date)), None)
