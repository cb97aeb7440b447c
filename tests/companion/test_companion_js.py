"""static/js/companion.js in real Chromium, against the real companion and SoftHSM2 token: a
stand-in for the school site (another origin on 127.0.0.1) serves a page bound by the script's
data attributes, the batch's digests and the endpoint that takes the values. The person at the
computer is a second tab on the companion's own page."""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import BrowserContext, Page, sync_playwright
from sodiem_companion.pkcs11_token import verify_signature

from tests.companion.conftest import (
    PIN,
    SCHOOL,
    digests,
    make_config,
    sha256_hex,
    start,
    stop,
    summary,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "companion.js"
CSRF = "csrf-cookie-value"
TIMEOUT_MS = 20_000

PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Ký học bạ</title></head>
<body>
<div data-companion-sign data-digests-url="/digests" data-values-url="/values">
  <button data-companion-start>Ký bằng USB token</button>
  <p data-companion-status></p>
  <div data-companion-pairing hidden></div>
</div>
<form data-companion-certificates>
  <div data-companion-certificate-select><select></select></div>
  <input type="hidden" name="certificate_pem">
  <p data-companion-status></p>
  <div data-companion-pairing hidden><strong data-companion-code></strong></div>
  <button data-companion-read>Đọc chứng thư từ token</button>
</form>
<script>
  sessionStorage.setItem("loads", String(Number(sessionStorage.getItem("loads") || 0) + 1));
  document.addEventListener("companion:done",
    (e) => sessionStorage.setItem("done", e.detail.count));
</script>
<script src="/static/companion.js" data-companion-url="COMPANION_URL"></script>
</body></html>
"""


class Site:
    """The school site's part of the contract, as companion.js sees it."""

    def __init__(self, certificate_sha256: str, values: list[bytes]) -> None:
        self.certificate_sha256 = certificate_sha256
        self.digests = values
        self.companion_url = ""
        self.received: list[dict] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str, extra=()) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in extra:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/":
                    html = PAGE.replace("COMPANION_URL", site.companion_url).encode()
                    self._send(200, html, "text/html; charset=utf-8",
                               [("Set-Cookie", f"csrftoken={CSRF}; Path=/")])  # fmt: skip
                elif self.path == "/static/companion.js":
                    self._send(200, SCRIPT.read_bytes(), "text/javascript")
                elif self.path == "/digests":
                    batch = {
                        "certificate_sha256": site.certificate_sha256,
                        "digests": [base64.b64encode(d).decode() for d in site.digests],
                        "summary": summary(len(site.digests)),
                        "expires_at": "2999-01-01T00:00:00+00:00",
                    }
                    self._send(200, json.dumps(batch).encode(), "application/json")
                else:
                    self._send(404, b"{}", "application/json")

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                site.received.append({"csrf": self.headers.get("X-CSRFToken"), **body})
                self._send(200, b'{"ok": true}', "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def chromium_context_factory() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `sudo apt-get install chromium`", pytrace=False)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    contexts: list[BrowserContext] = []

    def new_context() -> BrowserContext:
        context = browser.new_context(locale="vi-VN")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield new_context
    for context in contexts:
        context.close()
    browser.close()
    playwright.stop()


@pytest.fixture
def site(hsm) -> Iterator[Site]:
    site = Site(hsm.sha256, digests(4))
    yield site
    site.close()


@pytest.fixture
def running(site, state_dir):
    server = start(make_config(state_dir, sites=(site.url,)))
    site.companion_url = server.url
    yield server
    stop(server)


def confirm_pairing(context: BrowserContext, web: Page, root: str, companion_url: str) -> Page:
    """Read the code the web page shows and type it into the companion's page."""
    pairing = web.locator(f"{root} [data-companion-pairing]")
    pairing.wait_for(state="visible")
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}", pairing.inner_text())[0]
    local = context.new_page()
    local.goto(companion_url + "/")
    local.fill("input[name=code]", code)
    local.click("button[value=pair]")
    pairing.wait_for(state="hidden")
    return local


def test_page_signs_a_batch_confirmed_in_the_companion(
    chromium_context_factory, running, site, hsm
):
    context = chromium_context_factory()
    web = context.new_page()
    web.goto(site.url + "/")
    web.click("[data-companion-start]")
    local = confirm_pairing(context, web, "[data-companion-sign]", running.url)

    status = web.locator("[data-companion-sign] [data-companion-status]")
    status.filter(has_text="Đang chờ bạn xác nhận trong chương trình ký số").wait_for()
    local.locator("input[name=pin]").wait_for()
    assert "2 học bạ, 4 tệp" in local.inner_text("body")
    assert SCHOOL in local.inner_text("body")

    local.fill("input[name=pin]", "000000")
    local.click("button[value=sign]")
    local.get_by_text("Sai mã PIN").wait_for()
    status.filter(has_text="Sai mã PIN").wait_for()

    local.fill("input[name=pin]", PIN)
    local.click("button[value=sign]")
    web.wait_for_function("sessionStorage.getItem('loads') === '2'")  # reloaded after done

    assert web.evaluate("sessionStorage.getItem('done')") == "4"
    assert len(site.received) == 1
    assert site.received[0]["csrf"] == CSRF
    values = [base64.b64decode(v) for v in site.received[0]["values"]]
    assert all(
        verify_signature(hsm.certificate, d, v) for d, v in zip(site.digests, values, strict=True)
    )
    assert web.evaluate("localStorage.getItem('sodiem-companion-token')")


def test_page_reads_the_certificates_into_the_form(chromium_context_factory, running, site, hsm):
    context = chromium_context_factory()
    web = context.new_page()
    web.goto(site.url + "/")
    web.click("[data-companion-read]")
    confirm_pairing(context, web, "[data-companion-certificates]", running.url)

    select = web.locator("[data-companion-certificate-select] select")
    select.locator("option").nth(1).wait_for(state="attached")
    pem = web.locator("input[name=certificate_pem]")
    select.select_option(hsm.sha256)
    assert pem.input_value() == hsm.certificate.public_bytes(serialization.Encoding.PEM).decode()
    select.select_option(sha256_hex(hsm.by_modulus))
    assert pem.input_value() == hsm.by_modulus.public_bytes(serialization.Encoding.PEM).decode()
    assert web.url == site.url + "/"  # the button did not submit the form


def test_page_says_how_to_start_the_companion_when_it_is_not_running(
    chromium_context_factory, site
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        site.companion_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    context = chromium_context_factory()
    web = context.new_page()
    web.goto(site.url + "/")
    web.click("[data-companion-start]")

    status = web.locator("[data-companion-sign] [data-companion-status]")
    status.filter(has_text="python run.py").wait_for()
    assert f"python run.py --site {site.url} --lib" in status.inner_text()
    assert "signer-companion/README.md" in status.inner_text()
    assert web.locator("[data-companion-start]").is_enabled()  # retry is possible
    assert site.received == []
