"""The patient app shows each dose's EU Digital COVID Certificate as a QR image with a link to its PDF
(real Chromium; nothing is scanned: the test checks the image and the page)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import date

from playwright.sync_api import Page, expect

from shared.bootstrap import Container
from tests.e2e.browser.conftest import axe_violations, screenshot
from tests.e2e.browser.test_patient import sign_in
from tests.e2e.conftest import Api
from tests.e2e.test_certificates import Point, certificates, login_as
from tests.e2e.test_point_day import eventually


def test_a_vaccinated_patient_sees_the_qr_code_and_gets_the_pdf(
    page: Page, api: Api, new_pesel: Callable[..., str], new_phone: Callable[[], str], e2e_backends: Container
) -> None:
    pesel = new_pesel(date(1971, 6, 6))
    patient = login_as(api, pesel, "Jan", "Testowy")  # the names sign_in types
    Point(api, e2e_backends, new_pesel(date(1975, 2, 2))).vaccinate(patient, new_phone())
    [certificate] = eventually(lambda: certificates(api, patient), "the certificate is issued")

    sign_in(page, pesel)
    section = page.locator("#certificates")
    expect(section.get_by_role("heading", name="Moje certyfikaty COVID")).to_be_visible()
    card = section.locator(f"li[data-uvci='{certificate['uvci']}']")
    expect(card.get_by_role("heading", name="Unijny certyfikat COVID · dawka 1")).to_be_visible()
    image = card.get_by_role("img", name="Kod QR unijnego certyfikatu COVID, dawka 1")
    expect(image).to_be_visible()
    expect(image).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    # The image decoded in the browser (a real PNG, square, with its quiet zone) and fills its box.
    size = image.evaluate("img => img.decode().then(() => [img.naturalWidth, img.naturalHeight, img.width])")
    assert size[0] == size[1] > 100 and size[2] >= 200, size
    src = image.get_attribute("src") or ""
    assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")

    link = card.get_by_role("link", name="Pobierz certyfikat (PDF)")
    expect(link).to_have_attribute("href", re.compile(r"^blob:"))
    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename == "certyfikat-covid-dawka-1.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert link.get_attribute("download") == "certyfikat-covid-dawka-1.pdf"
    assert axe_violations(page) == []
    screenshot(page, "patient-certificate")


def test_a_patient_without_a_vaccination_is_told_where_the_certificate_will_be(
    page: Page, new_pesel: Callable[..., str]
) -> None:
    sign_in(page, new_pesel(date(1972, 7, 7)))
    expect(page.locator("#certificates").get_by_text("Certyfikat pojawi się tu po szczepieniu.")).to_be_visible()
