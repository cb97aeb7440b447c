import pytest
from django.core.exceptions import ValidationError

from schools.models import Subject, TeachingAssignment
from schools.setup_services import create_teaching_assignment


def test_admin_assigns_a_teacher_to_a_class_and_subject(setup_client, url, world):
    class_a, teacher = world["class_a"], world["users"]["teacher"]
    english = world["school_a"].subjects.get(code="NN1")
    data = {"class_group": class_a.pk, "subject": english.pk, "teacher": teacher.pk}
    response = setup_client.post(url("setup_assignment_create"), data)
    assert response.status_code == 302
    assert TeachingAssignment.objects.filter(
        class_group=class_a, subject=english, teacher=teacher
    ).exists()


def test_subject_not_in_the_grades_curriculum_is_rejected(setup_client, url, world):
    elective = Subject.objects.create(school=world["school_a"], code="GDĐP", name="GDĐP")
    data = {
        "class_group": world["class_a"].pk,
        "subject": elective.pk,
        "teacher": world["users"]["teacher"].pk,
    }
    response = setup_client.post(url("setup_assignment_create"), data)
    assert "subject" in response.context["form"].errors
    assert not TeachingAssignment.objects.filter(subject=elective).exists()


def test_subject_taken_out_of_the_grade_is_rejected_by_the_service(world):
    class_a = world["class_a"]
    class_a.year.curriculum.filter(grade=6, subject__code="TIN").delete()
    with pytest.raises(ValidationError) as error:
        create_teaching_assignment(
            class_group=class_a,
            subject=world["school_a"].subjects.get(code="TIN"),
            teacher=world["users"]["teacher"],
        )
    assert "subject" in error.value.error_dict


def test_teacher_of_another_school_is_rejected_by_the_service(world):
    with pytest.raises(ValidationError) as error:
        create_teaching_assignment(
            class_group=world["class_a"],
            subject=world["school_a"].subjects.get(code="TIN"),
            teacher=world["users"]["outsider"],
        )
    assert "teacher" in error.value.error_dict


def test_the_same_assignment_is_not_made_twice(setup_client, url, world):
    data = {
        "class_group": world["class_a"].pk,
        "subject": world["school_a"].subjects.get(code="TOAN").pk,
        "teacher": world["users"]["teacher"].pk,
    }
    response = setup_client.post(url("setup_assignment_create"), data)
    assert response.context["form"].non_field_errors()
    assert TeachingAssignment.objects.filter(class_group=world["class_a"]).count() == 2


def test_removing_an_assignment_asks_first_then_deletes(setup_client, url, world):
    assignment = world["class_a"].assignments.get(subject__code="TOAN")
    page = setup_client.get(url("setup_assignment_delete", pk=assignment.pk))
    assert page.status_code == 200
    assert TeachingAssignment.objects.filter(pk=assignment.pk).exists()
    setup_client.post(url("setup_assignment_delete", pk=assignment.pk))
    assert not TeachingAssignment.objects.filter(pk=assignment.pk).exists()


def test_assignment_list_filters_by_class_subject_and_teacher(setup_client, url, world):
    by_teacher = setup_client.get(
        url("setup_assignments"), {"teacher": world["users"]["homeroom"].pk}
    )
    assert [r.record.subject.code for r in by_teacher.context["table"].rows] == ["NV"]
    maths = world["school_a"].subjects.get(code="TOAN")
    by_subject = setup_client.get(url("setup_assignments"), {"subject": maths.pk})
    assert [r.record.teacher.username for r in by_subject.context["table"].rows] == ["teacher"]
    by_class = setup_client.get(url("setup_assignments"), {"class_group": world["class_a2"].pk})
    assert list(by_class.context["table"].rows) == []
