"""The live availability projection: free places per region and vaccine, for search.

Spanner stays the only authority on free places (the booking transaction checks the slot); the
projection is a fast, possibly slightly stale copy. It is fed three ways, each applying a slot's
state only if it is newer than what the projection holds:
- right after a change commits, by the service that made it (the fast path: visible at once), with
  the states its transaction wrote, versioned by its commit timestamp (nothing is read back);
- by the visit and schedule events, which name the slots they touched: their states are read again
  from Spanner (what a lost fast path missed arrives this way, seconds later);
- by a rebuild (empty or lost Redis) and a periodic reconcile that compare the two and repair.
Search reads the projection while it is ready, and Spanner when it is not or Redis is unreachable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.domain.availability import SlotQuery, SlotState
from shared.domain.booking import Slot
from shared.services.search import FreeSlotReader, RangeBatchReader, read_each

log = logging.getLogger(__name__)

SlotKey = tuple[str, datetime, str]


class ProjectionUnavailable(Exception):
    """Redis did not answer (in time): callers fall back to Spanner."""


class AvailabilityProjection(FreeSlotReader, Protocol):
    """Search's slot reads (``FreeSlotReader``), fed and repaired by this service."""

    def apply(self, states: Sequence[SlotState]) -> int:
        """Apply each state that is newer than the one held; returns how many were."""
        ...

    def remove(self, keys: Sequence[SlotKey], versions: Sequence[int] | None = None) -> int:
        """Take slots out of search (kept as capacity 0). Without ``versions``, whatever is held, at
        its last version; with them (one a key), only a slot held at that version or an older one,
        which is then held at that version (a tombstone if not held), so that no older state arriving
        late brings it back. Returns how many left search."""
        ...

    def states(self, point_ids: Iterable[str]) -> dict[SlotKey, tuple[int, int, int]]:
        """(capacity, booked, version) of every slot held of these points."""
        ...

    def is_ready(self) -> bool: ...

    def version(self, scope: str) -> str | None:
        """The version of a voivodeship's or a point's free slots ("voivodeship:14", "point:{id}"): a
        new one whenever a slot there changes (``shared/services/search_answers.py``); None where it
        cannot tell."""
        ...

    def mark_ready(self, ready: bool) -> None: ...

    def clear(self) -> None: ...


class SlotStates(Protocol):
    """The authority's side: slot states read from Spanner (strong reads); a suspended point's slots
    come ``closed``, at their last commit."""

    def of_slots(self, keys: Iterable[SlotKey]) -> list[SlotState]: ...

    def of_point(self, point_id: str) -> list[SlotState]: ...

    def point_ids(self) -> list[str]: ...


@dataclass(frozen=True)
class Reconciled:
    points: int
    slots: int
    repaired: int
    seconds: float


