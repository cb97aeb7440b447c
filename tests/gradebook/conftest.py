import datetime

import pytest

from gradebook.columns import subject_columns
from schools.models import ClassGroup, School
from schools.services import create_school_year
from tests.conftest import add_students


@pytest.fixture
def maths_columns(class_a):
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    return {c.key: c for c in subject_columns(entry, 1)}


@pytest.fixture
def student(class_a):
    return class_a.enrollments.order_by("roll_number").first().student


@pytest.fixture
def grade4(db) -> ClassGroup:
    school = School.objects.create(code="PRIMARY1", name="Trường TH", department_code="01",
                                   level="primary")  # fmt: skip
    year = create_school_year(
        school=school,
        start_year=2025,
        term1=(datetime.date(2025, 9, 5), datetime.date(2026, 1, 15)),
        term2=(datetime.date(2026, 1, 19), datetime.date(2026, 5, 25)),
    )
    class_group = ClassGroup.objects.create(year=year, name="4A1", grade=4)
    add_students(class_group, [("Vũ Minh Khang", "M")], start=300)
    return class_group
