import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from schools.access import SETUP_ROLES, get_class_group, get_school, get_student


def request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_other_schools_are_not_found(world):
    with pytest.raises(Http404):
        get_school(request_for(world["users"]["teacher"]), world["school_b"].code)


def test_wrong_role_is_forbidden(world):
    with pytest.raises(PermissionDenied):
        get_school(
            request_for(world["users"]["principal"]), world["school_a"].code, roles=SETUP_ROLES
        )


def test_class_of_another_school_is_not_found_even_for_its_admin(world):
    access = get_school(request_for(world["users"]["admin"]), world["school_a"].code)
    with pytest.raises(Http404):
        get_class_group(access, world["class_b"].pk)


def test_teacher_sees_only_taught_classes(world):
    access = get_school(request_for(world["users"]["teacher"]), world["school_a"].code)
    assert list(access.visible_classes()) == [world["class_a"]]
    with pytest.raises(PermissionDenied):
        get_class_group(access, world["class_a2"].pk)


def test_teacher_reaches_students_of_own_class_only(world):
    access = get_school(request_for(world["users"]["teacher"]), world["school_a"].code)
    assert get_student(access, world["student_a"].pk) == world["student_a"]
    with pytest.raises(PermissionDenied):
        get_student(access, world["class_a2"].enrollments.get().student_id)
    with pytest.raises(Http404):
        get_student(access, world["student_b"].pk)


def test_inactive_membership_gives_no_access(world):
    teacher = world["users"]["teacher"]
    teacher.memberships.update(is_active=False)
    with pytest.raises(Http404):
        get_school(request_for(teacher), world["school_a"].code)


def test_one_person_in_two_schools_sees_both(world, school_b):
    from accounts.models import Membership, Role

    teacher = world["users"]["teacher"]
    Membership.objects.create(user=teacher, school=school_b, role=Role.TEACHER)
    assert get_school(request_for(teacher), school_b.code).roles == {"teacher"}
