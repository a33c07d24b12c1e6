"""Use cases read as named steps: no function in ``shared/`` is longer than 50 lines (issue 19).
A longer one does several jobs; split it into steps that each say what they do."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 50


def long_functions(path: Path, root: Path = ROOT) -> list[str]:
    """Each function (or method, or nested closure) of the file longer than ``MAX_LINES``, from its
    ``def`` line to its last line (decorators not counted)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_LINES:
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_in_shared_is_longer_than_fifty_lines() -> None:
    files = sorted((ROOT / "shared").rglob("*.py"))
    assert len(files) > 50  # the walk sees the package, not an empty folder
    assert [found for path in files for found in long_functions(path)] == []


def test_the_walk_finds_a_long_function_and_a_long_closure(tmp_path: Path) -> None:
    body = "\n".join(f"    x{n} = {n}" for n in range(MAX_LINES))
    inner = "\n".join(f"        y{n} = {n}" for n in range(MAX_LINES))
    source = tmp_path / "module.py"
    fits = "def fits():\n    return 1\n"
    source.write_text(f"{fits}\n\ndef long():\n{body}\n\n\ndef outer():\n    def work():\n{inner}\n")
    found = sorted(long_functions(source, tmp_path))
    assert found == ["module.py:5 long (51 lines)", "module.py:58 outer (52 lines)", "module.py:59 work (51 lines)"]
