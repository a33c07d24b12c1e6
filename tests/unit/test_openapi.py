"""openapi.yaml describes every route every HTTP function serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

import main
from emulators.host import HTTP_MOUNTS

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


def test_the_spec_is_valid_openapi() -> None:
    validate(SPEC)


def _routes() -> list[tuple[str, str]]:
    found = []
    for mount in HTTP_MOUNTS:
        module = __import__(getattr(main, mount.function).__module__, fromlist=["routes"])
        for rule in module.routes._map.iter_rules():
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            found += [(method.lower(), path) for method in rule.methods or () if method not in ("HEAD", "OPTIONS")]
    return found


@pytest.mark.parametrize(("method", "path"), _routes())
def test_every_route_is_in_the_spec(method: str, path: str) -> None:
    assert method in SPEC["paths"].get(path, {}), f"{method.upper()} {path} is missing from openapi.yaml"
