"""The rendered học bạ: PDF/A-3b, our fonts only, Vietnamese text intact, every number printed,
and the XML carried inside as an attachment."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.gradebook.marks import primary_year
from tests.transcripts.test_snapshot_builder import bình, grade4_class, secondary_year  # noqa: F401
from transcripts.render import render_transcript_pdf
from transcripts.snapshot import build_snapshot
from transcripts.xml import snapshot_to_xml, validate_xml

URL = "https://sodiem.example/verify/K7QF-2M9D/"
CODE = "K7QF-2M9D"
HEADINGS = (
    "Nguyễn Văn Bình",
    "HỌC BẠ",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Trường THCS Ánh Dương",
    "Tiến bộ rõ rệt, cần phát huy.",
)


def render(snapshot) -> tuple[bytes, bytes]:
    xml = snapshot_to_xml(snapshot, transcript_id="HB-1", version=1)
    pdf = render_transcript_pdf(
        snapshot, xml_bytes=xml, verification_code=CODE, verification_url=URL
    )
    return pdf, xml


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("render")


@pytest.fixture
def secondary(bình, class_a, workdir):  # noqa: F811
    snapshot = build_snapshot(bình, class_a.year)
    pdf, xml = render(snapshot)
    path = workdir / "secondary.pdf"
    path.write_bytes(pdf)
    return snapshot, path, xml


def test_pdf_text_has_vietnamese_and_every_number(secondary):
    snapshot, path, _ = secondary
    assert path.read_bytes().startswith(b"%PDF-")
    text = run("pdftotext", "-layout", str(path), "-")
    flowing = " ".join(run("pdftotext", str(path), "-").split())
    for words in HEADINGS:
        assert words in flowing
    printed = [
        row[key]["display"]
        for row in snapshot["subjects"]
        for key in ("term1", "term2", "year", "reassessment")
        if row[key]
    ]
    assert "7,8" in printed and "8,1" in printed
    cells = Counter(re.findall(r"\S+", text))
    for display, count in Counter(printed).items():  # each printed value, as often as printed
        assert cells[display] >= count, display
    assert snapshot["student"]["personal_id"] in text
    assert cells[str(snapshot["absences"]["total"])]


def test_every_page_carries_the_verification_code(secondary):
    _, path, _ = secondary
    pages = run("pdftotext", str(path), "-").split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) == 2
    assert all(CODE in page and URL in page for page in pages)


def test_pdf_declares_pdfa3_and_carries_the_xml(secondary, workdir):
    _, path, xml = secondary
    assert 'pdfaid:part="3"' in run("pdfinfo", "-meta", str(path))
    assert "hocba.xml" in run("pdfdetach", "-list", str(path))
    out = workdir / "detached.xml"
    run("pdfdetach", "-save", "1", "-o", str(out), str(path))
    assert out.read_bytes() == xml
    validate_xml(out.read_bytes())


def test_only_our_fonts_are_embedded(secondary):
    _, path, _ = secondary
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts
    for line in fonts:
        assert "Noto-Serif" in line or "NotoSerif" in line, line
        assert " yes " in line  # embedded
    assert not any(name in "\n".join(fonts) for name in ("DejaVu", "Liberation"))


def test_rare_characters_fall_back_to_the_full_font(class_a, workdir):
    student = class_a.enrollments.get(student__full_name="Lê Hoàng Yến").student
    student.full_name = "Hờ A Pǎo"  # ǎ (U+01CE) is outside the Vietnamese subset
    student.save()
    pdf, _ = render(build_snapshot(student, class_a.year))
    path = workdir / "rare.pdf"
    path.write_bytes(pdf)
    assert "Hờ A Pǎo" in run("pdftotext", str(path), "-")
    assert "DejaVu" not in run("pdffonts", str(path))


def test_primary_transcript_renders(grade4_class, workdir):  # noqa: F811
    student = grade4_class.enrollments.get().student
    primary_year(grade4_class, student, tests={"TV": "9"})
    snapshot = build_snapshot(student, grade4_class.year)
    pdf, _ = render(snapshot)
    path = workdir / "primary.pdf"
    path.write_bytes(pdf)
    text = run("pdftotext", "-layout", str(path), "-")
    assert "Vũ Minh Khang" in text and "HỌC BẠ" in text and "TIỂU HỌC" in text
    assert "Hoàn thành chương trình lớp 4" in text and "Trách nhiệm" in text
    cells = re.findall(r"\S+", text)
    for row in snapshot["subjects"]:
        if row["year_test"]:
            assert row["year_test"]["display"] in cells
        assert row["year_level"]["display"] in cells
