"""Registration by SMS and answers to reminders, end to end: a patient's message enters at the SMS
gateway (``POST /inbound``), which posts it to the host as the operator would; the work runs from
Pub/Sub push and every reply comes back through ``sms-requests`` to the gateway."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime

import pytest
import requests
from werkzeug.serving import make_server

from emulators.ports import LOOPBACK, free_port
from emulators.sms_gateway import create_gateway
from shared.bootstrap import Container
from shared.domain.sms import encode
from shared.domain.sms_dialogue import ASK_PESEL, ASK_TOWN, OTHER_PHONE
from shared.topology import REMINDER_TICKS
from tests.e2e.conftest import Api
from tests.e2e.test_booking import book, find_slots, free_places
from tests.e2e.test_messaging import assert_no_more_messages, wait_for_messages


@pytest.fixture(scope="module")
def operator(host_url: str) -> Iterator[str]:
    """A gateway of this test run whose incoming messages go to this run's host (the shared one posts
    to the ``make run`` host); replies still arrive at the shared gateway, as every SMS does."""
    app = create_gateway(
        "unused", inbound_url=f"{host_url}/api/v1/sms/inbound", inbound_token="local-sms-inbound-token"
    )
    server = make_server(LOOPBACK, free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{LOOPBACK}:{server.server_port}"
    server.shutdown()


def plain(text: str) -> str:
    return encode(text, transliterate=True).text


class Phone:
    """A patient's mobile: texts the national number, reads what came back."""

    def __init__(self, operator: str, gateway: str, number: str) -> None:
        self.operator, self.gateway, self.number = operator, gateway, number
        self.received = 0

    def say(self, text: str, message_id: str | None = None) -> None:
        body = {"from": self.number, "text": text, **({"message_id": message_id} if message_id else {})}
        answer = requests.post(f"{self.operator}/inbound", json=body, timeout=15)
        assert answer.status_code == 202, answer.text

    def reply(self, text: str) -> str:
        """Text and wait for the one reply it gets."""
        self.say(text)
        return self.next()

    def next(self) -> str:
        self.received += 1
        return str(wait_for_messages(self.gateway, self.number, self.received, timeout_s=45)[-1]["text"])


@pytest.fixture
def phone(operator: str, gateway: str, new_phone: Callable[[], str]) -> Callable[[], Phone]:
    return lambda: Phone(operator, gateway, new_phone())


def test_a_patient_registers_entirely_by_sms(api: Api, new_pesel, phone, gateway: str) -> None:
    pesel = new_pesel(date(1968, 2, 2))
    token = api.login(pesel)["session_token"]  # in the registry with an e-referral, no number on file
    town = _town_of(find_slots(api, "comirnaty")[0])  # a town with a free place
    mobile = phone()
    assert mobile.reply("Szczepimy się") == plain(ASK_PESEL)
    assert mobile.reply(pesel) == plain(ASK_TOWN)
    first = mobile.reply(_typo(town).lower())
    assert "Odpisz TAK" in first and plain(town) in first, first  # a place in that town's county
    second = mobile.reply("nie")
    assert "Odpisz TAK" in second and second != first
    mobile.say("TAK")
    confirmation = mobile.next()
    assert confirmation.startswith("e-Rejestracja:") and "dawka 1" in confirmation and "Kod: " in confirmation
    assert_no_more_messages(gateway, mobile.number, mobile.received, watch_s=3)  # the confirmation came once
    visits = api.call("GET", "/api/v1/visits", token).json()["visits"]
    dose1 = next(v for v in visits if v["dose"] == 1)
    assert dose1["channel"] == "SMS" and dose1["status"] == "BOOKED"
    assert f"Kod: {dose1['check_in_code']}" in confirmation


def test_no_to_a_reminder_cancels_the_visit(api: Api, new_pesel, phone, e2e_backends: Container, gateway: str) -> None:
    mobile = phone()
    token = api.login(new_pesel(date(1969, 3, 3)))["session_token"]
    slot = find_slots(api, "jcovden")[0]  # one dose: the reminder is for this visit only
    places = free_places(api, slot)
    response = book(api, token, slot, phone=mobile.number)
    assert response.status_code == 201, response.text
    [visit] = response.json()["visits"]
    assert "dawka 1" in mobile.next()  # the confirmation
    day = datetime.fromisoformat(visit["starts_at"]).date()
    e2e_backends.bus.publish(REMINDER_TICKS, json.dumps({"day": day.isoformat()}).encode())
    reminder = mobile.next()
    assert "jutro" in reminder and "Odpisz NIE, aby odwolac." in reminder
    mobile.say("NIE")
    assert "odwolano" in mobile.next()  # the cancellation's own SMS confirms it
    assert api.call("GET", "/api/v1/visits", token).json()["visits"][0]["status"] == "CANCELLED"
    assert free_places(api, slot) == places  # the place is back in search at once


def test_a_foreign_sender_cannot_book_for_a_pesel_with_another_number(api: Api, new_pesel, phone) -> None:
    owner, stranger = phone(), phone()
    pesel = new_pesel(date(1967, 7, 7))
    token = api.login(pesel)["session_token"]
    assert book(api, token, find_slots(api, "comirnaty")[5], phone=owner.number).status_code == 201
    assert api.call("DELETE", f"/api/v1/visits/{_first_visit(api, token)}", token).status_code in (200, 204)
    assert stranger.reply("SZCZEPIMYSIE") == plain(ASK_PESEL)
    assert stranger.reply(pesel) == plain(OTHER_PHONE)
    assert "SZCZEPIMYSIE" in stranger.reply("Warszawa")  # the dialogue ended: short help


def test_a_message_posted_twice_through_an_sms_outage_is_answered_once(phone, gateway: str) -> None:
    mobile = phone()
    requests.post(f"{gateway}/control/fail", json={"count": 4, "status": 503}, timeout=5)  # beyond one delivery
    message_id = f"op-{mobile.number[1:]}"
    mobile.say("POMOC", message_id)
    mobile.say("POMOC", message_id)  # the operator posts it again
    [reply] = wait_for_messages(gateway, mobile.number, 1, timeout_s=60)
    assert "SZCZEPIMYSIE" in reply["text"] and reply["id"] == f"sms-in-{message_id}"
    assert_no_more_messages(gateway, mobile.number, 1, watch_s=3)


def test_the_operator_must_authenticate(api: Api) -> None:
    body = {"message_id": "x1", "from": "+48601000000", "text": "TAK", "received_at": "2026-12-01T10:00:00Z"}
    assert api.call("POST", "/api/v1/sms/inbound", json=body).status_code == 401
    wrong = api.call("POST", "/api/v1/sms/inbound", "local-sms-inbound-token", json={**body, "message_id": "a/b"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_field"


def _first_visit(api: Api, token: str) -> str:
    return str(api.call("GET", "/api/v1/visits", token).json()["visits"][0]["visit_id"])


def _town_of(slot: dict[str, str]) -> str:
    """The town of a slot's point: the end of its address ("ul. X 1, 00-001 Town Name")."""
    return str(slot["address"]).split(", ")[-1].split(" ", 1)[1]


def _typo(town: str) -> str:
    """The town with one letter left out."""
    return town[:-2] + town[-1]
