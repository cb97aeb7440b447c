"""The rendered học bạ: PDF/A-3b, our fonts only, Vietnamese text intact, every number printed,
and the XML carried inside as an attachment."""

from __future__ import annotations

import datetime
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from gradebook.models import Kind, Mark
from schools.models import ClassGroup, School, TeachingAssignment
from schools.services import create_school_year
from tests.conftest import add_students
from tests.gradebook.marks import (
    SCORED,
    cell,
    homeroom_marks,
    primary_year,
    subject_marks,
    year_of,
)
from tests.transcripts.test_snapshot_builder import bình, grade4_class, secondary_year  # noqa: F401
from transcripts.render import render_transcript_pdf, transcript_html
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
    printed = [  # a score as displayed, a code as its word ("Đạt", never "Đ")
        row[key].get("name", row[key]["display"])
        for row in snapshot["subjects"]
        for key in ("term1", "term2", "year", "reassessment")
        if row[key]
    ]
    assert "7,8" in printed and "8,1" in printed and "Đạt" in printed
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
        assert row["year_level"]["name"] in text  # the word ("Hoàn thành tốt"), not "HTT"


# --- codes never reach print; the official form's elements (issue 14) ---------------------------

#: Every regulation code (Circular 22 and 27 levels, results and their abbreviations).
CODES = {"T", "K", "D", "Đ", "CD", "CĐ", "HTXS", "HTT", "HT", "CHT", "CCG"}


def words_of(path: Path) -> set[str]:
    return {token.strip("()[]*,.:;") for token in run("pdftotext", str(path), "-").split()}


@pytest.fixture
def grade10_student(db):
    """An upper secondary student with a full year: 17 subjects, scores and Đạt/Chưa đạt."""
    school = School.objects.create(
        code="THPT1", name="Trường THPT Hồng Hà", department_code="01", level="upper_secondary"
    )
    year = create_school_year(
        school=school,
        start_year=2025,
        term1=(datetime.date(2025, 9, 5), datetime.date(2026, 1, 15)),
        term2=(datetime.date(2026, 1, 19), datetime.date(2026, 5, 25)),
    )
    class_group = ClassGroup.objects.create(year=year, name="10A1", grade=10)
    (student,) = add_students(class_group, [("Đặng Thu Trang", "F")], start=400)
    rows = []
    for entry in year.curriculum.filter(grade=10).select_related("subject"):
        value = "CD" if entry.subject.code == "MT" else "D"
        value = "6.5" if entry.assessment == "score" else value
        rows += subject_marks(class_group, student, entry.subject.code, 1, value)
        rows += subject_marks(class_group, student, entry.subject.code, 2, value)
    Mark.objects.bulk_create(rows)
    homeroom_marks(student, conduct=("D", "K"))
    return student, year


def test_no_bare_code_is_printed_at_any_level(
    bình,  # noqa: F811
    class_a,
    grade4_class,  # noqa: F811
    grade10_student,
    workdir,
):
    pupil = grade4_class.enrollments.get().student
    primary_year(grade4_class, pupil, levels={"TOAN": "HT", "TV": "CHT"}, quality="D")
    upper, year = grade10_student
    for name, snapshot, expected in (
        ("lower", build_snapshot(bình, class_a.year), {"Đạt", "Tốt", "Khá"}),
        ("upper", build_snapshot(upper, year), {"Đạt", "Chưa", "Khá"}),
        ("primary", build_snapshot(pupil, grade4_class.year), {"Hoàn", "Chưa", "Đạt"}),
    ):
        path = workdir / f"codes-{name}.pdf"
        path.write_bytes(render(snapshot)[0])
        words = words_of(path)
        assert not words & CODES, (name, words & CODES)
        assert expected <= words, name


