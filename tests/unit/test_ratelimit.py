from __future__ import annotations

from shared.domain.ratelimit import Limit, RateLimiter, TokenBucket


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
