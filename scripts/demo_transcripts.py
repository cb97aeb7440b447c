"""The transcripts' end-to-end demo, driven in real Chromium against a running local server.

    .venv/bin/python scripts/demo_transcripts.py --password DEMO_PASSWORD \\
        [--cert-password demo-ky-so] [--base http://127.0.0.1:8000] [--out DIR]

Needs what `make run` sets up and starts: `seed_demo`, `demo_pki --password demo-ky-so`,
`demo_signing`, the test signing services, a task worker and a server started with
SIGNING_TRUST_ANCHORS=media/demo-pki/demo-ca.pem and SITE_URL set to --base. The signing
companion with the demo USB token is started by this script (on port 8790) unless one already
runs there. Uses pdfsig, pdftoppm, certutil (poppler-utils, libnss3-tools) and zbarimg
(zbar-tools).

1. The homeroom teacher of 6A1 (gv.nv1) opens the class screen from the dashboard, confirms
   the class (a background job) and signs it through the test CSC service: the credential's PIN
   and a two-factor code, one authorisation for the whole class.
2. The principal (hieutruong) filters the review queue to 6A1 and signs and seals all of it:
   the principal's signature is confirmed once on the "phone" (the test service's phone page,
   in a second tab), the school seal is the USB token, signed through the signing companion
   (paired once with a code shown on the page, then the token's PIN typed in the companion's
   own page).
3. One signed PDF is downloaded and checked with pdfsig against the demo CA; its pages are
   rendered with pdftoppm.
4. The QR code on the PDF is decoded with zbarimg and its verification page opened: genuine.
5. The principal reopens that transcript, the subject teacher changes one of its marks in the
   grid, the homeroom teacher confirms it again: the history shows version 2 current and
   version 1 superseded with the reason and what changed.

Two-factor codes are read from this checkout's database (DATABASE_URL or db.sqlite3), so run it
against your own local server. Screenshots, the PDF and pdfsig's output go to --out (default
test-artifacts/transcripts, git-ignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# This script reads the database between browser steps, while Playwright's loop is running.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

django.setup()

from demo_companion import sign_with_token, start_companion  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from screenshot import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    current_code,
    log_in,
    shot,
    totp_secret_from_db,
)

from gradebook.models import Mark  # noqa: E402
from schools.demo import SECONDARY_CODE  # noqa: E402
from schools.models import ClassGroup, TeachingAssignment  # noqa: E402
from transcripts.models import SigningBatch, State, Transcript, TranscriptJob  # noqa: E402

HOMEROOM, PRINCIPAL, CLASS, SUBJECT, TERM = "gv.nv1", "hieutruong", "6A1", "NV", 2
CA = ROOT / "media" / "demo-pki" / "demo-ca.pem"
REASON = "Phúc khảo bài kiểm tra cuối kỳ II môn Ngữ văn: điểm được chấm lại"
JOB_TIMEOUT = 15 * 60_000


class Codes:
    """Two-factor codes from the users' secrets, never the same window twice for one user (the
    server refuses a code that was already used)."""

    def __init__(self, *users: str) -> None:
        self.secrets = {user: totp_secret_from_db(user) for user in users}
        self.used: dict[str, int] = {}

    def fresh(self, user: str) -> str:
        secret, period = self.secrets[user]
        while int(time.time()) // period <= self.used.get(user, -1):
            time.sleep(0.5)
        code = current_code(secret, period)
        self.used[user] = int(time.time()) // period
        return code


PHONE = "http://127.0.0.1:8782/phone/hieutruong"


def wait_for_waiting(page: Page) -> None:
    expect(page.locator("#job-progress")).to_have_attribute(
        "data-status", "waiting", timeout=JOB_TIMEOUT
    )


def wait_for_job(page: Page) -> str:
    """Wait on the job page until the htmx progress bar says the job is over."""
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("data-status", "finished", timeout=JOB_TIMEOUT)
    text = progress.inner_text().split("\n")
    print("  job: " + " ".join(line.strip() for line in text if line.strip()))
    return progress.get_attribute("data-status") or ""


#: The tools the demo runs, and the Debian package of each.
TOOLS = {
    "pdfsig": "poppler-utils",
    "pdftoppm": "poppler-utils",
    "certutil": "libnss3-tools",
    "zbarimg": "zbar-tools",
}


def missing_tools() -> list[str]:
    """The Debian packages to install for the tools this machine lacks."""
    return sorted({package for tool, package in TOOLS.items() if shutil.which(tool) is None})


def run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    return result.stdout + result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--password", required=True, help="the demo password (make run prints it)")
    parser.add_argument("--cert-password", default="demo-ky-so", help="demo_pki's password")
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "transcripts")
    args = parser.parse_args()
    if missing := missing_tools():
        sys.exit(f"Missing tools; install them with: apt-get install -y {' '.join(missing)}")
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.base.rstrip("/")

    class_group = ClassGroup.objects.get(year__school__code=SECONDARY_CODE, year__is_current=True,
                                         name=CLASS)  # fmt: skip
    assert class_group.homeroom_teacher.username == HOMEROOM, class_group.homeroom_teacher
    assignment = TeachingAssignment.objects.select_related("teacher", "subject").get(
        class_group=class_group, subject__code=SUBJECT
    )
    subject_teacher = assignment.teacher.username
    class_url = base + reverse("hocba:class", args=[SECONDARY_CODE, class_group.pk])
    queue_url = base + reverse("hocba:queue", args=[SECONDARY_CODE])
    codes = Codes(HOMEROOM, PRINCIPAL)

    with (
        tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            locale="vi-VN", viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        page = browser.new_page()

        print(f"1. the homeroom teacher ({HOMEROOM}) confirms and signs {CLASS}")
        log_in(page, base, HOMEROOM, args.password, lambda: codes.fresh(HOMEROOM))
        page.goto(f"{base}/s/{SECONDARY_CODE}/")
        shot(page, args.out, "01-homeroom-dashboard", full_page=False)
        with page.expect_navigation():
            page.locator(".homeroom-transcripts-link").first.click()
        shot(page, args.out, "02-class-before", full_page=False)
        with page.expect_navigation():
            page.locator("#confirm-class").click()
        wait_for_job(page)
        shot(page, args.out, "03-confirm-job-finished")
        page.goto(class_url)
        shot(page, args.out, "04-class-confirmed", full_page=False)
        with page.expect_navigation():
            page.locator("#sign-class").click()
        page.locator("#id_password").fill(args.cert_password)  # the CSC credential's PIN
        page.locator("#id_otp").fill(codes.fresh(HOMEROOM))
        shot(page, args.out, "05-homeroom-sign-confirm")
        with page.expect_navigation():
            page.locator("#sign-confirm-form button[type=submit]").click()
        wait_for_job(page)
        shot(page, args.out, "06-homeroom-sign-finished")
        job = TranscriptJob.objects.filter(created_by__username=HOMEROOM).latest("pk")
        batch = SigningBatch.objects.get(job=job)
        print(f"  CSC service: {batch.summary.get('transcripts')} transcripts, "
              f"{batch.authorisations} authorisation(s)")  # fmt: skip
        page.context.clear_cookies()

        print(f"2. the principal ({PRINCIPAL}) signs (phone) and seals (USB token) {CLASS}")
        start_companion(base)  # stopped when this script ends
        log_in(page, base, PRINCIPAL, args.password, lambda: codes.fresh(PRINCIPAL))
        page.goto(queue_url)
        page.locator("#id_class_group").select_option(label=CLASS)
        with page.expect_navigation():
            page.locator("#queue-filter button[type=submit]").click()
        expect(page.locator("#queue-table tbody tr").first).to_be_visible()
        page.locator("#sign-all").check()
        shot(page, args.out, "07-queue-filtered", full_page=False)
        with page.expect_navigation():
            page.locator('[data-sign="principal_seal"]').click()
        page.locator("#id_otp").fill(codes.fresh(PRINCIPAL))
        shot(page, args.out, "08-principal-sign-confirm")
        with page.expect_navigation():
            page.locator("#sign-confirm-form button[type=submit]").click()
        wait_for_waiting(page)
        expect(page.locator("#job-waiting")).to_be_visible()
        shot(page, args.out, "09-principal-waiting-for-phone")

        phone = browser.new_page()  # the principal's phone
        phone.set_viewport_size({"width": 420, "height": 800})
        phone.goto(PHONE)
        shot(phone, args.out, "10-phone-request")
        phone.get_by_role("button", name="Xác nhận ký").first.click()
        shot(phone, args.out, "11-phone-confirmed")

        # The principal's batch is signed; the seal's waits for the USB token: the page shows
        # the signing panel (it reloads itself when the job reaches that step).
        sign_with_token(browser, page, args.cert_password, args.out, "12-seal", JOB_TIMEOUT)
        page.wait_for_load_state()
        wait_for_job(page)
        shot(page, args.out, "13-principal-sign-finished")
        job = TranscriptJob.objects.filter(created_by__username=PRINCIPAL).latest("pk")
        for batch in job.batches.order_by("pk"):
            print(f"  {batch.role} through {batch.method}: {batch.status}, "
                  f"{batch.authorisations} authorisation(s)")  # fmt: skip
        page.goto(queue_url + f"?class_group={class_group.pk}")
        shot(page, args.out, "14-queue-final", full_page=False)

        transcript = (
            Transcript.objects.filter(class_group=class_group, state=State.FINAL)
            .select_related("student")
            .order_by("student__full_name")
            .first()
        )
        assert transcript is not None, "no final transcript"
        version = transcript.current_version
        detail_url = base + reverse("hocba:detail", args=[SECONDARY_CODE, transcript.pk])
        pdf_url = reverse(
            "hocba:download", args=[SECONDARY_CODE, transcript.pk, version.number, "pdf"]
        )
        print(f"3. {transcript.student.full_name}: the signed PDF, pdfsig and pdftoppm")
        page.goto(detail_url)
        shot(page, args.out, "15-detail-final")
        # The PDF button opens the file in the browser's viewer: fetch it with the same session.
        response = page.context.request.get(base + pdf_url)
        assert response.ok and response.headers["content-type"] == "application/pdf", response
        expect(page.locator(f'a[href="{pdf_url}"]')).to_be_visible()
        pdf = args.out / "transcript-v1.pdf"
        pdf.write_bytes(response.body())
        with tempfile.TemporaryDirectory() as nss:
            run("certutil", "-N", "--empty-password", "-d", f"sql:{nss}")
            run("certutil", "-A", "-n", "demo", "-t", "C,C,C", "-i", str(CA), "-d", f"sql:{nss}")
            report = run("pdfsig", "-nssdir", f"sql:{nss}", str(pdf))
        (args.out / "pdfsig.txt").write_text(report)
        print(report)
        for old in args.out.glob("pdf-page-*.png"):
            old.unlink()
        run("pdftoppm", "-r", "80", "-png", str(pdf), str(args.out / "pdf-page"))
        pages = sorted(args.out.glob("pdf-page-*.png"))
        print(f"  rendered {len(pages)} pages: {', '.join(p.name for p in pages)}")

        print("4. the QR code leads to the verification page")
        verify_url = ""
        with tempfile.TemporaryDirectory() as sharp:  # zbarimg reads a sharper rendering best
            run("pdftoppm", "-r", "200", "-png", str(pdf), f"{sharp}/p")
            for png in sorted(Path(sharp).glob("p-*.png")):
                found = run("zbarimg", "--quiet", "--raw", str(png)).strip()
                if found.startswith("http"):
                    verify_url = found.splitlines()[0]
                    print(f"  QR on {png.name}: {verify_url}")
                    break
        assert verify_url, "no QR code found in the PDF"
        page.context.clear_cookies()  # anyone can open it, logged in or not
        page.goto(verify_url)
        expect(page.locator('[data-outcome="genuine"]')).to_be_visible()
        shot(page, args.out, "16-verify-genuine")

        print("5. the principal reopens it; the mark is corrected; the teacher confirms again")
        log_in(page, base, PRINCIPAL, args.password, lambda: codes.fresh(PRINCIPAL))
        page.goto(detail_url)
        page.locator("#reopen-form textarea").fill(REASON)
        with page.expect_navigation():
            page.locator("#reopen-form button[type=submit]").click()
        shot(page, args.out, "17-detail-reopened")
        page.context.clear_cookies()

        mark = Mark.objects.get(student=transcript.student, year_id=class_group.year_id, term=TERM,
                                subject=assignment.subject, kind="ck", slot="")  # fmt: skip
        before = float(mark.value)
        after = before - 1 if before >= 9 else before + 1
        typed = f"{after:g}".replace(".", ",")
        print(f"  {subject_teacher} changes CK HK II {SUBJECT}: {mark.value} → {typed}")
        log_in(page, base, subject_teacher, args.password, None)
        grid = reverse(
            "gradebook:grid",
            args=[SECONDARY_CODE, class_group.pk, assignment.subject_id, TERM],
        )
        page.goto(base + grid)
        cell = page.locator(f'tr[data-student="{transcript.student_id}"] td[data-key="{TERM}:ck:"]')
        cell.click()
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
        expect(page.locator("#gb-status")).to_have_attribute("data-pending", "0", timeout=30_000)
        cell.scroll_into_view_if_needed()
        shot(page, args.out, "18-grid-mark-changed", full_page=False)
        page.context.clear_cookies()

        log_in(page, base, HOMEROOM, args.password, lambda: codes.fresh(HOMEROOM))
        page.goto(class_url)
        shot(page, args.out, "19-class-one-draft", full_page=False)
        with page.expect_navigation():
            page.locator("#confirm-class").click()
        wait_for_job(page)
        page.goto(detail_url)
        expect(page.locator(".version-card")).to_have_count(2)
        expect(page.locator("#version-changes")).to_be_visible()
        shot(page, args.out, "20-detail-two-versions")
        v1 = transcript.versions.get(number=1).verification_code
        page.goto(base + reverse("transcripts:verify_code", args=[v1]))
        expect(page.locator('[data-outcome="superseded"]')).to_be_visible()
        shot(page, args.out, "21-verify-v1-superseded")
        browser.close()

    transcript.refresh_from_db()
    print(f"  {transcript.student.full_name}: {transcript.get_state_display()}, "
          f"{transcript.versions.count()} versions")  # fmt: skip


if __name__ == "__main__":
    main()
