"""The live availability projection in Redis (Memorystore in the cloud): what search reads.

Layout, every key under the configured prefix:
- ``av:state:{point_id}`` a hash, one field per slot ``{vaccine}|{epoch}`` ->
  ``capacity|booked|version|voivodeship|county|municipality``: the newest state applied for each slot,
  kept after a slot fills up or is removed (so an older change arriving late cannot bring it back);
- ``av:free:{level}:{region}:{vaccine}`` a sorted set per region level (voivodeship, county,
  municipality, and ``point`` for one point) with one member per slot that has free places,
  ``{epoch:010d}|{point_id}|{free}``, all at score 0: lexicographic order is (start, point) order,
  so a page is one ZRANGEBYLEX and carries its free places with it;
- ``av:ready`` set when a full rebuild has finished: until then search reads Spanner;
- ``av:changed`` a channel: every script that changes a slot publishes a number from ``av:seq`` and
  the voivodeships and points it changed (``17 voivodeship:{code} point:{id}``; ``17 *`` past 64 of
  them), ``clear`` publishes ``*``. Each process counts
  what it hears (``redis_slot_changes.py``): the version under which search keeps a rendered answer
  per query (``shared/services/search_answers.py``).

A change is applied by a Lua script, atomically, only if its version (the slot's last commit
timestamp in microseconds, below 2^53 so exact in Lua's doubles) is newer than the one held:
redelivered and reordered changes cannot corrupt the projection. The script touches keys it
computes (a slot's four sorted sets): fine on a standalone Memorystore instance, which is what
infra/ provisions, not on Redis Cluster.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import redis

from shared.adapters.redis_slot_changes import EVERY_SCOPE, RedisSlotChanges
from shared.domain.availability import SlotQuery, SlotState
from shared.domain.booking import Slot
from shared.services.availability import ProjectionUnavailable

# Every voivodeship and point whose free slots a script changed, published in the same atomic script
# after a sequence number (and returned, so that the process that made the change counts it at once
# and knows its message when it arrives: redis_slot_changes.py).
PUBLISH_CHANGED = """local published = ''
if next(changed) ~= nil then
  local words = {tostring(redis.call('INCR', prefix .. 'av:seq'))}
  for scope in pairs(changed) do words[#words + 1] = scope end
  -- A rebuild's or a new schedule's batch: "every scope", so that no message is long.
  if #words > 65 then words = {words[1], '*'} end
  published = table.concat(words, ' ')
  redis.call('PUBLISH', prefix .. 'av:changed', published)
end
"""

APPLY = """
local prefix = ARGV[1]
local applied = 0
local changed = {}
for i = 2, #ARGV, 9 do
  local point, vaccine, epoch = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local capacity, booked, version = tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  local regions = {ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], point}
  local levels = {'voivodeship', 'county', 'municipality', 'point'}
  local state_key = prefix .. 'av:state:' .. point
  local field = vaccine .. '|' .. epoch
  local held = redis.call('HGET', state_key, field)
  local newer = true
  local old_free = 0
  if held then
    local c, b, v = string.match(held, '^(%-?%d+)|(%-?%d+)|(%d+)')
    if tonumber(v) >= version then newer = false end
    old_free = tonumber(c) - tonumber(b)
  end
  if newer then
    local free = capacity - booked
    for l = 1, 4 do
      local set = prefix .. 'av:free:' .. levels[l] .. ':' .. regions[l] .. ':' .. vaccine
      if old_free > 0 then
        redis.call('ZREM', set, string.format('%010d|%s|%d', tonumber(epoch), point, old_free))
      end
      if free > 0 then
        redis.call('ZADD', set, 0, string.format('%010d|%s|%d', tonumber(epoch), point, free))
      end
    end
    -- The arguments as given: Lua would print a version (microseconds, ~1.8e15) in exponent notation.
    redis.call('HSET', state_key, field, table.concat({ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
                                                       ARGV[i + 7], ARGV[i + 8]}, '|'))
    changed['voivodeship:' .. ARGV[i + 6]] = true
    changed['point:' .. point] = true
    applied = applied + 1
  end
