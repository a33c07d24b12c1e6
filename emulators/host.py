"""The local function host: every function of main.py in one process, at its production path.

Each function is its own functions-framework app (``create_app`` per target), exactly what Cloud
Functions deploys; a small dispatcher picks the app by path and hands it the full path, as the load
balancer does in production. Pub/Sub push subscriptions call ``/_push/<function>/projects/P/topics/T``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from emulators.ports import LOOPBACK, is_listening
from emulators.static_site import SECURITY_HEADERS_BY_NAME, StaticSite
from shared.config import Settings

REPO = Path(__file__).resolve().parent.parent
OPENAPI = REPO / "openapi.yaml"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


FUNCTIONS_YAML = REPO / "infra" / "functions.yaml"


@dataclass(frozen=True)
class HttpMount:
    pattern: str  # regular expression over the full path
    function: str  # entry point in main.py (the declaration's `entry_point`, else its name)


def route_pattern(templates: Iterable[str]) -> str:
    """URL-map path templates as one regular expression, as infra/edge.tf turns them into the Cloud
    Armor pattern: "{x=*}" is one path segment, "**" the rest; a trailing slash is accepted."""

    def one(template: str) -> str:
        parts = re.split(r"(\{\w+=\*\}|\*\*)", template)
        return "".join("[^/]+" if p.startswith("{") else ".*" if p == "**" else re.escape(p) for p in parts)

    return f"^({'|'.join(one(t) for t in templates)})/?$"


def http_mounts(declaration: Path = FUNCTIONS_YAML) -> tuple[HttpMount, ...]:
    """The load balancer's routing, path -> function, from the one declaration Terraform reads too."""
    functions = yaml.safe_load(declaration.read_text())["functions"]
    return tuple(
        HttpMount(route_pattern(spec["routes"]), spec.get("entry_point", name))
        for name, spec in functions.items()
        if spec.get("trigger") == "http"
    )


# Production routing of the load balancer (infra/functions.yaml `routes`): the templates do not overlap.
HTTP_MOUNTS = http_mounts()

HSTS = ("Strict-Transport-Security", SECURITY_HEADERS_BY_NAME["Strict-Transport-Security"])
PUSH_PATH = re.compile(r"^/_push/(?P<function>[a-z_]+)/projects/[^/]+/topics/[^/]+/?$")


def _problem(status: int, code: str, title: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "code": code}, ensure_ascii=False)
    return (
        f"{status} {'Not Found' if status == 404 else 'Error'}",
        [("Content-Type", "application/problem+json")],
        body.encode(),
    )


def with_hsts(start_response: Callable[..., Any]) -> Callable[..., Any]:
    """Every answer carries HSTS, as the load balancer adds it to every backend's (infra/edge.tf)."""

    def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        if not any(name.lower() == "strict-transport-security" for name, _ in headers):
            headers = [*headers, HSTS]
        return start_response(status, headers, *args)

    return start


