"""A vaccination as the national e-health platform records it: a FHIR R4 ``Immunization``. No I/O.

Built and validated with ``fhir.resources`` (its ``R4B`` package: the 4.3 models, whose Immunization
has the R4 shape; the library ships no 4.0.1 package). The record is identified by the visit
(``urn:ereg:visit|<visit_id>``), which makes the platform's conditional create idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from fhir.resources.R4B.immunization import Immunization

from shared.domain.dcc import COVID_19, PRODUCTS

VISIT_SYSTEM = "urn:ereg:visit"
POINT_SYSTEM = "urn:ereg:point"
PESEL_SYSTEM = "urn:oid:2.16.840.1.113883.3.4424.1.1.616"
EU_PRODUCT_SYSTEM = "https://ec.europa.eu/health/documents/community-register/html/"
PROGRAMME_VACCINE_SYSTEM = "urn:ereg:vaccine"
SNOMED = "http://snomed.info/sct"

Status = Literal["completed", "entered-in-error"]


def visit_identifier(visit_id: str) -> str:
    """The search/condition token of a visit's record: ``system|value``."""
    return f"{VISIT_SYSTEM}|{visit_id}"


@dataclass(frozen=True)
class ImmunizationFacts:
    visit_id: str
    pesel: str
    point_id: str
    vaccine: str
    dose: int
    total_doses: int
    lot: str | None
    vaccinated_at: datetime


def immunization(facts: ImmunizationFacts, status: Status = "completed", reason: str | None = None) -> dict[str, Any]:
    """The resource as JSON, validated against the FHIR model (a ValidationError if it is not valid)."""
    codings = [{"system": PROGRAMME_VACCINE_SYSTEM, "code": facts.vaccine}]
    product = PRODUCTS.get(facts.vaccine)
    if product is not None:
        codings.insert(0, {"system": EU_PRODUCT_SYSTEM, "code": product.product})
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "identifier": [{"system": VISIT_SYSTEM, "value": facts.visit_id}],
        "status": status,
        "vaccineCode": {"coding": codings, "text": facts.vaccine},
        "patient": {"identifier": {"system": PESEL_SYSTEM, "value": facts.pesel}},
        "occurrenceDateTime": facts.vaccinated_at.isoformat(),
        "primarySource": True,
        "performer": [{"actor": {"identifier": {"system": POINT_SYSTEM, "value": facts.point_id}}}],
        "protocolApplied": [
            {
                "targetDisease": [{"coding": [{"system": SNOMED, "code": COVID_19}]}],
                "doseNumberPositiveInt": facts.dose,
                "seriesDosesPositiveInt": max(facts.total_doses, facts.dose),
            }
        ],
    }
    if facts.lot:
        resource["lotNumber"] = facts.lot
    if reason:
        resource["note"] = [{"text": reason}]
    return validated(resource)


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource round-tripped through the FHIR model: raises pydantic's ValidationError."""
    model = Immunization.model_validate(resource)
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return dumped
