"""HTTP on 127.0.0.1: the JSON API for the school site's pages (``/v1/``, CORS for the allowed
origins only) and the companion's own page for the person at this computer (``/``, ``/ui/``).
"""

from __future__ import annotations

import hmac
import json
import os
import re
import socket
import socketserver
import sys
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sodiem_companion import APP_NAME, __version__
from sodiem_companion.app import Companion, TooBusy, browser_opener
from sodiem_companion.batches import MAX_BODY_BYTES, BadRequest
from sodiem_companion.config import HOST, Config
from sodiem_companion.pairing import PairingError
from sodiem_companion.pkcs11_token import TokenError
from sodiem_companion.ui import PAGE_SCRIPT, page_version, render_page

_ID = r"([A-Za-z0-9_-]{10,64})"
_PAIR = re.compile(rf"/v1/pair/{_ID}")
_SIGN = re.compile(rf"/v1/sign/{_ID}")
_UI_PAIR = re.compile(rf"/ui/pair/{_ID}")
_UI_SIGN = re.compile(rf"/ui/sign/{_ID}")
_MAX_FORM_BYTES = 16 * 1024
_ANSWERED = object()
_PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "frame-ancestors 'none'; default-src 'self'; style-src 'unsafe-inline'; "
        "form-action 'self'; base-uri 'none'"
    ),
    # Not no-referrer: with it, Chromium sends "Origin: null" on our own form posts.
    "Referrer-Policy": "same-origin",
}


class CompanionServer(ThreadingHTTPServer):
    daemon_threads = True
    # Restarting must not wait for TIME_WAIT (POSIX SO_REUSEADDR never lets two listeners share
    # a port); on Windows SO_REUSEADDR would let another program take the port over, so there
    # the port is held exclusively instead.
    allow_reuse_address = os.name != "nt"

    def __init__(self, config: Config, companion: Companion | None = None) -> None:
        super().__init__((HOST, config.port), CompanionHandler)
        self.config = config
        self.companion = companion or Companion(config)
        port = self.server_address[1]
        self.url = f"http://{HOST}:{port}"
        self.own_origins = (self.url, f"http://localhost:{port}")
        self.own_hosts = (f"{HOST}:{port}", f"localhost:{port}")

    def server_bind(self) -> None:
        if os.name == "nt":
            exclusive = socket.SO_EXCLUSIVEADDRUSE  # type: ignore[attr-defined]
            self.socket.setsockopt(socket.SOL_SOCKET, exclusive, 1)
        socketserver.TCPServer.server_bind(self)  # not HTTPServer's: no slow getfqdn()
        self.server_name, self.server_port = self.server_address[:2]


def create_server(
    config: Config, *, clock: Callable[[], float] = time.monotonic
) -> CompanionServer:
    """Bind 127.0.0.1:config.port (0: any free port); call ``serve_forever()`` to answer."""
    companion = Companion(config, clock=clock)
    server = CompanionServer(config, companion)
    if config.open_browser:
        companion.open_page = browser_opener(server.url + "/")
    return server


