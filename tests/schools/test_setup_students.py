import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from schools.models import ClassGroup, Enrollment, Student
from schools.setup_services import move_student, transfer_student_out

NEW_STUDENT = {
    "full_name": "Vũ Thị Mai",
    "sex": "F",
    "date_of_birth": "2014-05-20",
    "place_of_birth": "Hà Nội",
    "ethnicity": "Kinh",
    "nationality": "Việt Nam",
    "personal_id": "001314123456",
    "student_code": "HS123456",
    "residence": "",
    "father_name": "",
    "mother_name": "",
    "guardian_name": "",
    "guardian_phone": "",
}


def test_admin_adds_a_student_at_the_end_of_a_class(setup_client, url, world):
    data = {**NEW_STUDENT, "class_group": world["class_a"].pk}
    response = setup_client.post(url("setup_student_create"), data)
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(student__student_code="HS123456")
    assert enrollment.class_group == world["class_a"]
    assert enrollment.roll_number == 4


def test_personal_id_inconsistent_with_sex_and_birth_is_a_form_error(setup_client, url):
    data = {**NEW_STUDENT, "sex": "M"}  # digit 4 is 3: a girl born in the 2000s
    response = setup_client.post(url("setup_student_create"), data)
    errors = response.context["form"].errors.as_data()
    assert [e.code for e in errors["__all__"]] == ["personal_id_sex_century"]
    assert not Student.objects.filter(student_code="HS123456").exists()


def test_personal_id_year_must_match_the_date_of_birth(setup_client, url):
    data = {**NEW_STUDENT, "date_of_birth": "2013-05-20"}
    response = setup_client.post(url("setup_student_create"), data)
    errors = response.context["form"].errors.as_data()
    assert [e.code for e in errors["__all__"]] == ["personal_id_year"]


def test_student_code_is_unique_in_the_school(setup_client, url, world):
    data = {**NEW_STUDENT, "student_code": world["student_a"].student_code}
    response = setup_client.post(url("setup_student_create"), data)
    assert "student_code" in response.context["form"].errors


def test_admin_edits_a_student(setup_client, url, world):
    student = world["student_a"]
    data = {**NEW_STUDENT, "personal_id": student.personal_id, "sex": student.sex}
    data |= {"date_of_birth": student.date_of_birth.isoformat(), "student_code": "HS999"}
    response = setup_client.post(url("setup_student_edit", pk=student.pk), data)
    assert response.status_code == 302
    student.refresh_from_db()
    assert (student.full_name, student.student_code) == ("Vũ Thị Mai", "HS999")


def test_student_of_school_b_cannot_be_edited_through_school_a(setup_client, url, world):
    student_b = world["student_b"]
    response = setup_client.post(url("setup_student_edit", pk=student_b.pk), NEW_STUDENT)
    assert response.status_code == 404
    student_b.refresh_from_db()
    assert student_b.full_name == "Đỗ Thu Hà"


def test_student_transfers_out_and_keeps_the_enrollment(setup_client, url, world):
    student = world["student_a"]
    response = setup_client.post(
        url("setup_student_transfer", pk=student.pk), {"left_on": "2026-02-02"}
    )
    assert response.status_code == 302
    enrollment = student.enrollments.get()
    assert enrollment.left_on == datetime.date(2026, 2, 2)
    assert not Enrollment.objects.current().filter(student=student).exists()


def test_transfer_date_must_fall_in_the_school_year(world):
    enrollment = world["student_a"].enrollments.get()
    with pytest.raises(ValidationError) as error:
        transfer_student_out(enrollment=enrollment, left_on=datetime.date(2030, 1, 1))
    assert "left_on" in error.value.error_dict


def test_student_moves_to_another_class_of_the_same_year(setup_client, url, world):
    student, class_a2 = world["student_a"], world["class_a2"]
    data = {"to_class": class_a2.pk, "on": "2025-11-03"}
    response = setup_client.post(url("setup_student_move", pk=student.pk), data)
    assert response.status_code == 302
    day = datetime.date(2025, 11, 3)
    assert [e.class_group for e in Enrollment.objects.on(day).filter(student=student)] == [class_a2]
    before = Enrollment.objects.on(day - datetime.timedelta(days=1)).filter(student=student)
    assert [e.class_group for e in before] == [world["class_a"]]


