"""An account the school did not create (another school's, an operator's) joins the school's
staff only when its owner accepts an invitation (issue 18, finding 8). The admin's form answers
the same whether the account exists or not, and shows nothing about it."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User
from schools.models import Invitation
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


def roles_of(user: User, school) -> set[str]:
    return set(
        Membership.objects.active().filter(user=user, school=school).values_list("role", flat=True)
    )


@pytest.fixture
def person(world) -> User:
    """School B's outsider, with a name and an email address that school A must not learn."""
    person = world["users"]["outsider"]
    person.email = "outsider.private@school-b.edu.vn"
    person.full_name = "Hoàng Thị Riêng"
    person.save()
    return person


def invite(client: Client, url, username: str, *roles: str):
    data = {"username": username, "roles": list(roles or [Role.TEACHER])}
    return client.post(url("setup_teacher_add_existing"), data, follow=True)


def test_the_form_answers_the_same_for_another_schools_account_and_for_none(
    setup_client, url, person
):
    existing = invite(setup_client, url, "outsider")
    missing = invite(setup_client, url, "nobody-at-all")
    assert existing.status_code == missing.status_code == 200
    assert existing.redirect_chain == missing.redirect_chain
    shown = [str(m) for m in existing.context["messages"]]
    assert shown == [str(m) for m in missing.context["messages"]]
    assert shown == [
        "If an active account has this username, an invitation to work in this school has been "
        "sent to it. The person joins the staff when they accept it."
    ]
    for page in (existing, missing):
        text = page.content.decode()
        assert "outsider.private@school-b.edu.vn" not in text
        assert "Hoàng Thị Riêng" not in text


def test_another_schools_account_is_not_attached_without_consent(setup_client, url, world, person):
    invite(setup_client, url, "outsider", Role.TEACHER, Role.PRINCIPAL)
    assert roles_of(person, world["school_a"]) == set()
    invitation = Invitation.objects.get(invited_user=person)
    assert invitation.school == world["school_a"]
    assert invitation.inviter == world["users"]["admin"]
    assert set(invitation.roles) == {Role.TEACHER, Role.PRINCIPAL}
    response = setup_client.get(url("setup_teachers"))
    assert "outsider" not in {r.record.username for r in response.context["table"].rows}


def test_a_member_of_this_school_gets_the_roles_at_once(setup_client, url, world):
    teacher = world["users"]["teacher"]
    teacher.memberships.update(is_active=False)
    invite(setup_client, url, "TEACHER", Role.TEACHER)
    assert roles_of(teacher, world["school_a"]) == {Role.TEACHER}
    assert not Invitation.objects.exists()


def test_roles_are_required(setup_client, url):
    response = setup_client.post(url("setup_teacher_add_existing"), {"username": "outsider"})
    assert "roles" in response.context["form"].errors


def _client_of(person: User) -> Client:
    """The person's own browser, in English like the module's other clients."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(person)
    return client


def _invited(setup_client, url, *roles: str) -> Invitation:
    invite(setup_client, url, "outsider", *roles)
    return Invitation.objects.get(invited_user__username="outsider")


def test_the_invited_person_sees_the_invitation_on_their_home_page(setup_client, url, person):
    invitation = _invited(setup_client, url, Role.TEACHER)
    client = _client_of(person)
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert reverse("invitations") in home.content.decode()
    page = client.get(reverse("invitations"))
    assert invitation.school.name in page.content.decode()
    assert reverse("invitation_accept", args=[invitation.pk]) in page.content.decode()


def test_accepting_creates_the_invited_roles(setup_client, url, world, person):
    invitation = _invited(setup_client, url, Role.TEACHER, Role.VICE_PRINCIPAL)
    client = _client_of(person)
    response = client.post(reverse("invitation_accept", args=[invitation.pk]))
    assert response.status_code == 302
    assert roles_of(person, world["school_a"]) == {Role.TEACHER, Role.VICE_PRINCIPAL}
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    staff = setup_client.get(url("setup_teachers"))
    assert "outsider" in {r.record.username for r in staff.context["table"].rows}


def test_accepting_needs_a_post(setup_client, url, world, person):
    invitation = _invited(setup_client, url, Role.TEACHER)
    response = _client_of(person).get(reverse("invitation_accept", args=[invitation.pk]))
    assert response.status_code == 405
    assert roles_of(person, world["school_a"]) == set()


def test_another_user_cannot_accept(setup_client, url, world, person):
    invitation = _invited(setup_client, url, Role.TEACHER)
    principal_client = Client()
    principal_client.force_login(world["users"]["principal"])
    for name in ("invitation_accept", "invitation_decline"):
        response = principal_client.post(reverse(name, args=[invitation.pk]))
        assert response.status_code == 404
    assert roles_of(person, world["school_a"]) == set()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None and invitation.declined_at is None


def test_an_expired_invitation_is_refused(setup_client, url, world, person):
    invitation = _invited(setup_client, url, Role.TEACHER)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    client = _client_of(person)
    response = client.post(reverse("invitation_accept", args=[invitation.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "This invitation has expired or has already been answered."
    ]
    assert roles_of(person, world["school_a"]) == set()
    assert reverse("invitation_accept", args=[invitation.pk]) not in response.content.decode()


def test_an_accepted_invitation_cannot_be_used_again(setup_client, url, world, person):
    invitation = _invited(setup_client, url, Role.TEACHER)
    client = _client_of(person)
    client.post(reverse("invitation_accept", args=[invitation.pk]))
    setup_client.post(url("setup_teacher_deactivate", pk=person.pk))
    client.post(reverse("invitation_accept", args=[invitation.pk]))
    assert roles_of(person, world["school_a"]) == set()


def test_declining_creates_nothing(setup_client, url, world, person):
    invitation = _invited(setup_client, url, Role.TEACHER)
    client = _client_of(person)
    assert client.post(reverse("invitation_decline", args=[invitation.pk])).status_code == 302
    invitation.refresh_from_db()
    assert invitation.declined_at is not None
    client.post(reverse("invitation_accept", args=[invitation.pk]))
    assert roles_of(person, world["school_a"]) == set()


def test_inviting_again_renews_the_pending_invitation(setup_client, url, person):
    invite(setup_client, url, "outsider", Role.TEACHER)
    invite(setup_client, url, "outsider", Role.ADMIN)
    (invitation,) = Invitation.objects.all()
    assert invitation.roles == [Role.ADMIN]


def test_accepting_a_signing_role_asks_for_mfa_on_the_next_request(setup_client, url, world):
    teacher_b = make_user("giaovien.b", world["school_b"], Role.TEACHER)  # no TOTP
    invite(setup_client, url, "giaovien.b", Role.PRINCIPAL)
    client = _client_of(teacher_b)
    assert client.get(reverse("invitations")).status_code == 200
    invitation = Invitation.objects.get(invited_user=teacher_b)
    client.post(reverse("invitation_accept", args=[invitation.pk]))
    response = client.get(reverse("schools:dashboard", args=[world["school_b"].code]))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_the_edit_page_says_why_a_shared_accounts_details_are_locked(setup_client, url, person):
    invitation = _invited(setup_client, url, Role.TEACHER)
    _client_of(person).post(reverse("invitation_accept", args=[invitation.pk]))
    page = setup_client.get(url("setup_teacher_edit", pk=person.pk)).content.decode()
    assert "also works in another school" in page
    assert "only their roles in this school" in page
