"""Next-dose candidates chosen before the booking transaction, so that it holds no range read.

They come from search's reads (``FreeSlotReader``): the live projection while it is ready, else a
stale snapshot of Spanner's free-slot indexes. Either may be a moment behind, so a candidate is only
a key to try: the transaction confirms it by a key read (``SlotLedger.earliest_free_in``) and moves
on to the next one when it is gone, and to its own range reads when all are. A stale copy can
therefore cost a few key reads, never an overbooking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import DoseWindow
from shared.services.ports import PointDirectory
from shared.services.search import FreeSlotReader

log = logging.getLogger(__name__)

SlotKey = tuple[str, datetime, str]


@dataclass(frozen=True)
class NextDosePlan:
    """Slots to try for one next dose, in order: the point's earliest, then its municipality's."""

    window: DoseWindow
    keys: tuple[SlotKey, ...]


class NextDoseCandidates:
    def __init__(self, reads: FreeSlotReader, points: PointDirectory, per_source: int = 4) -> None:
        self.reads = reads
        self.points = points
        self.per_source = per_source

    def plan(self, point_id: str, vaccine: str, window: DoseWindow) -> NextDosePlan | None:
        """Candidates for a next dose in ``window`` near ``point_id``; None when none could be read
        (the transaction then chooses by itself, as without candidates)."""
        try:
            at_point = self.reads.free_slots(
                SlotQuery(Level.POINT, point_id, vaccine, window.earliest, window.latest, self.per_source)
            )
            keys = [s.key for s in at_point if window.contains(s.starts_at)]
            point = self.points.get_many([point_id]).get(point_id)
            if len(keys) < self.per_source and point is not None:
                nearby = self.reads.free_slots(
                    SlotQuery(Level.MUNICIPALITY, point.municipality, vaccine, window.earliest, window.latest,
                              self.per_source)
                )  # fmt: skip
                keys += [s.key for s in nearby if s.point_id != point_id and window.contains(s.starts_at)]
        except Exception:  # an optimisation only: the transaction can still choose by itself
            log.warning("next-dose candidates not read; the booking chooses inside its transaction", exc_info=True)
            return None
        return NextDosePlan(window, tuple(dict.fromkeys(keys))) if keys else None
