"""Sessions and the one-time-use guard of assertions in Redis (Memorystore), with expiry.

A session is a hash under its id, which is derived from the assertion that opened it, so creating
it only where no key exists *is* the one-time-use check: one round trip (a Lua script) per login,
where Firestore took a document commit. The key expires when neither the session nor its assertion
lives any more (``retain_until``), so a replay inside the assertion's life finds it.

Redis can lose what it holds (a restart of a basic instance, the last writes before a failover).
Sessions then simply end (the patient logs in again), but the guard must not forget an assertion
that was used: a marker ``sess:epoch`` holds the second from which the guard remembers. Whenever it
is missing, Firestore's durable record tells whether the guard had been used before (then it
forgot: assertions issued before the next whole second are refused) or never (then nothing issued
before can have been used: epoch 0). That Firestore read happens once per loss, not per login.

Every Redis error raises ``SessionsUnavailable``: no session is opened or accepted without Redis.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis

from shared.domain.identity import AssertionReplayed, Role, Session
from shared.services.identity import SessionsUnavailable

OPEN = """
local epoch = redis.call('GET', KEYS[2])
if not epoch then return 'no_epoch' end
if tonumber(ARGV[2]) < tonumber(epoch) then return 'before_epoch' end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'replayed' end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 'opened'
"""

# Change fields of a session that exists; never bring back an expired one (it would have no expiry).
UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

SET_EPOCH = """
local clock = redis.call('TIME')
local epoch = ARGV[1] == 'now' and tonumber(clock[1]) + 1 or 0
redis.call('SET', KEYS[1], epoch, 'NX')
return redis.call('GET', KEYS[1])
"""


class RedisSessionStore:
    """Implements ``shared.services.identity.SessionRepository``."""

    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str,
        guard_used_before: Callable[[], bool],
        save_staff_profile: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        """``guard_used_before`` answers, durably, whether any login ever used this guard (and records
        that one now does); ``save_staff_profile`` keeps a staff member's profile (Firestore)."""
        self.client = client
        self.prefix = key_prefix
        self._guard_used_before = guard_used_before
        self._save_staff_profile = save_staff_profile
        self._open = client.register_script(OPEN)
        self._update = client.register_script(UPDATE)
        self._set_epoch = client.register_script(SET_EPOCH)

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}sess:{session_id}"

    @property
    def _epoch_key(self) -> str:
        return f"{self.prefix}sess:epoch"

    def open(self, session: Session, staff_profile: dict[str, Any] | None = None) -> None:
        expire_at = session.retain_until or session.expires_at
        issued = session.assertion_issued_at or session.created_at
        args: list[Any] = [int(expire_at.timestamp() * 1000), math.floor(issued.timestamp()), *_fields(session)]
        try:
            outcome = _text(self._open(keys=[self._key(session.session_id), self._epoch_key], args=args))
            if outcome == "no_epoch":
                used = self._guard_used_before()  # Firestore, once after Redis lost its data (or at first use)
                self._set_epoch(keys=[self._epoch_key], args=["now" if used else "zero"])
                outcome = _text(self._open(keys=[self._key(session.session_id), self._epoch_key], args=args))
        except redis.RedisError as error:
            raise SessionsUnavailable(type(error).__name__) from error
        if outcome in ("replayed", "before_epoch"):
            raise AssertionReplayed(outcome)
        if outcome != "opened":
            raise SessionsUnavailable(outcome)
        if staff_profile is not None and session.staff_id and self._save_staff_profile is not None:
            self._save_staff_profile(session.staff_id, staff_profile)

    def get(self, session_id: str) -> Session | None:
        try:
            data = self.client.hgetall(self._key(session_id))
        except redis.RedisError as error:
            raise SessionsUnavailable(type(error).__name__) from error
        if not data:
            return None
        fields = {_text(k): _text(v) for k, v in data.items()}
        if "secret_hash" not in fields:
            return None
        return Session(
            session_id=session_id,
            roles=frozenset(Role(r) for r in fields["roles"].split(",") if r),
            created_at=datetime.fromisoformat(fields["created_at"]),
            expires_at=datetime.fromisoformat(fields["expires_at"]),
            last_seen_at=datetime.fromisoformat(fields["last_seen_at"]),
            patient_id=fields.get("patient_id") or None,
            staff_id=fields.get("staff_id") or None,
            point_ids=frozenset(p for p in fields.get("point_ids", "").split(",") if p),
            revoked=fields.get("revoked") == "1",
            secret_hash=fields["secret_hash"],
        )

    def touch(self, session_id: str, now: datetime) -> None:
        self._change(session_id, "last_seen_at", now.astimezone(UTC).isoformat())

    def revoke(self, session_id: str, now: datetime) -> None:
        self._change(session_id, "revoked", "1", "revoked_at", now.astimezone(UTC).isoformat())

    def _change(self, session_id: str, *pairs: str) -> None:
        try:
            self._update(keys=[self._key(session_id)], args=list(pairs))
        except redis.RedisError as error:
            raise SessionsUnavailable(type(error).__name__) from error

    def ping(self, timeout_s: float) -> None:
        self.client.ping()


def _fields(session: Session) -> list[str]:
    values = {
        "roles": ",".join(sorted(session.roles)),
        "created_at": session.created_at.astimezone(UTC).isoformat(),
        "expires_at": session.expires_at.astimezone(UTC).isoformat(),
        "last_seen_at": session.last_seen_at.astimezone(UTC).isoformat(),
        "patient_id": session.patient_id or "",
        "staff_id": session.staff_id or "",
        "point_ids": ",".join(sorted(session.point_ids)),
        "revoked": "1" if session.revoked else "0",
        "secret_hash": session.secret_hash,
    }
    return [item for pair in values.items() for item in pair]


def _text(value: bytes | str | Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
