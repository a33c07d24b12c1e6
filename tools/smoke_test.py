"""Smoke test of a deployment through its front door: health, sign in, search, book, see, cancel.

Cloud Build runs it against staging through the load balancer after every canary deploy (a failure
rolls the release back), and production's promotion runs it with ``--read-only`` (health and a
search: no booking among real people's). Locally it runs against ``make run``:

    python -m tools.smoke_test --base-url https://staging.example --assertion-command "python -m tools.staging_token"
    python -m tools.smoke_test --base-url http://127.0.0.1:8080 --dev-idp
    python -m tools.smoke_test --base-url https://example --read-only

``--assertion-command`` prints the smoke user's assertion (on staging an Identity Platform ID token of
the test user). ``--dev-idp`` asks the development identity provider, which exists only locally.
The smoke user's phone number (a first booking needs one) comes from ``EREG_SMOKE_PHONE``.
The booking is cancelled at the end, so its place goes back. Only step names, HTTP statuses and
counts are printed: never a token, PESEL or phone number.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests

VOIVODESHIPS = ("02", "04", "06", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28", "30", "32")


class SmokeFailed(Exception):
    pass


@dataclass
class Smoke:
    base_url: str
    assertion: Callable[[requests.Session], str] | None  # None: read-only
    vaccine: str = "comirnaty"
    phone: str | None = None  # a first booking needs one (the smoke user's test number; never printed)
    timeout_s: float = 20.0
    say: Callable[[str], None] = print
    http: requests.Session = field(default_factory=requests.Session)

    def call(self, step: str, method: str, path: str, expect: int, token: str | None = None, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.http.request(method, self.base_url + path, headers=headers, timeout=self.timeout_s, **kw)
        except requests.RequestException as error:
            raise SmokeFailed(f"{step}: {type(error).__name__}") from None
        self.say(f"{step}: {response.status_code}")
        if response.status_code != expect:
            code = response.json().get("code") if "json" in response.headers.get("Content-Type", "") else None
            raise SmokeFailed(f"{step}: {response.status_code}, expected {expect} (code {code})")
        return response.json() if response.content else None

    def run(self) -> dict[str, Any]:
        health = self.call("health", "GET", "/api/v1/health", 200)
        if health.get("status") != "ok":
            raise SmokeFailed(f"health: {health.get('status')}")
        slots = self.find_slots()
        if self.assertion is None:
            return {"slots": len(slots)}
        assertion = self.assertion(self.http)
        token = self.call("login", "POST", "/api/v1/login", 200, json={"assertion": assertion})["session_token"]
        slot = random.choice(slots[:20])
        body = {"point_id": slot["point_id"], "starts_at": slot["starts_at"], "vaccine": slot["vaccine"]}
        if self.phone:
            body["phone"] = self.phone
        booked = self.call("book", "POST", "/api/v1/visits", 201, token, json=body,
                           headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        visit_id = booked["visits"][0]["visit_id"]
        try:
            mine = self.call("my visits", "GET", "/api/v1/visits", 200, token)["visits"]
            if visit_id not in {v["visit_id"] for v in mine}:
                raise SmokeFailed("my visits: the booked visit is not listed")
        finally:  # the place goes back even when a check failed
            self.call("cancel", "DELETE", f"/api/v1/visits/{visit_id}", 204, token)
        self.call("logout", "POST", "/api/v1/logout", 204, token)
        return {"slots": len(slots), "booked": len(booked["visits"])}

    def find_slots(self) -> list[dict[str, Any]]:
        for voivodeship in VOIVODESHIPS:
            found = self.call(f"search {voivodeship}", "GET", "/api/v1/slots", 200,
                              params={"voivodeship": voivodeship, "vaccine": self.vaccine, "limit": "50"})  # fmt: skip
            if found["slots"]:
                return list(found["slots"])
        raise SmokeFailed(f"search: no free {self.vaccine} slot in any voivodeship")


def dev_idp_assertion(base_url: str, birth: date = date(1970, 4, 4)) -> Callable[[requests.Session], str]:
    """The local development identity provider's assertion for a fresh test patient."""
    from emulators.seed import pesel_for

    def issue(http: requests.Session) -> str:
        pesel = pesel_for(birth, random.randrange(1, 9000), female=False)
        body = {"pesel": pesel, "given_name": "Test", "family_name": "Dymny", "roles": [], "point_ids": []}
        response = http.post(f"{base_url}/dev/idp/assertions", json=body, timeout=10)
        if response.status_code != 201:
            raise SmokeFailed(f"dev idp: {response.status_code}")
        return str(response.json()["assertion"])

    return issue


def command_assertion(command: str) -> Callable[[requests.Session], str]:
    def issue(_: requests.Session) -> str:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=60, check=False)
        if done.returncode or not done.stdout.strip():
            raise SmokeFailed(f"assertion command exited {done.returncode}")
        return done.stdout.strip()

    return issue


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--assertion-command", help="prints the smoke user's assertion")
    source.add_argument("--dev-idp", action="store_true", help="the local development identity provider")
    source.add_argument("--read-only", action="store_true", help="health and search only (production)")
    parser.add_argument("--vaccine", default="comirnaty")
    parser.add_argument("--for-minutes", type=float, default=0, help="repeat every 30 s for this long (a canary)")
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    if args.read_only:
        assertion = None
    elif args.dev_idp:
        assertion = dev_idp_assertion(base)
    else:
        assertion = command_assertion(args.assertion_command)
    smoke = Smoke(base, assertion, args.vaccine, phone=os.environ.get("EREG_SMOKE_PHONE"))
    deadline = time.monotonic() + args.for_minutes * 60
    runs = 0
    while True:
        try:
            result = smoke.run()
        except SmokeFailed as failure:
            print(f"smoke test failed (run {runs + 1}): {failure}", file=sys.stderr)
            return 1
        runs += 1
        if time.monotonic() >= deadline:
            break
        time.sleep(30)  # pacing the probes of a live canary, not waiting for a condition
    print(f"smoke test passed {runs} time(s): {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
