"""Settings read from the environment, with defaults for the local stack.

Every process reads them once (see ``shared.bootstrap``). In the cloud the emulator hosts are
unset and the deployment is ``cloud``; locally ``emulators/`` sets them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_PROJECT_ID = "demo-ereg"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EREG_", extra="ignore", frozen=True, populate_by_name=True)

    deployment: Literal["local", "cloud"] = "local"
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
    # Prefix of every topic and subscription name, so several stacks can share one emulator.
    pubsub_prefix: str = ""
    bigquery_dataset: str = "reporting"
    bigquery_location: str = "EU"

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
    # The development identity provider (emulators/dev_idp.py); trusted only when local.
    dev_idp_issuer: str = "https://dev-idp.e-rejestracja.local"
    dev_idp_jwks_url: str = "http://127.0.0.1:8080/dev/idp/jwks.json"

    assertion_leeway_s: int = 30
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

    # Token buckets, "scope:who" -> [per second, burst]. Per process; Cloud Armor adds edge limits.
    rate_limits: dict[str, tuple[float, int]] = {
        "login:ip": (10.0, 30),
        "search:session": (5.0, 20),
        "search:ip": (50.0, 100),
        "booking:session": (1.0, 5),
        "booking:ip": (10.0, 30),
    }
    # Proxies in front of the functions that append to X-Forwarded-For (the load balancer: 1).
    trusted_proxy_hops: int = 0

    # SMS provider (locally the gateway in emulators/sms_gateway.py). The token comes from
    # configuration (Secret Manager in the cloud); the default only works against the local gateway.
    sms_provider_url: str = "http://127.0.0.1:8089"
    sms_provider_token: SecretStr = SecretStr("local-sms-gateway-token")
    sms_report_token: SecretStr = SecretStr("local-delivery-report-token")
    sms_transliterate: bool = True
    sms_timeout_s: float = 5.0
    # Push retry policy ceiling (seconds); tests lower it to see dead letters sooner.
    pubsub_max_backoff_s: int = 60

    health_timeout_s: float = 2.0
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _secrets_configured_in_the_cloud(self) -> Settings:
        if self.deployment == "cloud":
            for name in ("sms_provider_token", "sms_report_token"):
                if getattr(self, name).get_secret_value().startswith("local-"):
                    raise ValueError(f"EREG_{name.upper()} must be configured in a cloud deployment")
        return self

    @property
    def is_local(self) -> bool:
        return self.deployment == "local"

    def topic(self, name: str) -> str:
        return f"{self.pubsub_prefix}{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
