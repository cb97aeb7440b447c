"""The bell in the top bar and the teacher's books (issue 17), in Chromium: a lock tells the
teacher, the bell counts it, the notification opens its page and is read."""

import datetime

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import Page, expect

from gradebook import locks
from gradebook.completeness import required_columns
from tests.browser.pages import expect_path, log_in

pytestmark = pytest.mark.browser


def test_the_bell_counts_a_lock_and_opens_the_teachers_books(
    page: Page, class_a, teacher, principal
):
    school = class_a.year.school
    day = timezone.localdate() + datetime.timedelta(days=10)
    locks.set_lock_date(actor=principal, school=school, year=class_a.year, term=1, date=day,
                        reason="Hạn khóa sổ học kỳ I")  # fmt: skip

    log_in(page, "teacher", "pw-teacher")

    expect(page.locator("#notification-count")).to_have_text("1")
    maths = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    term1 = page.locator(f"#book-{class_a.pk}-{maths.subject_id}-1")
    missing = 3 * len(required_columns(maths, 1))  # three students, nothing written yet
    expect(term1).to_contain_text(f"{missing} ")
    with translation.override("vi"):
        expect(term1).to_contain_text(date_format(day, "SHORT_DATE_FORMAT"))
    page.locator("#notification-bell").click()
    expect_path(page, "/notifications/")
    expect(page.locator(".notification.unread")).to_have_count(1)
    with page.expect_navigation():
        page.locator(".notification button").click()
    expect_path(page, f"/s/{school.code}/")
    expect(page.locator("#notification-count")).to_have_count(0)
