"""A session's user, read by the backends' hand-written query, is the ORM's user, and an
inactive or deleted user is nobody."""

import pytest
from django.conf import settings
from django.contrib.auth import load_backend

from accounts.models import User


@pytest.mark.parametrize("path", settings.AUTHENTICATION_BACKENDS)
def test_session_user_is_the_orms_user(teacher, path):
    user = load_backend(path).get_user(teacher.pk)
    original = User.objects.get(pk=teacher.pk)
    assert [getattr(user, f.attname) for f in User._meta.concrete_fields] == [
        getattr(original, f.attname) for f in User._meta.concrete_fields
    ]


@pytest.mark.parametrize("path", settings.AUTHENTICATION_BACKENDS)
def test_inactive_or_missing_user_is_nobody(teacher, path):
    backend = load_backend(path)
    User.objects.filter(pk=teacher.pk).update(is_active=False)
    assert backend.get_user(teacher.pk) is None
    assert backend.get_user(teacher.pk + 1000) is None


def test_an_inactive_users_session_is_logged_out(client, teacher):
    client.force_login(teacher)
    assert client.get("/s/SCHOOLA/").status_code == 200
    User.objects.filter(pk=teacher.pk).update(is_active=False)
    assert client.get("/s/SCHOOLA/")["Location"].startswith("/accounts/login/")