def test_a_class_of_another_year_is_not_a_move(world, school_a):
    from schools.services import create_school_year

    other_year = create_school_year(
        school=school_a,
        start_year=2026,
        term1=(datetime.date(2026, 9, 5), datetime.date(2027, 1, 15)),
        term2=(datetime.date(2027, 1, 19), datetime.date(2027, 5, 25)),
        make_current=False,
    )
    elsewhere = ClassGroup.objects.create(year=other_year, name="7A1", grade=7)
    enrollment = world["student_a"].enrollments.get()
    with pytest.raises(ValidationError) as error:
        move_student(enrollment=enrollment, to_class=elsewhere, on=datetime.date(2025, 11, 3))
    assert "to_class" in error.value.error_dict


def test_student_list_filters_by_class_name_and_code(setup_client, url, world):
    def names(**query) -> list[str]:
        response = setup_client.get(url("setup_students"), query)
        return [r.record.full_name for r in response.context["table"].rows]

    assert names(class_group=world["class_a2"].pk) == ["Phạm Minh Đức"]
    assert names(name="Yến") == ["Lê Hoàng Yến"]
    assert names(code="000050") == ["Phạm Minh Đức"]
    world["student_a"].enrollments.update(left_on=datetime.date(2025, 12, 1))
    assert names(class_group="none") == [world["student_a"].full_name]


def add_boys(class_group: ClassGroup, count: int) -> None:
    students = Student.objects.bulk_create(
        Student(
            school=class_group.year.school,
            full_name=f"Nguyễn Văn Học {n}",
            sex="M",
            date_of_birth=datetime.date(2014, 1, 1),
            personal_id=f"001214{500 + n:06d}",
            student_code=f"HSX{n:05d}",
        )
        for n in range(count)
    )
    Enrollment.objects.bulk_create(Enrollment(student=s, class_group=class_group) for s in students)


def test_student_list_queries_do_not_grow_with_the_students(
    setup_client, url, world, django_assert_max_num_queries
):
    setup_client.get(url("setup_students"))  # the first request of a session checks MFA once
    with CaptureQueriesContext(connection) as few:
        setup_client.get(url("setup_students"))
    add_boys(world["class_a2"], 60)
    with django_assert_max_num_queries(len(few)):
        response = setup_client.get(url("setup_students"))
    assert len(response.context["table"].page.object_list) == 50
    assert response.context["table"].page.paginator.count == 64
    assert len(few) <= 12


def test_admin_records_the_registration_number_and_admission_date(setup_client, url, world):
    data = {**NEW_STUDENT, "registration_number": "125/2025", "admission_date": "2025-09-05"}
    response = setup_client.post(url("setup_student_create"), data)
    assert response.status_code == 302
    student = Student.objects.get(student_code="HS123456")
    assert (student.registration_number, student.admission_date) == (
        "125/2025",
        datetime.date(2025, 9, 5),
    )
    page = setup_client.get(url("setup_student_edit", pk=student.pk)).content.decode()
    assert 'name="registration_number"' in page and 'value="2025-09-05"' in page


def test_a_registration_number_is_unique_in_the_school(setup_client, url, world):
    Student.objects.filter(pk=world["student_a"].pk).update(registration_number="125")
    data = {**NEW_STUDENT, "registration_number": "125"}
    response = setup_client.post(url("setup_student_create"), data)
    errors = response.context["form"].errors.as_data()
    assert [e.code for e in errors["__all__"]] == ["registration_number_taken"]
    blank = setup_client.post(url("setup_student_create"), {**data, "registration_number": ""})
    assert blank.status_code == 302  # many students may have no number yet


def test_admission_before_birth_is_a_form_error(setup_client, url):
    data = {**NEW_STUDENT, "admission_date": "2014-05-19"}
    response = setup_client.post(url("setup_student_create"), data)
    assert "admission_date" in response.context["form"].errors
    assert not Student.objects.filter(student_code="HS123456").exists()
