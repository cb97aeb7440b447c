"""The Django admin (accounts/admin_site.py) is reached only through the product's login, with
its rate limits and its TOTP step, by active staff; authenticators and signing credentials are
read-only there."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.models import User
from accounts.totp import current_totp_code
from tests.conftest import make_user
from transcripts.models import SigningCredential

PASSWORD = "mật-khẩu-đủ-dài-1"


@pytest.fixture
def operator(school_a) -> User:
    user = make_user("operator", school_a, totp=True)
    user.is_staff = user.is_superuser = True
    user.set_password(PASSWORD)
    user.save()
    return user


def _log_in_with_totp(client, user: User) -> None:
    cache.clear()
    answer = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert answer.url == reverse("mfa_authenticate")
    client.post(reverse("mfa_authenticate"), {"code": current_totp_code(user)})
    assert client.session["_auth_user_id"] == str(user.pk)


def test_admin_login_is_the_product_login_with_its_rate_limit(client, operator):
    cache.clear()
    operator.authenticator_set.all().delete()  # the password alone would do, but for the limit
    admin_login = client.get(reverse("admin:login"))
    assert admin_login.status_code == 302
    login_url = admin_login.url
    assert login_url.startswith(reverse("account_login"))

    def log_in(url: str, password: str):
        return client.post(url, {"login": "operator", "username": "operator", "password": password})

    for _ in range(25):
        log_in(reverse("admin:login"), "wrong")
    assert "_auth_user_id" not in client.session
    assert log_in(reverse("admin:login"), PASSWORD).status_code == 302  # to the product login
    assert "_auth_user_id" not in client.session
    for _ in range(25):
        log_in(login_url, "wrong")
    assert log_in(login_url, PASSWORD).status_code == 200  # refused, for the window
    assert "_auth_user_id" not in client.session


def test_staff_without_mfa_cannot_reach_the_admin(client, operator):
    operator.authenticator_set.all().delete()
    client.force_login(operator)
    answer = client.get(reverse("admin:index"), follow=True)
    assert reverse("mfa_activate_totp") in [url for url, _ in answer.redirect_chain]
    assert "app_list" not in answer.context


def test_staff_with_totp_but_a_password_only_session_is_asked_for_a_code(client, operator):
    client.force_login(operator)
    answer = client.get(reverse("admin:index"), follow=True)
    assert answer.redirect_chain[-1][0].startswith(reverse("mfa_reauthenticate"))


def test_staff_after_a_totp_login_reaches_the_admin(client, operator):
    _log_in_with_totp(client, operator)
    assert client.get(reverse("admin:index")).status_code == 200


def test_non_staff_with_totp_cannot_reach_the_admin(client, principal):
    principal.set_password(PASSWORD)
    principal.save()
    _log_in_with_totp(client, principal)
    assert client.get(reverse("admin:index"), follow=True).status_code == 403


def test_authenticators_are_read_only_in_the_admin(client, operator):
    _log_in_with_totp(client, operator)
    totp = operator.authenticator_set.get(type="totp")
    assert client.get(reverse("admin:mfa_authenticator_add")).status_code == 403
    change = reverse("admin:mfa_authenticator_change", args=[totp.pk])
    assert client.post(change, {"type": "recovery_codes", "user": operator.pk}).status_code == 403
    delete = reverse("admin:mfa_authenticator_delete", args=[totp.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert operator.authenticator_set.filter(pk=totp.pk, type="totp").exists()


def test_signing_credentials_are_read_only_in_the_admin(client, operator, school_a):
    credential = SigningCredential.objects.create(school=school_a, user=operator, kind="pkcs12")
    _log_in_with_totp(client, operator)
    assert client.get(reverse("admin:transcripts_signingcredential_add")).status_code == 403
    view = reverse("admin:transcripts_signingcredential_change", args=[credential.pk])
    assert client.get(view).status_code == 200  # shown
    assert client.post(view, {"kind": "remote", "is_active": ""}).status_code == 403
    delete = reverse("admin:transcripts_signingcredential_delete", args=[credential.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    credential.refresh_from_db()
    assert (credential.kind, credential.is_active) == ("pkcs12", True)
