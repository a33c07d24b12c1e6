"""The points' back office results as their HTTP answers (staff never see check-in codes)."""

from __future__ import annotations

from typing import Any

from shared.domain.booking import Visit, local_iso
from shared.entrypoints.visit_http import visit_json
from shared.services.points import DayCancelled, NoShowMarked, VaccinationRecorded, VaccinationVoided


def _staff_view(visits: list[Visit]) -> list[dict[str, Any]]:
    return [visit_json(v, with_code=False) for v in visits]


def vaccination_json(recorded: VaccinationRecorded) -> dict[str, Any]:
    pending = recorded.next_dose
    next_dose = (
        {"dose": pending.dose, "status": "TO_BE_BOOKED", "earliest": local_iso(pending.earliest),
         "latest": local_iso(pending.latest)}
        if pending else None
    )  # fmt: skip
    body: dict[str, Any] = {
        "vaccination": recorded.vaccination.as_json(),
        "series": _staff_view(recorded.series),
        "cancelled": recorded.cancelled,
        "next_dose": next_dose,
    }
    if recorded.identity_checked is not None:
        body["identity_checked"] = recorded.identity_checked
    return body


def voided_json(voided: VaccinationVoided) -> dict[str, Any]:
    return {
        "visit": visit_json(voided.visit, with_code=False),
        "voided": {**voided.vaccination.as_json(), "voided_at": local_iso(voided.voided_at), "reason": voided.reason},
        "series": _staff_view(voided.series),
    }


def day_cancelled_json(cancelled: DayCancelled) -> dict[str, Any]:
    return {
        "point_id": cancelled.point_id,
        "day": cancelled.day.isoformat(),
        "cancelled": cancelled.cancelled,
        "moved": cancelled.moved,
        "slots_removed": cancelled.slots_removed,
        "reason": cancelled.reason,
    }


def no_show_json(marked: NoShowMarked) -> dict[str, Any]:
    return {"visit": visit_json(marked.visit, with_code=False), "cancelled": marked.cancelled}
