"""Issue 6's end-to-end demo: the admin exports the demo school's final transcripts as a package,
checks it, and uploads it to the test receiving server — in real Chromium against a running
local server.

    .venv/bin/python scripts/demo_packages.py --password DEMO_PASSWORD \\
        [--cert-password demo-ky-so] [--base http://127.0.0.1:8000] [--out DIR]

Needs `seed_demo`, `demo_pki --password demo-ky-so`, `demo_sign_all --password demo-ky-so`, a
server started with SIGNING_TRUST_ANCHORS=media/demo-pki/demo-ca.pem and a task worker (what
`make run` starts). Starts `manage.py province_receiver --drop-next 1` itself on --receiver-port
(it hangs up in the middle of the first chunk). Uses unzip, openssl, xmllint, xmlsec1, pdfsig and
pdfdetach for the standard-tools check (docs/package-format.md).

1. The admin opens Packages for the Department; a full export is refused: the students of 9A2
   (left half-finished by the demo) are not final, and are listed.
2. The admin exports only the final transcripts: the progress bar runs to the end.
3. The package is downloaded and checked: `manage.py verify_package`, then the documented
   script of standard tools; a copy with one byte of one PDF changed is rejected by both, and by
   the public verification page, which names the file.
4. The admin sets the upload address on the settings page and uploads: the first attempt meets
   the dropped connection, the second resumes and the receipt is recorded.

Two-factor codes are read from this checkout's database, so run it against your own local
server. Screenshots, the package, the tampered copy and the tools' output go to --out (default
test-artifacts/packages, git-ignored).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # reads the database between browser steps

import django  # noqa: E402

django.setup()

from demo_companion import sign_with_token, start_companion  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from screenshot import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    current_code,
    log_in,
    shot,
    totp_secret_from_db,
)

from schools.demo import SECONDARY_CODE  # noqa: E402

ADMIN = "admin"
CA = ROOT / "media" / "demo-pki" / "demo-ca.pem"
DOC = ROOT / "docs" / "package-format.md"
PY = sys.executable
JOB_TIMEOUT = 10 * 60_000


def run(*command: str | Path) -> tuple[int, str]:
    result = subprocess.run(  # noqa: S603
        [str(c) for c in command], capture_output=True, text=True, check=False, cwd=ROOT
    )
    return result.returncode, (result.stdout + result.stderr).rstrip()


def show(label: str, outcome: tuple[int, str], limit: int = 40) -> None:
    code, text = outcome
    lines = text.splitlines()
    print(f"  $ {label}  → exit {code}")
    for line in lines[:limit]:
        print(f"    {line}")
    if len(lines) > limit:
        print(f"    … ({len(lines) - limit} more lines)")


def doc_script(out: Path) -> Path:
    match = re.search(
        r"<!-- verify-script:start -->\n```sh\n(.*?)```\n<!-- verify-script:end -->",
        DOC.read_text(),
        re.S,
    )
    assert match, "docs/package-format.md lost its verify script"
    path = out / "verify-package.sh"
    path.write_text(match.group(1))
    return path


def tamper(package: bytes) -> tuple[bytes, str]:
    """A copy with one byte of the first PDF changed, re-zipped properly (valid CRCs)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        victim = next(i.filename for i in source.infolist() if i.filename.endswith(".pdf"))
        for info in source.infolist():
            content = source.read(info)
            if info.filename == victim:
                at = len(content) // 2
                content = content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1 :]
            target.writestr(info, content)
    return out.getvalue(), victim


