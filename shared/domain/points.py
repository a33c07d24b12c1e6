"""Vaccination points as patients and the rules see them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Point:
    point_id: str
    name: str
    voivodeship: str
    county: str
    municipality: str
    city: str
    street: str
    postal_code: str
    vaccines: list[str]
    active: bool

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}"

    def as_json(self) -> dict[str, Any]:
        return {
            "point_id": self.point_id,
            "name": self.name,
            "address": self.address,
            "voivodeship": self.voivodeship,
            "county": self.county,
            "municipality": self.municipality,
            "vaccines": self.vaccines,
        }


@dataclass(frozen=True)
class Town:
    """A town with vaccination points, and the county whose points serve it."""

    name: str
    voivodeship: str
    county: str
