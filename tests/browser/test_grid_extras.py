"""Issue 17, the grid's extras (static/js/grid_extras.js): the search box above the grid, the
A4 print, a tap on a phone, the confirmation before submitting and the comment editor inside
the viewport."""

import subprocess

import pytest
from playwright.sync_api import Browser, Page, expect

from config.text import search_matches
from gradebook.columns import subject_columns
from gradebook.models import Lock, Mark
from gradebook.services import save_mark
from tests.browser.conftest import ARTIFACTS, BROWSER_LOCALE, CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS
from tests.browser.pages import cell, log_in
from tests.conftest import add_students
from tests.search_examples import SEARCH_EXAMPLES

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "grid-print"  # the printed pages, to look at (git-ignored)


def row(page: Page, student):
    return page.locator(f'tr[data-student="{student.pk}"]')


def open_grid(page: Page, username: str, path: str) -> None:
    log_in(page, username, f"pw-{username}")
    page.goto(path)
    expect(page.locator("#gb-grid")).to_have_attribute("data-writable", "1")


def many_students(class_group, count: int) -> None:
    """`count` more students ("Học Sinh Số 0", …), 20 at a time (add_students numbers their
    birthdays by day of the month)."""
    for start in range(0, count, 20):
        names = [
            (f"Học Sinh Số {n}", "M" if n % 2 else "F")
            for n in range(start, min(count, start + 20))
        ]
        add_students(class_group, names, 100 + start)


def value(student, kind: str, slot: str = "") -> str:
    mark = Mark.objects.filter(student=student, term=1, kind=kind, slot=slot).first()
    return mark.value if mark else ""


# --- 1. The search box -----------------------------------------------------------------------


def test_the_search_box_folds_text_as_the_server_does(page: Page, teacher, grid_path):
    open_grid(page, "teacher", grid_path)
    found = page.evaluate(
        "examples => examples.map(([query, text]) => window.SodiemSearch.matches(query, text))",
        [[query, text] for query, text, _ in SEARCH_EXAMPLES],
    )
    server = [search_matches(query, text) for query, text, _ in SEARCH_EXAMPLES]
    expected = [matches for _, _, matches in SEARCH_EXAMPLES]
    assert server == expected  # the table says what config/text.py does
    assert found == expected  # and the browser agrees, example by example


