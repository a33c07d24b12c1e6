"""The local session store holds the index exemptions infra/firestore.yaml declares (the emulator cannot)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.adapters.firestore_db import SESSIONS
from shared.adapters.firestore_indexes import UndeclaredIndexedTimestamp, declared

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


def test_the_sessions_declaration_is_read_from_infra() -> None:
    sessions = declared(SESSIONS)
    assert {"created_at", "expires_at", "last_seen_at", "retain_until", "revoked_at"} <= sessions.unindexed
    assert sessions.ttl_field == "retain_until"


def test_a_timestamp_the_declaration_leaves_indexed_is_refused_and_declared_ones_pass(tmp_path: Path) -> None:
    declaration = tmp_path / "firestore.yaml"
    declaration.write_text("collections:\n  sessions:\n    unindexed: [created_at]\n")
    sessions = declared(SESSIONS, declaration)
    sessions.check({"created_at": NOW, "roles": ["patient"], "revoked": False})
    with pytest.raises(UndeclaredIndexedTimestamp, match="last_seen_at"):
        sessions.check({"created_at": NOW, "last_seen_at": NOW})
    with pytest.raises(UndeclaredIndexedTimestamp):
        declared("audit", declaration).check({"at": NOW})  # a collection with no declaration exempts nothing
