"""Settings read from the environment, with defaults for the local stack.

Every process reads them once (see ``shared.bootstrap``). The deployment defaults to ``cloud``
(fail closed: the development issuer is trusted only where ``EREG_DEPLOYMENT=local`` says so);
every local tool (``emulators/``, tests, benchmarks) sets ``local`` and the emulator hosts.

Secrets are checked where they are used (``Settings.secret``), not when settings load: a function
never needs a secret it does not use.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_PROJECT_ID = "demo-ereg"


def local_project_id() -> str:
    """The project id of the local stack: ``GOOGLE_CLOUD_PROJECT`` if set, else the demo project."""
    return os.environ.get("GOOGLE_CLOUD_PROJECT", LOCAL_PROJECT_ID)


class SecretNotConfigured(RuntimeError):
    """A function needs a secret that this deployment has not configured."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore", frozen=True, populate_by_name=True)

    deployment: Literal["local", "cloud"] = "cloud"
    project_id: str = Field(default=LOCAL_PROJECT_ID, validation_alias="GOOGLE_CLOUD_PROJECT")

    spanner_instance: str = "ereg"
    spanner_database: str = "ereg"
    # Read-write transactions in flight per process: the emulator runs one at a time and aborts
    # the rest, so locally 1; production Spanner locks rows and takes many.
    spanner_max_rw_transactions: int = 1
    # Local only: a lock file that queues read-write transactions across the host's worker processes.
    spanner_rw_lock_file: str | None = None
    spanner_search_staleness_s: float = 5.0
    search_cache_s: float = 3.0
    firestore_database: str = "(default)"
    # Sessions (with staff profiles and the session guard) and the audit trail live in databases of
    # their own, so each function's grant names only the databases it uses (infra/iam.tf), and the
    # audit one grants functions create-only. Empty: "<firestore_database>-sessions" / "-audit"
    # ("sessions" / "audit" beside "(default)"); the emulator makes a database on first use.
    firestore_sessions_database: str = ""
    firestore_audit_database: str = ""
    # Prefix of every topic and subscription name, so several stacks can share one emulator.
    pubsub_prefix: str = ""
    bigquery_dataset: str = "reporting"
    bigquery_location: str = "EU"
    # Every BigQuery query fails rather than bill more (bench/report_scan.py: what each route reads).
    bigquery_max_bytes_billed: int = Field(default=32 * 2**30, ge=10 * 2**20)
    # Open data covers the programme's days only: from this day (Warsaw) to today.
    programme_first_day: date = date(2026, 1, 1)

    # Emulator addresses (host:port). Unset in the cloud.
    spanner_emulator_host: str | None = Field(default=None, validation_alias="SPANNER_EMULATOR_HOST")
    firestore_emulator_host: str | None = Field(default=None, validation_alias="FIRESTORE_EMULATOR_HOST")
    pubsub_emulator_host: str | None = Field(default=None, validation_alias="PUBSUB_EMULATOR_HOST")
    bigquery_emulator_host: str | None = Field(default=None, validation_alias="BIGQUERY_EMULATOR_HOST")

    # Base URL that push subscriptions call (the local function host, or the functions' URL).
    push_endpoint: str = "http://127.0.0.1:8080"

    # Identity: assertions of the national login node (in the cloud, Identity Platform ID tokens).
    assertion_audience: str = "e-rejestracja"
    login_node_issuer: str = "https://login.gov.pl"
    login_node_jwks_url: str | None = None
    # Identity Platform sign-in providers whose ID tokens sign people in, comma-separated: the national
    # login node's SAML provider (infra/identity.tf); staging adds "custom" for its smoke user.
    identity_providers: str = "saml.national-login"
    # The development identity provider (emulators/dev_idp.py); trusted only when local.
    dev_idp_issuer: str = "https://dev-idp.e-rejestracja.local"
    dev_idp_jwks_url: str = "http://127.0.0.1:8080/dev/idp/jwks.json"

    assertion_leeway_s: int = 30
    # Authentication levels (the assertion's `acr`) accepted for a staff or admin sign-in.
    staff_accepted_acr: list[str] = ["http://eidas.europa.eu/LoA/substantial", "http://eidas.europa.eu/LoA/high"]
    patient_session_absolute_min: int = 120
    patient_session_idle_min: int = 30
    staff_session_absolute_min: int = 600
    staff_session_idle_min: int = 60
    # How long a process serves its copy of the programme: an admin's change is live everywhere
    # within this many seconds (the issue asks for 30), without a deploy.
    programme_cache_s: float = 15.0
    # Bulk e-referrals: a job is 16 ** prefix length chunks (patient key ranges), and each chunk
    # commits its referrals in batches of this many rows.
    referral_chunk_prefix_length: int = Field(default=2, ge=0, le=3)
    referral_write_batch: int = Field(default=2000, ge=1, le=10000)
    # "Your cohort is open" SMS requested per scheduler tick (a minute): spreads the booking peak.
    interest_sms_per_tick: int = Field(default=6000, ge=0)
    # A nightly job's run (reminders, no-shows) stops after this many seconds, saves its checkpoint
    # and publishes a tick that goes on: shorter than its subscription's ack deadline (300 s).
    night_job_budget_s: float = Field(default=240.0, gt=0)
    # Vaccinations one staff member may record after an identity check (no check-in code) per local day.
    identity_checks_per_day: int = Field(default=20, ge=0)

    # Token buckets, "scope:who" -> [per second, burst]; who is "ip" (the client address, checked
    # before any backend read) or "user" (the verified person: patient or staff member). Shared by
    # every instance through Redis; per process while Redis is unreachable. Cloud Armor adds edge limits.
    rate_limits: dict[str, tuple[float, int]] = {
        "login:ip": (10.0, 30),
        "search:ip": (50.0, 100),
        "booking:ip": (10.0, 30),
        "booking:user": (1.0, 5),
        "lookup:ip": (5.0, 30),
        "lookup:user": (0.5, 20),
        "api:ip": (20.0, 100),
        "open_data:ip": (1.0, 20),
        "admin:ip": (20.0, 100),
        "admin:user": (2.0, 30),
    }
    # Scopes each process limits on its own buckets, with no round trip: anonymous search by address,
    # whose limit shared by every instance is Cloud Armor's at the edge (functions.yaml `edge_limit`,
    # 300 a minute, tighter than this one), so a shared bucket would cost every search a round trip
    # for a limit that never binds behind the load balancer.
    rate_limits_per_process: frozenset[str] = frozenset({"search:ip"})
    # Google load balancers in front of the functions. Each appends "<client-ip>,<lb-ip>" to
    # X-Forwarded-For, so with one the client is the second-to-last entry (docs/decisions.md).
    trusted_proxy_hops: int = 0

    # Redis (Memorystore in the cloud, Debian's redis-server locally): shared rate-limit buckets, the
    # availability projection, and (session_store "redis") sessions with the one-time-use guard.
    # Unset: every process keeps its own buckets and sessions live in Firestore.
    redis_url: str | None = None
    # Prefix of every Redis key, so several stacks (test runs) can share one server.
    redis_key_prefix: str = ""
    redis_timeout_s: float = 0.2
    # Where sessions and the one-time-use guard of assertions live: "redis" (one round trip per login;
    # logins and session checks answer 503 while Redis is down) or "firestore" (a document commit).
    session_store: Literal["redis", "firestore"] = "firestore"  # why: docs/decisions.md, "Login at the peak"
    # Sessions have no fallback: a slow answer is worth more than a 503, unlike the buckets' and search's.
    redis_session_timeout_s: float = 1.0

    # Audits name a looked-up PESEL only by its HMAC with this key (Secret Manager in the cloud).
    audit_hash_key: SecretStr = SecretStr("local-audit-hash-key")

    # SMS provider (locally the gateway in emulators/sms_gateway.py). The token comes from
    # configuration (Secret Manager in the cloud); the default only works against the local gateway.
    sms_provider_url: str = "http://127.0.0.1:8089"
    sms_provider_token: SecretStr = SecretStr("local-sms-gateway-token")
    sms_report_token: SecretStr = SecretStr("local-delivery-report-token")
    # The operator authenticates its incoming-SMS posts with this shared token (Bearer).
    sms_inbound_token: SecretStr = SecretStr("local-sms-inbound-token")
    # Registration by SMS offers places up to this many days ahead; a sender may send a burst of this
    # many messages, then one per this many seconds (more get no reply).
    sms_offer_horizon_days: int = Field(default=42, ge=1, le=92)
    sms_sender_burst: int = Field(default=10, ge=1)
    sms_sender_every_s: float = Field(default=6.0, gt=0)
    sms_transliterate: bool = True
    sms_timeout_s: float = 5.0
    # How long a booking's answer waits for its events to reach Pub/Sub; after that they carry on in
    # the background (or the outbox sweep sends them), so a hung Pub/Sub never holds the answer.
    post_commit_publish_wait_s: float = 0.25
    # How long the Pub/Sub client holds a message to batch it with others before sending. Its own
    # default (10 ms) was most of a booking's publish after commit, which the answer waits for; a
    # booking's events are published in one call, so they still go in one batch.
    pubsub_batch_latency_s: float = Field(default=0.001, ge=0, le=1)
    # Push retry policy ceiling (seconds); tests lower it to see dead letters sooner.
    pubsub_max_backoff_s: int = 60

    # After the jab (docs/decisions.md, issue 23). The DCC document signer: in the cloud a Cloud KMS
    # key version (projects/.../cryptoKeyVersions/N, infra/kms.tf); locally a P-256 key made on first
    # use in this file (default: dcc-signing-key.pem in the state directory).
    dcc_kms_key_version: str | None = None
    dcc_signing_key_file: str | None = None
    # The national e-health platform's FHIR R4 base (locally emulators/fhir_server.py).
    fhir_base_url: str = "http://127.0.0.1:8091/fhir"
    fhir_timeout_s: float = 5.0

    health_timeout_s: float = 2.0
    log_level: str = "INFO"

    def firestore_database_of(self, part: Literal["sessions", "audit"]) -> str:
        named: str = getattr(self, f"firestore_{part}_database")
        if named:
            return named
        return part if self.firestore_database == "(default)" else f"{self.firestore_database}-{part}"

    def secret(
        self, name: Literal["sms_provider_token", "sms_report_token", "sms_inbound_token", "audit_hash_key"]
    ) -> str:
        """A secret's value; in the cloud the local default is refused (fail closed)."""
        value: str = getattr(self, name).get_secret_value()
        if self.deployment == "cloud" and value.startswith("local-"):
            raise SecretNotConfigured(f"EREG_{name.upper()} must be configured in a cloud deployment")
        return value

    @property
    def is_local(self) -> bool:
        return self.deployment == "local"

    def topic(self, name: str) -> str:
        return f"{self.pubsub_prefix}{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
