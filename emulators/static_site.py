"""The web apps on the local host, as the bucket behind the load balancer serves them in the cloud.

``web/site`` is the document root (``/patient/``, ``/agent/``, ``/point/``, ``/dashboard/``, ``/admin/``);
``web/aliases.json`` names the paths that serve another path's page (``/`` is the patient app, as the
load balancer's URL map rewrites it in the cloud); ``/vendor/<name>`` serves the npm files that
``web/package.json`` lists under ``vendor`` (the same map Cloud Build copies into the bucket), and
``/config.json`` tells the apps how people sign in here.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.security import safe_join

WEB = Path(__file__).resolve().parent.parent / "web"
SITE = WEB / "site"

# The headers the cloud's backend bucket adds too (infra/edge.tf reads the same file).
SECURITY_HEADERS_BY_NAME: dict[str, str] = json.loads((WEB / "headers.json").read_text())
SECURITY_HEADERS = list(SECURITY_HEADERS_BY_NAME.items())
LOCAL_CONFIG = {"identity": "dev"}  # sign in with the dev identity provider at /dev/idp
# Paths answered with another path's page (infra/edge.tf rewrites the same paths in the URL map).
ALIASES: dict[str, str] = json.loads((WEB / "aliases.json").read_text())


def vendor_files() -> dict[str, Path]:
    """``/vendor/<name>`` -> the file in ``web/node_modules``, as declared in ``web/package.json``."""
    declared: dict[str, str] = json.loads((WEB / "package.json").read_text())["vendor"]
    return {name: WEB / relative for name, relative in declared.items()}


StartResponse = Callable[..., Any]


def _answer(start_response: StartResponse, status: str, headers: list[tuple[str, str]], body: bytes) -> list[bytes]:
    start_response(status, [*headers, *SECURITY_HEADERS, ("Content-Length", str(len(body)))])
    return [body]


def _not_found(start_response: StartResponse) -> list[bytes]:
    body = json.dumps({"type": "about:blank", "title": "Nie ma takiego zasobu", "status": 404, "code": "not_found"})
    return _answer(start_response, "404 Not Found", [("Content-Type", "application/problem+json")], body.encode())


TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".svg": "image/svg+xml"}


def _file(path: Path) -> tuple[str, bytes]:
    kind = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind == "application/json":
        kind += "; charset=utf-8"
    return kind, path.read_bytes()


class StaticSite:
    """GET and HEAD of the web apps' files; anything else is not here."""

    def __init__(self, site: Path = SITE) -> None:
        self._site = site
        self._vendor = vendor_files()

    def resolve(self, path: str) -> Path | None:
        if path.startswith("/vendor/"):
            return self._vendor.get(path.removeprefix("/vendor/"))
        relative = ALIASES.get(path, path).lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        joined = safe_join(str(self._site), relative)
        return Path(joined) if joined is not None else None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "/")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _not_found(start_response)
        if path == "/config.json":
            body = json.dumps(LOCAL_CONFIG).encode()
            return _answer(start_response, "200 OK", [("Content-Type", "application/json")], body)
        target = self.resolve(path)
        if target is not None and target.is_dir():  # /agent -> /agent/, as the bucket's website config does
            return _answer(start_response, "301 Moved Permanently", [("Location", path + "/")], b"")
        if target is None or not target.is_file():
            return _not_found(start_response)
        kind, body = _file(target)
        cache = "no-cache" if kind.startswith("text/html") else "public, max-age=300"
        headers = [("Content-Type", kind), ("Cache-Control", cache)]
        answer = _answer(start_response, "200 OK", headers, body)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else answer
