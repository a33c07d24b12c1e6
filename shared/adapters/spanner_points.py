"""The directory of vaccination points in Spanner, cached per process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from cachetools import TTLCache
from google.cloud.spanner_v1.keyset import KeyRange, KeySet

from shared.adapters.spanner_db import SpannerDatabase
from shared.domain.points import Point, Town

POINT_COLUMNS = ("PointId", "Name", "Voivodeship", "County", "Municipality", "City", "Street", "PostalCode",
                 "Vaccines", "Active")  # fmt: skip


def suspended_points(reader: Any, point_ids: Iterable[str]) -> set[str]:
    """Which of these points are suspended: their slots are not offered (one key read)."""
    wanted = sorted(set(point_ids))
    if not wanted:
        return set()
    rows = reader.read("Points", ("PointId", "Active"), KeySet(keys=[[p] for p in wanted]))
    return {str(row[0]) for row in rows if not row[1]}


def snapshot_rows(database: SpannerDatabase, keys: KeySet) -> list[Any]:
    with database.snapshot() as snapshot:
        return list(snapshot.read("Points", POINT_COLUMNS, keys))


class SpannerPointDirectory:
    """Points by id, cached per process: they change rarely and every search result names one."""

    def __init__(
        self, database: SpannerDatabase, ttl_s: float = 300, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.database = database
        self._cache: TTLCache[str, Point | None] = TTLCache(maxsize=20_000, ttl=ttl_s, timer=clock)
        self._lock = threading.Lock()
        self._towns: TTLCache[str, list[Town]] = TTLCache(maxsize=1, ttl=ttl_s)
        self._ttl_s = ttl_s
        self._clock = clock
        self._next_whole_read = float("-inf")

    def get_many(self, point_ids: Iterable[str]) -> dict[str, Point]:
        wanted = set(point_ids)
        missing = self._missing(wanted)
        if missing and self._whole_read_due():
            # The country has a few thousand points: one read of them all costs less than one strong
            # read per point on first use (about 40 ms each at national scale on the emulator).
            self._remember(snapshot_rows(self.database, KeySet(all_=True)), [])
            missing = self._missing(wanted)
        if missing:
            self._remember(snapshot_rows(self.database, KeySet(keys=[[p] for p in missing])), missing)
        with self._lock:
            return {p: point for p in wanted if (point := self._cache.get(p)) is not None}

    def _missing(self, wanted: set[str]) -> list[str]:
        with self._lock:
            return [p for p in wanted if p not in self._cache]

    def _whole_read_due(self) -> bool:
        """At most once per ``ttl_s`` in a process (the first caller takes it; the others read by key)."""
        with self._lock:
            now = self._clock()
            if now < self._next_whole_read:
                return False
            self._next_whole_read = now + self._ttl_s
            return True

    def _remember(self, rows: list[Any], asked: list[str]) -> None:
        """Cache the points read, and as absent the ``asked`` ones that were not."""
        found = {str(row[0]): Point(*row) for row in rows}
        with self._lock:
            for point_id in asked:
                self._cache[point_id] = found.get(point_id)
            for point_id, point in found.items():
                self._cache[point_id] = point

    def forget(self, point_id: str) -> None:
        """This process changed the point: read it afresh on next use."""
        with self._lock:
            self._cache.pop(point_id, None)

    def in_region(self, voivodeship: str, county: str | None, municipality: str | None) -> list[Point]:
        prefix = [voivodeship] + ([county] if county else []) + ([municipality] if municipality else [])
        keys = KeySet(ranges=[KeyRange(start_closed=prefix, end_closed=prefix)])
        columns = ("Voivodeship", "County", "Municipality", "PointId", "Name", "City", "Street", "PostalCode",
                   "Vaccines", "Active")  # fmt: skip
        with self.database.snapshot() as snapshot:
            rows = list(snapshot.read("Points", columns, keys, index="PointsByMunicipality"))
        points = [Point(r[3], r[4], r[0], r[1], r[2], r[5], r[6], r[7], list(r[8]), r[9]) for r in rows]
        return sorted((p for p in points if p.active), key=lambda p: (p.municipality, p.name))

    def towns(self) -> list[Town]:
        """Every town with an active point (one entry per town and county), read at most every ``ttl_s``."""
        with self._lock:
            cached = self._towns.get("all")
        if cached is not None:
            return cached
        with self.database.snapshot() as snapshot:
            rows = snapshot.read("Points", ("City", "Voivodeship", "County", "Active"), KeySet(all_=True))
            towns = sorted({Town(r[0], r[1], r[2]) for r in rows if r[3]}, key=lambda t: (t.name, t.county))
        with self._lock:
            self._towns["all"] = towns
        return towns
