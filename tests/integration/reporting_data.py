"""A fixed set of reporting rows, with duplicate and out-of-order deliveries, and what every view and
report must make of it (worked out by hand; see each expectation's comment).

Days are in Warsaw (UTC+1 in March): 2026-03-09 23:30Z is 00:30 on the 10th.
"""

from __future__ import annotations

from typing import Any

P1, P2 = "point-1", "point-2"  # P1 in voivodeship 14 (county 1465), P2 in 12 (county 1261)
REGION = {P1: ("14", "1465"), P2: ("12", "1261")}


def at(moment: str) -> str:
    """'10 09:00:00' (UTC) -> '2026-03-10T09:00:00Z'."""
    return f"2026-03-{moment[:2]}T{moment[3:]}Z"


def _visit_row(
    event_id: str, event_type: str, occurred_at: str, visit_id: str, patient: str, point: str, vaccine: str,
    dose: int, channel: str, starts_at: str, age_band: str, inserted_at: str,
) -> dict[str, Any]:  # fmt: skip
    voivodeship, county = REGION[point]
    event_type, status = f"Visit{event_type}", STATUS[event_type]
    occurred_at, starts_at, inserted_at = at(occurred_at), at(starts_at), at(inserted_at)
    return {
        "event_id": event_id, "event_type": event_type, "schema_version": 1, "occurred_at": occurred_at,
        "visit_id": visit_id, "patient_ref": patient, "point_id": point, "voivodeship": voivodeship,
        "county": county, "municipality": county + "011", "vaccine": vaccine, "dose": dose, "channel": channel,
        "starts_at": starts_at, "age_band": age_band, "status": status,
        "lot": "LOT-1" if status == "COMPLETED" else None, "inserted_at": inserted_at,
    }  # fmt: skip


STATUS = {
    "Booked": "BOOKED", "Moved": "BOOKED", "Cancelled": "CANCELLED", "Completed": "COMPLETED", "NoShow": "NO_SHOW",
}  # fmt: skip
C, V, CC = "comirnaty", "vaxzevria", "CALL_CENTRE"
# (event id, Visit<type>, occurred, visit, patient, point, vaccine, dose, channel, visit starts, age band, inserted);
# the visit's status follows from the type.
VISIT_EVENTS = [
    # v1: booked on the 9th (delivered twice), vaccinated on the 10th.
    ("e01", "Booked", "09 09:00:00", "v1", "p1", P1, C, 1, "WEB", "10 10:00:00", "60-69", "09 09:00:01"),
    ("e01", "Booked", "09 09:00:00", "v1", "p1", P1, C, 1, "WEB", "10 10:00:00", "60-69", "09 09:05:00"),
    ("e02", "Completed", "10 10:05:00", "v1", "p1", P1, C, 1, "POINT", "10 10:00:00", "60-69", "10 10:05:01"),
    # v2: booked by the call centre, cancelled; the cancellation arrived before the booking.
    ("e03", "Booked", "10 07:30:00", "v2", "p2", P1, C, 1, CC, "12 10:00:00", "60-69", "10 09:00:05"),
    ("e04", "Cancelled", "10 09:00:00", "v2", "p2", P1, C, 1, CC, "12 10:00:00", "60-69", "10 09:00:01"),
    # v3: booked, moved to the 11th (move delivered twice), no-show late on the 11th, delivered before the move.
    ("e05", "Booked", "10 08:00:00", "v3", "p3", P2, V, 1, "WEB", "10 12:00:00", "30-39", "10 08:00:01"),
    ("e06", "Moved", "10 09:00:00", "v3", "p3", P2, V, 1, "WEB", "11 12:00:00", "30-39", "11 23:00:00"),
    ("e06", "Moved", "10 09:00:00", "v3", "p3", P2, V, 1, "WEB", "11 12:00:00", "30-39", "11 23:00:02"),
    ("e07", "NoShow", "11 22:00:00", "v3", "p3", P2, V, 1, "WEB", "11 12:00:00", "30-39", "11 22:00:01"),
    # v4: p1's second dose, booked at the point when the first was given.
    ("e08", "Booked", "10 10:06:00", "v4", "p1", P1, C, 2, "POINT", "31 10:00:00", "60-69", "10 10:06:01"),
    # v5: booked 00:30 on the 10th in Warsaw (23:30Z on the 9th), vaccinated the same day (delivered three times).
    ("e09", "Booked", "09 23:30:00", "v5", "p4", P2, V, 1, "WEB", "10 13:00:00", "30-39", "09 23:30:01"),
    ("e10", "Completed", "10 13:10:00", "v5", "p4", P2, V, 1, "POINT", "10 13:00:00", "30-39", "10 13:10:01"),
    ("e10", "Completed", "10 13:10:00", "v5", "p4", P2, V, 1, "POINT", "10 13:00:00", "30-39", "10 13:11:01"),
    ("e10", "Completed", "10 13:10:00", "v5", "p4", P2, V, 1, "POINT", "10 13:00:00", "30-39", "10 13:12:01"),
    # v6: booked on the 10th, vaccinated on the 11th.
    ("e11", "Booked", "10 14:00:00", "v6", "p5", P2, V, 1, "WEB", "11 09:00:00", "30-39", "10 14:00:01"),
    ("e12", "Completed", "11 09:05:00", "v6", "p5", P2, V, 1, "POINT", "11 09:00:00", "30-39", "11 09:05:01"),
]  # fmt: skip