class Availability:
    def __init__(self, projection: AvailabilityProjection, states: SlotStates, parallel: int = 8) -> None:
        self.projection = projection
        self.states = states
        self.parallel = parallel

    def slots_written(self, states: Sequence[SlotState]) -> None:
        """The fast path, right after a commit: the states its transaction wrote, each versioned by
        the commit's timestamp (so nothing is read back). Never raises: the events repair a miss."""
        if not states:
            return
        try:
            self._take(states)
        except Exception:  # Redis unreachable; a committed change must not fail for it
            log.warning("availability projection not updated; the events will repair it", exc_info=True)

    def _take(self, states: Sequence[SlotState]) -> int:
        """Apply the open states (if newer) and take the closed ones out at their versions."""
        opened = [s for s in states if not s.closed]
        closed = [s for s in states if s.closed]
        applied = self.projection.apply(opened) if opened else 0
        if closed:
            applied += self.projection.remove([s.slot.key for s in closed], [s.version for s in closed])
        return applied

    def refresh(self, keys: Iterable[SlotKey]) -> int:
        """Read these slots again from Spanner and apply what is newer (the event consumer)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return 0
        found = self.states.of_slots(wanted)
        gone = set(wanted) - {s.slot.key for s in found}  # removed from the schedule
        return self._take(found) + (self.projection.remove(sorted(gone)) if gone else 0)

    def reconcile(self, point_ids: Sequence[str] | None = None) -> Reconciled:
        """Compare every slot (of these points, or of all) with Spanner and apply what differs.

        Also the rebuild: on an empty projection every slot differs. The projection is marked ready
        when a reconcile of all points finishes.
        """
        started = time.monotonic()
        points = list(point_ids) if point_ids is not None else self.states.point_ids()

        def one(point_id: str) -> tuple[int, int]:
            truth = self.states.of_point(point_id)
            held = self.projection.states([point_id])
            stale = [s for s in truth if _differs(s, held.get(s.slot.key))]
            existing = {s.slot.key for s in truth}
            gone = sorted(k for k, (capacity, booked, _) in held.items() if k not in existing and (capacity or booked))
            repaired = self._take(stale) if stale else 0
            return len(truth), repaired + (self.projection.remove(gone) if gone else 0)

        slots = repaired = 0
        with ThreadPoolExecutor(self.parallel) as pool:
            for seen, fixed in pool.map(one, points):
                slots += seen
                repaired += fixed
        if point_ids is None:
            self.projection.mark_ready(True)
        result = Reconciled(len(points), slots, repaired, time.monotonic() - started)
        log.info("availability reconciled", extra={"fields": vars(result)})
        return result

    def rebuild(self) -> Reconciled:
        """Drop the projection and load it again from Spanner; search reads Spanner meanwhile."""
        self.projection.mark_ready(False)
        self.projection.clear()
        return self.reconcile()


def slots_of_event(event: Any) -> list[SlotKey]:
    """The slots a visit or schedule event says its change touched (none for other messages).

    A schedule event names its one slot; a visit event lists the slots whose places it took or freed,
    or, from a producer that does not, its series (refreshing a slot that did not change is a no-op).
    """
    if not isinstance(event, dict):
        return []
    entries = event.get("slots") or []
    if event.get("event_type") == "ScheduleChanged":
        entries = [[event.get("point_id"), event.get("starts_at"), event.get("vaccine")]]
    elif not entries and isinstance(event.get("series"), list):
        entries = [
            [v.get("point_id"), v.get("starts_at"), event.get("vaccine")]
            for v in event["series"]
            if isinstance(v, dict)
        ]
    keys = []
    for entry in entries:
        try:
            point_id, starts_at, vaccine = entry
            keys.append((str(point_id), datetime.fromisoformat(str(starts_at)), str(vaccine)))
        except (TypeError, ValueError):
            continue  # a malformed entry names no slot; the reconcile covers anything missed
    return [k for k in keys if k[1].tzinfo is not None]


def _differs(state: SlotState, held: tuple[int, int, int] | None) -> bool:
    if state.closed:  # out of search: held as no places at its version (or a newer one)
        return held is None or held[:2] != (0, 0) or held[2] < state.version
    return held is None or held != (state.slot.capacity, state.slot.booked, state.version)


class ProjectedFreeSlots:
    """Search's reads from the projection while it is ready; from Spanner when it is not."""

    def __init__(
        self,
        projection: AvailabilityProjection,
        fallback: FreeSlotReader,
        recheck_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.projection = projection
        self.fallback = fallback
        self.recheck_s = recheck_s
        self.clock = clock
        self._ready = False
        self._checked_until = 0.0  # readiness (and reachability) is asked again after this

    def _source(self) -> AvailabilityProjection | FreeSlotReader:
        now = self.clock()
        if now >= self._checked_until:
            try:
                self._ready = self.projection.is_ready()
            except ProjectionUnavailable:
                self._ready = False
            self._checked_until = now + self.recheck_s
        return self.projection if self._ready else self.fallback

    def _down(self) -> None:
        self._ready = False
        self._checked_until = self.clock() + self.recheck_s
        log.warning("availability projection unreachable; search reads Spanner")

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        source = self._source()
        if source is self.projection:
            try:
                return self.projection.free_slots(query)
            except ProjectionUnavailable:
                self._down()
        return self.fallback.free_slots(query)

    def free_ranges(self, ranges: Sequence[SlotQuery]) -> list[list[Slot]]:
        """The projection's batch read while it is ready; else the fallback's reads."""
        source = self._source()
        if source is self.projection and isinstance(self.projection, RangeBatchReader):
            try:
                return self.projection.free_ranges(ranges)
            except ProjectionUnavailable:
                self._down()
        elif source is self.projection:
            try:
                return read_each(self.projection, ranges)
            except ProjectionUnavailable:
                self._down()
        return read_each(self.fallback, ranges)

    def version(self, scope: str) -> str | None:
        """The projection's version of ``scope`` while search reads the projection; else None."""
        if self._source() is self.projection:
            try:
                return self.projection.version(scope)
            except ProjectionUnavailable:
                self._down()
        return None

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        source = self._source()
        if source is self.projection:
            try:
                return self.projection.point_slots(point_id, start, end)
            except ProjectionUnavailable:
                self._down()
        return self.fallback.point_slots(point_id, start, end)
