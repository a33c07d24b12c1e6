"""The local function host, started once per run over its own database names, with demo data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulators.host import start_host
from emulators.ports import LOOPBACK, free_port
from emulators.provision import provision
from emulators.seed import seed
from emulators.stack import STATE_DIR, _kill_group
from shared.bootstrap import build_container
from tests.conftest import isolated_settings


@pytest.fixture(scope="session")
def host_url(emulator_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    settings = isolated_settings(push_endpoint=base, dev_idp_jwks_url=f"{base}/dev/idp/jwks.json")
    container = build_container(settings)
    provision(settings, container.warehouse.client)
    seed(container.spanner, container.firestore, points=32, days=3, patients=5)
    env = {
        **emulator_env,
        "EREG_DEPLOYMENT": "local",
        "GOOGLE_CLOUD_PROJECT": settings.project_id,
        "EREG_SPANNER_DATABASE": settings.spanner_database,
        "EREG_FIRESTORE_DATABASE": settings.firestore_database,
        "EREG_PUBSUB_PREFIX": settings.pubsub_prefix,
        "EREG_BIGQUERY_DATASET": settings.bigquery_dataset,
        "EREG_PUSH_ENDPOINT": base,
        "EREG_DEV_IDP_JWKS_URL": settings.dev_idp_jwks_url,
    }
    STATE_DIR.joinpath("logs").mkdir(parents=True, exist_ok=True)
    process = start_host(env, port, log_path=STATE_DIR / "logs" / "e2e-host.log")
    yield base
    _kill_group(process.pid)
    container.spanner.database.drop()