def test_the_search_box_filters_students_as_you_type_and_navigation_skips_the_others(
    page: Page, teacher, class_a, grid_path
):
    extra = add_students(
        class_a,
        [("Trần Ngọc Diệp", "F"), ("Đỗ Minh Đức", "M"), ("Nguyễn Thị Yên", "F")],
        start=10,
    )
    named = {e.student.full_name: e.student for e in class_a.enrollments.all()}
    binh, an, yen = named["Nguyễn Văn Bình"], named["Trần Thị An"], named["Lê Hoàng Yến"]
    diep, duc, yen_no_accent = extra
    everyone = [binh, an, yen, diep, duc, yen_no_accent]
    open_grid(page, "teacher", grid_path)
    box = page.locator("#gb-search")

    def shown(*students):
        for student in everyone:
            if student in students:
                expect(row(page, student)).to_be_visible()
            else:
                expect(row(page, student)).to_be_hidden()

    box.press_sequentially("nguyen")
    shown(binh, yen_no_accent)
    expect(page.locator("#gb-search-count")).to_contain_text("2")
    box.fill("")
    box.press_sequentially("diep")
    shown(diep)
    box.fill("d")
    shown(diep, duc)  # "d" finds Đ
    box.fill("Yến")
    shown(yen)  # typed with diacritics: they count
    box.fill("YEN")
    shown(yen, yen_no_accent, binh)  # and NguYEN: a part of a name is enough

    box.fill("nguyen")  # the class list goes by given name: An, Bình, Diệp, Đức, Yên, Yến
    cell(page, binh, "1:gk:").click()
    page.keyboard.press("ArrowDown")  # over the two hidden rows
    expect(cell(page, yen_no_accent, "1:gk:")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(cell(page, binh, "1:gk:")).to_be_focused()
    page.keyboard.type("7")
    page.keyboard.press("Enter")  # saves and moves to the next shown student
    expect(cell(page, yen_no_accent, "1:gk:")).to_be_focused()
    expect(cell(page, binh, "1:gk:")).to_have_attribute("data-state", "saved")
    assert (value(binh, "gk"), value(an, "gk")) == ("7", "")

    box.focus()
    page.keyboard.press("Escape")
    expect(box).to_have_value("")
    shown(*everyone)


def test_a_block_pasted_while_the_search_hides_students_lands_nowhere(
    page: Page, teacher, grid_path, pupils
):
    open_grid(page, "teacher", grid_path)
    assert [p.full_name for p in pupils][1:] == ["Nguyễn Văn Bình", "Lê Hoàng Yến"]
    page.locator("#gb-search").fill("nguyen")  # only Bình shown
    cell(page, pupils[1], "1:gk:").click()
    page.evaluate(
        """text => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            document.activeElement.dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        }""",
        "5\r\n6\r\n",  # would go into Bình's and the hidden Yến's GK
    )
    expect(page.locator("#gb-search-note")).not_to_be_empty()
    page.wait_for_timeout(300)
    assert not Mark.objects.exists()


# --- 2. Print ----------------------------------------------------------------------------------


def test_the_grid_prints_on_a4_with_the_books_header_on_every_page(
    page: Page, teacher, class_a, grid_path, tmp_path
):
    many_students(class_a, 42)
    open_grid(page, "teacher", grid_path)
    page.emulate_media(media="print")
    pdf = tmp_path / "grid.pdf"
    page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 2
    for number, sheet in enumerate(pages, start=1):
        for words in ("Lớp 6A1", "Toán", "Học kỳ I", "2025", "teacher", "Học sinh", "TX1", "CK"):
            assert words in sheet, f"{words!r} missing on page {number}"
    assert "Trường THCS Ánh Dương".upper() in pages[0]
    everything = "\n".join(pages)
    absent = (
        "Nộp sổ điểm",
        "Đang mở",
        "điểm bắt buộc",
        "Tìm học sinh",
        "Find a student",
        "Lịch sử",
    )
    for words in absent:
        assert words not in everything, words
    assert "Học Sinh Số 41" in everything and "Nguyễn Văn Bình" in everything
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    shots = sorted(tmp_path.glob("p-*.png"))
    assert len(shots) == 2
    for number, shot in enumerate(shots, start=1):
        (SHOTS / f"issue17-print-p{number}.png").write_bytes(shot.read_bytes())


# --- 3. A tap on a phone -------------------------------------------------------------------------


def test_a_tap_on_a_phone_opens_the_editor_with_the_numeric_keyboard(
    browser: Browser, live_server, teacher, grid_path, pupils
):
    phone = browser.new_context(
        base_url=live_server.url,
        locale=BROWSER_LOCALE,
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
    )
    phone.set_default_timeout(TIMEOUT_MS)
    refused: list[str] = []
    phone.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    try:
        page = phone.new_page()
        open_grid(page, "teacher", grid_path)
        target = cell(page, pupils[1], "1:gk:")
        target.scroll_into_view_if_needed()
        target.tap()
        editor = target.locator("input.gb-input")
        expect(editor).to_be_focused()
        expect(editor).to_have_attribute("inputmode", "decimal")
        page.keyboard.type("8,5")
        page.keyboard.press("Enter")
        expect(target).to_have_attribute("data-state", "saved")
        assert value(pupils[1], "gk") == "8.5"

        comment = cell(page, pupils[0], "1:comment:")
        comment.scroll_into_view_if_needed()
        comment.tap()
        expect(page.locator("#gb-editor-text")).to_be_focused()
        expect(page.locator("#gb-editor-text")).to_have_attribute("inputmode", "text")
    finally:
        phone.close()
    assert refused == []


# --- 4. Submitting asks first -------------------------------------------------------------


def test_submitting_the_gradebook_asks_first(page: Page, teacher, class_a, grid_path, pupils):
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    for column in subject_columns(entry, 1):  # a complete book: it may be submitted
        if column.value_type != "text":
            for pupil in pupils:
                save_mark(actor=teacher, class_group=class_a, student=pupil, column=column,
                          text="8", base_version=None)  # fmt: skip
    open_grid(page, "teacher", grid_path)
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.locator("#submit-gradebook").click()
    expect(page.locator("#lock-panel")).to_have_attribute("data-state", "open")
    page.wait_for_timeout(300)
    asked = page.locator("#submit-gradebook").evaluate("b => b.form.dataset.confirm")
    assert questions == [asked] and asked  # the form's translated question
    assert not Lock.objects.exists()  # dismissed: nothing sent

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#submit-gradebook").click()
    expect(page.locator("#lock-panel")).to_have_attribute("data-state", "submitted")
    assert Lock.objects.count() == 1


# --- 6. The comment editor stays inside the window ---------------------------------------


def test_the_comment_editor_is_inside_the_viewport_at_1400_pixels(
    browser: Browser, live_server, teacher, class_a, grid_path
):
    """With the scrollbars a desktop shows (Playwright hides them by default: the editor was
    placed by the window's width, scrollbar included, and lost its right edge under it)."""
    many_students(class_a, 40)
    refused: list[str] = []
    desktop = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        ignore_default_args=["--hide-scrollbars"],
    )
    try:
        context = desktop.new_context(
            base_url=live_server.url,
            locale=BROWSER_LOCALE,
            viewport={"width": 1400, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on(
            "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
        )
        page = context.new_page()
        open_grid(page, "teacher", grid_path)
        rows = page.locator("#gb-grid tbody tr")
        for index in (0, 11):  # the first row, and one near the bottom of the window
            comment = rows.nth(index).locator('td[data-key="1:comment:"]')
            comment.click()
            page.keyboard.type("T")
            editor = page.locator("#gb-comment-editor")
            expect(editor).to_be_visible()
            box = editor.bounding_box()
            width, height = page.evaluate(
                "[document.documentElement.clientWidth, document.documentElement.clientHeight]"
            )
            assert width < 1400  # a scrollbar takes its place
            assert box["x"] >= 0 and box["y"] >= 0, box
            assert box["x"] + box["width"] <= width, (index, box, width)
            assert box["y"] + box["height"] <= height, (index, box, height)
            expect(page.locator("#gb-editor-text")).to_be_focused()
            page.keyboard.press("Control+Enter")
            expect(comment).to_have_attribute("data-state", "saved")
    finally:
        desktop.close()
    assert refused == []
