"""The transcript schemas document every name in Vietnamese and English, and
docs/package-format.md shows the tables generated from them (scripts/schema_docs.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "schema_docs.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("schema_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


schema_docs = _load_script()


def _between_markers(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines()]
    if schema_docs.START_MARKER not in lines or schema_docs.END_MARKER not in lines:
        return None
    start = lines.index(schema_docs.START_MARKER)
    end = lines.index(schema_docs.END_MARKER, start + 1)
    return "\n".join(text.splitlines()[start + 1 : end])


def test_every_schema_name_is_documented_in_both_languages():
    assert schema_docs.missing_translations() == []


def test_package_format_doc_has_the_current_schema_tables():
    rerun = "run `python scripts/schema_docs.py --write`"
    doc = schema_docs.DOC_PATH
    assert doc.exists(), f"{doc} is missing; create it with the marker lines and {rerun}"
    current = _between_markers(doc.read_text(encoding="utf-8"))
    assert current is not None, (
        f"{doc} lacks the lines {schema_docs.START_MARKER} and {schema_docs.END_MARKER}"
    )
    assert current.strip() == schema_docs.schema_tables().strip(), (
        f"the schema tables in {doc} are out of date: {rerun}"
    )


def test_write_replaces_only_the_text_between_the_markers(tmp_path):
    doc = tmp_path / "package-format.md"
    doc.write_text(
        "# Title\n\nBefore.\n\n"
        f"{schema_docs.START_MARKER}\nold tables\n{schema_docs.END_MARKER}\n\nAfter.\n",
        encoding="utf-8",
    )
    schema_docs.write_tables(doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nBefore.\n\n") and text.endswith("\n\nAfter.\n")
    assert "old tables" not in text
    assert _between_markers(text).strip() == schema_docs.schema_tables().strip()


def test_write_refuses_a_document_without_markers(tmp_path):
    doc = tmp_path / "package-format.md"
    doc.write_text("# Title\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="marker lines"):
        schema_docs.write_tables(doc)
    assert doc.read_text(encoding="utf-8") == "# Title\n"


def test_names_are_paths_of_their_enclosing_declarations():
    tables = schema_docs.schema_tables()
    assert "| `student/hoTen` | element | Họ và tên. |" in tables
    assert "| `transcriptData@maHocBa` | attribute |" in tables
    assert "| `goiHocBa/hocBa@maHocBa` | attribute |" in tables
    assert "### hocbaso-v1.xsd" in tables