def fill_seal_password(page, password: str) -> bool:
    """Type the seal's password where the seal's method asks for one (False: it does not, the
    seal is the USB token or a remote service)."""
    field = page.locator("#export-form #id_seal_password")
    if field.count() == 0:
        return False
    field.fill(password)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--password", required=True, help="the demo password (make run prints it)")
    parser.add_argument("--cert-password", default="demo-ky-so", help="demo_pki's password")
    parser.add_argument("--receiver-port", type=int, default=8765)
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "packages")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.base.rstrip("/")
    packages_url = base + reverse("hocba:packages", args=[SECONDARY_CODE])
    settings_url = base + reverse("hocba:province_settings", args=[SECONDARY_CODE])
    secret, period = totp_secret_from_db(ADMIN)
    used: list[int] = []

    def fresh_code() -> str:  # a code is single-use: never the same window twice
        while used and int(time.time()) // period <= used[-1]:
            time.sleep(0.5)
        used.append(int(time.time()) // period)
        return current_code(secret, period)

    receiver_log = (args.out / "province-receiver.log").open("w")
    receiver = subprocess.Popen(  # noqa: S603
        [PY, "manage.py", "province_receiver", "--port", str(args.receiver_port),
         "--token", "demo-token", "--drop-next", "1", "--drop-after", "100000",
         "--trust-anchor", str(CA)],
        cwd=ROOT, stdout=receiver_log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        with (
            tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
                locale="vi-VN", viewport={"width": 1360, "height": 900},
            )  # fmt: skip
            page = browser.new_page()
            log_in(page, base, ADMIN, args.password, fresh_code)

            print("1. a full export is refused while some transcripts are not final")
            page.goto(packages_url)
            shot(page, args.out, "issue6-01-packages", full_page=False)
            fill_seal_password(page, args.cert_password)
            page.locator("#export-form #id_otp").fill(fresh_code())
            with page.expect_navigation():
                page.locator("#export-form button[type=submit]").click()
            refusal = page.locator(".alert-danger, .alert-warning").first
            expect(refusal).to_be_visible()
            print(f"  refused: {refusal.inner_text().strip()}")
            shot(page, args.out, "issue6-02-refused-not-final")

            print("2. export only the final transcripts, with the progress bar")
            page.locator("#export-form #id_only_final").check()
            token = not fill_seal_password(page, args.cert_password)
            page.locator("#export-form #id_otp").fill(fresh_code())
            with page.expect_navigation():
                page.locator("#export-form button[type=submit]").click()
            progress = page.locator("#package-progress")
            if token:  # the seal is the demo USB token: sign the manifest with it (the
                # companion stops when this script does: the page still fetches the value)
                start_companion(base)
                sign_with_token(
                    browser, page, args.cert_password, args.out, "issue13-package-seal",
                    JOB_TIMEOUT,
                )  # fmt: skip
            try:
                page.wait_for_function(
                    """() => { const p = document.querySelector('#package-progress');
                               const n = p && p.querySelector('[aria-valuenow]');
                               return p && p.dataset.status === 'running' && n
                                      && +n.getAttribute('aria-valuenow') > 0; }""",
                    timeout=60_000,
                    polling=100,
                )
                shot(page, args.out, "issue6-03-export-running", full_page=False)
            except PlaywrightTimeout:
                print("  (the export finished before a screenshot of it running)")
            expect(progress).to_have_attribute("data-status", "finished", timeout=JOB_TIMEOUT)
            summary = page.locator("#package-summary").inner_text()
            print("  " + " | ".join(line for line in summary.splitlines() if line.strip()))
            shot(page, args.out, "issue6-04-export-finished")
            package_page = page.url

            print("3. download, verify, tamper")
            href = page.locator("#package-download").get_attribute("href")
            response = page.context.request.get(base + href)
            assert response.ok, response
            package = args.out / "package.zip"
            package.write_bytes(response.body())
            print(f"  downloaded {package} ({package.stat().st_size:,} bytes)")
            show(
                f"manage.py verify_package {package.name}",
                run(PY, "manage.py", "verify_package", package, "--trust-anchor", CA),
            )
            script = doc_script(args.out)
            genuine = run("sh", script, package, CA)
            (args.out / "verify-package-genuine.txt").write_text(genuine[1])
            show(f"sh {script.name} {package.name} demo-ca.pem", genuine, limit=12)
            tampered_bytes, victim = tamper(package.read_bytes())
            tampered = args.out / "package-tampered.zip"
            tampered.write_bytes(tampered_bytes)
            print(f"  tampered copy: one byte of {victim} changed")
            show(
                f"manage.py verify_package {tampered.name}",
                run(PY, "manage.py", "verify_package", tampered, "--trust-anchor", CA),
            )
            bad = run("sh", script, tampered, CA)
            (args.out / "verify-package-tampered.txt").write_text(bad[1])
            show(f"sh {script.name} {tampered.name} demo-ca.pem", bad, limit=12)
            page.goto(base + reverse("transcripts:verify_home"))
            page.locator("#verify-file").set_input_files(str(tampered))
            with page.expect_navigation():
                page.locator("#verify-file ~ button[type=submit]").click()
            expect(page.locator('[data-outcome="package-invalid"]')).to_be_visible()
            print("  /verify/: " + page.locator("#package-problems").inner_text().strip())
            shot(page, args.out, "issue6-05-verify-page-tampered")

            print("4. the upload address, then the upload (the receiver drops the first chunk)")
            page.goto(settings_url)
            page.locator("#id_url").fill(f"http://127.0.0.1:{args.receiver_port}/api/v1")
            page.locator("#id_token").fill("demo-token")
            page.locator("#endpoint-form #id_otp").fill(fresh_code())
            with page.expect_navigation():
                page.locator("#endpoint-form button[type=submit]").click()
            shot(page, args.out, "issue6-06-upload-settings", full_page=False)
            page.goto(package_page)
            page.locator("#upload-form #id_otp").fill(fresh_code())
            with page.expect_navigation():
                page.locator("#package-upload").click()
            expect(progress).to_have_attribute("data-upload", "accepted", timeout=JOB_TIMEOUT)
            print("  receipt: " + page.locator("#receipt-id").inner_text())
            for row in page.locator("#upload-attempts tbody tr").all():
                print("  attempt: " + " | ".join(row.inner_text().split("\t")))
            shot(page, args.out, "issue6-07-uploaded")
            page.goto(packages_url)
            shot(page, args.out, "issue6-08-history")
            browser.close()
    finally:
        receiver.terminate()
        receiver.wait(10)
        receiver_log.close()
    print("  the receiver's log:")
    for line in (args.out / "province-receiver.log").read_text().splitlines()[:30]:
        print(f"    {line}")


if __name__ == "__main__":
    main()
