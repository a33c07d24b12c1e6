"""The layers' one direction: domain rules and services never reach for a backend, a web framework,
an adapter or the composition root. Only ports (Protocols) cross the line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "google.cloud",
    "google.api_core",
    "google.auth",
    "flask",
    "werkzeug",
    "functions_framework",
    "cloudevents",
    "requests",
    "redis",
    "shared.adapters",
    "shared.entrypoints",
    "shared.bootstrap",
    "shared.config",
)
CORE = sorted(
    path.relative_to(ROOT) for layer in ("shared/domain", "shared/services") for path in (ROOT / layer).rglob("*.py")
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden_imports(path: Path) -> list[str]:
    return sorted(
        name for name in imported_modules(path) if any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN)
    )


@pytest.mark.parametrize("module", CORE, ids=str)
def test_domain_and_services_import_no_backend_framework_or_adapter(module: Path) -> None:
    assert forbidden_imports(ROOT / module) == []


def test_the_check_catches_an_adapter_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from shared.adapters.spanner_reads import read_free_slots\nimport google.cloud.spanner\n")
    assert forbidden_imports(sneaky) == [
        "google.cloud.spanner",
        "shared.adapters.spanner_reads",
        "shared.adapters.spanner_reads.read_free_slots",
    ]


def test_the_core_is_found() -> None:
    assert {"shared/services/visits.py", "shared/domain/booking.py"} <= {str(m) for m in CORE}


def get_container_calls(path: Path) -> int:
    tree = ast.parse(path.read_text(), filename=str(path))
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) == "get_container" or getattr(node.func, "attr", None) == "get_container")
    )


EDGE_AND_CORE = sorted(
    path.relative_to(ROOT)
    for layer in ("shared/entrypoints", "shared/services")
    for path in (ROOT / layer).rglob("*.py")
)
FUNCTIONS = sorted(path.relative_to(ROOT) for path in (ROOT / "functions").glob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize("module", EDGE_AND_CORE, ids=str)
def test_handlers_and_services_are_handed_what_they_use(module: Path) -> None:
    assert get_container_calls(ROOT / module) == 0


@pytest.mark.parametrize("module", FUNCTIONS, ids=str)
def test_a_function_takes_the_container_in_one_place(module: Path) -> None:
    assert get_container_calls(ROOT / module) == 1  # its composition: everything else is handed in


def test_the_container_check_counts_calls(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "import shared.bootstrap as b\nx = b.get_container().visits\ndef f():\n    return get_container()\n"
    )
    assert get_container_calls(sneaky) == 2
    assert {"shared/entrypoints/auth.py", "shared/services/visits.py"} <= {str(m) for m in EDGE_AND_CORE}
    assert "functions/point.py" in {str(m) for m in FUNCTIONS}
