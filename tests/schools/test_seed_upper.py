"""The upper-secondary demo school (schools/demo.py): grades 10-12, several combinations of
electives and clusters, and one class (10A1) that mixes two; its demo marks follow each
student's choices (docs/curriculum.md#subject-choices-in-grades-10-to-12)."""

import datetime

from gradebook.demo import seed_school_marks
from gradebook.models import Kind, Mark
from gradebook.results import class_results
from schools.demo import MIXED_CLASS, UPPER_CODE, seed_demo
from schools.models import ClassGroup, School, SchoolLevel, SubjectChoice
from schools.programme import choice_errors
from schools.subject_choices import class_choices

TODAY = datetime.date(2026, 11, 23)


def test_the_demo_has_an_upper_secondary_class_with_two_combinations(db):
    seed_demo(today=TODAY, password="demo-pass-123")
    school = School.objects.get(code=UPPER_CODE)
    assert school.level == SchoolLevel.UPPER_SECONDARY
    classes = ClassGroup.objects.filter(year__school=school)
    assert {c.grade for c in classes} == {10, 11, 12}
    combinations_by_class = {}
    for class_group in classes:
        chosen = class_choices(class_group)
        assert len(chosen) == class_group.enrollments.count()  # everyone has chosen
        for electives, topics in chosen.values():
            assert choice_errors(electives, topics) == []
        combinations_by_class[class_group.name] = {
            frozenset(electives) for electives, _topics in chosen.values()
        }
    assert len(combinations_by_class[MIXED_CLASS]) == 2
    assert len(set().union(*combinations_by_class.values())) >= 3
    mixed = classes.get(name=MIXED_CLASS)
    taught = set(mixed.assignments.values_list("subject__code", flat=True))
    assert {"VL", "SH", "DL", "GDKTPL", "TOAN", "LS"} <= taught
    assert "AN" not in taught  # no combination of the class has Music


def test_the_demo_marks_follow_each_students_choices(db):
    seed_demo(today=TODAY, password="demo-pass-123")
    school = School.objects.get(code=UPPER_CODE)
    assert seed_school_marks(school) > 0
    mixed = ClassGroup.objects.get(year__school=school, name=MIXED_CLASS)
    year = mixed.year
    physics = SubjectChoice.objects.filter(year=year, subject__code="VL")
    takers = set(physics.values_list("student_id", flat=True))
    in_class = set(mixed.enrollments.values_list("student_id", flat=True))
    assert takers & in_class and in_class - takers
    marked = set(
        Mark.objects.filter(year=year, subject__code="VL", student_id__in=in_class).values_list(
            "student_id", flat=True
        )
    )
    assert marked == takers & in_class
    clusters = set(physics.filter(with_topics=True).values_list("student_id", flat=True))
    with_tx4 = set(
        Mark.objects.filter(year=year, subject__code="VL", kind=Kind.REGULAR, slot="4").values_list(
            "student_id", flat=True
        )
    )
    assert with_tx4 & in_class == clusters & in_class
    results = class_results(mixed)
    assert all(s.learning_year is not None for s in results.students)  # a complete year
