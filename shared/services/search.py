"""Free-slot search.

Searches read the live projection of free slots (Redis) or, without it, Spanner's NULL_FILTERED
indexes that hold free slots only, with bounded staleness (no locks) and a short-lived per-process
cache of those range reads (``CachedFreeSlots``) that absorbs repeated popular searches. The
projection is read uncached, so a booking or cancel shows in the very next search. The booking
transaction stays the only authority on free places: a slot shown here may be gone a second later.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from cachetools import TTLCache

from shared.domain.availability import Level, SlotQuery
from shared.domain.booking import Slot
from shared.domain.points import Point
from shared.domain.programme import Programme
from shared.domain.refusals import RefusalKind, Refused
from shared.services.ports import PointDirectory

MAX_RANGE = timedelta(days=92)


def invalid_search(field: str, detail: str) -> Refused:
    return Refused(RefusalKind.INVALID, "invalid_field", detail, field=field)


class FreeSlotReader(Protocol):
    """Slot reads for search: no locks, possibly a few seconds old (the booking re-checks)."""

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]: ...

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        """The query's slots with free places, earliest first."""
        ...


@runtime_checkable
class RangeBatchReader(Protocol):
    """A reader that reads many ranges in one round trip."""

    def free_ranges(self, ranges: Sequence[SlotQuery]) -> list[list[Slot]]:
        """Each query's slots, as ``free_slots`` reads them."""
        ...


def read_each(reader: FreeSlotReader, ranges: Sequence[SlotQuery]) -> list[list[Slot]]:
    """The queries one read at a time (a reader with no batch, or a fallback)."""
    return [reader.free_slots(query) for query in ranges]


@dataclass(frozen=True)
class SearchFilters:
    voivodeship: str | None
    county: str | None
    municipality: str | None
    point_id: str | None
    vaccine: str | None
    start: datetime
    end: datetime
    limit: int

    def fingerprint(self) -> str:
        # Not the date range: "from now" moves between pages, and a page continues after its last slot.
        what = (self.voivodeship, self.county, self.municipality, self.point_id, self.vaccine)
        return hashlib.sha256(repr(what).encode()).hexdigest()[:12]


def encode_page_token(filters: SearchFilters, last: Slot) -> str:
    raw = json.dumps([filters.fingerprint(), last.starts_at.isoformat(), last.point_id, last.vaccine])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(filters: SearchFilters, token: str) -> tuple[datetime, str, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(raw, list) and len(raw) == 4 and all(isinstance(part, str) for part in raw)):
            raise ValueError("not a page token")
        fingerprint, starts_at, point_id, vaccine = raw
        after = datetime.fromisoformat(starts_at)
    except (ValueError, TypeError, RecursionError):
        raise invalid_search("page_token", "Nieprawidłowy znacznik strony") from None
    # A token this service made holds a slot's time: never a date at the calendar's edges.
    if fingerprint != filters.fingerprint() or after.tzinfo is None or not 2000 < after.year < 2199:
        raise invalid_search("page_token", "Znacznik strony nie pasuje do tego wyszukiwania")
    return after, str(point_id), str(vaccine)


@dataclass(frozen=True)
class SearchPage:
    slots: list[tuple[Slot, Point]]
    next_page_token: str | None


class CachedFreeSlots:
    """A slot reader whose range reads are kept for ``ttl_s`` seconds in this process.

    For the Spanner reads, a few seconds stale by design: the ranges are shared by the searches with
    and without a vaccine filter (a search of all vaccines merges the per-vaccine ranges), and search
    asks from whole minutes and is keyed here to the minute of its end, so "from now" searches share
    them too.
    """

    def __init__(self, reads: FreeSlotReader, ttl_s: float) -> None:
        self.reads = reads
        self._ranges: TTLCache[tuple[Any, ...], list[Slot]] = TTLCache(maxsize=50_000, ttl=ttl_s)
        self._lock = threading.Lock()

    def _cached(self, key: tuple[Any, ...], read: Callable[[], list[Slot]]) -> list[Slot]:
        with self._lock:
            cached = self._ranges.get(key)
        if cached is not None:
            return cached
        slots = read()
        with self._lock:
            self._ranges[key] = slots
        return slots

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        key = ("point", point_id, start, end.replace(second=0, microsecond=0))
        return self._cached(key, lambda: self.reads.point_slots(point_id, start, end))

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        key = replace(query, end=query.end.replace(second=0, microsecond=0))
        return self._cached(("free", key), lambda: self.reads.free_slots(query))


class SlotSearch:
    def __init__(
        self, slots: FreeSlotReader, points: PointDirectory, programme: Callable[[], Programme | None]
    ) -> None:
        self.slots = slots
        self.points = points
        self.programme = programme
        self._batch = slots if isinstance(slots, RangeBatchReader) else None

    def search(self, filters: SearchFilters, page_token: str | None, now: datetime) -> SearchPage:
        programme = self.programme()
        vaccines = (
            [filters.vaccine] if filters.vaccine else sorted(v.code for v in programme.vaccines) if programme else []
        )
        after = decode_page_token(filters, page_token) if page_token else None
        # Whole minutes, so that searches "from now" share range reads; past slots are dropped below.
        start = max(filters.start, now).replace(second=0, microsecond=0)
        wanted = filters.limit + 1
        # A point is a region of its own (its free slots per vaccine): one batch of range reads either way.
        level, region = (Level.POINT, filters.point_id) if filters.point_id else self._level(filters)
        ranges = [self._region(level, region, vaccine, start, filters.end, wanted, after) for vaccine in vaccines]
        found_ranges = self._batch.free_ranges(ranges) if self._batch else read_each(self.slots, ranges)
        candidates: Iterable[Slot] = heapq.merge(*found_ranges, key=_order)
        found: list[Slot] = []
        for slot in candidates:
            if after is not None and _order(slot) <= (after[0], after[1], after[2]):
                continue
            if slot.free_places <= 0 or slot.starts_at <= now:
                continue
            found.append(slot)
            if len(found) == wanted:
                break
        page, more = found[: filters.limit], len(found) > filters.limit
        points = self.points.get_many(s.point_id for s in page)
        return SearchPage(
            [(s, points[s.point_id]) for s in page if s.point_id in points],
            encode_page_token(filters, page[-1]) if more and page else None,
        )

    def _region(
        self,
        level: Level,
        region: str,
        vaccine: str,
        start: datetime,
        end: datetime,
        limit: int,
        after: tuple[datetime, str, str] | None,
    ) -> SlotQuery:
        resume = None
        inclusive = False
        if after is not None and after[0] >= start:
            resume = (after[0], after[1])
            inclusive = vaccine > after[2]  # the same (time, point) comes after the last one for later vaccines
        return SlotQuery(level, region, vaccine, start, end, limit, resume, inclusive)

    @staticmethod
    def _level(filters: SearchFilters) -> tuple[Level, str]:
        if filters.municipality:
            return Level.MUNICIPALITY, filters.municipality
        if filters.county:
            return Level.COUNTY, filters.county
        if filters.voivodeship:
            return Level.VOIVODESHIP, filters.voivodeship
        raise invalid_search("voivodeship", "Podaj województwo, powiat, gminę albo punkt szczepień")


def _order(slot: Slot) -> tuple[datetime, str, str]:
    return (slot.starts_at, slot.point_id, slot.vaccine)
