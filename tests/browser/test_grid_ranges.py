"""Issue 17, "Spreadsheet parity": undo and redo through the normal save path, a rectangular
selection (Shift+arrows, a mouse drag, Shift+click), a range copied out as TSV and fill-down
(Ctrl+D) with the paste rules."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from gradebook.models import Mark, MarkEvent
from schools.models import TeachingAssignment
from tests.browser.pages import cell
from tests.browser.test_grid import open_grid, paste, save, type_into, value
from tests.conftest import make_user

pytestmark = pytest.mark.browser


def ledger(student, kind: str, slot: str = "") -> list[tuple[str, str, int]]:
    events = MarkEvent.objects.filter(mark__student=student, mark__kind=kind, mark__slot=slot)
    return list(events.order_by("seq").values_list("old_value", "new_value", "version"))


def selected(page: Page):
    return page.locator("#gb-grid .gb-selected")


def copied(page: Page) -> str:
    """Ctrl+C on the grid, then what the system clipboard holds."""
    page.keyboard.press("Control+C")
    return page.evaluate("navigator.clipboard.readText()")


def test_ctrl_z_undoes_a_typed_mark_on_the_server_and_ctrl_y_redoes_it(
    page: Page, teacher, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    target = cell(page, pupils[0], "1:gk:")
    type_into(page, pupils[0], "1:gk:", "7,5")
    expect(target).to_have_attribute("data-state", "saved")

    page.keyboard.press("Control+Z")  # focus is on the next row: the undo is the page's
    expect(target.locator(".gb-text")).to_have_text("")
    expect(target).to_have_attribute("data-version", "2")
    expect(target).to_have_attribute("data-state", "saved")
    assert value(pupils[0], "gk") == ""
    page.keyboard.press("Control+Y")
    expect(target).to_have_attribute("data-version", "3")
    expect(target.locator(".gb-text")).to_have_text("7,5")
    page.keyboard.press("Control+Z")
    expect(target).to_have_attribute("data-version", "4")
    page.keyboard.press("Control+Shift+Z")  # redo, as in LibreOffice
    expect(target).to_have_attribute("data-version", "5")
    expect(target).to_have_attribute("data-state", "saved")
    assert value(pupils[0], "gk") == "7.5"
    assert ledger(pupils[0], "gk") == [
        ("", "7.5", 1), ("7.5", "", 2), ("", "7.5", 3), ("7.5", "", 4), ("", "7.5", 5)
    ]  # fmt: skip
    assert Mark.objects.get(student=pupils[0], kind="gk").version == 5


def test_undoing_a_paste_of_three_cells_is_one_step(page: Page, teacher, grid_path, pupils):
    open_grid(page, "teacher", grid_path)
    type_into(page, pupils[1], "1:gk:", "5")
    cell(page, pupils[0], "1:tx:1").click()
    paste(page, "6\t7\t8\r\n")
    expect(cell(page, pupils[0], "1:tx:3")).to_have_attribute("data-state", "saved")
    expect(page.locator("#gb-status")).to_have_attribute("data-pending", "0")

    page.keyboard.press("Control+Z")
    for slot in "123":
        expect(cell(page, pupils[0], f"1:tx:{slot}")).to_have_attribute("data-version", "2")
    expect(page.locator("#gb-status")).to_have_attribute("data-pending", "0")
    assert [value(pupils[0], "tx", s) for s in "123"] == ["", "", ""]
    assert value(pupils[1], "gk") == "5"  # the step before the paste is still there
    assert MarkEvent.objects.count() == 1 + 3 + 3


def test_an_undo_over_a_colleagues_change_is_a_conflict_not_an_overwrite(
    page: Page, teacher, class_a, grid_path, pupils
):
    colleague = make_user("coteacher", class_a.year.school, Role.TEACHER)
    maths = class_a.year.school.subjects.get(code="TOAN")
    TeachingAssignment.objects.create(teacher=colleague, class_group=class_a, subject=maths)
    open_grid(page, "teacher", grid_path)
    target = cell(page, pupils[0], "1:ck:")
    type_into(page, pupils[0], "1:ck:", "7")
    expect(target).to_have_attribute("data-state", "saved")
    save(colleague, class_a, pupils[0], "1:ck:", "9")
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # polls: the page sees the 9
    expect(target).to_have_attribute("data-version", "2")

    page.keyboard.press("Control+Z")
    expect(target).to_have_attribute("data-state", "conflict")
    expect(target.locator(".gb-theirs")).to_have_text("9")
    expect(target.locator(".gb-mine")).to_have_text("(trống)")  # what the undo would restore
    assert value(pupils[0], "ck") == "9"
    assert [e[1] for e in ledger(pupils[0], "ck")] == ["7", "9"]


def test_shift_arrows_select_a_range_that_ctrl_c_copies_as_tsv(
    page: Page, teacher, class_a, grid_path, pupils
):
    save(teacher, class_a, pupils[0], "1:tx:1", "7.5")
    save(teacher, class_a, pupils[0], "1:tx:2", "8")
    save(teacher, class_a, pupils[1], "1:tx:1", "6")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_grid(page, "teacher", grid_path)
    cell(page, pupils[0], "1:tx:1").click()
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    expect(selected(page)).to_have_count(4)
    expect(cell(page, pupils[1], "1:tx:2")).to_have_class(re.compile(r"\bgb-selected\b"))
    assert copied(page) == "7,5\t8\n6\t"

    page.keyboard.press("Escape")
    expect(selected(page)).to_have_count(0)
    page.keyboard.press("ArrowUp")
    assert copied(page) == "8"  # a single cell: its value


def test_a_mouse_drag_and_a_shift_click_select_a_range(page: Page, teacher, grid_path, pupils):
    open_grid(page, "teacher", grid_path)
    start = cell(page, pupils[0], "1:tx:1").bounding_box()
    end = cell(page, pupils[2], "1:tx:3").bounding_box()
    page.mouse.move(start["x"] + 5, start["y"] + 5)
    page.mouse.down()
    page.mouse.move(end["x"] + 5, end["y"] + 5, steps=8)
    page.mouse.up()
    expect(selected(page)).to_have_count(9)
    expect(cell(page, pupils[2], "1:tx:3")).to_be_focused()
    assert page.evaluate("getSelection().toString()") == ""  # no text selected instead

    cell(page, pupils[0], "1:gk:").click()
    expect(selected(page)).to_have_count(0)
    cell(page, pupils[1], "1:ck:").click(modifiers=["Shift"])
    expect(selected(page)).to_have_count(4)  # GK and CK of two pupils
    expect(page.locator("input.gb-input")).to_have_count(0)  # selecting never edits


def test_ctrl_d_fills_down_marks_only_stepping_over_computed_and_comment_columns(
    page: Page, teacher, class_a, grid_path, pupils
):
    save(teacher, class_a, pupils[0], "1:gk:", "5")
    save(teacher, class_a, pupils[0], "1:ck:", "6,5")
    save(teacher, class_a, pupils[0], "1:comment:", "Chăm chỉ.")
    open_grid(page, "teacher", grid_path)
    cell(page, pupils[0], "1:gk:").click()  # GK, CK, the term average, the comment
    for key in ("Shift+ArrowRight",) * 3 + ("Shift+ArrowDown",) * 2:
        page.keyboard.press(key)
    expect(selected(page)).to_have_count(12)

    page.keyboard.press("Control+D")
    expect(cell(page, pupils[2], "1:ck:")).to_have_attribute("data-state", "saved")
    status = page.locator("#gb-status")
    expect(status).to_have_attribute("data-pending", "0")
    expect(status).to_contain_text("“Chăm chỉ.”")  # said left out
    assert [(value(p, "gk"), value(p, "ck")) for p in pupils] == [("5", "6.5")] * 3
    assert [value(p, "comment") for p in pupils] == ["Chăm chỉ.", "", ""]
    assert MarkEvent.objects.count() == 3 + 4

    page.keyboard.press("Control+Z")  # the fill is one step
    expect(cell(page, pupils[2], "1:ck:")).to_have_attribute("data-version", "2")
    expect(status).to_have_attribute("data-pending", "0")
    assert [(value(p, "gk"), value(p, "ck")) for p in pupils[1:]] == [("", "")] * 2


def test_ctrl_d_on_one_cell_copies_the_value_above(page: Page, teacher, class_a, grid_path, pupils):
    save(teacher, class_a, pupils[0], "1:tx:2", "8")
    open_grid(page, "teacher", grid_path)
    cell(page, pupils[1], "1:tx:2").click()
    page.keyboard.press("Control+D")
    expect(cell(page, pupils[1], "1:tx:2")).to_have_attribute("data-state", "saved")
    assert value(pupils[1], "tx", "2") == "8"
    assert [value(pupils[2], "tx", "2"), value(pupils[0], "tx", "2")] == ["", "8"]
