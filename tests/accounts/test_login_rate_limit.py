"""Login rate limits: a school's teachers share one public address at the start of a peak
morning; guessing a password stays limited."""

from django.core.cache import cache
from django.urls import reverse

from accounts.models import Role
from tests.conftest import make_user

PASSWORD = "mật-khẩu-đủ-dài-1"


def _log_in(client, username: str, password: str):
    client.cookies.clear()
    return client.post(
        reverse("account_login"),
        {"login": username, "password": password},
        REMOTE_ADDR="203.0.113.7",
    )


def test_forty_teachers_behind_one_address_all_log_in(client, school_a):
    cache.clear()
    for number in range(40):  # allauth's default would refuse the 31st
        user = make_user(f"gv{number:02d}", school_a, Role.TEACHER)
        user.set_password(PASSWORD)
        user.save()
        assert _log_in(client, user.username, PASSWORD).status_code == 302, number


def test_guessing_one_accounts_password_is_still_stopped(client, school_a):
    cache.clear()
    user = make_user("gv.target", school_a, Role.TEACHER)
    user.set_password(PASSWORD)
    user.save()
    answers = [_log_in(client, user.username, "wrong-password") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6  # the form again, with its error
    assert not any("Đăng nhập sai quá nhiều lần" in a.content.decode() for a in answers[:5])
    assert "Đăng nhập sai quá nhiều lần" in answers[5].content.decode()  # translated
    right = _log_in(client, user.username, PASSWORD)  # even the right one, for the window
    assert right.status_code == 200
    assert "_auth_user_id" not in client.session
