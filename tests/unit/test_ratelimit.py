from __future__ import annotations

from shared.domain.ratelimit import Limit, RateLimiter, TokenBucket
from shared.services.rate_limits import BucketsUnavailable, RateLimits


def test_bucket_allows_the_burst_then_the_steady_rate() -> None:
    bucket = TokenBucket(Limit(per_second=2, burst=3), now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == 0.5
    assert bucket.take(0.5) == 0.0
    assert bucket.take(0.5) > 0


def test_limiter_keeps_callers_apart_and_rounds_retry_after_up() -> None:
    limiter = RateLimiter()
    limit = Limit(per_second=0.1, burst=1)
    assert limiter.check("login:ip", "a", limit, now=0.0) == 0
    assert limiter.check("login:ip", "a", limit, now=0.0) == 10
    assert limiter.check("login:ip", "b", limit, now=0.0) == 0
    assert limiter.check("search:ip", "a", limit, now=0.0) == 0


class FlakySharedBuckets:
    """A shared store that answers, or does not (like a Redis that went away)."""

    def __init__(self) -> None:
        self.up = True
        self.calls = 0
        self.tokens: dict[str, int] = {}

    def take(self, scope: str, key: str, limit: Limit) -> float:
        self.calls += 1
        if not self.up:
            raise BucketsUnavailable("ConnectionError")
        left = self.tokens.setdefault(f"{scope}:{key}", limit.burst)
        if left < 1:
            return 2.5
        self.tokens[f"{scope}:{key}"] = left - 1
        return 0.0


def test_shared_buckets_decide_while_they_answer() -> None:
    shared, clock = FlakySharedBuckets(), [0.0]
    limits = RateLimits(shared, RateLimiter(), clock=lambda: clock[0])
    limit = Limit(per_second=0.001, burst=2)
    assert [limits.check("login:ip", "a", limit) for _ in range(3)] == [0, 0, 3]
    assert shared.calls == 3 and limits.shared_in_use


def test_without_the_shared_store_the_process_buckets_hold_the_limit_and_it_is_retried_later() -> None:
    shared, clock = FlakySharedBuckets(), [0.0]
    limits = RateLimits(shared, RateLimiter(), clock=lambda: clock[0], retry_shared_after_s=5)
    limit = Limit(per_second=0.001, burst=2)
    shared.up = False
    assert [limits.check("login:ip", "a", limit) for _ in range(3)] == [0, 0, 1000]
    assert shared.calls == 1  # asked once, then left alone for a while: no timeout per request
    assert not limits.shared_in_use
    shared.up = True
    clock[0] = 5.0
    assert limits.check("login:ip", "a", limit) == 0  # the shared store decides again
    assert shared.calls == 2 and limits.shared_in_use


def test_a_scope_limited_per_process_never_asks_the_shared_store() -> None:
    shared = FlakySharedBuckets()
    limits = RateLimits(shared, RateLimiter(), clock=lambda: 0.0, per_process=frozenset({"search:ip"}))
    limit = Limit(per_second=0.001, burst=2)
    assert [limits.check("search:ip", "a", limit) for _ in range(3)] == [0, 0, 1000]  # the process's bucket
    assert shared.calls == 0
    assert limits.check("login:ip", "a", limit) == 0  # other scopes are shared as before
    assert shared.calls == 1
