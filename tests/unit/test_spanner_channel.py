"""Spanner reads stream on the calling thread (no thread started per read), locally and in the cloud."""

from __future__ import annotations

import pytest
from google.cloud import spanner
from google.oauth2.credentials import Credentials

from shared.adapters.spanner_db import open_database


@pytest.mark.parametrize("emulator", ["127.0.0.1:1", None])
def test_the_spanner_channel_reads_streams_on_the_calling_thread(
    monkeypatch: pytest.MonkeyPatch, emulator: str | None
) -> None:
    if emulator is None:
        monkeypatch.delenv("SPANNER_EMULATOR_HOST", raising=False)
    else:
        monkeypatch.setenv("SPANNER_EMULATOR_HOST", emulator)
    client = spanner.Client(project="p", credentials=Credentials(token="t"))  # never used: nothing is called
    database = open_database(client, "i", "d")
    channel = database.spanner_api.transport.grpc_channel
    assert channel._single_threaded_unary_stream  # grpc's flag for SingleThreadedUnaryStream
    if emulator is None:
        assert database.spanner_api.transport._host == "spanner.googleapis.com:443"
