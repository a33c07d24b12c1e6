"""The local SMS gateway's failure switches, driven through Flask's test client (no server)."""

from __future__ import annotations

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
