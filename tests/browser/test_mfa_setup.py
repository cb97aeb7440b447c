import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from schools.models import ClassGroup
from tests.browser.pages import expect_path, log_in, submit_totp, totp_code
from tests.conftest import make_user

pytestmark = pytest.mark.browser

ACTIVATE = "/accounts/2fa/totp/activate/"


def test_homeroom_teacher_must_activate_totp_before_the_dashboard(page: Page, school_a):
    user = make_user("newhomeroom", school_a, Role.TEACHER)
    ClassGroup.objects.create(
        year=school_a.current_year(), name="7A1", grade=7, homeroom_teacher=user
    )
    dashboard = f"/s/{school_a.code}/"

    log_in(page, "newhomeroom", "pw-newhomeroom")
    # allauth asks for the password again before any MFA change, even straight after login.
    expect_path(page, "/accounts/reauthenticate/")
    assert "next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F" in page.url
    page.locator("#id_password").fill("pw-newhomeroom")
    with page.expect_navigation():
        page.locator("#id_password").press("Enter")
    expect_path(page, ACTIVATE)
    page.goto(dashboard)
    expect_path(page, ACTIVATE)

    secret = page.locator("#authenticator_secret").input_value()
    submit_totp(page, totp_code(secret))
    expect(page.locator("#id_code")).to_have_count(0)  # accepted: allauth shows recovery codes
    page.goto(dashboard)

    expect_path(page, dashboard)
    expect(page.locator("h1")).to_have_text(school_a.name)
    assert user.authenticator_set.filter(type="totp").exists()
