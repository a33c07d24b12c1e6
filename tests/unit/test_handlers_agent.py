"""The `agent` function's handlers on fakes: every lookup is audited by the PESEL's keyed hash, refused
or not; agents book for a caller and never see check-in codes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from emulators.seed import pesel_for
from functions.agent import AgentHandlers
from shared.config import Settings
from shared.domain.booking import local_iso
from shared.domain.identity import Role
from shared.domain.patients import PatientRecord, Referral
from shared.entrypoints.web import Routes
from tests.unit.handlers import AuditEntries, Sessions, Unused, call, contract_errors, mounted, patient, staff
from tests.unit.test_visit_service import HERE, NOW, World, at

SETTINGS = Settings(deployment="local")
PESEL = pesel_for(date(1980, 1, 1), 1234, female=False)  # the caller on file
UNKNOWN = pesel_for(date(2002, 7, 8), 1234, female=True)


class Registry:
    """Patients by PESEL, over the booking fake's patients."""

    def __init__(self, world: World, patient_id: str) -> None:
        self.world, self.patient_id = world, patient_id

    def lookup(self, pesel: str) -> tuple[PatientRecord | None, list[Referral]]:
        if pesel != PESEL:
            return None, []
        return self.world.store.patient(self.patient_id), []


def digest(pesel: str) -> str:
    return hmac.new(SETTINGS.secret("audit_hash_key").encode(), pesel.encode(), hashlib.sha256).hexdigest()


def routes_of(world: World, patient_id: str, audit: AuditEntries) -> Routes:
    handlers = AgentHandlers(
        world.service, Registry(world, patient_id), Unused(), Unused(), Unused(),  # type: ignore[arg-type]
        lambda: world.programme, audit, SETTINGS, now=lambda: NOW,
    )  # fmt: skip
    sessions = Sessions({"agent": staff("agent-1", Role.AGENT), "patient": patient(patient_id)})
    return mounted(handlers.table(), sessions)


def test_a_lookup_of_an_unknown_pesel_is_404_and_audited_by_its_hash_only() -> None:
    world, audit = World(), AuditEntries()
    routes = routes_of(world, world.patient(), audit)

    answer = call(routes, "POST", "/api/v1/agent/patients:lookup", "agent", {"pesel": UNKNOWN})

    assert answer.status_code == 404 and answer.json is not None and answer.json["code"] == "patient_not_found"
    assert audit.entries == [
        ("agent-1", "read_patient", {"status": 404, "pesel_hmac": digest(UNKNOWN), "reason": "patient_not_found"})
    ]
    assert UNKNOWN not in str(audit.entries)


def test_an_invalid_pesel_is_400_and_audited_too() -> None:
    world, audit = World(), AuditEntries()
    routes = routes_of(world, world.patient(), audit)

    answer = call(
        routes, "POST", "/api/v1/agent/patients:lookup", "agent", {"pesel": PESEL[:-1] + str((int(PESEL[-1]) + 1) % 10)}
    )

    assert answer.status_code == 400 and answer.json is not None and answer.json["code"] == "invalid_pesel"
    [(_, action, details)] = audit.entries
    assert (action, details["status"], details["reason"]) == ("read_patient", 400, "invalid_pesel")


def test_an_agent_books_for_a_caller_without_their_code_and_reads_it_back() -> None:
    world, audit = World(), AuditEntries()
    patient_id = world.patient()
    slot = world.slot(HERE, at(2), "jcovden")
    routes = routes_of(world, patient_id, audit)
    body = {"pesel": PESEL, "point_id": HERE, "starts_at": local_iso(slot.starts_at), "vaccine": "jcovden"}

    answer = call(routes, "POST", "/api/v1/agent/visits", "agent", body, {"Idempotency-Key": "call-1"})

    assert answer.status_code == 201 and answer.json is not None
    assert contract_errors("POST", "/api/v1/agent/visits", answer) == []
    [visit] = answer.json["visits"]
    assert visit["patient_id"] == patient_id and visit["channel"] == "CALL_CENTRE" and "check_in_code" not in visit
    assert answer.json["sms"] is True and answer.json["read_back"][0].startswith("Dawka 1: ")
    [(_, action, details)] = audit.entries
    assert (action, details["status"], details["patient_id"]) == ("book", 201, patient_id)


def test_a_patient_session_reaches_no_agent_route() -> None:
    world, audit = World(), AuditEntries()
    routes = routes_of(world, world.patient(), audit)
    answer = call(routes, "POST", "/api/v1/agent/patients:lookup", "patient", {"pesel": PESEL})
    assert answer.status_code == 403 and answer.json is not None and answer.json["code"] == "forbidden_role"
    assert audit.entries == []
