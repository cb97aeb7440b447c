"""The companion's state and what can be done with it, whoever asks (the HTTP API, the local
page, the console). Holds no PIN: a PIN goes from the form straight to the token and is dropped.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
import sys
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable

from sodiem_companion import batches
from sodiem_companion.batches import BadRequest, SigningRequest
from sodiem_companion.config import Config
from sodiem_companion.pairing import PairingBook
from sodiem_companion.pkcs11_token import (
    PinLocked,
    TokenAccess,
    TokenCertificate,
    TokenError,
    TokenUnavailable,
    WrongPin,
)

CERTIFICATES_FRESH_FOR = 30.0
NOTICE_SECONDS = 15.0
LOGIN_WAIT_SECONDS = 30.0
BROWSER_OPEN_INTERVAL = 10.0


class TooBusy(Exception):
    """Too many things are already waiting for the person at this computer."""


@dataclasses.dataclass(frozen=True)
class Notice:
    text: str
    at: float


class Companion:
    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], float] = time.monotonic,
        open_page: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.csrf_token = secrets.token_urlsafe(32)
        self.pairings = PairingBook(config.state_dir, clock)
        self.token = TokenAccess(config.lib, config.token_label)
        self.open_page = open_page
        self.changed = threading.Condition()
        self._lock = threading.RLock()
        self._requests: dict[str, SigningRequest] = {}
        self._notices: list[Notice] = []
        self._certificates: tuple[float, list[TokenCertificate]] | None = None
        self._last_open = -BROWSER_OPEN_INTERVAL

    # --- Attention -----------------------------------------------------------------------------

    def _attention(self) -> None:
        """Something waits for the person: wake the console, open the page (not too often)."""
        with self.changed:
            self.changed.notify_all()
        if self.open_page is None:
            return
        now = self.clock()
        if now - self._last_open >= BROWSER_OPEN_INTERVAL:
            self._last_open = now
            threading.Thread(target=self.open_page, daemon=True).start()

    def notify(self, text: str) -> None:
        with self._lock:
            self._notices.append(Notice(text, self.clock()))

    def notices(self) -> list[str]:
        with self._lock:
            now = self.clock()
            self._notices = [n for n in self._notices if now - n.at < NOTICE_SECONDS]
            return [n.text for n in self._notices]

    # --- Pairing -------------------------------------------------------------------------------

    def start_pairing(self, origin: str, code: object) -> str:
        pairing = self.pairings.start(origin, code)
        self._attention()
        return pairing.id

    def confirm_pairing(self, pairing_id: str, typed: str) -> None:
        pairing = self.pairings.confirm(pairing_id, typed)
        if pairing is not None and pairing.status == "paired":
            self.notify(f"Đã ghép nối với {pairing.origin}.")

    # --- Certificates --------------------------------------------------------------------------

    def certificates(self, *, fresh: bool = True) -> list[TokenCertificate]:
        with self._lock:
            cached = self._certificates
        if not fresh and cached is not None and self.clock() - cached[0] < CERTIFICATES_FRESH_FOR:
            return cached[1]
        found = self.token.certificates()
        with self._lock:
            self._certificates = (self.clock(), found)
        return found

    def _certificate(self, sha256: str) -> TokenCertificate:
        for fresh in (False, True):
            for entry in self.certificates(fresh=fresh):
                if entry.sha256 == sha256:
                    return entry
        raise BadRequest("Không có chứng thư số này trên token đang cắm vào máy.")

    # --- Signing requests ----------------------------------------------------------------------

    def _expire(self) -> None:
        now = self.clock()
        for request_id, request in list(self._requests.items()):
            if (
                request.status == "pending"
                and not request.working
                and now - request.created > batches.REQUEST_TTL
            ):
                request.status, request.finished = "expired", now
                request.digests, request.message = [], "Hết hạn: chưa được xác nhận trong 10 phút."
            if request.finished is not None and now - request.finished > batches.REQUEST_TTL:
                del self._requests[request_id]

    def submit(self, origin: str, payload: object) -> str:
        """Check and queue a page's request to sign; nothing is signed until confirmed here."""
        if not isinstance(payload, dict):
            raise BadRequest("Nội dung yêu cầu phải là một đối tượng JSON.")
        batches.parse_algorithm(payload.get("algorithm"))
        sha256 = batches.parse_certificate_sha256(payload.get("certificate_sha256"))
        digests = batches.parse_digests(payload.get("digests"))
        summary = batches.parse_summary(payload.get("summary"), len(digests))
        certificate = self._certificate(sha256)
        now_utc = datetime.datetime.now(datetime.timezone.utc)
        if not certificate.not_before <= now_utc <= certificate.not_after:
            raise BadRequest("Chứng thư số này đã hết hạn hoặc chưa có hiệu lực.")
        with self._lock:
            self._expire()
            if sum(r.status == "pending" for r in self._requests.values()) >= (
                batches.MAX_PENDING_REQUESTS
            ):
                raise TooBusy("Đã có quá nhiều yêu cầu ký đang chờ xác nhận.")
            request = SigningRequest(
                id=secrets.token_urlsafe(16),
                origin=origin,
                certificate=certificate,
                digests=digests,
                summary=summary,
                created=self.clock(),
            )
            self._requests[request.id] = request
        self._attention()
        return request.id

    def request_status(self, origin: str, request_id: str) -> dict[str, object] | None:
        with self._lock:
            self._expire()
            request = self._requests.get(request_id)
            if request is None or request.origin != origin:
                return None
            return request.as_json()

    def pending_requests(self) -> list[SigningRequest]:
        with self._lock:
            self._expire()
            return sorted(
                (r for r in self._requests.values() if r.status == "pending"),
                key=lambda r: r.created,
            )

    def get_request(self, request_id: str) -> SigningRequest | None:
        with self._lock:
            self._expire()
            return self._requests.get(request_id)

    def reject(self, request_id: str) -> None:
        with self._lock:
            self._expire()
            request = self._requests.get(request_id)
            if request is None or request.status != "pending" or request.working:
                return
            request.status, request.finished = "rejected", self.clock()
            request.digests, request.message = [], "Người dùng đã từ chối ký."
        self.notify("Đã từ chối yêu cầu ký.")

    def sign(self, request_id: str, pin: str) -> None:
        """Sign a pending request with the PIN typed on this computer. Returns once the token
        has accepted or refused the PIN (a long batch then goes on in the background)."""
        with self._lock:
            self._expire()
            request = self._requests.get(request_id)
            if request is None or request.status != "pending" or request.working:
                return
            if not pin:
                request.message = "Hãy nhập mã PIN của token."
                return
            request.working, request.message, request.done = True, "Đang ký…", 0
        logged_in = threading.Event()
        worker = threading.Thread(
            target=self._sign_batch, args=(request, pin, logged_in), daemon=True
        )
        worker.start()
        del pin
        logged_in.wait(LOGIN_WAIT_SECONDS)

    def _sign_batch(self, request: SigningRequest, pin: str, logged_in: threading.Event) -> None:
        def progress(done: int) -> None:
            request.done = done

        try:
            signatures = self.token.sign(
                certificate_sha256=request.certificate.sha256,
                pin=pin,
                digests=request.digests,
                on_login=logged_in.set,
                on_progress=progress,
            )
        except (WrongPin, TokenUnavailable) as exc:
            self._finish(request, "pending", str(exc))
        except (PinLocked, TokenError) as exc:
            self._finish(request, "failed", str(exc))
        except Exception as exc:  # a token driver can fail in any way; the page must know
            traceback.print_exc(file=sys.stderr)
            self._finish(request, "failed", f"Lỗi khi ký: {type(exc).__name__}")
        else:
            count = len(signatures)
            self._finish(request, "signed", f"Đã ký {count} tệp.", signatures)
            self.notify(f"Đã ký {count} tệp.")
        finally:
            del pin
            logged_in.set()

    def _finish(
        self,
        request: SigningRequest,
        status: str,
        message: str,
        signatures: list[bytes] | None = None,
    ) -> None:
        with self._lock:
            request.working, request.status, request.message = False, status, message
            if status != "pending":
                request.finished = self.clock()
                request.signatures = signatures
                if status != "signed":
                    request.digests = []
        with self.changed:
            self.changed.notify_all()


def browser_opener(url: str) -> Callable[[], None]:
    def open_page() -> None:
        try:
            webbrowser.open(url)
        except Exception as exc:  # no browser on this machine: the console still works
            print(f"Không mở được trình duyệt ({exc}); hãy mở {url}", file=sys.stderr)

    return open_page
