import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.models import Membership, Role, User
from schools.setup_services import deactivate_staff_member, update_staff_member

NEW_TEACHER = {
    "username": "ngoc.lan",
    "full_name": "Phạm Ngọc Lan",
    "email": "lan@example.edu.vn",
    "phone": "0912345678",
    "roles": [Role.TEACHER],
    "password": "Lan-khoi6-2025!",
    "password_again": "Lan-khoi6-2025!",
}


def roles_of(user: User, school) -> set[str]:
    return set(
        Membership.objects.active().filter(user=user, school=school).values_list("role", flat=True)
    )


def test_admin_creates_a_teacher_account_with_an_initial_password(setup_client, url, world):
    response = setup_client.post(url("setup_teacher_create"), NEW_TEACHER)
    assert response.status_code == 302
    user = User.objects.get(username="ngoc.lan")
    assert user.check_password("Lan-khoi6-2025!")
    assert roles_of(user, world["school_a"]) == {Role.TEACHER}
    assert not mail.outbox


def test_weak_initial_password_is_refused_by_the_password_validators(setup_client, url):
    data = {**NEW_TEACHER, "password": "12345678", "password_again": "12345678"}
    response = setup_client.post(url("setup_teacher_create"), data)
    assert "password" in response.context["form"].errors
    assert not User.objects.filter(username="ngoc.lan").exists()


def test_without_a_password_the_account_gets_an_emailed_reset_link(setup_client, url):
    data = {**NEW_TEACHER, "password": "", "password_again": ""}
    setup_client.post(url("setup_teacher_create"), data)
    user = User.objects.get(username="ngoc.lan")
    assert not user.has_usable_password()
    (message,) = mail.outbox
    assert message.to == ["lan@example.edu.vn"]
    assert "/accounts/password/reset/key/" in message.body


def test_without_a_password_an_email_address_is_required(setup_client, url):
    data = {**NEW_TEACHER, "email": "", "password": "", "password_again": ""}
    response = setup_client.post(url("setup_teacher_create"), data)
    assert "password" in response.context["form"].errors


def test_an_existing_username_is_not_created_twice(setup_client, url, world):
    data = {**NEW_TEACHER, "username": "OUTSIDER"}
    response = setup_client.post(url("setup_teacher_create"), data)
    assert "username" in response.context["form"].errors
    assert User.objects.filter(username__iexact="outsider").count() == 1


def test_an_existing_account_is_invited_not_created_twice(setup_client, url, world):
    """Another school's account is invited (tests/schools/test_staff_invitations.py), never
    copied: an unknown username gets the same answer and creates nothing."""
    outsider = world["users"]["outsider"]
    for username in ("outsider", "nobody"):
        data = {"username": username, "roles": [Role.TEACHER]}
        assert setup_client.post(url("setup_teacher_add_existing"), data).status_code == 302
    assert User.objects.filter(username="outsider").count() == 1
    assert not User.objects.filter(username="nobody").exists()
    assert outsider.invitations.count() == 1
    assert roles_of(outsider, world["school_a"]) == set()
    assert Role.ADMIN in roles_of(outsider, world["school_b"])  # school B untouched


def test_admin_edits_a_teachers_details_and_roles(setup_client, url, world):
    teacher = world["users"]["teacher"]
    data = {
        "full_name": "Đỗ Văn Tâm",
        "email": "tam@x.vn",
        "phone": "",
        "roles": ["teacher", "vice_principal"],
    }
    response = setup_client.post(url("setup_teacher_edit", pk=teacher.pk), data)
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert teacher.full_name == "Đỗ Văn Tâm"
    assert roles_of(teacher, world["school_a"]) == {Role.TEACHER, Role.VICE_PRINCIPAL}


def test_admin_cannot_remove_their_own_admin_role(setup_client, url, world):
    admin = world["users"]["admin"]
    data = {"full_name": "admin", "email": "", "phone": "", "roles": [Role.TEACHER]}
    response = setup_client.post(url("setup_teacher_edit", pk=admin.pk), data)
    assert "roles" in response.context["form"].errors
    assert roles_of(admin, world["school_a"]) == {Role.ADMIN}


def test_admin_cannot_deactivate_themselves(world):
    admin = world["users"]["admin"]
    with pytest.raises(ValidationError):
        deactivate_staff_member(school=world["school_a"], user=admin, actor=admin)
    assert roles_of(admin, world["school_a"]) == {Role.ADMIN}


def test_deactivating_ends_the_roles_but_keeps_the_account(setup_client, url, world):
    teacher = world["users"]["teacher"]
    setup_client.post(url("setup_teacher_deactivate", pk=teacher.pk))
    teacher.refresh_from_db()
    assert teacher.is_active
    assert teacher.memberships.count() == 1
    assert roles_of(teacher, world["school_a"]) == set()


def test_an_account_shared_with_another_school_keeps_its_details(world):
    outsider = world["users"]["outsider"]
    Membership.objects.create(user=outsider, school=world["school_a"], role=Role.TEACHER)
    with pytest.raises(ValidationError) as error:
        update_staff_member(
            school=world["school_a"],
            user=outsider,
            actor=world["users"]["admin"],
            full_name=outsider.full_name,
            email="attacker@example.com",
            phone=outsider.phone,
            roles=[Role.TEACHER],
        )
    assert "email" in error.value.error_dict


def test_staff_of_another_school_cannot_be_edited_here(setup_client, url, world):
    response = setup_client.get(url("setup_teacher_edit", pk=world["users"]["outsider"].pk))
    assert response.status_code == 404


def test_staff_list_filters_by_role_and_name(setup_client, url, world):
    response = setup_client.get(url("setup_teachers"), {"role": Role.TEACHER})
    assert {r.record.username for r in response.context["table"].rows} == {"teacher", "homeroom"}
    response = setup_client.get(url("setup_teachers"), {"name": "princ"})
    assert [r.record.username for r in response.context["table"].rows] == ["principal"]


def test_staff_list_shows_deactivated_members_on_request(setup_client, url, world):
    world["users"]["teacher"].memberships.update(is_active=False)
    response = setup_client.get(url("setup_teachers"))
    assert "teacher" not in {r.record.username for r in response.context["table"].rows}
    response = setup_client.get(url("setup_teachers"), {"status": "inactive"})
    assert [r.record.username for r in response.context["table"].rows] == ["teacher"]
