"""Local e-health platform: a small FHIR R4 server on loopback that stores Immunization records.

    python -m emulators.fhir_server [--port 8091]

- ``POST /fhir/Immunization`` validates the body with ``fhir.resources`` (the model the sender uses)
  and stores it; with ``If-None-Exist: identifier=<system>|<value>`` it is a conditional create:
  one match answers 200 with it and stores nothing, several answer 412 (FHIR's rules).
- ``PUT /fhir/Immunization?identifier=<system>|<value>``: conditional update of the one match
  (created when there is none).
- ``GET /fhir/Immunization?identifier=<system>|<value>``: a ``searchset`` Bundle;
  ``GET /fhir/Immunization/<id>``: one record.
- Failure tests: ``POST /admin/fail {count, status}`` fails the next writes,
  ``POST /admin/fail {seconds, status}`` or ``{until: <ISO instant>, status}`` every write for a while
  (an outage); ``GET /admin/stats``
  counts the attempts; ``DELETE /admin/records`` forgets everything.
"""

from __future__ import annotations

import argparse
import os
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.immunization import Immunization
from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from werkzeug.serving import make_server

from emulators.faults import Faults

FHIR_JSON = "application/fhir+json"
STATUSES = {"completed", "entered-in-error", "not-done"}


class PlatformState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, Any]] = {}  # by server id
        self.faults = Faults()  # of the writes

    def matching(self, token: str) -> list[dict[str, Any]]:
        system, _, value = token.partition("|")
        return [
            r for r in self.records.values()
            if any(i.get("value") == value and (not system or i.get("system") == system)
                   for i in r.get("identifier", []))
        ]  # fmt: skip


def outcome(status: int, code: str, text: str) -> tuple[Response, int]:
    body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}
    response = jsonify(body)
    response.mimetype = FHIR_JSON
    return response, status


def fhir(body: dict[str, Any], status: int, location: str | None = None) -> tuple[Response, int]:
    response = jsonify(body)
    response.mimetype = FHIR_JSON
    if location:
        response.headers["Location"] = location
    return response, status


def create_platform() -> Flask:
    app = Flask("fhir_server")
    state = PlatformState()

    def valid_body() -> dict[str, Any] | tuple[Response, int]:
        body = request.get_json(silent=True, force=True)
        if not isinstance(body, dict) or body.get("resourceType") != "Immunization":
            return outcome(400, "structure", "the body is not an Immunization resource")
        try:
            Immunization.model_validate(body)
        except ValidationError as error:
            return outcome(422, "invalid", f"{error.error_count()} validation error(s)")
        if body.get("status") not in STATUSES:
            return outcome(422, "code-invalid", "status must be completed, entered-in-error or not-done")
        return body

    def store(body: dict[str, Any], record_id: str | None = None) -> dict[str, Any]:
        record_id = record_id or str(uuid.uuid4())
        version = int(state.records.get(record_id, {}).get("meta", {}).get("versionId", "0")) + 1
        meta = {"versionId": str(version), "lastUpdated": datetime.now(UTC).isoformat()}
        record = {**body, "id": record_id, "meta": meta}
        state.records[record_id] = record
        return record

    @app.post("/fhir/Immunization")
    def create() -> tuple[Response, int]:
        failure = state.faults.next_call()
        if failure is not None:
            return outcome(failure, "transient", "induced failure")
        body = valid_body()
        if not isinstance(body, dict):
            return body
        condition = request.headers.get("If-None-Exist", "")
        with state.lock:
            if condition:
                name, _, token = condition.partition("=")
                if name != "identifier" or not token:
                    return outcome(400, "invalid", "If-None-Exist supports identifier=<system>|<value>")
                found = state.matching(token)
                if len(found) > 1:
                    return outcome(412, "duplicate", "several records match the condition")
                if found:
                    return fhir(found[0], 200)
            record = store(body)
        return fhir(record, 201, f"Immunization/{record['id']}/_history/1")

    @app.put("/fhir/Immunization")
    def conditional_update() -> tuple[Response, int]:
        failure = state.faults.next_call()
        if failure is not None:
            return outcome(failure, "transient", "induced failure")
        token = request.args.get("identifier")
        if not token:
            return outcome(400, "invalid", "a conditional update needs ?identifier=<system>|<value>")
        body = valid_body()
        if not isinstance(body, dict):
            return body
        with state.lock:
            found = state.matching(token)
            if len(found) > 1:
                return outcome(412, "duplicate", "several records match the condition")
            record = store(body, found[0]["id"] if found else None)
        return fhir(record, 200 if found else 201)

    @app.get("/fhir/Immunization")
    def search() -> tuple[Response, int]:
        token = request.args.get("identifier")
        with state.lock:
            found = state.matching(token) if token else list(state.records.values())
        entries = [{"fullUrl": f"Immunization/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in found]
        return fhir({"resourceType": "Bundle", "type": "searchset", "total": len(found), "entry": entries}, 200)

    @app.get("/fhir/Immunization/<record_id>")
    def read(record_id: str) -> tuple[Response, int]:
        with state.lock:
            record = state.records.get(record_id)
        return fhir(record, 200) if record else outcome(404, "not-found", "no such Immunization")

    @app.post("/admin/fail")
    def fail_next() -> tuple[Response | str, int]:
        try:
            state.faults.configure(request.get_json(silent=True) or {})
        except (ValueError, TypeError):
            return outcome(400, "invalid", "count, seconds or until (ISO 8601 with offset), and status")
        return "", 204

    @app.get("/admin/stats")
    def stats() -> Response:
        with state.lock:
            return jsonify({"records": len(state.records), "attempts": state.faults.attempts})

    @app.delete("/admin/records")
    def forget() -> tuple[str, int]:
        with state.lock:
            state.records.clear()
        state.faults.clear()
        return "", 204

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("EREG_FHIR_PORT", "8091")))
    args = parser.parse_args()
    make_server("127.0.0.1", args.port, create_platform(), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
