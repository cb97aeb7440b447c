"""The gradebook grid in real Chromium: keyboard entry with autosave and a live average, pasting
a block from a spreadsheet, an offline queue flushed in order, and a visible conflict between two
teachers that loses no value."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from accounts.models import Role
from gradebook import locks
from gradebook.columns import subject_columns
from gradebook.models import CommentPhrase, Mark, MarkEvent
from gradebook.services import save_mark
from schools.models import TeachingAssignment
from tests.browser.conftest import BROWSER_LOCALE, TIMEOUT_MS
from tests.browser.pages import cell, log_in, log_in_with_totp
from tests.conftest import make_user

pytestmark = pytest.mark.browser


def open_grid(page: Page, username: str, path: str) -> None:
    log_in(page, username, f"pw-{username}")
    page.goto(path)
    expect(page.locator("#gb-grid")).to_have_attribute("data-writable", "1")


def value(student, kind: str, slot: str = "") -> str:
    mark = Mark.objects.filter(student=student, term=1, kind=kind, slot=slot).first()
    return mark.value if mark else ""


def type_into(page: Page, student, key: str, text: str) -> None:
    cell(page, student, key).click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def paste(page: Page, text: str) -> None:
    """Paste `text` into the focused cell, as Ctrl+V of a spreadsheet's copy would."""
    page.evaluate(
        """text => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            document.activeElement.dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        }""",
        text,
    )


def save(teacher, class_a, student, key: str, text: str) -> None:
    """Save a cell of the maths book server-side, as the teacher would have earlier."""
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    column = next(c for c in subject_columns(entry, 1) if c.key == key)
    save_mark(actor=teacher, class_group=class_a, student=student, column=column, text=text,
              base_version=None)  # fmt: skip


def lock_maths(class_a, principal, reason: str = "Hết hạn nhập điểm HK I") -> None:
    maths = class_a.year.school.subjects.get(code="TOAN")
    locks.lock(actor=principal, school=class_a.year.school, year=class_a.year,
               class_group=class_a, subject=maths, term=1, reason=reason)  # fmt: skip


