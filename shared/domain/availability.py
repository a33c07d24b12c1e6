"""A slot's places as of a moment: what the live availability projection holds for each slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.domain.booking import Slot

# The region levels search filters by; "point" is one point's own slots.
LEVELS = ("voivodeship", "county", "municipality", "point")


@dataclass(frozen=True)
class SlotState:
    """A slot (with its region codes) as it was right after the commit that last changed it.

    ``version`` is that commit's timestamp in microseconds since the epoch (0 for a slot never
    changed since it was loaded): of two states of one slot, the higher version is the newer.
    """

    slot: Slot
    version: int


def version_of(committed_at: datetime | None) -> int:
    if committed_at is None:
        return 0
    delta = committed_at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
