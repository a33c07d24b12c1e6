"""Local SMS gateway: a real HTTP server on loopback standing in for the SMS operator's API.

    python -m emulators.sms_gateway [--port 8089]

POST /messages {id, to, text} (Bearer token) accepts a message once per id; GET /messages?to= lists
what arrived as {"messages": [{id, to, text, received_at}]}. For failure tests it can be told to
fail the next N sends (POST /control/fail {count, status}), or every send for a while
(POST /control/fail {seconds, status}: an outage), or to answer slowly (POST /control/slow
{count, seconds}); DELETE /messages forgets everything. With EREG_SMS_REPORT_URL set, it posts a
delivery report for each accepted message, as an operator does.

A patient's message is simulated with POST /inbound {from, text}: with EREG_SMS_INBOUND_URL set, the
gateway posts it to the system as the operator would ({message_id, from, to, text, received_at} with
the inbound token) and answers with the operator's message id; the replies show at GET /messages?to=.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import requests
import requests.adapters
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

DEFAULT_TOKEN = "local-sms-gateway-token"  # noqa: S105 - the local stand-in's own, not a secret


class GatewayState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: dict[str, dict[str, Any]] = {}
        self.fail: list[int] = []
        self.fail_until = 0.0  # time.monotonic() before which every send fails (an outage)
        self.fail_until_status = 503
        self.slow: list[float] = []
        self.attempts = 0


NATIONAL_NUMBER = "8000"  # where patients text SZCZEPIMYSIE (the stand-in's own short number)
# Delivery reports go out from a few threads over one connection pool: under a load test a thread
# per message made thousands of threads (and sockets) whenever the host answered slowly.
REPORT_WORKERS = 4


def create_gateway(
    token: str,
    report_url: str | None = None,
    report_token: str | None = None,
    inbound_url: str | None = None,
    inbound_token: str | None = None,
) -> Flask:
    app = Flask("sms_gateway")
    state = GatewayState()
    reports = ThreadPoolExecutor(max_workers=REPORT_WORKERS, thread_name_prefix="sms-report")
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=REPORT_WORKERS))

    def report(message_id: str) -> None:
        if not report_url:
            return
        with contextlib.suppress(requests.RequestException):
            session.post(
                report_url, json={"id": message_id, "status": "delivered"},
                headers={"Authorization": f"Bearer {report_token}"}, timeout=5,
            )  # fmt: skip

    @app.post("/messages")
    def send() -> tuple[Response, int]:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return jsonify({"error": "unauthorised"}), 401
        body = request.get_json(silent=True) or {}
        if not all(isinstance(body.get(k), str) and body.get(k) for k in ("id", "to", "text")):
            return jsonify({"error": "id, to and text are required"}), 400
        with state.lock:
            state.attempts += 1
            delay = state.slow.pop(0) if state.slow else 0.0
            failure = state.fail.pop(0) if state.fail else None
            if failure is None and time.monotonic() < state.fail_until:
                failure = state.fail_until_status
        if delay:
            time.sleep(delay)
        if failure is not None:
            return jsonify({"error": "induced failure"}), failure
        with state.lock:
            existing = state.messages.get(body["id"])
            if existing is None:
                existing = {"id": body["id"], "to": body["to"], "text": body["text"],
                            "received_at": datetime.now(UTC).isoformat()}  # fmt: skip
                state.messages[body["id"]] = existing
                if report_url:
                    reports.submit(report, body["id"])
        return jsonify({"id": existing["id"]}), 202

    @app.get("/messages")
    def listing() -> Response:
        to = request.args.get("to")
        with state.lock:
            found = [m for m in state.messages.values() if to is None or m["to"] == to]
            attempts = state.attempts
        return jsonify({"messages": sorted(found, key=lambda m: m["received_at"]), "attempts": attempts})

    @app.delete("/messages")
    def forget() -> tuple[str, int]:
        with state.lock:
            state.messages.clear()
            state.fail.clear()
            state.fail_until = 0.0
            state.slow.clear()
            state.attempts = 0
        return "", 204

    @app.post("/inbound")
    def inbound() -> tuple[Response, int]:
        body = request.get_json(silent=True) or {}
        if not all(isinstance(body.get(k), str) for k in ("from", "text")):
            return jsonify({"error": "from and text are required"}), 400
        if not inbound_url:
            return jsonify({"error": "EREG_SMS_INBOUND_URL is not set"}), 503
        message = {
            "message_id": str(body.get("message_id") or uuid.uuid4()),
            "from": body["from"],
            "to": NATIONAL_NUMBER,
            "text": body["text"],
            "received_at": datetime.now(UTC).isoformat(),
        }
        try:
            answer = requests.post(
                inbound_url, json=message, headers={"Authorization": f"Bearer {inbound_token}"}, timeout=10
            )
        except requests.RequestException as error:
            return jsonify({"error": type(error).__name__}), 502
        return jsonify({"message_id": message["message_id"], "status": answer.status_code}), (
            202 if answer.status_code < 300 else 502
        )

    @app.post("/control/fail")
    def fail_next() -> tuple[str, int]:
        body = request.get_json(silent=True) or {}
        status = int(body.get("status", 503))
        with state.lock:
            if "seconds" in body:
                state.fail_until = time.monotonic() + float(body["seconds"])
                state.fail_until_status = status
            else:
                state.fail += [status] * int(body.get("count", 1))
        return "", 204

    @app.post("/control/slow")
    def slow_next() -> tuple[str, int]:
        body = request.get_json(silent=True) or {}
        with state.lock:
            state.slow += [float(body.get("seconds", 10))] * int(body.get("count", 1))
        return "", 204

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("EREG_SMS_GATEWAY_PORT", "8089")))
    args = parser.parse_args()
    app = create_gateway(
        os.environ.get("EREG_SMS_PROVIDER_TOKEN", DEFAULT_TOKEN),
        os.environ.get("EREG_SMS_REPORT_URL"),
        os.environ.get("EREG_SMS_REPORT_TOKEN", "local-delivery-report-token"),
        os.environ.get("EREG_SMS_INBOUND_URL"),
        os.environ.get("EREG_SMS_INBOUND_TOKEN", "local-sms-inbound-token"),
    )
    make_server("127.0.0.1", args.port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
