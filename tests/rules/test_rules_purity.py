"""gradebook.rules is pure Python: it imports only the standard library, never Django."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradebook.rules import primary, secondary

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "gradebook" / "rules"
MODULES = sorted(RULES_DIR.glob("*.py"))


def test_rules_package_has_the_expected_modules():
    names = {path.stem for path in MODULES}
    assert {"__init__", "secondary", "primary", "errors", "options"} <= names


def test_importing_every_rules_module_loads_no_django():
    script = (
        "import importlib, pkgutil, sys\n"
        "import gradebook.rules as rules\n"
        "for info in pkgutil.iter_modules(rules.__path__):\n"
        "    importlib.import_module('gradebook.rules.' + info.name)\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_rules_module_imports_only_the_standard_library(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.append(node.module or "")
    outside = [name for name in imported if name.split(".")[0] not in sys.stdlib_module_names]
    assert outside == []
    assert "django" not in path.read_text(encoding="utf-8").replace("Django", "")


@pytest.mark.parametrize(
    "function",
    [
        getattr(module, name)
        for module in (secondary, primary)
        for name in module.__all__
        if inspect.isfunction(getattr(module, name))
    ],
    ids=lambda function: function.__name__,
)
def test_every_rule_function_cites_its_section(function):
    doc = inspect.getdoc(function) or ""
    assert "docs/regulations.md#" in doc  # tests/test_docs_citations.py checks the heading
