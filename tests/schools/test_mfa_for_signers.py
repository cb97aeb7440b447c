"""Signers (principals, vice principals, homeroom teachers of a current class) and exporters
(admins, principals) must set up two-factor authentication before anything else
(schools/middleware.py, schools/signers.py)."""

import datetime

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role, User
from schools.middleware import RequireMfaForSignersMiddleware
from schools.models import ClassGroup
from schools.services import create_school_year
from schools.setup_services import make_year_current
from schools.signers import needs_mfa
from tests.conftest import make_user


def test_signer_without_totp_is_sent_to_set_it_up(client, school_a):
    principal = make_user("newprincipal", school_a, Role.PRINCIPAL)
    client.force_login(principal)
    response = client.get(reverse("schools:dashboard", kwargs={"code": school_a.code}))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_homeroom_teacher_without_totp_is_sent_to_set_it_up(client, class_a, homeroom):
    homeroom.authenticator_set.all().delete()
    client.force_login(homeroom)
    assert client.get("/").url == reverse("mfa_activate_totp")


def test_subject_teacher_needs_no_mfa(client, class_a, teacher):
    client.force_login(teacher)
    response = client.get(reverse("schools:dashboard", kwargs={"code": class_a.year.school.code}))
    assert response.status_code == 200


def test_mfa_requirement_can_be_switched_off(client, settings, school_a):
    settings.MFA_REQUIRED_FOR_SIGNERS = False
    client.force_login(make_user("p2", school_a, Role.PRINCIPAL))
    assert (
        client.get(reverse("schools:dashboard", kwargs={"code": school_a.code})).status_code == 200
    )


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("hocba:packages", "get"),
        ("hocba:package_start", "post"),
        ("hocba:province_settings", "get"),
        ("hocba:province_settings", "post"),
        ("hocba:package_upload", "post"),
        ("schools:dashboard", "get"),
    ],
)
def test_admin_without_totp_is_sent_to_set_it_up_before_exporting(client, school_a, name, method):
    """Admins export, upload and set the upload address: they need MFA like the signers."""
    client.force_login(make_user("newadmin", school_a, Role.ADMIN))
    args = [school_a.code, 1] if name == "hocba:package_upload" else [school_a.code]
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_admin_with_totp_reaches_the_packages(client, school_a, admin):
    client.force_login(admin)
    assert client.get(reverse("hocba:packages", args=[school_a.code])).status_code == 200


# Roles given mid-session (issue 18, finding 7): the decision is cached in the session, but a
# change of the user's memberships, roles or homeroom classes makes the next request decide again.


def _dashboard(code: str) -> str:
    return reverse("schools:dashboard", kwargs={"code": code})


@pytest.fixture
def teacher_in_session(client, school_a, teacher):
    """The teacher (no TOTP) logged in, past the middleware once."""
    client.force_login(teacher)
    assert client.get(_dashboard(school_a.code)).status_code == 200
    return client


def _made_principal_by_the_shell(world):
    Membership.objects.create(
        user=world["users"]["teacher"], school=world["school_a"], role=Role.PRINCIPAL
    )


def _made_admin_on_the_roster_screen(world):
    admin_client = Client()
    admin_client.force_login(world["users"]["admin"])
    teacher = world["users"]["teacher"]
    url = reverse("schools:setup_teacher_edit", args=[world["school_a"].code, teacher.pk])
    data = {"full_name": "teacher", "email": "", "phone": "", "roles": ["teacher", "admin"]}
    assert admin_client.post(url, data).status_code == 302


def _made_homeroom_teacher_on_the_class_screen(world):
    admin_client = Client()
    admin_client.force_login(world["users"]["admin"])
    class_a2, teacher = world["class_a2"], world["users"]["teacher"]
    url = reverse("schools:setup_class_edit", args=[world["school_a"].code, class_a2.pk])
    data = {"name": class_a2.name, "grade": class_a2.grade, "homeroom_teacher": teacher.pk}
    assert admin_client.post(url, data).status_code == 302


def _made_principal_in_bulk(world):
    teacher = world["users"]["teacher"]
    Membership.objects.bulk_create(
        [Membership(user=teacher, school=world["school_b"], role=Role.PRINCIPAL)]
    )


def _with_an_inactive_principal_membership(world):
    teacher = world["users"]["teacher"]
    Membership.objects.create(
        user=teacher, school=world["school_b"], role=Role.PRINCIPAL, is_active=False
    )


def _principal_membership_reactivated_by_update(world):
    Membership.objects.filter(user=world["users"]["teacher"]).update(is_active=True)


def _homeroom_teacher_of_a_class_next_year(world):
    new_year = create_school_year(
        school=world["school_a"],
        start_year=2026,
        term1=(datetime.date(2026, 9, 5), datetime.date(2027, 1, 15)),
        term2=(datetime.date(2027, 1, 19), datetime.date(2027, 5, 25)),
        make_current=False,
    )
    ClassGroup.objects.create(
        year=new_year, name="7A1", grade=7, homeroom_teacher=world["users"]["teacher"]
    )


def _their_class_year_made_current(world):
    make_year_current(year=world["school_a"].years.get(start_year=2026))


def _nothing(world):
    pass


@pytest.mark.parametrize(
    ("before_login", "change"),
    [
        (_nothing, _made_principal_by_the_shell),
        (_nothing, _made_admin_on_the_roster_screen),
        (_nothing, _made_homeroom_teacher_on_the_class_screen),
        (_nothing, _made_principal_in_bulk),
        (_with_an_inactive_principal_membership, _principal_membership_reactivated_by_update),
        (_homeroom_teacher_of_a_class_next_year, _their_class_year_made_current),
    ],
)
def test_a_role_given_mid_session_asks_for_mfa_on_the_next_request(
    client, world, before_login, change
):
    """A teacher without TOTP, whose session already passed the middleware, is given a role
    that signs or exports (by the shell, a set-up screen, a bulk write): the next request goes
    to the TOTP set-up."""
    before_login(world)
    client.force_login(world["users"]["teacher"])
    assert client.get(_dashboard(world["school_a"].code)).status_code == 200
    change(world)
    response = client.get(_dashboard(world["school_a"].code))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_a_session_past_the_check_costs_no_query_for_it(
    teacher_in_session, school_a, teacher, rf, django_assert_num_queries
):
    """The cached decision is compared with the user row that every request loads anyway."""
    request = rf.get(_dashboard(school_a.code))
    request.user = User.objects.get(pk=teacher.pk)
    request.session = teacher_in_session.session
    request.session.items()  # loaded, as SessionMiddleware and the login have done by now
    middleware = RequireMfaForSignersMiddleware(lambda request: HttpResponse("page"))
    with django_assert_num_queries(0):
        assert middleware(request).status_code == 200


def test_needs_mfa_is_one_query(world, django_assert_num_queries):
    for persona, expected in [
        ("teacher", False),
        ("homeroom", True),
        ("principal", True),
        ("admin", True),
        ("outsider", True),
    ]:
        with django_assert_num_queries(1):
            assert needs_mfa(world["users"][persona]) is expected