class LocalHost:
    def __init__(
        self,
        http_apps: dict[str, WSGIApp],
        push_apps: dict[str, WSGIApp],
        extra: dict[str, WSGIApp],
        site: WSGIApp | None = None,
    ):
        self._http = [(re.compile(m.pattern), http_apps[m.function]) for m in HTTP_MOUNTS if m.function in http_apps]
        self._push = push_apps
        self._extra = extra  # exact path prefix -> app (openapi, dev identity provider)
        self._site = site  # the web apps: every other path, as the load balancer's default backend

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._route(environ, with_hsts(start_response))

    def _route(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        for pattern, app in self._http:
            if pattern.match(path):
                return app(environ, start_response)
        push = PUSH_PATH.match(path)
        if push and push["function"] in self._push:
            return self._push[push["function"]](environ, start_response)
        for prefix, app in self._extra.items():
            if path == prefix or path.startswith(prefix + "/"):
                return app(environ, start_response)
        if self._site is not None and not path.startswith(("/api/", "/_push/")):
            return self._site(environ, start_response)
        status, headers, body = _problem(404, "not_found", "Nie ma takiego zasobu")
        start_response(status, headers)
        return [body]


def serve_openapi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/yaml; charset=utf-8")])
    return [OPENAPI.read_bytes()]


def create_host() -> LocalHost:
    """The WSGI app gunicorn serves (``emulators.host:create_host()``)."""
    import functions_framework

    from shared.bootstrap import get_container
    from shared.topology import PUSH_SUBSCRIPTIONS

    source = str(REPO / "main.py")
    http_apps = {
        mount.function: functions_framework.create_app(mount.function, source, "http") for mount in HTTP_MOUNTS
    }
    push_apps = {
        sub.function: functions_framework.create_app(sub.function, source, "cloudevent") for sub in PUSH_SUBSCRIPTIONS
    }
    extra: dict[str, WSGIApp] = {"/openapi.yaml": serve_openapi}
    container = get_container()
    if container.settings.is_local:
        from emulators.dev_idp import create_dev_idp, jwks

        extra["/dev/idp"] = create_dev_idp()
        container.dev_idp_jwks = jwks  # the same keys /dev/idp/jwks.json serves, without calling ourselves
    return LocalHost(http_apps, push_apps, extra, StaticSite())


def host_env(settings: Settings, base_url: str) -> dict[str, str]:
    """The environment that points a host at ``settings``' databases and names, serving at ``base_url``."""
    return {
        "EREG_DEPLOYMENT": settings.deployment,
        "GOOGLE_CLOUD_PROJECT": settings.project_id,
        "EREG_SPANNER_DATABASE": settings.spanner_database,
        "EREG_FIRESTORE_DATABASE": settings.firestore_database,
        "EREG_FIRESTORE_SESSIONS_DATABASE": settings.firestore_database_of("sessions"),
        "EREG_FIRESTORE_AUDIT_DATABASE": settings.firestore_database_of("audit"),
        "EREG_PUBSUB_PREFIX": settings.pubsub_prefix,
        "EREG_BIGQUERY_DATASET": settings.bigquery_dataset,
        "EREG_PUSH_ENDPOINT": base_url,
        "EREG_DEV_IDP_JWKS_URL": f"{base_url}/dev/idp/jwks.json",
        "EREG_REDIS_URL": settings.redis_url or "",
        "EREG_REDIS_KEY_PREFIX": settings.redis_key_prefix,
    }


def start_host(
    env: dict[str, str], port: int, threads: int = 16, log_path: Path | None = None, workers: int = 1
) -> subprocess.Popen[bytes]:
    """Start the host with gunicorn on loopback; returns once it answers health (or raises)."""
    from emulators.stack import STATE_DIR, StackError

    if is_listening(port):
        raise StackError(f"Port {port} for the local function host is already in use by another program.")
    if workers > 1:  # the emulator takes one read-write transaction at a time: queue them across workers
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        env = {"EREG_SPANNER_RW_LOCK_FILE": str(STATE_DIR / f"spanner-rw-{port}.lock"), **env}
    command = [
        sys.executable, "-m", "gunicorn", "emulators.host:create_host()", f"--bind={LOOPBACK}:{port}",
        f"--workers={workers}", "--worker-class=gthread", f"--threads={threads}", "--timeout=120",
        "--graceful-timeout=5", "--log-level=warning", "--backlog=2048", "--reuse-port", "--keep-alive=75",
    ]  # fmt: skip
    if os.environ.get("EREG_HOST_ACCESS_LOG"):  # request line, status and seconds taken, for profiling
        command += [f"--access-logfile={os.environ['EREG_HOST_ACCESS_LOG']}", "--access-logformat=%(r)s %(s)s %(L)s"]
    out = log_path.open("ab") if log_path else None  # None: the host logs to our terminal
    process = subprocess.Popen(
        command, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip

    def answers() -> None:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:] if log_path else ""
            raise StackError(f"The local function host exited at start.\n{tail}")
        requests.get(f"http://{LOOPBACK}:{port}/api/v1/health", timeout=5)

    try:
        Retrying(
            stop=stop_after_delay(60),
            wait=wait_fixed(0.2),
            retry=retry_if_exception_type(requests.RequestException),
            reraise=True,
        )(answers)
    except requests.RequestException:
        process.kill()
        raise StackError("The local function host did not answer within 60 s.") from None
    return process
