"""Signers (principals, vice principals, homeroom teachers of a current class) and exporters
(admins, principals) must set up two-factor authentication before anything else
(schools/middleware.py, schools/signers.py)."""

import pytest
from django.urls import reverse

from accounts.models import Role
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
