"""Issue 21, item 4: Firestore least privilege, read from infra/ and functions/ (static).

Sessions and the audit trail live in databases of their own; each function is granted only the
databases it uses; the public SMS webhook reaches neither; functions may append audit entries but
never change or delete one (a custom role with create and no update or delete)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.unit.test_infra import parse_terraform

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
FUNCTIONS: dict[str, dict[str, Any]] = yaml.safe_load((INFRA / "functions.yaml").read_text())["functions"]
RESOURCES = parse_terraform(INFRA)


def _source(name: str) -> str:
    entry = FUNCTIONS[name].get("entry_point", name)
    return (REPO / "functions" / f"{entry}.py").read_text()


def test_sessions_and_audit_are_databases_of_their_own() -> None:
    databases = {r["name"] for r in RESOURCES["google_firestore_database"].values()}
    assert {"(default)", "sessions", "audit"} <= databases
    assert "sessions" in RESOURCES["google_firestore_field"]["session_ttl"]["database"]


def test_only_functions_that_check_a_session_reach_the_sessions_database() -> None:
    for name, function in FUNCTIONS.items():
        checks_sessions = bool(re.search(r"\bguarded\(|\bauthenticate\(|\.identity\.", _source(name)))
        assert ("firestore_sessions" in function.get("access", {})) == checks_sessions, name


def test_functions_that_check_a_session_can_read_the_staff_registry() -> None:
    # A staff member's point roles are read from the registry (default database) on every request.
    for name, function in FUNCTIONS.items():
        if "firestore_sessions" in function.get("access", {}):
            assert function["access"].get("firestore") in ("read", "write"), name


def test_only_functions_that_audit_reach_the_audit_database_and_only_to_append() -> None:
    for name, function in FUNCTIONS.items():
        level = function.get("access", {}).get("firestore_audit")
        source = _source(name)
        # The function's composition hands its handlers the audit trail (or the programme's, which audits).
        audits = bool(re.search(r"container\.(audit|programme_admin)\b", source))
        assert (level is not None) == audits, name
        assert level in (None, "append"), f"{name} may {level} the audit database"


def test_the_public_sms_webhook_reaches_neither_sessions_nor_audit() -> None:
    access = FUNCTIONS["sms_reports"]["access"]
    assert not {"firestore_sessions", "firestore_audit"} & set(access)


def test_appending_to_the_audit_grants_no_change_or_delete() -> None:
    role = RESOURCES["google_project_iam_custom_role"]["audit_appender"]
    permissions = set(role["permissions"])
    assert "datastore.entities.create" in permissions
    assert not any(re.search(r"update|delete|import|export", p) for p in permissions), permissions


def test_each_database_grant_is_conditioned_on_that_database_alone() -> None:
    text = (INFRA / "iam.tf").read_text()
    assert 'firestore_sessions = "sessions", firestore_audit = "audit"' in text
    binding = RESOURCES["google_project_iam_member"]["firestore_part"]
    condition = binding["condition"][0] if isinstance(binding["condition"], list) else binding["condition"]
    assert condition["expression"].endswith('databases/${each.value.database}\\"')
    main = RESOURCES["google_project_iam_member"]["firestore"]
    main_condition = main["condition"][0] if isinstance(main["condition"], list) else main["condition"]
    assert "google_firestore_database.default.name" in main_condition["expression"]
