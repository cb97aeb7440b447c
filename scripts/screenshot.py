"""Log in to a running server through the real login form and save a full-page screenshot.

For developers' notes and docs; uses Debian's /usr/bin/chromium (never `playwright install`).

    .venv/bin/python scripts/screenshot.py --base http://127.0.0.1:8000 \\
        --user gv.toan1 --password XXX --path /s/01001001/ --out shot.png

Accounts with two-factor authentication (the demo principal `hieutruong`):

    --totp 123456                 type this code on the TOTP page
    --totp-user-secret-from-db    read the user's TOTP secret from this checkout's database
                                  (DATABASE_URL / db.sqlite3, as manage.py would) and type the
                                  current code; only works against your own local server

Other options: --lang vi|en (the browser's language, default vi), --width (default 1280).
Exits non-zero when the login fails; prints where the screenshot went and the page's final URL.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOTP_PAGE = "/accounts/2fa/authenticate/"


def totp_secret_from_db(username: str) -> tuple[str, int]:
    """The user's TOTP secret and period, read through Django before Playwright starts (Django
    refuses ORM calls while Playwright's event loop runs)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import decrypt
    from django.conf import settings

    authenticator = Authenticator.objects.get(user__username=username, type=Authenticator.Type.TOTP)
    return decrypt(authenticator.data["secret"]), getattr(settings, "MFA_TOTP_PERIOD", 30)


def current_code(secret: str, period: int) -> str:
    """What an authenticator app shows now; waits for the next code if this one is expiring."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    left = period - time.time() % period
    if left < 3:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def shot(page: Page, out: Path, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot as OUT/NAME.png and say where it went (the demo walkthroughs)."""
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"  screenshot {path}")


def log_in(page: Page, base: str, user: str, password: str, totp: Callable[[], str] | None) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(user)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("#id_password").press("Enter")
    if "/accounts/login/" in page.url:
        sys.exit(f"login failed for {user!r}: still on {page.url}")
    if TOTP_PAGE in page.url:
        if not totp:
            sys.exit("a TOTP code is required: pass --totp CODE or --totp-user-secret-from-db")
        page.locator("#id_code").fill(totp())
        with page.expect_navigation():
            page.locator("#id_code").press("Enter")
        if TOTP_PAGE in page.url:
            sys.exit("the TOTP code was refused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    code = parser.add_mutually_exclusive_group()
    code.add_argument("--totp", metavar="CODE", help="code to type on the TOTP page")
    code.add_argument("--totp-user-secret-from-db", action="store_true")
    parser.add_argument("--path", default="/")
    parser.add_argument("--out", type=Path, default=Path("shot.png"))
    parser.add_argument("--lang", choices=["vi", "en"], default="vi")
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(
            "Chromium is missing: run `sudo scripts/system-deps.sh` (apt-get install chromium)"
        )
    totp: Callable[[], str] | None = None
    if args.totp_user_secret_from_db:
        secret, period = totp_secret_from_db(args.user)
        totp = lambda: current_code(secret, period)  # noqa: E731
    elif args.totp:
        totp = lambda: args.totp  # noqa: E731
    base = args.base.rstrip("/")

    # The profile directory outlives Playwright, so Chromium has closed before it is removed.
    with (
        tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="vi-VN" if args.lang == "vi" else "en-US",
            viewport={"width": args.width, "height": 800},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            log_in(page, base, args.user, args.password, totp)
            page.goto(f"{base}{args.path}")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            print(f"{args.out} ← {page.url}")
        finally:
            context.close()


if __name__ == "__main__":
    main()
