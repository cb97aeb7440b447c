import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role
from schools.models import ClassGroup
from schools.services import create_school_year
from schools.setup_services import create_class_group, update_class_group


def test_admin_creates_a_class_with_a_homeroom_teacher(setup_client, url, world):
    teacher = world["users"]["teacher"]
    data = {"name": "7A1", "grade": 7, "homeroom_teacher": teacher.pk}
    response = setup_client.post(url("setup_class_create"), data)
    assert response.status_code == 302
    created = ClassGroup.objects.get(name="7A1")
    assert created.year == world["school_a"].current_year()
    assert created.homeroom_teacher == teacher


def test_homeroom_teacher_from_another_school_is_rejected_by_the_form(setup_client, url, world):
    data = {"name": "7A1", "grade": 7, "homeroom_teacher": world["users"]["outsider"].pk}
    response = setup_client.post(url("setup_class_create"), data)
    assert "homeroom_teacher" in response.context["form"].errors
    assert not ClassGroup.objects.filter(name="7A1").exists()


def test_homeroom_teacher_from_another_school_is_rejected_by_the_service(world):
    with pytest.raises(ValidationError) as error:
        create_class_group(
            year=world["school_a"].current_year(),
            name="7A1",
            grade=7,
            homeroom_teacher=world["users"]["outsider"],
        )
    assert "homeroom_teacher" in error.value.error_dict


def test_a_principal_without_a_teacher_role_cannot_be_homeroom_teacher(world):
    with pytest.raises(ValidationError):
        update_class_group(
            class_group=world["class_a2"],
            name="6A2",
            grade=6,
            homeroom_teacher=world["users"]["principal"],
        )


def test_deactivated_teacher_cannot_be_homeroom_teacher(world):
    teacher = world["users"]["teacher"]
    teacher.memberships.filter(role=Role.TEACHER).update(is_active=False)
    with pytest.raises(ValidationError):
        update_class_group(
            class_group=world["class_a2"], name="6A2", grade=6, homeroom_teacher=teacher
        )


def test_grade_must_be_taught_by_the_school(world):
    with pytest.raises(ValidationError) as error:
        create_class_group(
            year=world["school_a"].current_year(), name="10A1", grade=10, homeroom_teacher=None
        )
    assert "grade" in error.value.error_dict


def test_class_names_are_unique_in_a_year(setup_client, url):
    response = setup_client.post(url("setup_class_create"), {"name": "6a1", "grade": 6})
    assert "name" in response.context["form"].errors


def test_grade_change_that_strands_assignments_is_refused(world):
    class_a = world["class_a"]
    class_a.year.curriculum.filter(grade=7, subject__code="TOAN").delete()
    with pytest.raises(ValidationError) as error:
        update_class_group(
            class_group=class_a, name="6A1", grade=7, homeroom_teacher=class_a.homeroom_teacher
        )
    assert "grade" in error.value.error_dict


def test_class_list_filters_by_grade_and_name_and_counts_students(setup_client, url, world):
    ClassGroup.objects.create(year=world["school_a"].current_year(), name="7A1", grade=7)
    response = setup_client.get(url("setup_classes"), {"grade": 6})
    rows = {r.record.name: r.record.student_count for r in response.context["table"].rows}
    assert rows == {"6A1": 3, "6A2": 1}
    response = setup_client.get(url("setup_classes"), {"name": "a2"})
    assert [r.record.name for r in response.context["table"].rows] == ["6A2"]


def test_class_list_shows_the_chosen_year_only(setup_client, url, world):
    old = create_school_year(
        school=world["school_a"],
        start_year=2024,
        term1=(datetime.date(2024, 9, 5), datetime.date(2025, 1, 15)),
        term2=(datetime.date(2025, 1, 19), datetime.date(2025, 5, 25)),
        make_current=False,
    )
    ClassGroup.objects.create(year=old, name="6A9", grade=6)
    response = setup_client.get(url("setup_classes"), {"year": old.pk})
    assert [r.record.name for r in response.context["table"].rows] == ["6A9"]


def test_renumbering_puts_the_class_in_name_order(setup_client, url, world):
    class_a = world["class_a"]
    class_a.enrollments.update(roll_number=9)
    setup_client.post(url("setup_class_renumber", pk=class_a.pk))
    numbers = [(e.student.full_name, e.roll_number) for e in class_a.enrollments.all()]
    assert numbers == [("Trần Thị An", 1), ("Nguyễn Văn Bình", 2), ("Lê Hoàng Yến", 3)]
