"""The local SMS gateway's failure switches, driven through Flask's test client (no server)."""

from __future__ import annotations

import pytest
import requests
from flask.testing import FlaskClient

from emulators.sms_gateway import create_gateway

AUTH = {"Authorization": "Bearer t"}


def _send(client: FlaskClient, message_id: str) -> int:
    body = {"id": message_id, "to": "+48601000001", "text": "x"}
    return client.post("/messages", json=body, headers=AUTH).status_code


def test_an_outage_fails_every_send_until_it_ends_and_loses_nothing_accepted_after() -> None:
    client = create_gateway("t").test_client()
    assert _send(client, "before") == 202
    assert client.post("/control/fail", json={"seconds": 600, "status": 502}).status_code == 204
    assert [_send(client, f"during-{i}") for i in range(3)] == [502, 502, 502]
    client.post("/control/fail", json={"seconds": 0})  # the outage is over
    assert _send(client, "during-0") == 202
    listed = client.get("/messages").get_json()
    assert [m["id"] for m in listed["messages"]] == ["before", "during-0"]
    assert listed["attempts"] == 5


def test_forgetting_also_ends_an_outage() -> None:
    client = create_gateway("t").test_client()
    client.post("/control/fail", json={"seconds": 600})
    assert _send(client, "a") == 503
    client.delete("/messages")
    assert _send(client, "a") == 202


def test_a_patient_message_is_forwarded_as_the_operator_posts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    posted: list[tuple[str, dict[str, object], dict[str, str]]] = []

    class Answer:
        status_code = 202

    def post(url: str, json: dict[str, object], headers: dict[str, str], timeout: float) -> Answer:
        posted.append((url, json, headers))
        return Answer()

    monkeypatch.setattr(requests, "post", post)
    client = create_gateway("t", inbound_url="http://host/api/v1/sms/inbound", inbound_token="in").test_client()
    answer = client.post("/inbound", json={"from": "+48601000001", "text": "SZCZEPIMYSIE"})
    assert answer.status_code == 202
    [(url, body, headers)] = posted
    assert url == "http://host/api/v1/sms/inbound" and headers == {"Authorization": "Bearer in"}
    assert body["from"] == "+48601000001" and body["text"] == "SZCZEPIMYSIE" and body["to"] == "8000"
    assert body["message_id"] == answer.get_json()["message_id"] and "received_at" in body
    assert client.post("/inbound", json={"text": "x"}).status_code == 400
    assert create_gateway("t").test_client().post("/inbound", json={"from": "1", "text": "x"}).status_code == 503


def test_delivery_reports_to_a_host_that_hangs_use_a_bounded_number_of_threads() -> None:
    import socket
    import threading

    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(512)  # connections wait in the backlog and are never answered
    try:
        before = threading.active_count()
        client = create_gateway("t", f"http://127.0.0.1:{hung.getsockname()[1]}/report", "r").test_client()
        for n in range(200):
            answer = client.post("/messages", json={"id": f"m{n}", "to": "+48601234567", "text": "x"},
                                 headers={"Authorization": "Bearer t"})  # fmt: skip
            assert answer.status_code == 202
        assert threading.active_count() - before <= 4  # was one thread per message
    finally:
        hung.close()  # the waiting reports fail at once