class CompanionHandler(BaseHTTPRequestHandler):
    server: CompanionServer
    server_version = f"{APP_NAME}/{__version__}"

    def version_string(self) -> str:
        return self.server_version

    # --- Plumbing ------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        # The request line only: bodies (which may hold a PIN) and headers are never logged.
        sys.stderr.write(f"{self.log_date_time_string()} {format % args}\n")

    @property
    def companion(self) -> Companion:
        return self.server.companion

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path

    def _send(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body or status != HTTPStatus.NO_CONTENT:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: object, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self._send(status, body, content_type="application/json; charset=utf-8", headers=headers)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"error": message}, headers)

    def _host_ok(self) -> bool:
        """A page on another name that resolves to 127.0.0.1 (DNS rebinding) is refused."""
        return (self.headers.get("Host") or "").lower() in self.server.own_hosts

    def _read_body(self, limit: int, headers: dict[str, str] | None = None) -> bytes | None:
        """The request body, or None after answering 411/413."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._error(HTTPStatus.LENGTH_REQUIRED, "Thiếu Content-Length.", headers)
            return None
        if int(length) > limit:
            self.close_connection = True
            self._drain(int(length), 8 * limit)
            self._error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"Nội dung quá lớn (tối đa {limit} byte).",
                headers,
            )
            return None
        return self.rfile.read(int(length))

    def _drain(self, length: int, cap: int) -> None:
        """Read (and drop) a refused body so that the client can read the answer."""
        if length > cap:
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                return
            length -= len(chunk)

    # --- Dispatch ------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:
        origin = self.headers.get("Origin")
        if not self._host_ok() or not self.path_only.startswith("/v1/"):
            self._error(HTTPStatus.FORBIDDEN, "Không được phép.")
        elif origin not in self.server.config.sites:
            self._error(HTTPStatus.FORBIDDEN, "Trang này không được phép dùng chương trình ký số.")
        else:
            headers = self._cors(origin) | {
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type, Authorization",
                "Access-Control-Max-Age": "600",
            }
            if self.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
                headers["Access-Control-Allow-Private-Network"] = "true"
            self._send(HTTPStatus.NO_CONTENT, headers=headers)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        if not self._host_ok():
            self._error(HTTPStatus.FORBIDDEN, "Tên máy không hợp lệ; hãy dùng http://127.0.0.1.")
            return
        path = self.path_only
        try:
            if path.startswith("/v1/"):
                self._api(path)
            else:
                self._local(path)
        except TokenError as exc:
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc), self._cors_if_allowed())

    # --- The API for the school site's pages ---------------------------------------------------

    @staticmethod
    def _cors(origin: str) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def _cors_if_allowed(self) -> dict[str, str]:
        origin = self.headers.get("Origin")
        return self._cors(origin) if origin in self.server.config.sites else {}

    def _bearer(self) -> str | None:
        value = self.headers.get("Authorization") or ""
        scheme, _sep, token = value.partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None

    def _api(self, path: str) -> None:
        origin = self.headers.get("Origin")
        if origin is None or origin not in self.server.config.sites:
            self._error(HTTPStatus.FORBIDDEN, "Trang này không được phép dùng chương trình ký số.")
            return
        cors = self._cors(origin)
        paired = self.companion.pairings.is_paired(origin, self._bearer())
        method = self.command
        if path == "/v1/status" and method == "GET":
            self._json(200, {"app": APP_NAME, "version": __version__, "paired": paired}, cors)
        elif path == "/v1/pair" and method == "POST":
            self._api_pair(origin, cors)
        elif (match := _PAIR.fullmatch(path)) and method == "GET":
            answer = self.companion.pairings.poll(origin, match[1])
            if answer is None:
                self._error(HTTPStatus.NOT_FOUND, "Không có yêu cầu ghép nối này.", cors)
            else:
                self._json(200, answer, cors)
        elif path in ("/v1/certificates", "/v1/sign") or _SIGN.fullmatch(path):
            if paired:
                self._api_paired(origin, path, cors)
            else:
                self._error(HTTPStatus.UNAUTHORIZED, "Chưa ghép nối với chương trình ký số.", cors)
        else:
            self._error(HTTPStatus.NOT_FOUND, "Không có địa chỉ này.", cors)

    def _api_paired(self, origin: str, path: str, cors: dict[str, str]) -> None:
        """What only a page holding a token for its origin may do."""
        method = self.command
        if path == "/v1/certificates" and method == "GET":
            found = self.companion.certificates()
            self._json(200, [entry.as_json() for entry in found], cors)
        elif path == "/v1/sign" and method == "POST":
            self._api_sign(origin, cors)
        elif (match := _SIGN.fullmatch(path)) and method == "GET":
            answer = self.companion.request_status(origin, match[1])
            if answer is None:
                self._error(HTTPStatus.NOT_FOUND, "Không có yêu cầu ký này.", cors)
            else:
                self._json(200, answer, cors)
        else:
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, "Phương thức không hợp lệ.", cors)

    def _json_body(self, cors: dict[str, str]) -> object:
        """The parsed JSON body, or _ANSWERED after an error answer."""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Cần Content-Type: application/json.", cors
            )
            return _ANSWERED
        body = self._read_body(MAX_BODY_BYTES, cors)
        if body is None:
            return _ANSWERED
        try:
            return json.loads(body)
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "Nội dung không phải JSON hợp lệ.", cors)
            return _ANSWERED

    def _api_pair(self, origin: str, cors: dict[str, str]) -> None:
        payload = self._json_body(cors)
        if payload is _ANSWERED:
            return
        code = payload.get("code") if isinstance(payload, dict) else None
        try:
            pairing_id = self.companion.start_pairing(origin, code)
        except PairingError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc), cors)
            return
        self._json(HTTPStatus.CREATED, {"pairing_id": pairing_id}, cors)

    def _api_sign(self, origin: str, cors: dict[str, str]) -> None:
        payload = self._json_body(cors)
        if payload is _ANSWERED:
            return
        try:
            request_id = self.companion.submit(origin, payload)
        except BadRequest as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc), cors)
            return
        except TooBusy as exc:
            self._error(HTTPStatus.TOO_MANY_REQUESTS, str(exc), cors)
            return
        self._json(HTTPStatus.ACCEPTED, {"request_id": request_id}, cors)

    # --- The companion's own page --------------------------------------------------------------

    def _local(self, path: str) -> None:
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.own_origins:
            self._error(HTTPStatus.FORBIDDEN, "Trang của chương trình ký số chỉ mở trên máy này.")
            return
        method = self.command
        if method == "GET" and path == "/":
            body = render_page(self.companion).encode()
            self._send(200, body, content_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)
        elif method == "GET" and path == "/ui/page.js":
            self._send(200, PAGE_SCRIPT.encode(), content_type="text/javascript; charset=utf-8")
        elif method == "GET" and path == "/ui/version":
            self._json(200, {"version": page_version(self.companion)})
        elif method == "POST" and path.startswith("/ui/"):
            self._ui_post(path)
        else:
            self._error(HTTPStatus.NOT_FOUND, "Không có địa chỉ này.")

    def _form(self) -> dict[str, str] | None:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Biểu mẫu không hợp lệ.")
            return None
        body = self._read_body(_MAX_FORM_BYTES)
        if body is None:
            return None
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if not hmac.compare_digest(
            fields.get("csrf", "").encode(), self.companion.csrf_token.encode()
        ):
            self._error(HTTPStatus.FORBIDDEN, "Trang đã cũ; hãy tải lại trang rồi thử lại.")
            return None
        return fields

    def _ui_post(self, path: str) -> None:
        fields = self._form()
        if fields is None:
            return
        action = fields.get("action", "")
        if match := _UI_PAIR.fullmatch(path):
            if action == "refuse":
                self.companion.pairings.refuse(match[1])
            else:
                self.companion.confirm_pairing(match[1], fields.get("code", ""))
        elif match := _UI_SIGN.fullmatch(path):
            if action == "sign":
                self.companion.sign(match[1], fields.get("pin", ""))
            elif action == "reject":
                self.companion.reject(match[1])
        elif path == "/ui/unpair":
            self.companion.pairings.forget(fields.get("origin", ""))
        else:
            self._error(HTTPStatus.NOT_FOUND, "Không có địa chỉ này.")
            return
        fields.clear()  # drop the PIN as soon as possible
        self._send(HTTPStatus.SEE_OTHER, headers={"Location": "/"})