def visit_rows() -> list[dict[str, Any]]:
    return [_visit_row(*event) for event in VISIT_EVENTS]


# (event id, change, occurred, point, slot starts, vaccine, capacity, inserted)
SCHEDULE_EVENTS = [
    # P1 on the 10th: 10 places, then 5; the change arrived first.
    ("s01", "created", "01 08:00:00", P1, "10 10:00:00", C, 10, "05 08:00:05"),
    ("s02", "changed", "05 08:00:00", P1, "10 10:00:00", C, 5, "05 08:00:01"),
    ("s03", "created", "01 08:00:00", P1, "12 10:00:00", C, 4, "01 08:00:01"),
    # P2's 12:00 slot on the 10th: created, then removed.
    ("s04", "created", "01 08:00:00", P2, "10 12:00:00", V, 2, "01 08:00:01"),
    ("s05", "removed", "10 08:30:00", P2, "10 12:00:00", V, 0, "10 08:30:01"),
    # P2's 13:00 slot on the 10th, delivered twice.
    ("s06", "created", "01 08:00:00", P2, "10 13:00:00", V, 3, "01 08:00:01"),
    ("s06", "created", "01 08:00:00", P2, "10 13:00:00", V, 3, "01 08:01:01"),
    ("s07", "created", "01 08:00:00", P2, "11 12:00:00", V, 2, "01 08:00:01"),
    ("s08", "created", "01 08:00:00", P1, "31 10:00:00", C, 6, "01 08:00:01"),
]  # fmt: skip


def schedule_rows() -> list[dict[str, Any]]:
    rows = []
    for event_id, change, occurred, point, starts, vaccine, capacity, inserted in SCHEDULE_EVENTS:
        voivodeship, county = REGION[point]
        rows.append({
            "event_id": event_id, "event_type": "ScheduleChanged", "schema_version": 1, "occurred_at": at(occurred),
            "change": change, "point_id": point, "voivodeship": voivodeship, "county": county,
            "municipality": county + "011", "starts_at": at(starts), "vaccine": vaccine, "capacity": capacity,
            "booked": 0, "inserted_at": at(inserted),
        })  # fmt: skip
    return rows


# (request id, occurred, status, segments, inserted)
SMS_EVENTS = [
    ("r1", "10 08:00:00", "SENT", 2, "10 08:00:01"),
    ("r1", "10 08:00:00", "SENT", 2, "10 08:00:02"),  # written twice
    ("r2", "10 09:00:00", "FAILED", 1, "10 09:00:01"),
    ("r3", "10 09:30:00", "REJECTED", 1, "10 09:30:01"),
    ("r4", "09 12:00:00", "SENT", 1, "09 12:00:01"),
    ("r5", "10 23:30:00", "SENT", 3, "10 23:30:01"),  # 00:30 on the 11th in Warsaw
]


def sms_rows() -> list[dict[str, Any]]:
    return [
        {"request_id": request_id, "occurred_at": at(occurred), "kind": "VisitBooked", "status": status,
         "encoding": "UCS-2", "segments": segments, "inserted_at": at(inserted)}
        for request_id, occurred, status, segments, inserted in SMS_EVENTS
    ]  # fmt: skip
