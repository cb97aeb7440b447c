"""The roster import's "subject choices" column (grades 10-12,
docs/curriculum.md#subject-choices-in-grades-10-to-12): electives by code, ``*`` after a code
for its learning-topic clusters; a choice that breaks the programme's rules refuses the file."""

from __future__ import annotations

import datetime

import pytest

from schools.models import ClassGroup, School, SubjectChoice
from schools.services import create_school_year
from tests.schools.test_roster_students import run, xlsx

HEADER = ["STT", "Họ và tên", "Giới tính", "Ngày sinh", "Số định danh cá nhân", "Mã học sinh",
          "Lớp", "Môn học lựa chọn"]  # fmt: skip

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def upper(db) -> School:
    school = School.objects.create(
        code="THPT2", name="Trường THPT", department_code="01", level="upper_secondary"
    )
    year = create_school_year(
        school=school,
        start_year=2025,
        term1=(datetime.date(2025, 9, 5), datetime.date(2026, 1, 15)),
        term2=(datetime.date(2026, 1, 19), datetime.date(2026, 5, 25)),
    )
    ClassGroup.objects.create(year=year, name="10A1", grade=10)
    return school


def row(name, pid, code, choices):
    return [name, "Nam", "02/03/2010", pid, code, "10A1", choices]


def test_the_column_sets_each_students_electives_and_clusters(upper):
    outcome = run(upper, xlsx([row("Vũ Văn An", "001210000401", "HS401",
                                   "VL*, HH*; SH TIN, TOAN*")], HEADER))  # fmt: skip
    assert outcome.ok, outcome.errors
    chosen = SubjectChoice.objects.filter(student__student_code="HS401")
    assert dict(chosen.values_list("subject__code", "with_topics")) == {
        "VL": True, "HH": True, "SH": False, "TIN": False, "TOAN": True,
    }  # fmt: skip


def test_a_choice_breaking_the_rules_refuses_the_file(upper):
    outcome = run(upper, xlsx([row("Vũ Văn An", "001210000401", "HS401", "VL*, HH*, SH"),
                               row("Lê Văn Ba", "001210000402", "HS402", "VL, HH, SH, TIN,"
                                   " DL*, TOAN*, NV*")], HEADER))  # fmt: skip
    assert not outcome.ok
    messages = [(e.row, e.column, e.message) for e in outcome.errors]
    assert any(r == 2 and "exactly four" in m for r, _c, m in messages), messages
    assert any(r == 3 and "exactly four" in m for r, _c, m in messages), messages  # five
    assert {c for _r, c, _m in messages} == {"Môn học lựa chọn"}
    assert not SubjectChoice.objects.exists()
