"""Token buckets: a steady rate with a burst allowance. Time is passed in, so tests need no clock."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from cachetools import TTLCache


@dataclass(frozen=True)
class Limit:
    per_second: float
    burst: int


class TokenBucket:
    def __init__(self, limit: Limit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.updated = now

    def take(self, now: float) -> float:
        """Take one token. Returns 0 if allowed, else the seconds until a token is available."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.limit.burst, self.tokens + elapsed * self.limit.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.limit.per_second


class RateLimiter:
    """Buckets keyed by (what, who), forgotten after they have been idle a while."""

    def __init__(self, max_keys: int = 200_000, idle_s: float = 600) -> None:
        self._buckets: TTLCache[tuple[str, str], TokenBucket] = TTLCache(maxsize=max_keys, ttl=idle_s)
        self._lock = threading.Lock()

    def check(self, scope: str, key: str, limit: Limit, now: float) -> int:
        """0 when allowed, else whole seconds to wait (for Retry-After)."""
        with self._lock:
            bucket = self._buckets.get((scope, key))
            if bucket is None:
                bucket = self._buckets[(scope, key)] = TokenBucket(limit, now)
            wait = bucket.take(now)
        return 0 if wait == 0 else max(1, math.ceil(wait))
