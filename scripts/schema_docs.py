"""Markdown tables of every element and attribute name of the transcript XML schemas.

Reads ``transcripts/schema/goi-hocba-v1.xsd``, ``hocba-v1.xsd`` and ``hocbaso-v1.xsd`` and, for
each, lists every named ``xs:element`` and ``xs:attribute`` declaration in document order with
its Vietnamese (``xml:lang="vi"``) and English (``xml:lang="en"``) ``xs:documentation``.

Names in the table are paths of the declaration's enclosing *named* schema components (element
declarations and named complex/simple types, groups and attribute groups), joined by ``/``; an
attribute is ``@name`` appended to its owner's path. So a top-level element is ``goiHocBa``, a
local element of the named type ``student`` is ``student/hoTen`` (not ``hocBa/hocSinh/hoTen``:
a type's local declarations are listed once, under the type), an element nested in an anonymous
type is ``goiHocBa/truong/maTruong``, and attributes are ``goiHocBa/hocBa@maHocBa`` or
``transcriptData@Id``.

Usage::

    python scripts/schema_docs.py          # print the tables
    python scripts/schema_docs.py --write  # put them in docs/package-format.md

``--write`` replaces what is between the lines ``<!-- schema-tables:start -->`` and
``<!-- schema-tables:end -->`` of docs/package-format.md. tests/transcripts/test_schema_docs.py
checks that both languages are there for every name and that the document is up to date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "transcripts" / "schema"
SCHEMAS = ("goi-hocba-v1.xsd", "hocba-v1.xsd", "hocbaso-v1.xsd")
DOC_PATH = ROOT / "docs" / "package-format.md"
START_MARKER = "<!-- schema-tables:start -->"
END_MARKER = "<!-- schema-tables:end -->"

XS = "{http://www.w3.org/2001/XMLSchema}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DECLARATIONS = {f"{XS}element": "element", f"{XS}attribute": "attribute"}
# Named components that contain declarations and so appear in a declaration's path.
CONTAINERS = {
    f"{XS}{tag}" for tag in ("element", "complexType", "simpleType", "group", "attributeGroup")
}


def _path(declaration: etree._Element) -> str:
    owners = [
        ancestor.get("name", "")
        for ancestor in declaration.iterancestors()
        if ancestor.tag in CONTAINERS and ancestor.get("name")
    ]
    owner = "/".join(reversed(owners))
    name = declaration.get("name", "")
    if declaration.tag == f"{XS}attribute":
        return f"{owner}@{name}"
    return f"{owner}/{name}" if owner else name


def _documentation(declaration: etree._Element, lang: str) -> str:
    """The declaration's own documentation in ``lang``, whitespace collapsed ("" if none)."""
    texts = [
        " ".join("".join(doc.itertext()).split())
        for doc in declaration.findall(f"{XS}annotation/{XS}documentation")
        if doc.get(XML_LANG) == lang
    ]
    return " ".join(text for text in texts if text)


def _declarations(schema_file: str) -> Iterator[tuple[str, str, str, str]]:
    """(path, kind, vi, en) of every named element/attribute declaration, in document order."""
    tree = etree.parse(str(SCHEMA_DIR / schema_file))
    for node in tree.getroot().iter(*DECLARATIONS):
        if node.get("name"):
            kind = DECLARATIONS[str(node.tag)]
            yield _path(node), kind, _documentation(node, "vi"), _documentation(node, "en")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def schema_tables() -> str:
    """Markdown: per schema, a ``### file`` heading and a table of its names in both languages."""
    sections = []
    for schema_file in SCHEMAS:
        lines = [
            f"### {schema_file}",
            "",
            "| name | kind | Tiếng Việt | English |",
            "| --- | --- | --- | --- |",
        ]
        for path, kind, vi, en in _declarations(schema_file):
            lines.append(f"| `{path}` | {kind} | {_cell(vi)} | {_cell(en)} |")
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


def missing_translations() -> list[str]:
    """``file: path (kind) lacks en/vi`` for every named declaration missing a language."""
    missing = []
    for schema_file in SCHEMAS:
        for path, kind, vi, en in _declarations(schema_file):
            lacking = [lang for lang, text in (("en", en), ("vi", vi)) if not text]
            if lacking:
                missing.append(f"{schema_file}: {path} ({kind}) lacks {', '.join(lacking)}")
    return missing


def write_tables(doc_path: Path = DOC_PATH) -> None:
    """Replace the text between the marker lines of ``doc_path`` with :func:`schema_tables`."""
    lines = doc_path.read_text(encoding="utf-8").splitlines(keepends=True)
    stripped = [line.strip() for line in lines]
    if START_MARKER not in stripped or END_MARKER not in stripped:
        raise SystemExit(
            f"{doc_path}: the marker lines {START_MARKER} and {END_MARKER} are missing; "
            "add them where the schema tables belong"
        )
    start = stripped.index(START_MARKER)
    if END_MARKER not in stripped[start + 1 :]:
        raise SystemExit(f"{doc_path}: {END_MARKER} must come after {START_MARKER}")
    end = stripped.index(END_MARKER, start + 1)
    middle = "\n" + schema_tables() + "\n"
    text = "".join(lines[: start + 1]) + middle + "".join(lines[end:])
    doc_path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Markdown tables of the schemas' names.")
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"replace the tables between the markers in {DOC_PATH.relative_to(ROOT)}",
    )
    args = parser.parse_args(argv)
    if args.write:
        write_tables()
        print(f"wrote the schema tables to {DOC_PATH.relative_to(ROOT)}")
    else:
        sys.stdout.write(schema_tables())


if __name__ == "__main__":
    main()
