"""The Redis token buckets on a real redis-server: shared by every client, refilled on Redis's clock."""

from __future__ import annotations

import uuid

import redis

from shared.adapters.redis_buckets import RedisTokenBuckets
from shared.domain.ratelimit import Limit


def _client(emulator_env: dict[str, str]) -> redis.Redis:
    return redis.Redis.from_url(emulator_env["EREG_REDIS_URL"], socket_timeout=2)


def test_two_clients_share_one_bucket(emulator_env: dict[str, str]) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    first = RedisTokenBuckets(_client(emulator_env), prefix)
    second = RedisTokenBuckets(_client(emulator_env), prefix)  # another instance
    limit = Limit(per_second=0.01, burst=3)
    waits = [(first, second)[n % 2].take("login:ip", "203.0.113.9", limit) for n in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0] and 90 < waits[3] <= 100
    assert first.take("login:ip", "203.0.113.10", limit) == 0.0  # another caller, another bucket
    assert RedisTokenBuckets(_client(emulator_env), f"other-{prefix}").take("login:ip", "203.0.113.9", limit) == 0


def test_buckets_refill_and_expire_and_name_no_caller(emulator_env: dict[str, str]) -> None:
    client = _client(emulator_env)
    buckets = RedisTokenBuckets(client, f"t{uuid.uuid4().hex[:8]}:")
    limit = Limit(per_second=1000.0, burst=1)
    assert buckets.take("search:ip", "198.51.100.7", limit) == 0.0
    key = buckets.key("search:ip", "198.51.100.7")
    assert "198.51.100.7" not in key
    assert 0 < client.pttl(key) <= 1001 + 1000  # forgotten once it would be full again
    # 1000 a second: by the time of the next call the token is back.
    assert buckets.take("search:ip", "198.51.100.7", Limit(per_second=1_000_000.0, burst=1)) == 0.0
