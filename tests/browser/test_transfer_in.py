"""Issue 16, item 4: a transfer in, in real Chromium. The new school's admin (two-factor login)
uploads a package whose manifest signature was taken out: the verifier's reason is shown and
nothing is stored; then the package the previous school exported: the student's multi-year
record shows the received year, with its verification code and its signed files."""

# ruff: noqa: F401, F811  (fixtures imported from other modules, used as arguments)

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.pages import log_in_with_totp
from tests.transcripts.conftest import pki, role_p12, role_signers
from tests.transcripts.test_package_verify import built, rewrite
from tests.transcripts.test_transfers import arrived
from transcripts.models import ReceivedDocument, ReceivedPackage
from transcripts.packages import format as fmt

pytestmark = pytest.mark.usefixtures("no_browser_loop")  # the package is signed on its own loop


@pytest.mark.django_db(transaction=True)
def test_the_admin_receives_a_transfer_package(page: Page, arrived, outsider, built, tmp_path):
    forged = tmp_path / "forged.zip"
    forged.write_bytes(rewrite(built.single, change={fmt.SIGNATURE: None}))
    genuine = tmp_path / "package.zip"
    genuine.write_bytes(built.single)
    log_in_with_totp(page, outsider)
    page.goto(reverse("hocba:receive", args=[arrived.school.code, arrived.pk]))

    page.locator("#id_package").set_input_files(str(forged))
    page.locator("#receive-form button[type=submit]").click()
    expect(page.locator("#verifier-problems")).to_contain_text(fmt.SIGNATURE)
    assert ReceivedPackage.objects.count() == 0

    page.locator("#id_package").set_input_files(str(genuine))
    page.locator("#receive-form button[type=submit]").click()
    rows = page.locator("#learning-history tr.record-year.received")
    expect(rows).to_have_count(1)
    document = ReceivedDocument.objects.get()
    expect(rows).to_contain_text(document.verification_code)
    expect(rows).to_contain_text("Trường THCS Ánh Dương")
    href = reverse(
        "hocba:received_download", args=[arrived.school.code, arrived.pk, document.pk, "pdf"]
    )
    expect(rows.locator(f'a[href="{href}"]')).to_be_visible()
