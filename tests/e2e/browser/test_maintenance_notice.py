"""The maintenance notice an operator switches on (config.json, docs/runbook.md) shows on every app."""

from __future__ import annotations

import json

from playwright.sync_api import Page, Route, expect

APPS = ["/", "/agent/", "/point/", "/dashboard/"]
NOTICE = "Przerwa techniczna dziś 02:00-03:00. Rezerwacje wrócą po przerwie."


def _config(maintenance: str | None) -> dict[str, str]:
    config = {"identity": "dev"}
    return {**config, "maintenance": maintenance} if maintenance else config


def test_every_app_shows_the_maintenance_notice_and_none_without_one(page: Page) -> None:
    def with_notice(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(_config(NOTICE)))

    page.route("**/config.json", with_notice)
    for path in APPS:
        page.goto(path)
        expect(page.get_by_role("alert").filter(has_text=NOTICE)).to_be_visible()
    page.unroute("**/config.json")
    page.goto("/agent/")
    expect(page.locator("#maintenance-notice")).to_have_count(0)
