"""Issue 16, item 4: the marks of the year so far, in real Chromium. The new school's admin
receives a leaver's package, lands on its marks page (what carrying would do, cell by cell),
confirms the carry, and the page lists each mark as carried, not studied or in conflict."""

# ruff: noqa: F401, F811  (fixtures imported from other modules, used as arguments)

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from gradebook.models import EventSource, MarkEvent
from tests.browser.pages import log_in_with_totp
from tests.transcripts.conftest import pki, role_p12, role_signers
from tests.transcripts.test_transfer_marks import arrived, leaver
from transcripts.models import ReceivedPackage

pytestmark = pytest.mark.usefixtures("no_browser_loop")  # the package is signed on its own loop


@pytest.mark.django_db(transaction=True)
def test_the_admin_carries_the_marks_of_the_year_so_far(
    page: Page, arrived, outsider, leaver, tmp_path
):
    package_file = tmp_path / "package.zip"
    package_file.write_bytes(leaver.single)
    log_in_with_totp(page, outsider)
    page.goto(f"/s/{arrived.school.code}/transcripts/students/{arrived.pk}/receive/")
    page.locator("#id_package").set_input_files(str(package_file))
    page.locator("#receive-form button[type=submit]").click()

    lines = page.locator("#carry-lines tbody tr")
    expect(page.locator("#carry-target")).to_contain_text("6B1")
    expect(lines.filter(has_text="Sẽ chuyển vào sổ").first).to_be_visible()  # "To be carried"
    expect(page.locator('tr[data-outcome="not_studied"]').first).to_be_visible()
    assert not MarkEvent.objects.filter(school=arrived.school).exists()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#carry-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("vào sổ điểm lớp")  # "carried into"
    expect(page.locator('tr[data-outcome="carried"]').first).to_be_visible()
    expect(page.locator("#carry-form")).to_have_count(0)
    package = ReceivedPackage.objects.get()
    events = MarkEvent.objects.filter(school=arrived.school)
    assert events.exists()
    assert set(events.values_list("source", flat=True)) == {EventSource.TRANSFER}
    assert all(package.sha256 in reason for reason in events.values_list("reason", flat=True))
