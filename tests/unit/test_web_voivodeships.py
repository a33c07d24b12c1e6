"""The web apps' list of voivodeships is the one the API accepts and the demo data uses."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from emulators.seed import CITIES

REPO = Path(__file__).resolve().parents[2]


def test_the_web_list_of_voivodeships_matches_the_api_and_the_demo_data() -> None:
    listed = json.loads((REPO / "web" / "site" / "common" / "voivodeships.json").read_text())["voivodeships"]
    api = yaml.safe_load((REPO / "openapi.yaml").read_text())
    accepted = api["components"]["parameters"]["Voivodeship"]["schema"]["enum"]
    assert [v["code"] for v in listed] == accepted
    assert {v["code"]: v["name"] for v in listed} == {code: name for code, (name, _) in CITIES.items()}
