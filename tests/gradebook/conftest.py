import pytest

from gradebook.columns import subject_columns


@pytest.fixture
def maths_columns(class_a):
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    return {c.key: c for c in subject_columns(entry, 1)}


@pytest.fixture
def student(class_a):
    return class_a.enrollments.order_by("roll_number").first().student
