"""What the demo scripts share to sign with the demo USB token: the signing companion started
(unless one runs), and a page's "Sign with the USB token" followed through — the pairing code
typed into the companion's own page the first time, then the token's PIN there."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from screenshot import shot

ROOT = Path(__file__).resolve().parent.parent
COMPANION = "http://127.0.0.1:8790"
SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"


def _running() -> bool:
    try:
        urllib.request.urlopen(COMPANION + "/ui/version", timeout=1)  # noqa: S310
    except OSError:
        return False
    return True


def start_companion(base: str) -> subprocess.Popen | None:
    """The signing companion with the demo USB token (what `make companion` runs), unless one
    already runs on its port; None then."""
    if _running():
        return None
    env = {
        **os.environ,
        "SOFTHSM2_CONF": str(ROOT / "media" / "demo-token" / "softhsm2.conf"),
        "PYTHONPATH": str(ROOT / "signer-companion"),
    }
    process = subprocess.Popen(  # noqa: S603 - stopped when this script exits (atexit)
        [sys.executable, "-m", "sodiem_companion", "--site", base, "--no-browser",
         "--lib", SOFTHSM_LIB, "--state-dir", str(ROOT / "media" / "demo-companion")],
        env=env,
    )  # fmt: skip
    atexit.register(process.terminate)
    for _ in range(50):
        if _running():
            return process
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("the signing companion did not start")


def sign_with_token(
    browser: BrowserContext, page: Page, pin: str, out: Path, prefix: str, timeout: int
) -> None:
    """Click "Sign with the USB token" on ``page`` (it must show the panel), pair the companion
    if it asks, and type the PIN in the companion's page; screenshots named ``prefix-…``."""
    start = page.locator("#companion-start")
    expect(start).to_be_visible(timeout=timeout)
    shot(page, out, f"{prefix}-waiting-for-token")
    start.click()
    token_page = browser.new_page()  # the companion's own page on this computer
    code_slot = page.locator("[data-companion-code]")
    try:
        expect(code_slot).to_be_visible(timeout=5_000)
        code = code_slot.inner_text().strip()
        shot(page, out, f"{prefix}-pairing-code")
        token_page.goto(COMPANION + "/")
        token_page.locator("input[name=code]").last.fill(code)  # the newest pairing
        shot(token_page, out, f"{prefix}-companion-pairing")
        token_page.get_by_role("button", name="Ghép nối", exact=True).last.click()
    except PlaywrightTimeout:
        print("  (the companion was already paired with this site)")
    token_page.goto(COMPANION + "/")
    field = token_page.locator("input[name=pin]")
    expect(field).to_be_visible(timeout=30_000)
    field.fill(pin)
    shot(token_page, out, f"{prefix}-companion-request")
    token_page.get_by_role("button", name="Ký", exact=True).click()
    shot(token_page, out, f"{prefix}-companion-signed")
    token_page.close()
    page.bring_to_front()
