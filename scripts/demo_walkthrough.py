"""The gradebook's end-to-end demo, driven in real Chromium against a running `make run` server.

    .venv/bin/python scripts/demo_walkthrough.py --password DEMO_PASSWORD [--out DIR]

1. The demo maths teacher (gv.toan1) opens 9A2 · Toán · HK II (the half-finished class) and
   fills every empty mark with the keyboard (type, Enter moves down), autosaved cell by cell.
2. The teacher submits the gradebook (the server refuses while marks are missing).
3. The principal (hieutruong, two-factor code read from the local database) sees it complete
   and submitted on the completion dashboard.
4. The teacher files a correction of a locked mark; the principal approves it.
5. `verify_ledger` recomputes the hash chain.

Screenshots of every step go to --out (default test-artifacts/walkthrough, git-ignored). Uses
this checkout's database (DATABASE_URL or db.sqlite3): run it against your own local server.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# This script reads the database between browser steps, while Playwright's loop is running.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from screenshot import CHROMIUM, CHROMIUM_ARGS, current_code, log_in, totp_secret_from_db  # noqa: E402

from gradebook.models import CorrectionRequest, Mark  # noqa: E402
from schools.demo import SECONDARY_CODE  # noqa: E402
from schools.models import ClassGroup  # noqa: E402

TEACHER, PRINCIPAL, CLASS, SUBJECT, TERM = "gv.toan1", "hieutruong", "9A2", "TOAN", 2
FILL = ("2:tx:1", "2:tx:2", "2:tx:3", "2:tx:4", "2:gk:", "2:ck:")


def shot(page: Page, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"  screenshot {path}")


def fill_with_keyboard(page: Page, students: list[int]) -> int:
    """Type a mark into every empty cell, column by column, pressing Enter to move down."""
    typed = 0
    for key in FILL:
        page.locator(f'tr[data-student="{students[0]}"] td[data-key="{key}"]').click()
        for index, student in enumerate(students):
            cell = page.locator(f'tr[data-student="{student}"] td[data-key="{key}"]')
            if not cell.locator(".gb-text").inner_text().strip():
                page.keyboard.type(str(5 + (index * 7 + len(key)) % 5) + ",5" * (index % 2))
                typed += 1
            page.keyboard.press("Enter")
    expect(page.locator("#gb-status")).to_have_attribute("data-pending", "0", timeout=60_000)
    return typed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--password", required=True, help="the demo password (make run prints it)")
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "walkthrough")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    class_group = ClassGroup.objects.get(year__school__code=SECONDARY_CODE, year__is_current=True,
                                         name=CLASS)  # fmt: skip
    subject = class_group.year.school.subjects.get(code=SUBJECT)
    students = list(class_group.enrollments.filter(left_on__isnull=True)
                    .order_by("roll_number").values_list("student_id", flat=True))  # fmt: skip
    grid = reverse("gradebook:grid", args=[SECONDARY_CODE, class_group.pk, subject.pk, TERM])
    secret, period = totp_secret_from_db(PRINCIPAL)

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            locale="vi-VN", viewport={"width": 1400, "height": 900},
        )  # fmt: skip
        page = browser.new_page()
        print(f"1. {TEACHER} fills {CLASS} · {SUBJECT} · HK II with the keyboard")
        log_in(page, args.base, TEACHER, args.password, None)
        page.goto(args.base + grid)
        shot(page, args.out, "1-grid-before")
        typed = fill_with_keyboard(page, students)
        print(f"  typed {typed} marks; all saved")
        shot(page, args.out, "2-grid-filled")

        print("2. the teacher submits the gradebook (and confirms: only the principal reopens it)")
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#submit-gradebook").click()
        page.wait_for_load_state()
        shot(page, args.out, "3-grid-submitted")

        first = students[0]
        mark = Mark.objects.get(student_id=first, subject=subject, term=TERM, kind="ck", slot="")
        print(f"3. the teacher asks to correct a locked mark (CK {mark.value} → 9)")
        query = f"?class={class_group.pk}&subject={subject.pk}&student={first}&column=2:ck:"
        page.goto(args.base + reverse("gradebook:correction_new", args=[SECONDARY_CODE]) + query)
        page.locator("#id_new_value").fill("9")
        page.locator("#id_reason").fill("Chấm phúc khảo bài kiểm tra cuối kỳ: 9 điểm")
        shot(page, args.out, "4-correction-request")
        page.locator("#correction-form button[type=submit]").click()
        page.wait_for_load_state()
        page.context.clear_cookies()

        print(f"4. the principal ({PRINCIPAL}) checks completion and approves the correction")
        log_in(page, args.base, PRINCIPAL, args.password, lambda: current_code(secret, period))
        page.goto(args.base + reverse("gradebook:completion", args=[SECONDARY_CODE]) + "?term=2")
        shot(page, args.out, "5-principal-completion")
        page.goto(args.base + reverse("gradebook:corrections", args=[SECONDARY_CODE]))
        shot(page, args.out, "6-corrections-pending")
        page.locator("button[name=decision][value=approve]").first.click()
        page.wait_for_load_state()
        shot(page, args.out, "7-corrections-approved")
        browser.close()

    request = CorrectionRequest.objects.filter(mark=mark).latest("requested_at")
    mark.refresh_from_db()
    print(
        f"  correction {request.status}; CK is now {mark.value}; ledger event #{request.event.seq}"
    )
    print("5. verify_ledger")
    call_command("verify_ledger", school=SECONDARY_CODE)


if __name__ == "__main__":
    main()
