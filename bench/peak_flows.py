"""The peak's client behaviour, run inside the load process (bench/load.py, gevent-patched).

Each call of the task is one request of one flow, chosen by the flows' weights, so request counts
keep the national peak's proportions however slow each flow is. Flows feed each other as patients
do: a login makes a session that may book; a booking makes a visit that may be moved or cancelled.
Request names are the flows' names, so locust's statistics are per flow.
"""

from __future__ import annotations

import collections
import random
import uuid
from collections.abc import Callable
from typing import Any

TRIVIAL_PATH = "/dev/idp/jwks.json"


def peak_task(payload: dict[str, Any]) -> Callable[[Any], None]:
    rng = random.Random()
    weights: dict[str, float] = payload["weights"]
    names, cumulative = list(weights), []
    total = 0.0
    for name in names:
        total += weights[name]
        cumulative.append(total)
    assertions: collections.deque[list[str]] = collections.deque(payload.get("assertions", []))  # [assertion, phone]
    queries: list[str] = payload.get("queries", [])
    slots: list[list[str]] = payload.get("slots", [])
    sessions: collections.deque[tuple[str, str]] = collections.deque()  # (session, phone): not booked yet
    visits: collections.deque[tuple[str, str]] = collections.deque()  # (session, dose 1 visit id)

    def trivial(client: Any) -> None:
        with client.get(TRIVIAL_PATH, name="trivial", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(str(response.status_code))

    def search(client: Any) -> None:
        with client.get(rng.choice(queries), name="search", catch_response=True) as response:
            if response.status_code != 200:  # an empty answer is a right answer too
                response.failure(str(response.status_code))

    def login(client: Any) -> None:
        if not assertions:
            return search(client)  # out of prepared patients: the client still does something
        assertion, phone = assertions.popleft()
        with client.post("/api/v1/login", json={"assertion": assertion}, name="login", catch_response=True) as response:
            if response.status_code == 200:
                sessions.append((response.json()["session_token"], phone))
            else:
                response.failure(str(response.status_code))

    def book(client: Any) -> None:
        if not sessions:
            return login(client)
        token, phone = sessions.popleft()
        point_id, starts_at, vaccine = rng.choice(slots)
        body = {"point_id": point_id, "starts_at": starts_at, "vaccine": vaccine, "phone": phone}
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        with client.post("/api/v1/visits", json=body, headers=headers, name="book", catch_response=True) as response:
            if response.status_code == 201:
                first = min(response.json()["visits"], key=lambda v: v["dose"])
                visits.append((token, first["visit_id"]))
            elif response.status_code == 409 and response.json().get("code") == "slot_full":
                response.success()  # a right answer at a peak: the patient tries another place
                sessions.append((token, phone))
            else:
                response.failure(f"{response.status_code} {response.text[:80]}")

    def move(client: Any) -> None:
        if not visits:
            return book(client)
        token, visit_id = visits.popleft()
        point_id, starts_at = rng.choice(slots)[:2]
        headers = {"Authorization": f"Bearer {token}"}
        body = {"point_id": point_id, "starts_at": starts_at}
        with client.request(
            "PATCH", f"/api/v1/visits/{visit_id}", json=body, headers=headers, name="move", catch_response=True
        ) as response:
            if response.status_code == 409 and response.json().get("code") == "slot_full":
                response.success()
            elif response.status_code != 200:
                response.failure(f"{response.status_code} {response.text[:80]}")
            visits.append((token, visit_id))

    def cancel(client: Any) -> None:
        if not visits:
            return book(client)
        token, visit_id = visits.popleft()
        headers = {"Authorization": f"Bearer {token}"}
        with client.request(
            "DELETE", f"/api/v1/visits/{visit_id}", headers=headers, name="cancel", catch_response=True
        ) as response:
            if response.status_code != 204:
                response.failure(f"{response.status_code} {response.text[:80]}")

    flows = {"trivial": trivial, "search": search, "login": login, "book": book, "move": move, "cancel": cancel}

    def task(client: Any) -> None:
        draw = rng.random() * total
        for name, edge in zip(names, cumulative, strict=True):
            if draw < edge:
                flows[name](client)
                return

    return task
