"""What a person does in the browser, as functions the browser tests share."""

from __future__ import annotations

import re
import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from playwright.sync_api import Page, expect


def log_in(page: Page, username: str, password: str) -> None:
    """Type the credentials into allauth's login form, as a person would, and submit it."""
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("form[action='/accounts/login/'] button[type=submit]").click()


def wait_for_fresh_totp_period() -> None:
    """When the current TOTP period is about to end, wait for the next one, so that a code
    computed now is still valid when the form reaches the server."""
    period = getattr(settings, "MFA_TOTP_PERIOD", 30)
    left = period - time.time() % period
    if left < 3:
        time.sleep(left + 0.1)


def totp_code(secret: str) -> str:
    """The code an authenticator app holding `secret` shows now."""
    wait_for_fresh_totp_period()
    period = getattr(settings, "MFA_TOTP_PERIOD", 30)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def submit_totp(page: Page, code: str) -> None:
    page.locator("#id_code").fill(code)
    with page.expect_navigation():
        page.locator("#id_code").press("Enter")


def expect_path(page: Page, path: str) -> None:
    """Wait until the page is at `path` (query string allowed)."""
    expect(page).to_have_url(re.compile(rf"^https?://[^/]+{re.escape(path)}(\\?.*)?$"))


def cell(page: Page, student, key: str):
    """The grid's cell of `student` in the column `key` ("1:tx:1", …)."""
    return page.locator(f'tr[data-student="{student.pk}"] td[data-key="{key}"]')


def log_in_with_totp(page: Page, user) -> None:
    """Log a persona in (password "pw-<username>"), with its two-factor code when asked."""
    from accounts.totp import current_totp_code

    log_in(page, user.username, f"pw-{user.username}")
    if "/2fa/" in page.url:
        wait_for_fresh_totp_period()
        submit_totp(page, current_totp_code(user))