end
-- PUBLISH
return {applied, published}
""".replace("-- PUBLISH\n", PUBLISH_CHANGED)

# A slot out of search (deleted from Spanner, or its point suspended): out of every sorted set
# (through the region codes held with its state), and held as capacity 0, so that only a newer state
# (the slot created again, the point open again) brings it back. Without a version (''), whatever is
# held, at its last version; with one, only a state held at that version or an older one, then held
# at that version (a tombstone with no region codes if none was held): a change committed before the
# removal and arriving after it is older, and APPLY refuses it.
REMOVE = """
local prefix = ARGV[1]
local removed = 0
local changed = {}
local levels = {'voivodeship', 'county', 'municipality', 'point'}
for i = 2, #ARGV, 4 do
  local point, vaccine, epoch, at = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local state_key = prefix .. 'av:state:' .. point
  local field = vaccine .. '|' .. epoch
  local held = redis.call('HGET', state_key, field)
  if held then
    local c, b, v, rv, rc, rm = string.match(held, '^(%-?%d+)|(%-?%d+)|(%d+)|([^|]*)|([^|]*)|([^|]*)$')
    if c and (at == '' or tonumber(v) <= tonumber(at)) then
      local places = tonumber(c) ~= 0 or tonumber(b) ~= 0
      if places then
        local free = tonumber(c) - tonumber(b)
        local regions = {rv, rc, rm, point}
        if free > 0 then
          for l = 1, 4 do
            local set = prefix .. 'av:free:' .. levels[l] .. ':' .. regions[l] .. ':' .. vaccine
            redis.call('ZREM', set, string.format('%010d|%s|%d', tonumber(epoch), point, free))
          end
        end
        changed['voivodeship:' .. rv] = true
        changed['point:' .. point] = true
        removed = removed + 1
      end
      if places or (at ~= '' and tonumber(v) < tonumber(at)) then
        redis.call('HSET', state_key, field, table.concat({'0', '0', at == '' and v or at, rv, rc, rm}, '|'))
      end
    end
  elseif at ~= '' then
    redis.call('HSET', state_key, field, table.concat({'0', '0', at, '', '', ''}, '|'))
  end
