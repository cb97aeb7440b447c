"""An exempt student's cells in real Chromium: shown as "Miễn", and typing or pasting into them
opens no editor and sends nothing (docs/gradebook.md#exemptions)."""

import re

import pytest
from playwright.sync_api import Page, expect

from gradebook.models import YEAR_TERM, Exemption, ExemptionState, Mark
from tests.browser.pages import cell
from tests.browser.test_grid import open_grid, paste

pytestmark = pytest.mark.browser

#: "Exempt" until the lead merges its Vietnamese ("Miễn") into the catalogue.
EXEMPT = re.compile(r"^(Miễn|Exempt)$")


def test_an_exempt_cell_opens_no_editor_and_saves_nothing(
    page: Page, teacher, principal, class_a, grid_path, pupils
):
    school = class_a.year.school
    Exemption.objects.create(
        school=school, year=class_a.year, class_group=class_a, student=pupils[0],
        subject=school.subjects.get(code="TOAN"), term=YEAR_TERM, reason="Khuyết tật",
        document="QĐ 3", requested_by=principal, decided_by=principal,
        state=ExemptionState.APPROVED,
    )  # fmt: skip
    open_grid(page, "teacher", grid_path)
    exempt = cell(page, pupils[0], "1:gk:")
    expect(exempt).to_have_text(EXEMPT)
    exempt.click()
    paste(page, "8\t9")  # a row's paste starting on the exempt cell
    expect(exempt).to_have_text(EXEMPT)
    exempt.click()
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    expect(exempt).to_have_text(EXEMPT)
    cell(page, pupils[1], "1:gk:").click()  # the next student's cell still takes a mark
    page.keyboard.type("6")
    page.keyboard.press("Enter")
    expect(cell(page, pupils[1], "1:gk:")).to_have_attribute("data-value", "6")
    assert not Mark.objects.filter(student=pupils[0]).exclude(value="").exists()
