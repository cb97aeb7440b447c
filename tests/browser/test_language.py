import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import expect_path, log_in

pytestmark = pytest.mark.browser


def choose_language(page: Page, code: str) -> None:
    with page.expect_navigation():
        page.locator("nav select[name=language]").select_option(code)


def test_navbar_switches_between_english_and_vietnamese(page: Page, teacher, class_a):
    log_in(page, "teacher", "pw-teacher")
    dashboard = f"/s/{class_a.year.school.code}/"
    expect_path(page, dashboard)
    heading = page.locator("section:has(#my-assignments) h2")
    expect(heading).to_contain_text("Lớp và môn tôi dạy")

    choose_language(page, "en")
    expect_path(page, dashboard)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading).to_contain_text("My classes and subjects")

    choose_language(page, "vi")
    expect_path(page, dashboard)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("nav select[name=language]")).to_have_value("vi")
    expect(heading).to_contain_text("Lớp và môn tôi dạy")
