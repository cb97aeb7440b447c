"""The house's layers (docs/development.md, Design): config → accounts → schools → gradebook →
transcripts → department. An app imports only from the apps before it; config imports none of
them. Every import counts, those under TYPE_CHECKING and inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["config", "accounts", "schools", "gradebook", "transcripts", "department"]


def imported_apps(path: Path) -> set[tuple[int, str]]:
    """(line, app) for every import of one of LAYERS in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {(node.lineno, name.split(".")[0]) for name in names}
    return {(line, app) for line, app in found if app in LAYERS}


def upward_imports(app: str) -> list[str]:
    above = set(LAYERS[LAYERS.index(app) + 1 :])
    return [
        f"{path.relative_to(ROOT)}:{line} imports {other}"
        for path in sorted((ROOT / app).rglob("*.py"))
        for line, other in sorted(imported_apps(path))
        if other in above
    ]


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_from_the_apps_below_it(app):
    assert upward_imports(app) == []


def test_the_check_sees_an_import_under_type_checking(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from schools.models import School\n"
    )
    assert imported_apps(module) == {(3, "schools")}
