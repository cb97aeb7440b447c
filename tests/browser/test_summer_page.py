"""The summer page in real Chromium: the subject teacher reaches their re-assessment cells from
the dashboard, types a result and saves; a bad value is shown on its cell and nothing is saved
(docs/gradebook.md#summer)."""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from gradebook.models import Kind, Mark
from gradebook.results import class_results
from tests.browser.pages import log_in
from tests.gradebook.marks import REASSESSMENT_CASE, homeroom_marks, year_of

pytestmark = pytest.mark.browser


@pytest.fixture
def due(class_a, pupils):
    """The first pupil: learning CĐ, re-assessed in TOAN (the teacher's) and NN1."""
    year_of(class_a, pupils[0], REASSESSMENT_CASE)
    homeroom_marks(pupils[0], conduct=("D", "D"))
    return pupils[0]


def open_summer(page: Page, class_a) -> None:
    log_in(page, "teacher", "pw-teacher")
    page.goto(f"/s/{class_a.year.school.code}/")
    page.locator("#my-assignments .summer-link").first.click()
    expect(page.locator("#summer-reassessment")).to_be_visible()


def test_subject_teacher_enters_a_re_assessment_from_the_dashboard(page: Page, class_a, due):
    open_summer(page, class_a)
    maths = class_a.year.school.subjects.get(code="TOAN")
    field = page.locator(f"#c-{due.pk}-{maths.pk}")
    expect(page.locator(f"#summer-reassessment tr[data-student='{due.pk}']")).to_have_count(1)
    field.fill("5,5")
    with page.expect_navigation():
        page.locator("#summer-save").click()
    expect(page.locator(f"#c-{due.pk}-{maths.pk}")).to_have_value("5.5")
    result = class_results(class_a).for_student(due.pk)
    assert result.subject("TOAN").reassessment == Decimal("5.5")


def test_a_bad_value_is_shown_on_its_cell_and_nothing_is_saved(page: Page, class_a, due):
    open_summer(page, class_a)
    maths = class_a.year.school.subjects.get(code="TOAN")
    page.locator(f"#c-{due.pk}-{maths.pk}").fill("12")
    with page.expect_navigation():
        page.locator("#summer-save").click()
    expect(page.locator("#summer-errors")).to_be_visible()
    expect(page.locator(f"#c-{due.pk}-{maths.pk}")).to_have_class(
        "form-control form-control-sm is-invalid"
    )
    assert not Mark.objects.filter(kind=Kind.REASSESSMENT).exists()
