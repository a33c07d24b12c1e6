"""Rate limits shared by every instance, with the process's own buckets as the fallback.

The shared buckets live in Redis (one atomic round trip per check). Losing Redis costs precision,
never availability: while it does not answer, each process limits on its own buckets, and Redis is
asked again only after a pause, so a dead server does not cost every request a timeout. Scopes
named ``per_process`` are always limited on the process's own buckets (their shared limit is at the
edge).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from shared.domain.ratelimit import Limit, RateLimiter

log = logging.getLogger(__name__)


class BucketsUnavailable(Exception):
    """The shared bucket store did not answer in time."""


class SharedBuckets(Protocol):
    def take(self, scope: str, key: str, limit: Limit) -> float:
        """Take one token; 0 if allowed, else seconds until one is free. Raises BucketsUnavailable."""
        ...


class RateLimits:
    def __init__(
        self,
        shared: SharedBuckets | None,
        local: RateLimiter,
        clock: Callable[[], float] = time.monotonic,
        retry_shared_after_s: float = 5.0,
        per_process: frozenset[str] = frozenset(),
    ) -> None:
        self.shared = shared
        self.local = local
        self.per_process = per_process  # scopes limited on the process's own buckets only
        self.clock = clock
        self.retry_shared_after_s = retry_shared_after_s
        self._shared_down_until = float("-inf")
        self._lock = threading.Lock()

    def check(self, scope: str, key: str, limit: Limit) -> int:
        """0 when allowed, else whole seconds to wait (for Retry-After)."""
        now = self.clock()
        if self.shared is not None and now >= self._shared_down_until and scope not in self.per_process:
            try:
                wait = self.shared.take(scope, key, limit)
            except BucketsUnavailable:
                with self._lock:
                    if now >= self._shared_down_until:
                        log.warning("shared rate limits unavailable; limiting per process for a while")
                    self._shared_down_until = now + self.retry_shared_after_s
            else:
                return 0 if wait <= 0 else max(1, math.ceil(wait))
        return self.local.check(scope, key, limit, now)

    @property
    def shared_in_use(self) -> bool:
        return self.shared is not None and self.clock() >= self._shared_down_until
