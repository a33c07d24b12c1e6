"""openapi.yaml describes every route every HTTP function serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from tests.unit.function_routes import function_rules

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


def test_the_spec_is_valid_openapi() -> None:
    validate(SPEC)


def _routes() -> list[tuple[str, str]]:
    found = []
    for _, rule in function_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        found += [(method.lower(), path) for method in rule.methods or () if method not in ("HEAD", "OPTIONS")]
    return found


@pytest.mark.parametrize(("method", "path"), _routes())
def test_every_route_is_in_the_spec(method: str, path: str) -> None:
    assert method in SPEC["paths"].get(path, {}), f"{method.upper()} {path} is missing from openapi.yaml"
