import pytest
from playwright.sync_api import Page, expect

from accounts.totp import current_totp_code
from tests.browser.pages import expect_path, log_in, submit_totp, wait_for_fresh_totp_period

pytestmark = pytest.mark.browser


def test_teacher_logs_in_and_sees_their_assignments_in_vietnamese(page: Page, teacher, class_a):
    maths = class_a.assignments.get(teacher=teacher).subject

    log_in(page, "teacher", "pw-teacher")

    expect_path(page, f"/s/{class_a.year.school.code}/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    row = page.locator("#my-assignments tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("6A1")
    expect(row.locator("td").nth(2)).to_have_text(maths.name)


def test_principal_logs_in_with_totp_and_sees_the_school(page: Page, principal, class_a):
    log_in(page, "principal", "pw-principal")
    expect_path(page, "/accounts/2fa/authenticate/")

    wait_for_fresh_totp_period()
    submit_totp(page, current_totp_code(principal))

    expect_path(page, f"/s/{class_a.year.school.code}/")
    expect(page.locator("#school-classes")).to_contain_text("6A1")


def test_wrong_password_shows_an_error_and_does_not_log_in(page: Page, teacher):
    log_in(page, "teacher", "not-the-password")

    expect_path(page, "/accounts/login/")
    expect(page.locator("form .alert-danger")).to_be_visible()
    page.goto("/")
    expect_path(page, "/accounts/login/")  # still anonymous: sent back to log in


def test_teacher_gets_404_for_another_school(page: Page, teacher, school_b):
    log_in(page, "teacher", "pw-teacher")

    response = page.goto(f"/s/{school_b.code}/")

    assert response is not None
    assert response.status == 404
