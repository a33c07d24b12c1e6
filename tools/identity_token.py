"""An Identity Platform ID token for the smoke user of a staging project (tools/smoke_test.py).

The build's service account signs a custom token for the smoke user (IAM Credentials signJwt, no
key file) with the user's identity as developer claims, and Identity Platform exchanges it for an
ID token: issuer ``https://securetoken.google.com/<project>``, audience the project, the claims at
the top level, ``firebase.sign_in_provider`` "custom". Only staging accepts that provider
(``EREG_IDENTITY_PROVIDERS``); production accepts the national login node's SAML provider only.

    EREG_SMOKE_PESEL=... python -m tools.identity_token --project P   # prints the ID token

The smoke user's PESEL is a test number from Secret Manager (``smoke-pesel``), never an argument.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

AUDIENCE = "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit"
SIGN_IN = "https://identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken"
SMOKE_UID = "ereg-smoke-user"

Post = Callable[[str, dict[str, Any], dict[str, str]], dict[str, Any]]


def custom_token_claims(account: str, pesel: str, now: int) -> dict[str, Any]:
    return {
        "iss": account,
        "sub": account,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "uid": SMOKE_UID,
        "claims": {"pesel": pesel, "given_name": "Test", "family_name": "Dymny"},
    }


def id_token(project: str, account: str, pesel: str, access_token: str, post: Post, now: int) -> str:
    headers = {"Authorization": f"Bearer {access_token}", "x-goog-user-project": project}
    signed = post(
        f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{account}:signJwt",
        {"payload": json.dumps(custom_token_claims(account, pesel, now))},
        headers,
    )
    answer = post(SIGN_IN, {"token": signed["signedJwt"], "returnSecureToken": True}, headers)
    return str(answer["idToken"])


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    import requests

    response = requests.post(url, json=body, headers=headers, timeout=20)
    if response.status_code != 200:
        raise SystemExit(f"{url.split('?')[0]}: {response.status_code}")  # no body: it may echo the claims
    result: dict[str, Any] = response.json()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", required=True)
    args = parser.parse_args(argv)
    pesel = os.environ.get("EREG_SMOKE_PESEL")
    if not pesel:
        print("EREG_SMOKE_PESEL is not set", file=sys.stderr)
        return 2
    import google.auth
    import google.auth.transport.requests

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    credentials.refresh(google.auth.transport.requests.Request())
    account = getattr(credentials, "service_account_email", None)
    if not account or "@" not in account:
        print("run as a service account (Cloud Build's)", file=sys.stderr)
        return 2
    print(id_token(args.project, account, pesel, str(credentials.token), _post, int(time.time())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