def test_adjustment_footnote_prints_the_levels_words(class_a, workdir):
    student = class_a.enrollments.get(student__full_name="Trần Thị An").student
    scores = dict(zip(SCORED, ["9", "8.5", "8.2", "8", "8.1", "8.7", "7", "4.9"], strict=True))
    year_of(class_a, student, scores)
    homeroom_marks(student)
    snapshot = build_snapshot(student, class_a.year)
    assert snapshot["learning"]["year"]["unadjusted"] == "D"
    path = workdir / "adjusted.pdf"
    path.write_bytes(render(snapshot)[0])
    flowing = " ".join(run("pdftotext", str(path), "-").split())
    assert "Mức Khá được điều chỉnh từ mức Đạt do kết quả môn Tin học" in flowing
    assert "mức D " not in flowing


def test_identity_page_has_the_register_admission_and_photo_box(bình, class_a, workdir):  # noqa: F811
    bình.registration_number = "125/2025"
    bình.admission_date = datetime.date(2025, 9, 5)
    bình.save()
    snapshot = build_snapshot(bình, class_a.year)
    html = transcript_html(snapshot, verification_code=CODE, verification_url=URL)
    assert 'id="photo-box"' in html
    path = workdir / "identity.pdf"
    path.write_bytes(render(snapshot)[0])
    identity = " ".join(run("pdftotext", "-f", "1", "-l", "1", str(path), "-").split())
    for words in ("Số đăng bộ", "Ngày nhập học", "125/2025", "05/09/2025", "Ảnh 3×4"):
        assert words in identity, words


def test_results_page_names_each_subject_teacher(secondary):
    snapshot, path, _ = secondary
    results = " ".join(run("pdftotext", "-f", "2", "-l", "2", str(path), "-").split())
    assert "họ tên giáo viên môn học" in results
    named = {row["teacher_name"] for row in snapshot["subjects"] if row["teacher_name"]}
    assert named == {"teacher", "homeroom"}
    for name in named:
        assert name in results


def test_a_snapshot_stored_before_the_new_keys_still_renders(bình, class_a, workdir):  # noqa: F811
    stored = build_snapshot(bình, class_a.year)
    for key in ("place_name", "principal_name"):
        del stored["school"][key]
    for key in ("registration_number", "admission_date", "admission_date_display"):
        del stored["student"][key]
    for row in stored["subjects"]:
        del row["teacher_name"]
        for key in ("term1", "term2", "year", "reassessment"):
            if row[key]:
                row[key].pop("name", None)
    path = workdir / "stored.pdf"
    pdf, xml = render(stored)
    path.write_bytes(pdf)
    validate_xml(xml)
    assert not words_of(path) & CODES


def test_a_full_upper_secondary_year_fits_on_two_pages(grade10_student, teacher, workdir):
    """The longest results page: 17 subjects, each with a comment and its teacher's name, and
    the homeroom teacher's comment; the signature blocks stay on page 2 with the results."""
    student, year = grade10_student
    class_group = student.enrollments.get().class_group
    comment = "Có cố gắng, cần rèn thêm kĩ năng trình bày bài làm và tự học ở nhà."
    marks = [
        cell(student, 2, Kind.COMMENT, comment, subject=e.subject)
        for e in year.curriculum.filter(grade=10)
    ]
    marks.append(
        cell(student, 2, Kind.HOMEROOM_COMMENT, "Chăm ngoan, tích cực tham gia hoạt động.")
    )
    Mark.objects.bulk_create(marks)
    TeachingAssignment.objects.bulk_create(
        TeachingAssignment(teacher=teacher, class_group=class_group, subject=e.subject)
        for e in year.curriculum.filter(grade=10)
    )
    teacher.full_name = "Nguyễn Thị Thanh Hương"
    teacher.save()
    snapshot = build_snapshot(student, year)
    assert len(snapshot["subjects"]) == 17
    assert all(row["comment"] and row["teacher_name"] for row in snapshot["subjects"])
    path = workdir / "grade10.pdf"
    path.write_bytes(render(snapshot)[0])
    assert "Pages:           2" in run("pdfinfo", str(path))
    results = run("pdftotext", "-f", "2", "-l", "2", str(path), "-")
    assert "GIÁO VIÊN CHỦ NHIỆM" in results and "HIỆU TRƯỞNG" in results
