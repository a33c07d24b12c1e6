"""Every refusal the patient app, the call-centre console and the point console can meet has a sentence in
both languages, once."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What the two apps call: sign-in, search, visits (patient and agent), the interest form, and the
# edge every route shares (auth, rate limits, parsing).
SOURCES = [
    "functions/login.py", "functions/slots.py", "functions/visits.py", "functions/agent.py", "functions/interest.py",
    "shared/services/identity.py", "shared/domain/identity.py", "shared/services/visits.py",
    "shared/domain/booking.py", "shared/domain/series.py", "shared/services/interest.py",
    "shared/domain/programme.py", "shared/entrypoints/visit_http.py", "shared/entrypoints/auth.py",
    "shared/entrypoints/web.py",
    "functions/point.py", "shared/services/points.py", "shared/services/walkins.py", "shared/entrypoints/checks.py",
    "shared/domain/schedule.py", "shared/domain/stock.py", "shared/domain/vaccination.py", "shared/services/hotline.py",
    # the admin app and the point console's staff: the registry
    "shared/domain/registry.py", "shared/services/registry.py", "functions/admin.py",
    "shared/adapters/spanner_reads.py",
]  # fmt: skip
# functions/admin.py also serves the programme and bulk e-referral jobs, which tools call, not the apps.
TOOLS_ONLY = {"unknown_job"}
CODE_PATTERNS = [
    r'Refused\(\s*RefusalKind\.\w+,\s*"([a-z_]+)"',  # domain refusals
    r'Refused\("([a-z_]+)"',  # sign-in refusals
    r'Problem\(\s*\d+,\s*"([a-z_]+)"',
    r'code="([a-z_]+)"',
    r'NotAuthenticated\("([a-z_]+)"',
]


def refusal_codes() -> set[str]:
    codes: set[str] = set()
    for source in SOURCES:
        text = (REPO / source).read_text()
        for pattern in CODE_PATTERNS:
            codes |= set(re.findall(pattern, text))
    return codes


def refusal_keys(language: str) -> list[str]:
    script = (REPO / "web" / "site" / "common" / "i18n.js").read_text()
    block = re.search(rf"^  {language}: \{{\n(.*?)^  \}},", script, re.S | re.M)
    assert block, f"no {language} block in i18n.js"
    return re.findall(r"^\s+'refusal\.([a-z_]+)':", block.group(1), re.M)


def texts(language: str) -> set[str]:
    return set(refusal_keys(language))


def test_no_refusal_has_two_texts_in_one_language() -> None:
    for language in ("pl", "en"):
        keys = refusal_keys(language)
        assert sorted({key for key in keys if keys.count(key) > 1}) == [], language


def test_every_refusal_of_the_routes_the_apps_call_has_a_text_in_polish_and_english() -> None:
    codes = refusal_codes() - TOOLS_ONLY
    assert {"slot_full", "already_booked", "phone_required", "cohort_already_open", "invalid_pesel"} <= codes
    for language in ("pl", "en"):
        assert sorted(codes - texts(language)) == [], language
    assert texts("pl") == texts("en")
