"""Composition root: builds every client once per process and hands adapters to the services.

Cloud Functions reuses a process for many requests, so the clients (gRPC channels, HTTP pools)
live as long as the process. Nothing is built at import time: the first request builds them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

if TYPE_CHECKING:
    import redis
    from google.cloud import firestore as firestore_types
    from redis import Redis as RedisClient

    from shared.adapters.redis_availability import RedisAvailability
    from shared.entrypoints.auth import Gate, Throttle

from shared.adapters.bigquery_reports import BigQueryReports
from shared.adapters.bigquery_sink import ReportingWarehouse
from shared.adapters.firestore_db import (
    SESSIONS,
    AuditLog,
    FirestoreDocuments,
    FirestoreSmsLog,
    FirestoreStaffProfiles,
    SessionStore,
)
from shared.adapters.firestore_indexes import declared
from shared.adapters.firestore_jobs import FirestoreReferralJobs
from shared.adapters.firestore_night_jobs import FirestoreCheckpoints
from shared.adapters.firestore_programme import FirestoreProgrammeVersions
from shared.adapters.firestore_registry import FirestoreStaffStore
from shared.adapters.firestore_sms_dialogue import FirestoreSmsConversations
from shared.adapters.jwks import JwksKeySource
from shared.adapters.pubsub_bus import MessageBus, publisher_client
from shared.adapters.sms_provider import HttpSmsProvider
from shared.adapters.spanner_availability import SpannerSlotStates
from shared.adapters.spanner_db import SpannerDatabase, open_database
from shared.adapters.spanner_outbox import SpannerOutbox
from shared.adapters.spanner_patients import PatientRepository
from shared.adapters.spanner_points import SpannerPointDirectory
from shared.adapters.spanner_reads import SpannerFreeSlots, SpannerVisitReader
from shared.adapters.spanner_referrals import SpannerCohortReferrals, SpannerInterest
from shared.adapters.spanner_registry import SpannerPointsStore
from shared.adapters.spanner_transaction import SpannerTransactions
from shared.config import SecretNotConfigured, Settings, get_settings
from shared.domain.identity import SessionPolicy, staff_id_for
from shared.domain.local_time import WARSAW
from shared.domain.programme import Programme
from shared.domain.ratelimit import Limit, RateLimiter
from shared.logs import configure_logging
from shared.services.availability import Availability, ProjectedFreeSlots
from shared.services.certificates import CertificateIssuer, DccSigner
from shared.services.dose_candidates import NextDoseCandidates
from shared.services.ehealth import ImmunizationSender
from shared.services.health import HealthReport, check_backends
from shared.services.hotline import Hotline
from shared.services.identity import AssertionVerifier, IdentityService, KeySource, SessionRepository
from shared.services.interest import InterestService
from shared.services.night_jobs import NightJobs
from shared.services.no_shows import NightlyNoShows
from shared.services.notifications import Notifier
from shared.services.outbox import OutboxRelay
from shared.services.points import PointService
from shared.services.post_commit import PostCommitHandOff
from shared.services.programme_admin import ProgrammeAdmin
from shared.services.programme_tick import ProgrammeTick
from shared.services.rate_limits import RateLimits
from shared.services.referrals import ReferralIssuer
from shared.services.registry import PointRegistry, StaffRegistry
from shared.services.reminders import Reminders
from shared.services.reporting_feed import EventStreamer
from shared.services.reports import Reports
from shared.services.row_batcher import BatchingWarehouse
from shared.services.search import CachedFreeSlots, FreeSlotReader, SlotSearch
from shared.services.search_answers import SearchAnswers
from shared.services.sms import SmsSender
from shared.services.sms_dialogue import SmsDialogue
from shared.services.visits import VisitService
from shared.services.walkins import WalkIns


def _point_clients_at_emulators(settings: Settings) -> None:
    # The client libraries switch to their emulator (insecure channel, no credentials) only
    # through these variables, so settings win over whatever the environment had.
    for variable, host in (
        ("SPANNER_EMULATOR_HOST", settings.spanner_emulator_host),
        ("FIRESTORE_EMULATOR_HOST", settings.firestore_emulator_host),
        ("PUBSUB_EMULATOR_HOST", settings.pubsub_emulator_host),
    ):
        if host:
            os.environ[variable] = host
    if settings.spanner_emulator_host:
        # With multiplexed sessions for read-write transactions, concurrent transactions on the
        # emulator fail with FailedPrecondition.
        os.environ["GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_FOR_RW"] = "false"


_MISSING = object()
# Report results are kept this long per process (dashboards poll; figures must stay within 10 s of events).
REPORT_CACHE_S = 3.0


@dataclass
class Container:
    settings: Settings
    # Set by the local host, which serves the development identity provider's keys itself.
    dev_idp_jwks: Callable[[], dict[str, Any]] | None = None

    @cached_property
    def spanner(self) -> SpannerDatabase:
        from google.cloud import spanner

        client = spanner.Client(project=self.settings.project_id)
        database = open_database(client, self.settings.spanner_instance, self.settings.spanner_database)
        return SpannerDatabase(database, self.settings.spanner_max_rw_transactions, self.settings.spanner_rw_lock_file)

    @cached_property
    def firestore(self) -> FirestoreDocuments:
        from google.cloud import firestore

        client = firestore.Client(project=self.settings.project_id, database=self.settings.firestore_database)
        return FirestoreDocuments(client)

    def _firestore_client(self, database: str) -> firestore_types.Client:
        from google.cloud import firestore

        return firestore.Client(project=self.settings.project_id, database=database)

    @cached_property
    def firestore_sessions(self) -> firestore_types.Client:
        """The sessions database: sessions, staff profiles, the session guard (nothing else)."""
        return self._firestore_client(self.settings.firestore_database_of("sessions"))

    @cached_property
    def firestore_audit(self) -> firestore_types.Client:
        """The audit database: entries are created, never changed (functions may only create)."""
        return self._firestore_client(self.settings.firestore_database_of("audit"))

    @cached_property
    def bus(self) -> MessageBus:
        return MessageBus(publisher_client(self.settings), self.settings)

    @cached_property
    def relay(self) -> OutboxRelay:
        return OutboxRelay(SpannerOutbox(self.spanner), self.bus)

    @cached_property
    def warehouse(self) -> ReportingWarehouse:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        if self.settings.bigquery_emulator_host:
            client = bigquery.Client(
                project=self.settings.project_id,
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                client_options=ClientOptions(api_endpoint=f"http://{self.settings.bigquery_emulator_host}"),
            )
        else:
            client = bigquery.Client(project=self.settings.project_id)
        return ReportingWarehouse(client, self.settings.bigquery_dataset, self.settings.bigquery_max_bytes_billed)

    @cached_property
    def redis(self) -> redis.Redis | None:
        """The Redis client of the process (None where no Redis is configured).

        Short timeouts and no retries: whatever uses Redis has a fallback, and a slow answer is
        worth less than that fallback.
        """
        return self._redis_client(self.settings.redis_timeout_s)

    @cached_property
    def redis_for_sessions(self) -> RedisClient | None:
        """Sessions' own client: they have no fallback, so they wait longer before a 503."""
        return self._redis_client(self.settings.redis_session_timeout_s)

    def _redis_client(self, timeout_s: float) -> RedisClient | None:
        if not self.settings.redis_url:
            return None
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis.from_url(
            self.settings.redis_url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            health_check_interval=30,
            max_connections=64,
        )

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        return RateLimiter()

    @cached_property
    def rate_limits(self) -> RateLimits:
        from shared.adapters.redis_buckets import RedisTokenBuckets

        client = self.redis
        shared = RedisTokenBuckets(client, self.settings.redis_key_prefix) if client is not None else None
        return RateLimits(shared, self.rate_limiter, per_process=self.settings.rate_limits_per_process)

    @cached_property
    def throttle(self) -> Throttle:
        """The HTTP functions' rate limits by address and by person."""
        from shared.entrypoints.auth import Throttle

        return Throttle(self.rate_limits, self.settings.rate_limits, self.settings.trusted_proxy_hops)

    @cached_property
    def gate(self) -> Gate:
        """The HTTP functions' session, role and rate-limit checks (``guarded`` handlers)."""
        from shared.entrypoints.auth import Gate

        return Gate(self.identity, self.throttle)

    @cached_property
    def programme_cache(self) -> TTLCache[str, Programme | None]:
        return TTLCache(maxsize=1, ttl=self.settings.programme_cache_s)

    def programme(self) -> Programme | None:
        """The programme configuration, re-read at most every ``programme_cache_s`` per process, so an
        admin's change is live in every function within that time, without a deploy."""
        cache = self.programme_cache
        programme = cache.get("current", _MISSING)
        if programme is _MISSING:
            programme = self.firestore.current_programme()
            cache["current"] = programme
        return programme  # type: ignore[return-value]

    def programme_changed(self) -> None:
        """This process changed the programme: read it afresh on next use."""
        self.programme_cache.clear()

    @cached_property
    def programme_admin(self) -> ProgrammeAdmin:
        return ProgrammeAdmin(
            FirestoreProgrammeVersions(self.firestore.client, self.audit), on_change=self.programme_changed
        )

    @cached_property
    def referral_issuer(self) -> ReferralIssuer:
        return ReferralIssuer(
            FirestoreReferralJobs(self.firestore.client),
            SpannerCohortReferrals(self.spanner, self.settings.referral_write_batch),
            self.bus,
            self.programme,
            prefix_length=self.settings.referral_chunk_prefix_length,
        )

    @cached_property
    def interest(self) -> InterestService:
        return InterestService(SpannerInterest(self.spanner), self.bus, self.programme, self.settings.sms_transliterate)

    @cached_property
    def programme_tick(self) -> ProgrammeTick:
        return ProgrammeTick(self.programme, self.referral_issuer, self.interest, self.settings.interest_sms_per_tick)

    @cached_property
    def identity(self) -> IdentityService:
        settings = self.settings
        issuers: dict[str, KeySource] = {}
        if settings.login_node_jwks_url:
            issuers[settings.login_node_issuer] = JwksKeySource(settings.login_node_jwks_url)
        if settings.is_local:
            # The development identity provider exists only on this machine, whatever else is configured.
            issuers[settings.dev_idp_issuer] = JwksKeySource(settings.dev_idp_jwks_url, loader=self.dev_idp_jwks)
        return IdentityService(
            verifier=AssertionVerifier(
                issuers,
                settings.assertion_audience,
                settings.assertion_leeway_s,
                providers=frozenset(p.strip() for p in settings.identity_providers.split(",") if p.strip()),
            ),
            sessions=self.sessions,
            patients=self.patients,
            programme=self.programme,
            patient_policy=SessionPolicy(
                absolute=timedelta(minutes=settings.patient_session_absolute_min),
                idle=timedelta(minutes=settings.patient_session_idle_min),
            ),
            staff_policy=SessionPolicy(
                absolute=timedelta(minutes=settings.staff_session_absolute_min),
                idle=timedelta(minutes=settings.staff_session_idle_min),
            ),
            staff_acr=frozenset(settings.staff_accepted_acr),
            staff_id_of=lambda pesel: staff_id_for(pesel, settings.secret("audit_hash_key")),
            registry=self.staff_store,
            # Only the development identity provider's point claims are honoured, and only locally.
            honour_claimed_points=settings.is_local,
        )

    @cached_property
    def staff_store(self) -> FirestoreStaffStore:
        """Who works where (the registry the auth guard reads on every staff request)."""
        return FirestoreStaffStore(self.firestore.client)

    @cached_property
    def points_store(self) -> SpannerPointsStore:
        return SpannerPointsStore(self.spanner)

    @cached_property
    def point_registry(self) -> PointRegistry:
        return PointRegistry(self.points_store, self.programme, self.availability, on_change=self._point_changed)

    @cached_property
    def staff_registry(self) -> StaffRegistry:
        return StaffRegistry(
            self.staff_store, self.points_store, self._names_of, self.settings.secret("audit_hash_key")
        )

    def _names_of(self, pesel: str, staff_id: str) -> tuple[str, str] | None:
        """A person's names for a staff list: from the patient registry, else from their last staff login."""
        patient, _ = self.patients.lookup(pesel)
        if patient is not None:
            return patient.given_name, patient.family_name
        profile = self.firestore_sessions.collection("staff").document(staff_id).get()  # where logins write it
        data = profile.to_dict() if profile.exists else None
        return (str(data["given_name"]), str(data["family_name"])) if data and "given_name" in data else None

    @cached_property
    def sessions(self) -> SessionRepository:
        """Sessions and the one-time-use guard: in Redis where configured, else in Firestore."""
        client = self.redis_for_sessions
        if self.settings.session_store == "firestore" or client is None:
            # Locally every session document is checked against infra/firestore.yaml's index exemptions,
            # which the emulator cannot apply (shared/adapters/firestore_indexes.py).
            indexes = declared(SESSIONS) if self.settings.is_local else None
            return SessionStore(self.firestore_sessions, indexes)
        from shared.adapters.redis_sessions import RedisSessionStore

        profiles = FirestoreStaffProfiles(self.firestore_sessions)
        return RedisSessionStore(client, self.settings.redis_key_prefix, profiles.guard_used_before, profiles.save)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.firestore_audit)

    @cached_property
    def patients(self) -> PatientRepository:
        return PatientRepository(self.spanner)

    @cached_property
    def points(self) -> SpannerPointDirectory:
        return SpannerPointDirectory(self.spanner)

    @cached_property
    def visit_reader(self) -> SpannerVisitReader:
        return SpannerVisitReader(self.spanner)

    @cached_property
    def visits(self) -> VisitService:
        return VisitService(
            self.transactions,
            self.visit_reader,
            self.patients,
            self.points,
            self.post_commit,
            self.programme,
            self.availability,
            NextDoseCandidates(self.free_slot_reads, self.points),
        )

    @cached_property
    def point_service(self) -> PointService:
        return PointService(
            self.transactions,
            self.programme,
            self.post_commit,
            self.availability,
            identity_checks_per_day=self.settings.identity_checks_per_day,
        )

    @cached_property
    def transactions(self) -> SpannerTransactions:
        return SpannerTransactions(self.spanner)

    @cached_property
    def hotline(self) -> Hotline:
        return Hotline(
            self.transactions, self.points, self.programme, self.bus, self.rate_limits, self.settings.sms_transliterate
        )

    @cached_property
    def walk_ins(self) -> WalkIns:
        return WalkIns(
            self.transactions,
            self.patients,
            self.visits,
            self.visit_reader,
            self.programme,
        )

    @cached_property
    def post_commit(self) -> PostCommitHandOff:
        """What a booking, move or cancel publishes through: never waits long on Pub/Sub."""
        return PostCommitHandOff(self.relay, wait_s=self.settings.post_commit_publish_wait_s)

    @cached_property
    def free_slot_reads(self) -> FreeSlotReader:
        """Free slots from the projection while it is ready, read live (a booking or cancel shows in the
        next search); else a stale snapshot of Spanner's indexes, its range reads cached briefly per
        process. For search, and for the booking's next-dose candidates, which the transaction confirms
        by key."""
        spanner = CachedFreeSlots(
            SpannerFreeSlots(self.spanner, self.settings.spanner_search_staleness_s), self.settings.search_cache_s
        )
        projection = self.projection
        return spanner if projection is None else ProjectedFreeSlots(projection, spanner)

    @cached_property
    def search(self) -> SlotSearch:
        return SlotSearch(self.free_slot_reads, self.points, self.programme)

    def _point_changed(self, point_id: str) -> None:
        """This process changed a point: its name and address afresh in the next search here."""
        self.points.forget(point_id)
        self.search_answers.clear()

    @cached_property
    def search_answers(self) -> SearchAnswers:
        """Rendered search answers kept per query while the projection's version of their slots holds."""
        reads = self.free_slot_reads
        return SearchAnswers(reads if isinstance(reads, ProjectedFreeSlots) else None)

    @cached_property
    def projection(self) -> RedisAvailability | None:
        """The live availability projection search reads (None where no Redis is configured)."""
        from shared.adapters.redis_availability import RedisAvailability

        client = self.redis
        if client is None:
            return None
        return RedisAvailability(client, self.settings.redis_key_prefix)

    @cached_property
    def availability(self) -> Availability | None:
        """Feeds, reconciles and rebuilds the projection from Spanner (None without Redis)."""
        projection = self.projection
        if projection is None:
            return None
        return Availability(projection, SpannerSlotStates(self.spanner))

    @cached_property
    def sms_log(self) -> FirestoreSmsLog:
        return FirestoreSmsLog(self.firestore.client)

    @cached_property
    def notifier(self) -> Notifier:
        return Notifier(
            self.patients,
            self.visit_reader,
            self.points,
            self.programme,
            self.bus,
            self.settings.sms_transliterate,
            phones=self.patients,
        )

    @cached_property
    def sms_sender(self) -> SmsSender:
        provider = HttpSmsProvider(
            self.settings.sms_provider_url,
            self.settings.secret("sms_provider_token"),
            timeout_s=self.settings.sms_timeout_s,
        )
        return SmsSender(provider, self.sms_log, self.warehouse, opt_outs=self.sms_conversations)

    @cached_property
    def sms_conversations(self) -> FirestoreSmsConversations:
        """SMS dialogues, reminder windows and opt-outs, keyed by the keyed hash of the number."""
        return FirestoreSmsConversations(self.firestore.client, self.settings.secret("audit_hash_key"))

    @cached_property
    def sms_dialogue(self) -> SmsDialogue:
        settings = self.settings
        return SmsDialogue(
            self.sms_conversations,
            self.patients,
            self.visit_reader,
            self.visits,
            self.search,
            self.points,
            self.programme,
            self.bus,
            self.rate_limits,
            Limit(1 / settings.sms_sender_every_s, settings.sms_sender_burst),
            timedelta(days=settings.sms_offer_horizon_days),
            settings.sms_transliterate,
        )

    @cached_property
    def reminders(self) -> Reminders:
        return Reminders(
            self.visit_reader,
            self.patients,
            self.points,
            self.bus,
            self.settings.sms_transliterate,
            self.night_jobs,
            windows=self.sms_conversations,
        )

    @cached_property
    def night_jobs(self) -> NightJobs:
        checkpoints = FirestoreCheckpoints(self.firestore.client)
        return NightJobs(checkpoints, self.bus, time.monotonic, self.settings.night_job_budget_s)

    @cached_property
    def no_shows(self) -> NightlyNoShows:
        return NightlyNoShows(self.transactions, self.point_service, self.night_jobs)

    @cached_property
    def streamer(self) -> EventStreamer:
        # Concurrent pushes share one streaming insert (each still answers only once its row is written).
        return EventStreamer(BatchingWarehouse(self.warehouse))

    @cached_property
    def reports(self) -> Reports:
        from shared.adapters.redis_lock import SharedLock

        lock = SharedLock(self.redis, f"{self.settings.redis_key_prefix}reports:closing")
        return Reports(
            BigQueryReports(self.warehouse),
            time.monotonic,
            ttl_s=REPORT_CACHE_S,
            today=lambda: datetime.now(UTC).astimezone(WARSAW).date(),
            first_day=self.settings.programme_first_day,
            closing_lock=lock.held,
        )

    @cached_property
    def dcc_signer(self) -> DccSigner:
        """The DCC document signer: Cloud KMS where configured, else (locally only) a key file."""
        from shared.adapters.dcc_signing import KmsSigner, LocalKeySigner

        if self.settings.dcc_kms_key_version:
            from google.cloud import kms

            return KmsSigner(kms.KeyManagementServiceClient(), self.settings.dcc_kms_key_version)
        if not self.settings.is_local:
            raise SecretNotConfigured("EREG_DCC_KMS_KEY_VERSION must be configured in a cloud deployment")
        # The local stack's state directory (emulators/stack.py), where the key outlives restarts.
        state_dir = Path(os.environ.get("EREG_STATE_DIR", Path(__file__).resolve().parent.parent / ".local"))
        return LocalKeySigner(Path(self.settings.dcc_signing_key_file or state_dir / "dcc-signing-key.pem"))

    @cached_property
    def certificate_issuer(self) -> CertificateIssuer:
        from shared.adapters.certificate_documents import CertificateDocuments
        from shared.adapters.firestore_certificates import FirestoreCertificates

        store = FirestoreCertificates(self.firestore.client)
        return CertificateIssuer(
            self.patients, store, self.dcc_signer, self.programme, _now, documents=CertificateDocuments()
        )

    @cached_property
    def immunization_sender(self) -> ImmunizationSender:
        from shared.adapters.fhir_client import HttpFhirPlatform
        from shared.adapters.firestore_certificates import FirestoreImmunizationLog

        platform = HttpFhirPlatform(self.settings.fhir_base_url, timeout_s=self.settings.fhir_timeout_s)
        return ImmunizationSender(
            self.patients,
            platform,
            FirestoreImmunizationLog(self.firestore.client, self.settings.health_timeout_s),
            self.programme,
            _now,
        )

    def health(self) -> HealthReport:
        probes = {
            "spanner": lambda t: self.spanner.ping(t),
            "firestore": lambda t: self.firestore.ping(t),
            "pubsub": lambda t: self.bus.ping(t),
            "bigquery": lambda t: self.warehouse.ping(t),
        }
        client = self.redis
        if client is not None:
            probes["redis"] = lambda t: _ping(client)
        # Redis is optional: without it the system is slower (degraded), never wrong.
        report = check_backends(probes, self.settings.health_timeout_s, optional=frozenset({"redis"}))
        return replace(report, figures={"ehealth_backlog": self._ehealth_backlog()})

    def _ehealth_backlog(self) -> int | None:
        """Immunizations not yet at the e-health platform; None when it cannot be counted now."""
        try:
            return self.immunization_sender.backlog()
        except Exception:  # the figure is informative: it never fails the probe
            return None


def _now() -> datetime:
    return datetime.now(UTC)


def _ping(client: redis.Redis) -> None:
    client.ping()  # bounded by the client's own short timeout


_container: Container | None = None
_lock = threading.Lock()


def get_container() -> Container:
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                settings = get_settings()
                configure_logging(settings.log_level)
                _point_clients_at_emulators(settings)
                _container = Container(settings)
    return _container


def build_container(settings: Settings) -> Container:
    """A container for explicit settings (tests, tools); does not replace the process one."""
    _point_clients_at_emulators(settings)
    return Container(settings)