def test_typing_with_the_keyboard_saves_each_cell_and_shows_the_average(
    page: Page, teacher, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    first = pupils[0]
    cell(page, first, "1:tx:1").click()
    for text in ("8", "7,5", "9", "6", "7"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    page.keyboard.type("8.5")
    page.keyboard.press("Enter")  # back to TX1 of the next row, where the Tabs started

    expect(cell(page, first, "1:ck:")).to_have_attribute("data-state", "saved")
    average = page.locator(f'tr[data-student="{first.pk}"] td[data-computed="term_average"]')
    expect(average).to_have_text("7,8")
    expect(cell(page, first, "1:tx:2").locator(".gb-text")).to_have_text("7,5")
    expect(cell(page, pupils[1], "1:tx:1")).to_be_focused()

    page.keyboard.type("5")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.type("10")
    page.keyboard.press("ArrowUp")  # leaving the cell saves it
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Delete")  # clears the second pupil's TX1: a change like any other
    expect(cell(page, pupils[2], "1:tx:2")).to_have_attribute("data-state", "saved")
    expect(cell(page, pupils[1], "1:tx:1")).to_have_attribute("data-state", "saved")
    expect(page.locator("#gb-status")).to_have_attribute("data-pending", "0")
    # the lock panel counts as the teacher types: 6 marks of the first pupil + 1 of the third
    expect(page.locator("#lock-panel-count")).to_have_text(re.compile(r"\b7\b\D+\b18\b"))

    assert [value(first, "tx", s) for s in "1234"] == ["8", "7.5", "9", "6"]
    assert (value(first, "gk"), value(first, "ck")) == ("7", "8.5")
    assert (value(pupils[1], "tx", "1"), value(pupils[2], "tx", "2")) == ("", "10")
    cleared = MarkEvent.objects.filter(mark__student=pupils[1]).order_by("seq")
    assert [e.new_value for e in cleared] == ["5", ""]


def test_an_invalid_mark_is_never_shown_as_saved(page: Page, teacher, grid_path, pupils):
    open_grid(page, "teacher", grid_path)
    cell(page, pupils[0], "1:gk:").click()
    page.keyboard.type("7,25")
    page.keyboard.press("Enter")
    target = cell(page, pupils[0], "1:gk:")
    expect(target).to_have_attribute("data-state", "invalid")
    expect(target).to_contain_text("7,25")
    expect(target).to_have_attribute("title", re.compile("thập phân"))  # the reason, in Vietnamese
    assert not MarkEvent.objects.exists()


def test_pasting_a_block_saves_every_cell(page: Page, teacher, grid_path, pupils):
    open_grid(page, "teacher", grid_path)
    cell(page, pupils[0], "1:tx:2").click()
    page.evaluate(
        """text => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            document.activeElement.dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        }""",
        "6\t7,5\t8\r\n9\t10\t4.5\r\n",
    )
    for student, key in ((pupils[1], "1:tx:4"), (pupils[0], "1:tx:4"), (pupils[1], "1:tx:2")):
        expect(cell(page, student, key)).to_have_attribute("data-state", "saved")
    expect(page.locator("#gb-status")).to_have_attribute("data-pending", "0")
    assert [value(pupils[0], "tx", s) for s in "234"] == ["6", "7.5", "8"]
    assert [value(pupils[1], "tx", s) for s in "234"] == ["9", "10", "4.5"]


def test_marks_typed_offline_are_queued_and_sent_in_order_when_back(
    page: Page, teacher, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    page.context.set_offline(True)
    cell(page, pupils[0], "1:gk:").click()
    for text in ("6", "7", "8"):  # GK of three pupils, top to bottom
        page.keyboard.type(text)
        page.keyboard.press("Enter")
    for pupil in pupils:
        expect(cell(page, pupil, "1:gk:")).to_have_attribute("data-state", "queued")
    expect(page.locator("#gb-status")).to_have_attribute("data-pending", "3")
    stored = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('sodiem.grid'))")
    assert len(stored) == 1  # kept in the browser: a reload would not lose them
    assert not MarkEvent.objects.exists()

    page.context.set_offline(False)
    for pupil in pupils:
        expect(cell(page, pupil, "1:gk:")).to_have_attribute("data-state", "saved")
    events = list(MarkEvent.objects.order_by("seq").values_list("mark__student", "new_value"))
    assert events == [(p.pk, v) for p, v in zip(pupils, ("6", "7", "8"), strict=True)]
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('sodiem.grid'))") == []


def test_two_teachers_editing_one_cell_see_a_conflict_and_lose_nothing(
    page: Page, browser: Browser, live_server, teacher, class_a, grid_path, pupils
):
    colleague = make_user("coteacher", class_a.year.school, Role.TEACHER)
    maths = class_a.year.school.subjects.get(code="TOAN")
    TeachingAssignment.objects.create(teacher=colleague, class_group=class_a, subject=maths)
    other = browser.new_context(base_url=live_server.url, locale=BROWSER_LOCALE)
    other.set_default_timeout(TIMEOUT_MS)
    try:
        second = other.new_page()
        open_grid(page, "teacher", grid_path)
        open_grid(second, "coteacher", grid_path)  # both read version 0 of the cell

        cell(page, pupils[0], "1:ck:").click()
        page.keyboard.type("7")
        page.keyboard.press("Enter")
        expect(cell(page, pupils[0], "1:ck:")).to_have_attribute("data-state", "saved")

        cell(second, pupils[0], "1:ck:").click()
        second.keyboard.type("9")
        second.keyboard.press("Enter")
        mine = cell(second, pupils[0], "1:ck:")
        expect(mine).to_have_attribute("data-state", "conflict")
        expect(mine.locator(".gb-theirs")).to_have_text("7")
        expect(mine.locator(".gb-mine")).to_have_text("9")
        assert value(pupils[0], "ck") == "7"  # nothing overwritten silently

        mine.get_by_role("button", name="Keep mine").or_(mine.locator(".gb-keep-mine")).click()
        expect(mine).to_have_attribute("data-state", "saved")
        expect(mine).to_have_attribute("data-version", "2")
        history = list(MarkEvent.objects.order_by("seq").values_list("new_value", "actor"))
        assert history == [("7", teacher.pk), ("9", colleague.pk)]  # both values in the ledger

        page.evaluate("window.dispatchEvent(new Event('focus'))")  # polls, as every 10 s
        theirs = cell(page, pupils[0], "1:ck:")
        expect(theirs).to_have_attribute("data-state", "updated")
        expect(theirs.locator(".gb-text")).to_have_text("9")
    finally:
        other.close()


def test_a_reload_before_the_marks_reach_the_server_loses_nothing(
    page: Page, teacher, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    page.route("**/cells/", lambda route: route.abort())  # saves cannot reach the server
    cell(page, pupils[1], "1:tx:3").click()
    page.keyboard.type("9,5")
    page.keyboard.press("Enter")
    expect(cell(page, pupils[1], "1:tx:3")).to_have_attribute("data-state", "queued")

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.reload()
    assert dialogs == ["beforeunload"]  # leaving with unsent changes warns
    restored = cell(page, pupils[1], "1:tx:3")
    expect(restored).to_have_attribute("data-state", "queued")
    expect(restored.locator(".gb-text")).to_have_text("9,5")

    page.unroute("**/cells/")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(restored).to_have_attribute("data-state", "saved")
    assert value(pupils[1], "tx", "3") == "9.5"


def test_comment_editor_counts_characters_and_offers_the_comment_bank(
    page: Page, teacher, class_a, grid_path, pupils
):
    maths = class_a.year.school.subjects.get(code="TOAN")
    CommentPhrase.objects.create(
        school=class_a.year.school, subject=maths, text="{name} tính nhanh, cẩn thận."
    )
    open_grid(page, "teacher", grid_path)
    cell(page, pupils[0], "1:comment:").click()
    page.keyboard.type("C")  # typing opens the editor with that letter
    editor = page.locator("#gb-comment-editor")
    expect(editor).to_be_visible()
    page.keyboard.type("hăm chỉ.")
    expect(page.locator("#gb-editor-count")).to_contain_text("9/300")
    page.locator("#gb-editor-phrases").select_option(index=1)
    given = pupils[0].full_name.split()[-1]
    expect(page.locator("#gb-editor-text")).to_have_value(
        f"Chăm chỉ. {given} tính nhanh, cẩn thận."
    )
    page.keyboard.press("Control+Enter")
    expect(editor).to_be_hidden()
    expect(cell(page, pupils[0], "1:comment:")).to_have_attribute("data-state", "saved")
    assert value(pupils[0], "comment") == f"Chăm chỉ. {given} tính nhanh, cẩn thận."


# --- Issue 17, "Marks misplaced or lost" ---------------------------------------------------


def test_the_first_double_click_after_loading_edits_the_student_under_the_pointer(
    page: Page, teacher, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    grid = page.locator("#gb-grid")
    before = grid.bounding_box()
    target = cell(page, pupils[1], "1:gk:")
    box = target.bounding_box()
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(target.locator("input.gb-input")).to_be_focused()
    assert grid.bounding_box() == before  # nothing moved under the pointer
    page.keyboard.type("6")
    page.keyboard.press("Enter")
    expect(target).to_have_attribute("data-state", "saved")
    assert [value(p, "gk") for p in pupils] == ["", "6", ""]
    expect(page.locator("#gb-status")).not_to_be_empty()
    assert grid.bounding_box() == before  # nor did the status line that appeared


def test_the_first_click_on_a_term_average_shows_its_calculation(
    page: Page, teacher, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    grid = page.locator("#gb-grid")
    before = grid.bounding_box()
    average = page.locator(f'tr[data-student="{pupils[2].pk}"] td[data-computed="term_average"]')
    average.locator("a").click()
    expect(page.locator("#gb-explain")).to_be_visible()
    expect(page.locator("#gb-explain-body")).to_contain_text(pupils[2].full_name)
    assert grid.bounding_box() == before


def test_marks_typed_offline_in_two_tabs_all_arrive_once_even_from_a_closed_tab(
    page: Page, teacher, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    second = page.context.new_page()
    second.goto(grid_path)
    expect(second.locator("#gb-grid")).to_have_attribute("data-writable", "1")
    page.context.set_offline(True)
    type_into(page, pupils[0], "1:gk:", "6")
    type_into(second, pupils[0], "1:ck:", "8")
    type_into(page, pupils[1], "1:gk:", "7")
    type_into(second, pupils[1], "1:gk:", "9")  # the cell the first tab typed: a conflict
    for tab in (page, second):
        expect(tab.locator("#gb-status")).to_have_attribute("data-pending", "2")
    second.close()  # closed offline: its two marks are only in localStorage
    assert not MarkEvent.objects.exists()

    page.context.set_offline(False)
    expect(cell(page, pupils[0], "1:ck:")).to_have_attribute("data-state", "saved")
    conflict = cell(page, pupils[1], "1:gk:")  # the closed tab's 9 was typed over version 0
    expect(conflict).to_have_attribute("data-state", "conflict")
    expect(conflict.locator(".gb-theirs")).to_have_text("7")
    expect(conflict.locator(".gb-mine")).to_have_text("9")
    expect(page.locator("#gb-status")).to_have_attribute("data-pending", "0")
    third = page.context.new_page()  # a tab opened now finds nothing left to send
    third.goto(grid_path)
    expect(third.locator("#gb-status")).to_have_attribute("data-pending", "0")
    events = MarkEvent.objects.values_list("mark__student", "mark__kind", "new_value")
    expected = [(pupils[0].pk, "gk", "6"), (pupils[1].pk, "gk", "7"), (pupils[0].pk, "ck", "8")]
    assert sorted(events) == sorted(expected)  # every mark, none twice
    assert value(pupils[1], "gk") == "7"


def test_a_pasted_row_steps_over_the_average_and_never_fills_the_comment(
    page: Page, teacher, class_a, grid_path, pupils
):
    save(teacher, class_a, pupils[0], "1:comment:", "Chăm chỉ.")
    open_grid(page, "teacher", grid_path)
    cell(page, pupils[0], "1:gk:").click()  # GK, CK, the term average, the comment
    paste(page, "5\t6\t7\t8\r\n")
    expect(cell(page, pupils[0], "1:ck:")).to_have_attribute("data-state", "saved")
    status = page.locator("#gb-status")
    expect(status).to_contain_text("“7”, “8”")
    expect(status).to_have_attribute("data-pending", "0")
    assert (value(pupils[0], "gk"), value(pupils[0], "ck")) == ("5", "6")
    assert value(pupils[0], "comment") == "Chăm chỉ."
    assert MarkEvent.objects.count() == 3  # the comment, then GK and CK


def test_a_paste_past_the_last_student_says_what_it_left_out(
    page: Page, teacher, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    cell(page, pupils[1], "1:tx:3").click()
    paste(page, "1\t2\n3\t4\n5\t6\n")
    expect(cell(page, pupils[2], "1:tx:4")).to_have_attribute("data-state", "saved")
    expect(page.locator("#gb-status")).to_contain_text("“5”, “6”")
    assert [value(p, "tx", s) for p in pupils[1:] for s in "34"] == ["1", "2", "3", "4"]
    assert MarkEvent.objects.count() == 4


def test_a_value_refused_by_a_new_lock_shows_the_saved_value_the_reason_and_the_lock(
    page: Page, teacher, principal, class_a, grid_path, pupils
):
    save(teacher, class_a, pupils[0], "1:gk:", "6")
    open_grid(page, "teacher", grid_path)
    panel = page.locator("#lock-panel")
    expect(panel).to_have_attribute("data-state", "open")
    before = page.locator("#gb-grid").bounding_box()
    lock_maths(class_a, principal)  # while the page is open

    type_into(page, pupils[0], "1:gk:", "9")
    target = cell(page, pupils[0], "1:gk:")
    expect(target).to_have_attribute("data-state", "locked")
    expect(target.locator(".gb-text")).to_have_text("6")  # what is saved, not what was typed
    status = page.locator("#gb-status")
    expect(status).to_contain_text("Hết hạn nhập điểm HK I")  # the reason
    expect(status).to_contain_text("“9”")  # what could not be saved
    expect(panel).to_have_attribute("data-state", "locked")  # without a reload
    expect(panel.locator(".badge").first).to_have_text("Đã khóa")
    expect(page.locator("#submit-gradebook")).to_be_hidden()
    red = target.evaluate("c => getComputedStyle(c).boxShadow")
    assert "rgb(220, 53, 69)" in red  # the status says red: the cell is red
    expect(cell(page, pupils[1], "1:gk:")).to_have_attribute("data-locked", "1")
    assert page.locator("#gb-grid").bounding_box() == before  # the lock moved nothing
    assert value(pupils[0], "gk") == "6"


def test_text_in_an_editor_open_when_the_lock_arrives_is_shown_as_not_saved(
    page: Page, teacher, principal, class_a, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    target = cell(page, pupils[1], "1:ck:")
    target.click()
    page.keyboard.type("8,5")  # the editor is open with 8,5
    lock_maths(class_a, principal)
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # polls, as every 10 s

    expect(page.locator("#lock-panel")).to_have_attribute("data-state", "locked")
    expect(target.locator("input")).to_have_count(0)
    expect(target).to_have_attribute("data-state", "locked")
    status = page.locator("#gb-status")
    expect(status).to_contain_text("“8,5”")
    expect(status).to_contain_text("Hết hạn nhập điểm HK I")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("“8,5”")  # still said after a key press
    assert value(pupils[1], "ck") == ""


def test_an_absence_count_past_the_years_limit_is_saved_with_a_warning(
    page: Page, homeroom, class_a, pupils
):
    """Issue 17: 300 absences were taken silently. Past the 45 sessions a year allows for
    promotion, the count is saved and the status line says so (refusals above the term's days
    are tested in tests/gradebook/test_absence_limits.py)."""
    log_in_with_totp(page, homeroom)
    page.goto(reverse("gradebook:homeroom", args=[class_a.year.school.code, class_a.pk, 1]))
    type_into(page, pupils[0], "1:abs_no:", "50")
    expect(page.locator("#gb-status")).to_have_attribute("data-pending", "0")
    expect(page.locator("#gb-status")).to_contain_text("45")
    assert value(pupils[0], "abs_no") == "50"
