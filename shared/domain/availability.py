"""A slot's places as of a moment: what the live availability projection holds for each slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from shared.domain.booking import Slot


class Level(StrEnum):
    """The region levels search filters by; ``POINT`` is one point's own slots."""

    VOIVODESHIP = "voivodeship"
    COUNTY = "county"
    MUNICIPALITY = "municipality"
    POINT = "point"


@dataclass(frozen=True)
class SlotQuery:
    """One read of free slots: slots with free places of one vaccine in a region starting in
    [start, end], earliest first (then by point), at most ``limit``; given ``after`` (time, point),
    only those after it (or from it on, with ``inclusive_after``)."""

    level: Level
    region: str
    vaccine: str
    start: datetime
    end: datetime
    limit: int
    after: tuple[datetime, str] | None = None
    inclusive_after: bool = False

    def follows(self, slot: Slot) -> bool:
        """Whether the slot comes after ``after`` (always, without it)."""
        if self.after is None:
            return True
        position = (slot.starts_at, slot.point_id)
        return position > self.after or (self.inclusive_after and position == self.after)


@dataclass(frozen=True)
class SlotState:
    """A slot (with its region codes) as it was right after the commit that last changed it.

    ``version`` is that commit's timestamp in microseconds since the epoch (0 for a slot never
    changed since it was loaded): of two states of one slot, the higher version is the newer.
    ``closed``: as of that version the slot is out of search (deleted, or its point suspended); no
    older state brings it back.
    """

    slot: Slot
    version: int
    closed: bool = False


def version_of(committed_at: datetime | None) -> int:
    if committed_at is None:
        return 0
    delta = committed_at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
