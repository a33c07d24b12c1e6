"""The web apps' bundle for the bucket holds what the local host serves, and Cloud Build publishes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from emulators import static_site
from tools.web_bundle import BundleError, bundle

REPO = Path(__file__).resolve().parents[2]
APPS = ["patient/index.html", "agent/index.html", "point/index.html", "dashboard/index.html", "admin/index.html"]


def test_the_bundle_holds_every_app_the_vendor_files_and_the_national_login(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    files = {path.relative_to(out).as_posix() for path in bundle(out, "https://login.example/authorize")}
    assert set(APPS) <= files
    assert {f"vendor/{name}" for name in static_site.vendor_files()} <= files
    assert json.loads((out / "config.json").read_text()) == {
        "identity": "national",
        "login_url": "https://login.example/authorize",
    }
    site_files = {p.relative_to(static_site.SITE).as_posix() for p in static_site.SITE.rglob("*") if p.is_file()}
    assert files == site_files | {f"vendor/{name}" for name in static_site.vendor_files()} | {"config.json"}


def test_the_bundle_refuses_a_plain_http_login_and_missing_npm_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BundleError, match="https"):
        bundle(tmp_path / "a", "http://login.example/authorize")
    monkeypatch.setattr("tools.web_bundle.vendor_files", lambda: {"chart.umd.js": tmp_path / "missing.js"})
    with pytest.raises(BundleError, match="npm ci"):
        bundle(tmp_path / "b", "https://login.example/authorize")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_cloud_build_publishes_the_bundle_and_the_bucket_sends_the_local_headers() -> None:
    steps = yaml.safe_load((REPO / "cloudbuild.yaml").read_text())["steps"]
    scripts = " ".join(" ".join(map(str, step.get("args", []))) for step in steps)
    assert "tools.web_bundle web-bundle" in scripts
    assert "gcloud storage rsync web-bundle gs://${_PROJECT}-ereg-web" in scripts
    edge = (REPO / "infra" / "edge.tf").read_text()
    assert 'jsondecode(file("${path.module}/../web/headers.json"))' in edge
    assert dict(static_site.SECURITY_HEADERS) == json.loads((REPO / "web" / "headers.json").read_text())


def test_a_released_bundle_is_configured_per_environment_with_or_without_a_maintenance_notice(tmp_path: Path) -> None:
    from tools.web_bundle import configure

    out = tmp_path / "bundle"
    bundle(out, "https://login.staging.example/authorize")
    configure(out, "https://login.example/authorize", "Przerwa techniczna 02:00-03:00")
    assert json.loads((out / "config.json").read_text()) == {
        "identity": "national", "login_url": "https://login.example/authorize",
        "maintenance": "Przerwa techniczna 02:00-03:00",
    }  # fmt: skip
    configure(out, "https://login.example/authorize", "")
    assert "maintenance" not in json.loads((out / "config.json").read_text())
    with pytest.raises(BundleError, match="https"):
        configure(out, "http://login.example/authorize")


def test_the_patient_app_has_its_folder_and_answers_at_the_root_here_and_in_the_cloud() -> None:
    site = static_site.StaticSite()
    assert static_site.ALIASES == {"/": "/patient/"}
    assert site.resolve("/") == site.resolve("/patient/") == static_site.SITE / "patient" / "index.html"
    assert not (static_site.SITE / "index.html").exists()
    edge = (REPO / "infra" / "edge.tf").read_text()
    rule = edge[edge.index('jsondecode(file("${path.module}/../web/aliases.json"))') :]
    rule = rule[: rule.index("dynamic")]
    assert "full_path_match = route_rules.value.path" in rule
    assert "path_prefix_rewrite = route_rules.value.target" in rule
    assert "service  = google_compute_backend_bucket.web.id" in rule


def test_the_page_chrome_and_the_sign_in_are_written_once_in_the_shell() -> None:
    pages = {p.relative_to(static_site.SITE).as_posix(): p.read_text() for p in static_site.SITE.rglob("index.html")}
    assert set(pages) == set(APPS)
    for name, html in pages.items():
        for chrome in ('class="skip-link"', 'id="signin-form"', 'id="status"', 'id="language"', 'id="signout"'):
            assert chrome not in html, f"{name} repeats {chrome}: common/shell.js renders it"
    wiring = ("signInLocally(", "finishNationalSignIn(", "startNationalSignIn(", "signOut(", "'session:expired'")
    for script in static_site.SITE.rglob("*.js"):
        where = script.relative_to(static_site.SITE).as_posix()
        if where in ("common/shell.js", "common/signin.js", "common/api.js"):
            continue
        used = [call for call in wiring if call in script.read_text()]
        assert used == [], f"{where} wires signing in itself ({used}): common/shell.js does"