end
-- PUBLISH
return {removed, published}
""".replace("-- PUBLISH\n", PUBLISH_CHANGED)


class RedisAvailability:
    """Implements ``AvailabilityProjection`` (and so search's ``FreeSlotReader``)."""

    def __init__(
        self, client: redis.Redis, key_prefix: str = "", batch: int = 500, changes: RedisSlotChanges | None = None
    ) -> None:
        self.client = client
        self.prefix = key_prefix
        self.batch = batch
        self.changes = changes or RedisSlotChanges(client, key_prefix)  # what this process hears changed
        self._apply = client.register_script(APPLY)
        self._remove = client.register_script(REMOVE)

    # --- writes ----------------------------------------------------------------------------

    def apply(self, states: Sequence[SlotState]) -> int:
        applied = 0
        try:
            for start in range(0, len(states), self.batch):
                args: list[str | int] = [self.prefix]
                for state in states[start : start + self.batch]:
                    slot = state.slot
                    args += [slot.point_id, slot.vaccine, _epoch(slot.starts_at), slot.capacity, slot.booked,
                             state.version, slot.voivodeship, slot.county, slot.municipality]  # fmt: skip
                applied += self._changed_by(self._apply(keys=[], args=args))
        except redis.RedisError as error:
            raise ProjectionUnavailable(type(error).__name__) from error
        return applied

    def remove(self, keys: Sequence[tuple[str, datetime, str]], versions: Sequence[int] | None = None) -> int:
        at: list[int | str] = list(versions) if versions is not None else [""] * len(keys)
        removed = 0
        try:
            for start in range(0, len(keys), self.batch):
                args: list[str | int] = [self.prefix]
                for (point_id, starts_at, vaccine), version in zip(
                    keys[start : start + self.batch], at[start : start + self.batch], strict=True
                ):
                    args += [point_id, vaccine, _epoch(starts_at), version]
                removed += self._changed_by(self._remove(keys=[], args=args))
        except redis.RedisError as error:
            raise ProjectionUnavailable(type(error).__name__) from error
        return removed

    def _changed_by(self, answer: list[Any]) -> int:
        """A script's count; the scopes it changed are heard here at once (others hear them published)."""
        count, published = answer
        self.changes.heard(_text(published))
        return int(count)

    def mark_ready(self, ready: bool) -> None:
        try:
            if ready:
                self.client.set(f"{self.prefix}av:ready", "1")
            else:
                self.client.delete(f"{self.prefix}av:ready")
        except redis.RedisError as error:
            raise ProjectionUnavailable(type(error).__name__) from error

    # --- reads -----------------------------------------------------------------------------

    def is_ready(self) -> bool:
        try:
            return bool(self.client.exists(f"{self.prefix}av:ready"))
        except redis.RedisError as error:
            raise ProjectionUnavailable(type(error).__name__) from error

    def states(self, point_ids: Iterable[str]) -> dict[tuple[str, datetime, str], tuple[int, int, int]]:
        """(point, start, vaccine) -> (capacity, booked, version) for every slot held of these points."""
        wanted = list(point_ids)
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for point_id in wanted:
                    pipe.hgetall(f"{self.prefix}av:state:{point_id}")
                answers = pipe.execute()
        except redis.RedisError as error:
            raise ProjectionUnavailable(type(error).__name__) from error
        held: dict[tuple[str, datetime, str], tuple[int, int, int]] = {}
        for point_id, fields in zip(wanted, answers, strict=True):
            for field, value in fields.items():
                vaccine, epoch = _text(field).split("|")
                capacity, booked, version = (int(part) for part in _text(value).split("|")[:3])
                held[(point_id, _instant(int(epoch)), vaccine)] = (capacity, booked, version)
        return held

    def free_ranges(self, ranges: Sequence[SlotQuery]) -> list[list[Slot]]:
        """Every query in one round trip (a pipeline)."""
        bounds = [self._bounds(r) for r in ranges]
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for r, (low, high) in zip(ranges, bounds, strict=True):
                    key = f"{self.prefix}av:free:{r.level}:{r.region}:{r.vaccine}"
                    pipe.zrangebylex(key, low, high, start=0, num=r.limit + 1)
                answers = pipe.execute(raise_on_error=False)
        except redis.RedisError as error:
            raise ProjectionUnavailable(type(error).__name__) from error
        failed = next((a for a in answers if isinstance(a, Exception)), None)
        if failed is not None:
            raise ProjectionUnavailable(type(failed).__name__)
        return [_slots(members, r) for r, members in zip(ranges, answers, strict=True)]

    def version(self, scope: str) -> str | None:
        """The version of a voivodeship's or point's free slots as this process has heard them change,
        with no round trip; None while it cannot tell (``redis_slot_changes.py``)."""
        return self.changes.version(scope)

    @staticmethod
    def _bounds(query: SlotQuery) -> tuple[str, str]:
        low = f"[{_epoch(query.start):010d}|"
        after = query.after
        if after is not None and after[0] >= query.start:
            low = f"{'[' if query.inclusive_after else '('}{_epoch(after[0]):010d}|{after[1]}|"
        return low, f"({_epoch(query.end) + 1:010d}|"

    def free_slots(self, query: SlotQuery) -> list[Slot]:
        low, high = self._bounds(query)
        key = f"{self.prefix}av:free:{query.level}:{query.region}:{query.vaccine}"
        try:
            members = self.client.zrangebylex(key, low, high, start=0, num=query.limit + 1)
        except redis.RedisError as error:
            raise ProjectionUnavailable(type(error).__name__) from error
        return _slots(members, query)

    def point_slots(self, point_id: str, start: datetime, end: datetime) -> list[Slot]:
        held = self.states([point_id])
        slots = [
            Slot(point, starts_at, vaccine, capacity, booked)
            for (point, starts_at, vaccine), (capacity, booked, _) in held.items()
            if start <= starts_at <= end
        ]
        return sorted(slots, key=lambda s: (s.starts_at, s.vaccine))

    def clear(self) -> None:
        """Drop the whole projection (a rebuild follows)."""
        sequence = f"{self.prefix}av:seq"
        try:
            # All but the sequence of published changes: a number must never be published twice.
            keys = [k for k in self.client.scan_iter(match=f"{self.prefix}av:*", count=1000) if _text(k) != sequence]
            for start in range(0, len(keys), 1000):
                self.client.delete(*keys[start : start + 1000])
            self.client.publish(self.changes.channel, EVERY_SCOPE)
            self.changes.heard(EVERY_SCOPE)
        except redis.RedisError as error:
            raise ProjectionUnavailable(type(error).__name__) from error

    def ping(self, timeout_s: float) -> None:
        self.client.ping()


@functools.lru_cache(maxsize=16_384)
def _instant(epoch: int) -> datetime:
    """A slot's start from its epoch seconds: slots share a few thousand starts, so each is made once."""
    return datetime.fromtimestamp(epoch, UTC)


def _slots(members: Sequence[bytes | str], query: SlotQuery) -> list[Slot]:
    after, vaccine = query.after, query.vaccine
    found = []
    for member in members:
        epoch, point_id, free = _text(member).split("|")
        starts_at = _instant(int(epoch))
        if after is not None and not query.inclusive_after and (starts_at, point_id) == after:
            continue  # an open lower bound on the prefix still matches the member itself
        # Capacity is not needed by search: free places are what it shows.
        found.append(Slot(point_id, starts_at, vaccine, int(free), 0))
    return found[: query.limit]


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
