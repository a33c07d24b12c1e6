"""Token buckets in Redis: one round trip per check, atomic in a Lua script, on Redis's own clock.

Each bucket is a hash {tokens, ts} that expires once it would be full again, so idle callers cost
no memory. Redis's clock (``TIME``) is the same for every instance, unlike theirs.
"""

from __future__ import annotations

import hashlib

import redis

from shared.domain.ratelimit import Limit
from shared.services.rate_limits import BucketsUnavailable

TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(bucket[1])
local updated = tonumber(bucket[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisTokenBuckets:
    """Implements ``shared.services.rate_limits.SharedBuckets``."""

    def __init__(self, client: redis.Redis, key_prefix: str = "") -> None:
        self.client = client
        self.key_prefix = key_prefix
        self._take = client.register_script(TAKE)

    def key(self, scope: str, key: str) -> str:
        # Hashed: a bucket's key names no address or session in the clear, and has a bounded length.
        return f"{self.key_prefix}rl:{scope}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"

    def take(self, scope: str, key: str, limit: Limit) -> float:
        try:
            wait = self._take(keys=[self.key(scope, key)], args=[limit.per_second, limit.burst])
        except redis.RedisError as error:
            raise BucketsUnavailable(type(error).__name__) from error
        return float(wait)
