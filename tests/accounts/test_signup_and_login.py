from django.urls import reverse

from accounts.models import Membership, Role


def test_nobody_can_sign_up(client, db):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert b'name="password1"' not in response.content  # allauth's "sign-up closed" page


def test_login_page_is_public_and_in_vietnamese_by_default(client, db):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert b'lang="vi"' in response.content


def test_memberships_are_unique_per_role(school_a, teacher):
    import pytest
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Membership.objects.create(user=teacher, school=school_a, role=Role.TEACHER)


def test_english_browser_still_gets_vietnamese_until_the_user_chooses(client, db):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.headers["Content-Language"] == "vi"
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="vi")
    assert response.headers["Content-Language"] == "en"


def test_login_page_has_no_sign_up_link(client, db):
    response = client.get(reverse("account_login"))
    assert reverse("account_signup").encode() not in response.content
