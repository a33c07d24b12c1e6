"""The live availability projection on a real redis-server and the Spanner emulator.

The contract cases run on the in-memory fake and on Redis alike; then the projection against
Spanner: a rebuild equals what Spanner holds, a booking's event repairs a lost fast path, and search
falls back to Spanner when Redis stops.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from google.cloud.spanner_v1.keyset import KeySet

from emulators.seed import demo_programme
from emulators.stack import LocalStack
from emulators.waiting import poll_until
from shared.adapters.redis_availability import RedisAvailability
from shared.adapters.redis_slot_changes import RedisSlotChanges
from shared.adapters.spanner_availability import SpannerSlotStates
from shared.adapters.spanner_reads import SpannerFreeSlots
from shared.bootstrap import Container, build_container
from shared.domain.availability import Level, SlotQuery, SlotState
from shared.domain.booking import Channel, Slot
from shared.services.availability import Availability, AvailabilityProjection, ProjectedFreeSlots
from shared.services.search import SearchFilters
from shared.services.visits import BookingRequest
from tests.integration.conftest import NOW, add_patient, add_point, at, visit_service
from tests.unit.fakes import FakeProjection

T0 = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
WAW, KRK = ("14", "1465", "1465011"), ("12", "1261", "1261011")
A, B = sorted(str(uuid.uuid4()) for _ in range(2))


def redis_projection(url: str) -> RedisAvailability:
    return RedisAvailability(redis.Redis.from_url(url, socket_timeout=2), f"t{uuid.uuid4().hex[:8]}:")


@pytest.fixture(params=["fake", "redis"])
def projection(request: pytest.FixtureRequest) -> AvailabilityProjection:
    if request.param == "fake":
        return FakeProjection()
    env: dict[str, str] = request.getfixturevalue("emulator_env")
    return redis_projection(env["EREG_REDIS_URL"])


def state(point: str, minutes: int, booked: int, version: int, capacity: int = 3, vaccine: str = "comirnaty",
          region: tuple[str, str, str] = WAW) -> SlotState:  # fmt: skip
    return SlotState(Slot(point, T0 + timedelta(minutes=minutes), vaccine, capacity, booked, *region), version)


def free(
    projection: AvailabilityProjection, level: str = "county", region: str = "1465", **kwargs: Any
) -> list[tuple[timedelta, str, int]]:
    query = SlotQuery(Level(level), region, "comirnaty", T0, T0 + timedelta(days=1), 10, **kwargs)
    found = projection.free_slots(query)
    return [(s.starts_at - T0, s.point_id, s.free_places) for s in found]


def test_newer_wins_whatever_order_and_however_often_changes_arrive(projection: AvailabilityProjection) -> None:
    changes = [state(A, 0, booked, version) for version, booked in ((1, 0), (2, 1), (3, 2), (4, 1))]
    for order in ([3, 0, 2, 1], [0, 1, 2, 3, 3, 2]):  # reordered, then redelivered
        for index in order:
            projection.apply([changes[index]])
    assert free(projection) == [(timedelta(0), A, 2)]
    assert projection.states([A]) == {changes[3].slot.key: (3, 1, 4)}


def test_full_slots_leave_every_level_and_come_back(projection: AvailabilityProjection) -> None:
    projection.apply([state(A, 0, booked=3, version=1), state(B, 0, booked=1, version=1)])
    assert free(projection) == [(timedelta(0), B, 2)]
    projection.apply([state(A, 0, booked=2, version=2)])
    for level, region in (("voivodeship", "14"), ("county", "1465"), ("municipality", "1465011")):
        assert free(projection, level, region) == [(timedelta(0), A, 1), (timedelta(0), B, 2)]
    assert free(projection, "point", A) == [(timedelta(0), A, 1)]
    assert free(projection, "voivodeship", "12") == []


def test_pages_continue_after_a_time_and_point(projection: AvailabilityProjection) -> None:
    projection.apply([state(A, 0, 0, 1), state(B, 0, 0, 1), state(A, 30, 0, 1), state(B, 60, 0, 1)])
    after = (T0, A)
    assert free(projection, after=after) == [(timedelta(0), B, 3), (timedelta(minutes=30), A, 3),
                                             (timedelta(minutes=60), B, 3)]  # fmt: skip
    assert free(projection, after=after, inclusive_after=True)[0] == (timedelta(0), A, 3)
    assert [s.starts_at - T0 for s in projection.point_slots(A, T0, T0 + timedelta(minutes=45))] == [
        timedelta(0), timedelta(minutes=30)
    ]  # fmt: skip


def test_a_removed_slot_leaves_every_level_and_stays_out_until_a_newer_state(
    projection: AvailabilityProjection,
) -> None:
    projection.apply([state(A, 0, booked=1, version=5), state(B, 0, booked=0, version=5)])
    assert projection.remove([state(A, 0, 0, 0).slot.key, state(A, 90, 0, 0).slot.key]) == 1  # the second: unknown
    for level, region in (("voivodeship", "14"), ("county", "1465"), ("municipality", "1465011"), ("point", A)):
        assert [p for _, p, _ in free(projection, level, region)] == ([B] if level != "point" else [])
    assert projection.remove([state(A, 0, 0, 0).slot.key]) == 0  # removed already
    projection.apply([state(A, 0, booked=0, version=4)])  # older: stays out
    assert [p for _, p, _ in free(projection)] == [B]
    projection.apply([state(A, 0, booked=0, version=6)])  # created again
    assert [p for _, p, _ in free(projection)] == [A, B]


def test_a_removal_at_a_version_outlasts_older_states_and_yields_to_a_newer_one(
    projection: AvailabilityProjection,
) -> None:
    """A suspension's (or a deletion's) removal carries its commit: a change committed before it and
    arriving after it is older, so it stays out; a state held newer than the removal stays."""
    projection.apply([state(A, 0, booked=1, version=5), state(B, 0, booked=0, version=5)])
    here, unknown = state(A, 0, 0, 0).slot.key, state(A, 90, 0, 0).slot.key
    assert projection.remove([here, unknown], [8, 8]) == 1  # the unknown one: held as a tombstone at 8
    assert projection.states([A]) == {here: (0, 0, 8), unknown: (0, 0, 8)}
    projection.apply([state(A, 0, booked=0, version=7), state(A, 90, booked=0, version=6)])  # late, older
    assert [p for _, p, _ in free(projection, "point", A)] == []
    assert projection.remove([state(B, 0, 0, 0).slot.key], [4]) == 0  # B is held at 5: newer, it stays
    assert [p for _, p, _ in free(projection)] == [B]
    projection.apply([state(A, 0, booked=0, version=9)])  # the point open again, a later commit
    assert [p for _, p, _ in free(projection)] == [A, B]
    assert projection.states([A])[here] == (3, 0, 9)


def test_ready_flag_and_clear(projection: AvailabilityProjection) -> None:
    assert not projection.is_ready()
    projection.apply([state(A, 0, 0, 1)])
    projection.mark_ready(True)
    assert projection.is_ready()
    projection.clear()
    assert free(projection) == [] and projection.states([A]) == {}


def test_a_rebuild_equals_what_spanner_holds_and_a_reconcile_repairs_a_lost_change(
    backends: Container, emulator_env: dict[str, str]
) -> None:
    here = add_point(backends, [(at(2, 9), "comirnaty", 3), (at(2, 10), "jcovden", 2), (at(25, 9), "comirnaty", 3)])
    there = add_point(backends, [(at(3, 9), "jcovden", 1)])
    service = visit_service(backends)
    service.book(add_patient(backends), BookingRequest(here, at(2, 9), "comirnaty", None), Channel.WEB, at(0, 0), "k")
    projection = redis_projection(emulator_env["EREG_REDIS_URL"])
    truth = SpannerSlotStates(backends.spanner)
    availability = Availability(projection, truth, parallel=2)

    rebuilt = availability.rebuild()

    expected = {
        s.slot.key: (s.slot.capacity, s.slot.booked, s.version) for s in truth.of_point(here) + truth.of_point(there)
    }
    assert projection.states([here, there]) == expected
    assert (rebuilt.points, rebuilt.slots, rebuilt.repaired) == (2, 4, 4) and projection.is_ready()
    assert {v[1] for k, v in expected.items() if k[0] == here and k[2] == "comirnaty"} == {1}  # both doses
    # A booking whose fast path never reached Redis: the reconcile finds and repairs just that.
    service.book(add_patient(backends), BookingRequest(there, at(3, 9), "jcovden", None), Channel.WEB, at(0, 0), "k2")
    repaired = availability.reconcile()
    assert repaired.repaired == 1
    assert projection.free_slots(SlotQuery(Level.POINT, there, "jcovden", at(0, 0), at(9, 0), 10)) == []


def test_a_changed_slot_is_refreshed_from_spanner_with_its_commit_time(
    backends: Container, emulator_env: dict[str, str]
) -> None:
    here = add_point(backends, [(at(2, 9), "jcovden", 2)])
    projection = redis_projection(emulator_env["EREG_REDIS_URL"])
    availability = Availability(projection, SpannerSlotStates(backends.spanner))
    availability.rebuild()
    [before] = projection.free_slots(SlotQuery(Level.POINT, here, "jcovden", at(0, 0), at(9, 0), 10))
    visit_service(backends).book(
        add_patient(backends), BookingRequest(here, at(2, 9), "jcovden", None), Channel.WEB, at(0, 0), "k"
    )
    assert availability.refresh([(here, at(2, 9), "jcovden")]) == 1
    assert availability.refresh([(here, at(2, 9), "jcovden")]) == 0  # the same state again: not newer
    [after] = projection.free_slots(SlotQuery(Level.POINT, here, "jcovden", at(0, 0), at(9, 0), 10))
    assert (before.free_places, after.free_places) == (2, 1)
    [(_, _, version)] = projection.states([here]).values()
    assert version > 0


def test_search_reads_spanner_while_redis_is_down_and_the_projection_again_once_it_is_back(
    backends: Container, private_redis: LocalStack
) -> None:
    here = add_point(backends, [(at(2, 9), "jcovden", 2)])
    url = private_redis.env(["redis"])["EREG_REDIS_URL"]
    client = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
    projection = RedisAvailability(client, "p:")
    Availability(projection, SpannerSlotStates(backends.spanner)).rebuild()
    reads = ProjectedFreeSlots(projection, SpannerFreeSlots(backends.spanner, 0), recheck_s=0)

    def free_places() -> list[int]:
        query = SlotQuery(Level.MUNICIPALITY, "1465011", "jcovden", at(0, 0), at(9, 0), 5)
        return [s.free_places for s in reads.free_slots(query)]

    projection.apply([SlotState(Slot(here, at(2, 9), "jcovden", 2, 1, *WAW), 2**60)])  # marks the projection's copy
    assert free_places() == [1]  # from the projection
    private_redis.stop()
    assert free_places() == [2]  # from Spanner: search still answers
    private_redis.start(["redis"])  # back, empty: not ready, so still Spanner
    assert free_places() == [2]


def test_a_booking_and_its_cancellation_show_in_search_at_once(backends: Container) -> None:
    """Through the composition root: search reads the projection, fed by the booking's fast path.

    Spanner's search reads are five seconds stale here (the default) and cached for three, so a change
    seen at once can only have come through the projection, uncached."""
    backends.firestore.publish_programme(demo_programme(NOW))
    here = add_point(backends, [(at(2, 9), "jcovden", 2)])
    patient = add_patient(backends)
    container = build_container(backends.settings)
    assert container.availability is not None and container.settings.spanner_search_staleness_s >= 5
    assert container.settings.search_cache_s > 0  # Spanner's reads are cached; the projection's are not
    container.availability.rebuild()
    wanted = SearchFilters(None, None, "1465011", None, "jcovden", at(0, 0), at(5, 0), 10)

    def free_places() -> list[int]:
        return [s.free_places for s, _ in container.search.search(wanted, None, datetime.now(UTC)).slots]

    assert free_places() == [2]
    request = BookingRequest(here, at(2, 9), "jcovden", None)
    booked = container.visits.book(patient, request, Channel.WEB, datetime.now(UTC), "k", "h")
    assert free_places() == [1]
    container.visits.cancel(booked.visits[0].visit_id, patient, datetime.now(UTC))
    assert free_places() == [2]


def test_a_slot_deleted_in_spanner_leaves_the_projection_when_its_change_arrives(
    backends: Container, emulator_env: dict[str, str]
) -> None:
    here = add_point(backends, [(at(2, 9), "jcovden", 2), (at(2, 10), "jcovden", 2)])
    projection = redis_projection(emulator_env["EREG_REDIS_URL"])
    availability = Availability(projection, SpannerSlotStates(backends.spanner))
    availability.rebuild()
    with backends.spanner.batch() as batch:  # as a schedule PUT removes an unbooked slot
        batch.delete("Slots", KeySet(keys=[[here, at(2, 9), "jcovden"]]))
    assert availability.refresh([(here, at(2, 9), "jcovden")]) == 1
    found = projection.free_slots(SlotQuery(Level.POINT, here, "jcovden", at(0, 0), at(9, 0), 10))
    assert [s.starts_at for s in found] == [at(2, 10)]
    assert availability.reconcile().repaired == 0  # nothing left to repair


def test_a_search_reads_every_vaccine_in_one_round_trip(emulator_env: dict[str, str]) -> None:
    client, projection = _redis(emulator_env)
    projection.apply([state(A, 0, 1, 1), state(B, 30, 0, 1, vaccine="spikevax"), state(A, 60, 3, 1)])
    ranges = [SlotQuery(Level.COUNTY, "1465", v, T0, T0 + timedelta(days=1), 10) for v in ("comirnaty", "spikevax")]
    calls_before = _calls(client)
    found = [projection.free_ranges(ranges) for _ in range(3)]
    calls_after = _calls(client)
    # One pipeline a search: both ranges, nothing else (the rate limit of search is the process's own).
    assert {name: calls_after[name] - calls_before[name] for name in calls_after} == {
        "evalsha": 0, "zrangebylex": 6, "ping": 0,
    }  # fmt: skip
    assert [[(s.starts_at - T0, s.point_id, s.free_places) for s in r] for r in found[0]] == [
        [(timedelta(0), A, 2)],
        [(timedelta(minutes=30), B, 3)],
    ]
    assert found[2] == found[0]


def _calls(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    names = ("evalsha", "zrangebylex", "ping")
    return {name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in names}


def _heard(projection: AvailabilityProjection) -> str:
    """The projection's version once it can tell (a subscription is confirmed a moment after the first ask)."""
    version = poll_until(lambda: projection.version("voivodeship:14"), lambda v: v is not None, timeout_s=5)
    assert version is not None, "the change subscription was not confirmed"
    return version


