from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulators.provision import provision
from shared.bootstrap import Container, build_container
from tests.conftest import isolated_settings


@pytest.fixture
def backends(emulator_env: dict[str, str]) -> Iterator[Container]:
    """A provisioned container on names of this test's own; dropped afterwards."""
    container = build_container(isolated_settings())
    provision(container.settings, container.warehouse.client)
    yield container
    container.spanner.database.drop()
    container.warehouse.client.delete_dataset(
        f"{container.settings.project_id}.{container.settings.bigquery_dataset}", delete_contents=True
    )
