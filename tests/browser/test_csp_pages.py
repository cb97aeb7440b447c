"""Pages no other browser test opens, under the Content-Security-Policy (config/csp.py): the
`page` fixture fails on anything Chromium reports refused. The behaviours that were inline
event handlers (static/js/app.js) still work."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.pages import log_in_with_totp

pytestmark = pytest.mark.browser


def test_leadership_pages_load_without_refusals(page: Page, principal, class_a):
    log_in_with_totp(page, principal)
    code = class_a.year.school.code
    for url in (
        reverse("gradebook:class_summary", args=[code, class_a.pk]),
        reverse("gradebook:completion", args=[code]),
        reverse("gradebook:class_completion", args=[code, class_a.pk]),
        reverse("transcripts:verify_home"),
    ):
        page.goto(url)
        expect(page.locator("main")).to_be_visible()
    page.goto(reverse("gradebook:class_summary", args=[code, class_a.pk]))
    page.evaluate("window.print = () => { window.printed = true; }")
    page.locator("button[data-print]").click()
    assert page.evaluate("window.printed") is True


def test_admin_pages_keep_their_confirmation_and_filter(page: Page, admin, teacher, class_a):
    log_in_with_totp(page, admin)
    code = class_a.year.school.code
    page.goto(reverse("gradebook:comment_bank", args=[code]))
    select = page.locator("#phrase-filter select")
    with page.expect_navigation():
        select.select_option(index=1)
    assert "?" in page.url

    page.goto(reverse("schools:setup_teacher_edit", args=[code, teacher.pk]))  # a user's page
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("#deactivate button[type=submit]").click()
    assert asked and asked[0]
    expect(page.locator("#deactivate")).to_be_visible()  # dismissed: still on the page