def test_every_change_gives_its_voivodeship_and_point_a_new_version_and_a_clear_changes_every_one(
    projection: AvailabilityProjection,
) -> None:
    never_changed = _heard(projection)
    projection.apply([state(A, 0, 0, 1), state(B, 0, 0, 1, region=KRK)])
    waw, krk, point_a = (projection.version(s) for s in ("voivodeship:14", "voivodeship:12", f"point:{A}"))
    assert None not in (waw, krk, point_a) and waw != never_changed
    projection.apply([state(A, 0, 0, 1)])  # redelivered: applies nothing, changes no version
    assert projection.version("voivodeship:14") == waw
    projection.apply([state(A, 0, 1, 2)])  # booked: Warsaw and point A change, Kraków does not
    assert projection.version("voivodeship:14") not in (None, waw)
    assert projection.version(f"point:{A}") not in (None, point_a)
    assert projection.version("voivodeship:12") == krk
    changed = projection.version("voivodeship:14")
    projection.remove([state(A, 0, 1, 2).slot.key])
    assert projection.version("voivodeship:14") not in (None, changed)
    seen = {projection.version(s) for s in ("voivodeship:14", "voivodeship:12", "voivodeship:02")}
    projection.clear()
    after_clear = {projection.version(s) for s in ("voivodeship:14", "voivodeship:12", "voivodeship:02")}
    assert None not in after_clear and not seen & after_clear


