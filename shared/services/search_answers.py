"""Rendered search answers kept per query while the free slots they show are unchanged.

A search's answer depends on the query, the programme's vaccines, the free slots of its voivodeship
or point, and "now": a slot that has started is no longer shown, and a search with no end given ends
14 days from the minute it is asked in, so a later slot may join a page that was not full (a full
page cannot change that way: a later slot sorts after it). The projection gives each voivodeship and
each point a version that every change there replaces, and this process hears of each change without
asking (``shared/adapters/redis_slot_changes.py``), so an answer kept with the version it was read
under is still the answer while that version holds. A kept answer costs no round trip at all: no
range read, no parsing, no JSON.

A booking or cancel announces its voivodeship and its point in the same script that changes the free
slots, so the very next search misses and reads them: nothing is shown stale. The version is taken
before the slots are read (a change in between makes the kept answer older than its version says, so
the next search reads again: never the other way round). Where the reads would not come from the
projection (Spanner while it is not ready, Redis down), or where this process cannot tell what changed
(its subscription not confirmed, or silent), there is no version and nothing is kept or served.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cachetools import LRUCache


class VersionedSlots(Protocol):
    def version(self, scope: str) -> str | None:
        """The current version of ``scope``'s free slots ("voivodeship:14", "point:{id}"); None where
        search would not read them from a versioned source."""
        ...


# Not versioned, so bounded in time: a point's name and address (the point directory keeps them as long).
MAX_AGE = timedelta(minutes=5)


@dataclass(frozen=True)
class KeptAnswer:
    scope: str
    version: str
    read_at: datetime
    first_start: datetime | None  # its first slot's start: from then on that slot is not shown
    # Whether it holds only in the minute it was read in: where its end moves with "now" and a later
    # slot could join a page that is not full, or where the query's validity depends on "now".
    this_minute_only: bool
    body: bytes

    def holds_at(self, now: datetime) -> bool:
        if not self.read_at <= now < self.read_at + MAX_AGE:
            return False
        if self.first_start is not None and now >= self.first_start:
            return False
        return not self.this_minute_only or minute_of(now) == minute_of(self.read_at)


def search_scope(voivodeship: str | None, point_id: str | None) -> str:
    return f"point:{point_id}" if point_id else f"voivodeship:{voivodeship}"


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class SearchAnswers:
    """Per process: query text -> the answer rendered for it, with the version it was read under."""

    def __init__(self, slots: VersionedSlots | None, max_answers: int = 20_000) -> None:
        self.slots = slots
        self._kept: LRUCache[str, KeptAnswer] = LRUCache(maxsize=max_answers)
        self._lock = threading.Lock()

    def kept(self, query: str, now: datetime) -> bytes | None:
        """The answer kept for ``query`` if its slots are unchanged."""
        with self._lock:
            answer = self._kept.get(query)
        if answer is None or not answer.holds_at(now):
            return None
        if self.version(answer.scope) != answer.version:
            return None
        return answer.body

    def version(self, scope: str) -> str | None:
        """Taken before the slots an answer is made from are read."""
        return None if self.slots is None else self.slots.version(scope)

    def keep(self, query: str, answer: KeptAnswer) -> None:
        with self._lock:
            self._kept[query] = answer

    def clear(self) -> None:
        """Something an answer shows besides the slots changed here (a point's name or address)."""
        with self._lock:
            self._kept.clear()
