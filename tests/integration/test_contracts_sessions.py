"""Session stores behave alike: the in-memory fake, Firestore (emulator) and Redis (redis-server).

The same cases run through IdentityService on each: one session per assertion (a replay is refused,
also after logout), what is opened reads back, idle and absolute expiry, logout at once, touching or
revoking an unknown session creates nothing. Then what only Redis needs: its keys expire with the
session and assertion, a guard that lost its data still refuses a used assertion, and without Redis
nobody logs in (503 problem, fail closed).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
import pytest
import redis

from emulators.seed import pesel_for
from emulators.stack import LocalStack
from shared.adapters.firestore_db import SESSIONS, FirestoreStaffProfiles, SessionStore
from shared.adapters.firestore_indexes import UndeclaredIndexedTimestamp, declared
from shared.adapters.redis_sessions import RedisSessionStore
from shared.bootstrap import build_container
from shared.domain.identity import Role, Session, SessionPolicy, staff_id_for
from shared.domain.refusals import RefusalKind, Refused
from shared.services.identity import (
    AssertionVerifier,
    IdentityService,
    LoginRefused,
    NotAuthenticated,
    SessionRepository,
)
from tests.conftest import isolated_settings
from tests.unit.fakes import FakePatients, FakeSessions
from tests.unit.test_identity_service import AUDIENCE, ISSUER, KEY, OneKey

POLICY = SessionPolicy(absolute=timedelta(hours=1), idle=timedelta(minutes=15))
PESEL = pesel_for(date(1980, 5, 17), 7, female=True)


def signed(pesel: str = PESEL, issued: int | None = None, **extra: Any) -> str:
    issued = int(time.time()) if issued is None else issued
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": issued, "exp": issued + 300, "jti": str(uuid.uuid4()),
              "pesel": pesel, "given_name": "Jan", "family_name": "Testowy", **extra}  # fmt: skip
    return jwt.encode(claims, KEY, algorithm="RS256")


def service(sessions: SessionRepository) -> IdentityService:
    return IdentityService(
        AssertionVerifier({ISSUER: OneKey()}, AUDIENCE),
        sessions,
        FakePatients(),
        lambda: None,
        POLICY,
        POLICY,
        staff_id_of=lambda pesel: staff_id_for(pesel, "contract-key"),
    )


def redis_store(url: str, prefix: str | None = None, firestore_client: Any = None) -> RedisSessionStore:
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    used = {"before": False}

    def guard_used_before() -> bool:  # Firestore's durable record, unless one is given
        if firestore_client is not None:
            return FirestoreStaffProfiles(firestore_client).guard_used_before()
        before, used["before"] = used["before"], True
        return before

    return RedisSessionStore(client, prefix or f"s{uuid.uuid4().hex[:8]}:", guard_used_before)


@pytest.fixture(params=["fake", "firestore", "redis"])
def sessions(request: pytest.FixtureRequest) -> Iterator[SessionRepository]:
    if request.param == "fake":
        yield FakeSessions()
        return
    env: dict[str, str] = request.getfixturevalue("emulator_env")
    if request.param == "redis":
        yield redis_store(env["EREG_REDIS_URL"])
        return
    store = build_container(isolated_settings(session_store="firestore")).sessions
    # As the composition root makes it locally: every document checked against infra/firestore.yaml.
    assert isinstance(store, SessionStore) and store.indexes == declared(SESSIONS)
    yield store


def test_an_assertion_opens_one_session_and_its_replay_is_refused_also_after_logout(
    sessions: SessionRepository,
) -> None:
    identity, now = service(sessions), datetime.now(UTC)
    assertion = signed()
    result = identity.login(assertion, now)
    with pytest.raises(LoginRefused, match="assertion_replayed"):
        identity.login(assertion, now)
    identity.logout(identity.authenticate(result.session_token, now), now)
    with pytest.raises(LoginRefused, match="assertion_replayed"):
        identity.login(assertion, now)
    assert identity.login(signed(), now).session_token != result.session_token  # a fresh assertion is fine


def test_what_is_opened_reads_back(sessions: SessionRepository) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    session = Session(
        session_id=uuid.uuid4().hex * 2, roles=frozenset({Role.POINT_STAFF, Role.AGENT}), created_at=now,
        expires_at=now + timedelta(hours=1), last_seen_at=now, staff_id="st-1", point_ids=frozenset({"p1", "p2"}),
        secret_hash="ab" * 32, retain_until=now + timedelta(hours=2), assertion_issued_at=now,
    )  # fmt: skip
    sessions.open(session, {"given_name": "Ewa"})
    found = sessions.get(session.session_id)
    assert found is not None
    fields = ("roles", "created_at", "expires_at", "last_seen_at", "patient_id", "staff_id", "point_ids", "revoked",
              "secret_hash")  # fmt: skip
    assert {f: getattr(found, f) for f in fields} == {f: getattr(session, f) for f in fields}
    assert sessions.get("cd" * 32) is None


def test_idle_and_absolute_expiry_are_honoured(sessions: SessionRepository) -> None:
    identity, now = service(sessions), datetime.now(UTC)
    token = identity.login(signed(), now).session_token
    later = now + timedelta(minutes=10)
    assert identity.authenticate(token, later).patient_id  # touched: idle counts from here
    assert identity.authenticate(token, later + timedelta(minutes=14)).patient_id
    with pytest.raises(NotAuthenticated, match="session_expired"):
        identity.authenticate(token, later + timedelta(minutes=14 + 16))
    token = identity.login(signed(), now).session_token
    for minutes in range(10, 60, 10):
        identity.authenticate(token, now + timedelta(minutes=minutes))
    with pytest.raises(NotAuthenticated, match="session_expired"):
        identity.authenticate(token, now + timedelta(minutes=61))


def test_logout_ends_the_session_at_once(sessions: SessionRepository) -> None:
    identity, now = service(sessions), datetime.now(UTC)
    token = identity.login(signed(), now).session_token
    identity.logout(identity.authenticate(token, now), now)
    with pytest.raises(NotAuthenticated):
        identity.authenticate(token, now)


def test_touching_or_revoking_an_unknown_session_creates_nothing(sessions: SessionRepository) -> None:
    now = datetime.now(UTC)
    unknown = "ef" * 32
    sessions.touch(unknown, now)
    sessions.revoke(unknown, now)
    assert sessions.get(unknown) is None


# --- Redis only ---------------------------------------------------------------------------------


def test_redis_keys_expire_when_neither_session_nor_assertion_lives(emulator_env: dict[str, str]) -> None:
    store = redis_store(emulator_env["EREG_REDIS_URL"])
    result = service(store).login(signed(), datetime.now(UTC))
    ttl_ms = store.client.pttl(f"{store.prefix}sess:{result.session.session_id}")
    assert timedelta(minutes=59) < timedelta(milliseconds=int(ttl_ms)) <= timedelta(hours=1)  # type: ignore[arg-type]


def test_a_guard_that_lost_its_data_still_refuses_a_used_assertion(emulator_env: dict[str, str]) -> None:
    firestore = build_container(isolated_settings()).firestore.client
    prefix = f"s{uuid.uuid4().hex[:8]}:"
    store = redis_store(emulator_env["EREG_REDIS_URL"], prefix, firestore)
    identity, now = service(store), datetime.now(UTC)
    used = signed()
    identity.login(used, now)
    store.client.delete(*store.client.keys(f"{prefix}*"))  # Redis restarted empty (or failed over)

    with pytest.raises(LoginRefused, match="assertion_replayed"):
        identity.login(used, now)
    assert identity.login(signed(issued=int(time.time()) + 2), now).session_token  # issued after the loss


def test_without_redis_nobody_logs_in_and_no_session_is_accepted(
    emulator_env: dict[str, str], private_redis: LocalStack
) -> None:
    store = redis_store(private_redis.env(["redis"])["EREG_REDIS_URL"])
    identity, now = service(store), datetime.now(UTC)
    token = identity.login(signed(), now).session_token
    private_redis.stop()
    for call in (lambda: identity.login(signed(), now), lambda: identity.authenticate(token, now)):
        with pytest.raises(Refused) as refusal:
            call()
        assert (refusal.value.kind, refusal.value.code) == (RefusalKind.UNAVAILABLE, "sessions_unavailable")


def test_the_firestore_emulator_applies_no_index_settings_so_the_local_store_checks_them(
    emulator_env: dict[str, str],
) -> None:
    """What the emulator does not do: FirestoreAdmin (index and TTL settings) answers 501, so the
    exemptions of infra/firestore.yaml cannot be applied locally; the local store checks them instead."""
    import grpc
    from google.api_core import exceptions as gexc
    from google.cloud.firestore_admin_v1 import FirestoreAdminClient
    from google.cloud.firestore_admin_v1.services.firestore_admin.transports.grpc import FirestoreAdminGrpcTransport

    channel = grpc.insecure_channel(emulator_env["FIRESTORE_EMULATOR_HOST"])
    admin = FirestoreAdminClient(transport=FirestoreAdminGrpcTransport(channel=channel))
    database = f"projects/{isolated_settings().project_id}/databases/(default)"
    field = f"{database}/collectionGroups/{SESSIONS}/fields/created_at"
    with pytest.raises(gexc.MethodNotImplemented):
        admin.get_field(name=field)
    store = build_container(isolated_settings(session_store="firestore")).sessions
    assert isinstance(store, SessionStore)
    with pytest.raises(UndeclaredIndexedTimestamp):
        store._checked({"signed_out_at": datetime.now(UTC)})  # a timestamp infra/firestore.yaml does not exempt
