"""Slot states from Spanner for the availability projection: strong reads by key and key range."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_db import SpannerDatabase
from shared.adapters.spanner_points import suspended_points
from shared.adapters.spanner_reads import SLOT_COLUMNS, slot_from_row
from shared.domain.availability import SlotState, version_of

STATE_COLUMNS = (*SLOT_COLUMNS, "ChangedAt")


def _state(row: list[Any]) -> SlotState:
    return SlotState(slot_from_row(row[: len(SLOT_COLUMNS)]), version_of(row[len(SLOT_COLUMNS)]))


class SpannerSlotStates:
    """Implements ``shared.services.availability.SlotStates``."""

    def __init__(self, database: SpannerDatabase) -> None:
        self.database = database

    def of_slots(self, keys: Iterable[tuple[str, datetime, str]]) -> list[SlotState]:
        wanted = [list(key) for key in keys]
        if not wanted:
            return []
        with self.database.snapshot() as snapshot:
            found = [_state(row) for row in snapshot.read("Slots", STATE_COLUMNS, KeySet(keys=wanted))]
        # A suspended point's slots are closed: the projection drops them, and no older state of
        # theirs brings them back (suspending wrote a new ChangedAt on each slot still to come).
        with self.database.snapshot() as snapshot:
            closed = suspended_points(snapshot, (s.slot.point_id for s in found))
        return [replace(s, closed=True) if s.slot.point_id in closed else s for s in found]

    def of_point(self, point_id: str) -> list[SlotState]:
        keys = KeySet(ranges=[KeyRange(start_closed=[point_id], end_closed=[point_id])])
        with self.database.snapshot() as snapshot:
            closed = bool(suspended_points(snapshot, [point_id]))
        with self.database.snapshot() as snapshot:
            return [replace(_state(row), closed=closed) for row in snapshot.read("Slots", STATE_COLUMNS, keys)]

    def point_ids(self) -> list[str]:
        with self.database.snapshot() as snapshot:
            return [str(row[0]) for row in snapshot.read("Points", ("PointId",), KeySet(all_=True))]