def test_another_process_s_change_is_heard_and_a_version_costs_no_round_trip(emulator_env: dict[str, str]) -> None:
    client, here = _redis(emulator_env)
    elsewhere = RedisAvailability(redis.Redis.from_url(emulator_env["EREG_REDIS_URL"], socket_timeout=2), here.prefix)
    before, krakow = _heard(here), here.version("voivodeship:12")
    calls = _calls(client)
    assert {here.version("voivodeship:14") for _ in range(200)} == {before}
    assert _calls(client)["ping"] - calls["ping"] <= 1  # at most the liveness ping, every half a second
    elsewhere.apply([state(A, 0, 0, 1)])  # another process's booking: heard as it is published
    assert poll_until(lambda: here.version("voivodeship:14"), lambda v: v != before, timeout_s=5) not in (None, before)
    assert here.version("voivodeship:12") == krakow


def test_a_batch_of_many_points_is_announced_as_every_scope_so_no_message_is_long(
    emulator_env: dict[str, str],
) -> None:
    client, projection = _redis(emulator_env)
    _heard(projection)
    elsewhere = projection.version("voivodeship:02")
    listener = client.pubsub()
    listener.subscribe(f"{projection.prefix}av:changed")
    projection.apply([state(str(uuid.uuid4()), 0, 0, 1) for _ in range(40)])  # 40 points, one voivodeship
    assert projection.version("voivodeship:02") == elsewhere
    projection.apply([state(str(uuid.uuid4()), 0, 0, 1) for _ in range(70)])  # a rebuild's batch, say
    assert projection.version("voivodeship:02") != elsewhere  # every scope: announced as "*"
    published = [m["data"] for m in iter(lambda: listener.get_message(timeout=1), None) if m["type"] == "message"]
    assert [len(m.split()) for m in published] == [42, 2] and published[1].endswith(b" *")


def test_a_lost_subscription_tells_nothing_until_it_is_back_and_then_under_a_new_generation(
    emulator_env: dict[str, str],
) -> None:
    name = f"t{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(emulator_env["EREG_REDIS_URL"], socket_timeout=2, client_name=name)
    projection = RedisAvailability(client, f"{name}:", changes=RedisSlotChanges(client, f"{name}:", retry_after_s=0.5))
    before = _heard(projection)
    for listener in client.client_list(_type="pubsub"):
        if listener["name"] == name:
            client.client_kill_filter(_id=listener["id"])
    # The client reconnects and subscribes again by itself, or the next ask does after a pause: changes
    # made meanwhile were not heard, so nothing kept before holds (a new generation), and nothing is
    # told until the new subscription is confirmed.
    after = poll_until(lambda: projection.version("voivodeship:14"), lambda v: v not in (None, before), timeout_s=5)
    assert after is not None and after.split(".")[0] != before.split(".")[0]


def _redis(emulator_env: dict[str, str]) -> tuple[redis.Redis, RedisAvailability]:
    client = redis.Redis.from_url(emulator_env["EREG_REDIS_URL"], socket_timeout=2)
    return client, RedisAvailability(client, f"t{uuid.uuid4().hex[:8]}:")
