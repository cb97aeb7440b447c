"""Fakes of the remote signing services, the parties outside our system that hold signers' keys:
a Cloud Signature Consortium service (:class:`CscServer`, API v2 or v1.0.4) and a "confirm on
your phone" service (:class:`ConfirmServer`, the Sổ điểm remote confirmation protocol v1 of
:mod:`transcripts.signing.services.confirm`, with a web page that plays the signer's phone).

They speak the real protocols over real sockets (``http.server``, one thread per connection),
so the adapters are tested as they run against a provider. For tests, demos and development
only — never for real documents: ``manage.py signing_test_services`` runs both (DEBUG only).

    with CscServer(key, [cert, ca]) as csc:          # csc.base_url -> http://127.0.0.1:<port>/csc/v2
        ...
    with ConfirmServer({"an": (key, [cert, ca])}) as phone:
        phone.set_behaviour("an", "confirm", delay=1)  # or confirm(request_id) / reject(...)

Each server counts the calls it answered per method in ``calls``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import html
import json
import secrets
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.x509.oid import NameOID

SHA256_OID = "2.16.840.1.101.3.4.2.1"
SHA256_WITH_RSA_OID = "1.2.840.113549.1.1.11"
RSA_OID = "1.2.840.113549.1.1.1"  # "rsaEncryption": CSC v1 allows it with hashAlgo

#: (key, chain with the signer's certificate first)
KeyAndChain = tuple[rsa.RSAPrivateKey, list[x509.Certificate]]


@dataclasses.dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: dict[str, Any]) -> Response:
        return cls(status, json.dumps(payload, ensure_ascii=False).encode())

    @classmethod
    def error(cls, status: int, error: str, description: str) -> Response:
        return cls.json(status, {"error": error, "error_description": description})


def _sign(key: rsa.RSAPrivateKey, digest: bytes) -> bytes:
    return key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


def _b64_der(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def _digest(value: Any) -> bytes | None:
    """A base64 SHA-256 digest, or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == 32 else None


class _Service:
    """An HTTP server on ``host``:``port`` (0: a free port) answering from a daemon thread;
    ``dispatch`` (the subclass) turns a request into a :class:`Response`."""

    def __init__(self, *, host: str, port: int) -> None:
        self.calls: Counter[str] = Counter()
        #: Seconds to wait before answering each request (tests of the client's time-out).
        self.stall: float = 0.0
        self._lock = threading.RLock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1

    def dispatch(
        self, verb: str, path: str, headers: Message[str, str], body: bytes
    ) -> Response:  # pragma: no cover - overridden
        raise NotImplementedError

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, verb: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if service.stall:
                    time.sleep(service.stall)
                try:
                    response = service.dispatch(verb, self.path, self.headers, body)
                except Exception as exc:  # a fake must answer, not hang the client
                    response = Response.error(500, "server_error", f"{type(exc).__name__}: {exc}")
                self.send_response(response.status)
                content_type = response.content_type
                if content_type.startswith(("application/json", "text/")):
                    content_type += "; charset=utf-8"
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(response.body)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(response.body)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _json_body(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _bearer(headers: Message[str, str]) -> str:
    value = headers.get("Authorization") or ""
    return value[7:] if value.startswith("Bearer ") else ""


# --- Cloud Signature Consortium API --------------------------------------------------------------


@dataclasses.dataclass
class CscCredential:
    key: rsa.RSAPrivateKey
    chain: list[x509.Certificate]
    #: The PIN asked by credentials/authorize (auth mode explicit); None: implicit, no PIN.
    pin: str | None = "123456"


@dataclasses.dataclass
class _Sad:
    credential_id: str
    remaining: int
    hashes: set[str]


class CscServer(_Service):
    """A CSC service (``api_version`` "v2", or "v1" for 1.0.4) with the parameter names of that
    version, ``auth/login`` (HTTP Basic, for ``users``: name → password) and/or a static bearer
    ``token`` (neither: no authentication), SCAL2 hash pinning, and ``numSignatures`` limited to
    ``multisign`` per ``credentials/authorize``. ``credentials`` maps credential IDs to
    (key, chain, PIN); without it, ``key``/``chain`` are credential ``credential_id``'s.

    For tests: ``fail_with_status`` answers every call with that status; ``tamper`` =
    "corrupt" changes every signature value, "drop" leaves out the last one."""

    def __init__(
        self,
        key: rsa.RSAPrivateKey | None = None,
        chain: list[x509.Certificate] | None = None,
        *,
        credentials: Mapping[str, tuple[rsa.RSAPrivateKey, list[x509.Certificate], str | None]]
        | None = None,
        credential_id: str = "cred-1",
        pin: str | None = "123456",
        otp: str | None = None,
        token: str | None = "test-access-token",  # noqa: S107 - a test service
        users: Mapping[str, str] | None = None,
        multisign: int = 100,
        api_version: str = "v2",
        hash_pinning_required: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if api_version not in ("v1", "v2"):
            raise ValueError(f"api_version must be v1 or v2, not {api_version!r}")
        if credentials is None:
            if key is None or chain is None:
                raise ValueError("Give a key and its chain, or credentials")
            credentials = {credential_id: (key, chain, pin)}
        self.credentials = {
            cid: CscCredential(k, list(c), p) for cid, (k, c, p) in credentials.items()
        }
        self.credential_id = next(iter(self.credentials))
        self.pin = self.credentials[self.credential_id].pin
        self.otp = otp
        self.token, self.users = token, dict(users or {})
        self.multisign, self.api_version = multisign, api_version
        self.hash_pinning_required = hash_pinning_required
        self.fail_with_status: int | None = None
        self.tamper: str | None = None
        self._tokens: set[str] = set()
        self._sads: dict[str, _Sad] = {}
        super().__init__(host=host, port=port)

    @property
    def base_url(self) -> str:
        return f"{self.address}/csc/{self.api_version}"

    def dispatch(self, verb: str, path: str, headers: Message[str, str], body: bytes) -> Response:
        prefix = f"/csc/{self.api_version}/"
        if verb != "POST" or not path.startswith(prefix):
            return Response.error(404, "invalid_request", f"Unknown path {path}")
        method = path.removeprefix(prefix)
        self.count(method)
        if self.fail_with_status:
            return Response.error(self.fail_with_status, "server_error", "Service unavailable")
        if method == "info":
            return Response.json(200, self._service_info())
        if method == "auth/login":
            return self._login(headers)
        if not self._authorised(headers):
            return Response.error(401, "invalid_token", "The access token is not valid")
        request = _json_body(body)
        if request is None:
            return Response.error(400, "invalid_request", "The body is not a JSON object")
        if method == "credentials/list":
            return Response.json(200, {"credentialIDs": list(self.credentials)})
        credential = self.credentials.get(str(request.get("credentialID")))
        if credential is None:
            return Response.error(400, "invalid_request", "Invalid parameter credentialID")
        if method == "credentials/info":
            return Response.json(200, self._credential_info(credential))
        if method == "credentials/authorize":
            return self._authorize(request, credential)
        if method == "signatures/signHash":
            return self._sign_hash(request, credential)
        return Response.error(404, "invalid_request", f"Unknown method {method}")

    def _service_info(self) -> dict[str, Any]:
        return {
            "specs": "2.0.0.0" if self.api_version == "v2" else "1.0.4.0",
            "name": "Sổ điểm test CSC service",
            "region": "VN",
            "lang": "vi",
            "authType": ["basic"] if self.users else ["external"],
            "methods": [
                "auth/login",
                "credentials/list",
                "credentials/info",
                "credentials/authorize",
                "signatures/signHash",
            ],
        }

    def _login(self, headers: Message[str, str]) -> Response:
        value = headers.get("Authorization") or ""
        try:
            name, _sep, password = (
                base64.b64decode(value.removeprefix("Basic ")).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            name, password = "", ""
        if not value.startswith("Basic ") or self.users.get(name) != password or not name:
            return Response.error(401, "authentication_error", "Invalid user name or password")
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._tokens.add(token)
        return Response.json(200, {"access_token": token, "expires_in": 3600})

    def _authorised(self, headers: Message[str, str]) -> bool:
        if self.token is None and not self.users:
            return True
        given = _bearer(headers)
        with self._lock:
            return bool(given) and (given == self.token or given in self._tokens)

    def _credential_info(self, credential: CscCredential) -> dict[str, Any]:
        explicit = credential.pin is not None or self.otp is not None
        info: dict[str, Any] = {
            "key": {"status": "enabled", "algo": [SHA256_WITH_RSA_OID, RSA_OID], "len": 2048},
            "cert": {"status": "valid", "certificates": [_b64_der(c) for c in credential.chain]},
            "SCAL": "2" if self.hash_pinning_required else "1",
            "multisign": self.multisign,
        }
        if self.api_version == "v2":
            objects = []
            if credential.pin is not None:
                objects.append({"type": "Password", "id": "PIN", "format": "N"})
            if self.otp is not None:
                objects.append({"type": "OTP", "id": "OTP", "format": "N"})
            info["auth"] = {"mode": "explicit" if explicit else "implicit", "objects": objects}
        else:
            info["authMode"] = "explicit" if explicit else "implicit"
            info["PIN"] = {"presence": "true" if credential.pin is not None else "false"}
            info["OTP"] = {"presence": "true" if self.otp is not None else "false"}
        return info

    def _names(self) -> tuple[str, str]:
        """The parameter names of the hashes and their algorithm in this API version."""
        return ("hashes", "hashAlgorithmOID") if self.api_version == "v2" else ("hash", "hashAlgo")

    def _given(self, request: dict[str, Any], name: str) -> str | None:
        """The PIN or OTP of an authorisation: top-level in v1, in ``authData`` in v2."""
        if self.api_version == "v1":
            return request.get(name)
        for item in request.get("authData") or []:
            if isinstance(item, dict) and item.get("id") == name:
                return item.get("value")
        return None

    def _authorize(self, request: dict[str, Any], credential: CscCredential) -> Response:
        if credential.pin is not None and self._given(request, "PIN") != credential.pin:
            return Response.error(400, "invalid_pin", "The PIN is invalid")
        if self.otp is not None and self._given(request, "OTP") != self.otp:
            return Response.error(400, "invalid_otp", "The OTP is invalid")
        try:
            count = int(request.get("numSignatures", 0))
        except (TypeError, ValueError):
            count = 0
        if not 1 <= count <= self.multisign:
            return Response.error(
                400, "invalid_request", f"numSignatures must be 1 to multisign ({self.multisign})"
            )
        hashes_name, algorithm_name = self._names()
        pinned = request.get(hashes_name)
        if pinned is None and self.hash_pinning_required:
            return Response.error(400, "invalid_request", f"Missing {hashes_name} (SCAL2)")
        if pinned is not None:
            if not isinstance(pinned, list) or len(pinned) != count:
                return Response.error(400, "invalid_request", f"{hashes_name} ≠ numSignatures")
            if any(_digest(h) is None for h in pinned):
                return Response.error(400, "invalid_request", f"Invalid {hashes_name}")
            if self.api_version == "v2" and request.get(algorithm_name) != SHA256_OID:
                return Response.error(400, "invalid_request", f"Invalid {algorithm_name}")
        sad = secrets.token_urlsafe(16)
        with self._lock:
            self._sads[sad] = _Sad(str(request["credentialID"]), count, set(pinned or []))
        return Response.json(200, {"SAD": sad, "expiresIn": 300})

    def _sign_hash(self, request: dict[str, Any], credential: CscCredential) -> Response:
        hashes_name, algorithm_name = self._names()
        values = request.get(hashes_name)
        if not isinstance(values, list) or not values:
            return Response.error(400, "invalid_request", f"Missing {hashes_name}")
        digests = [_digest(v) for v in values]
        if any(d is None for d in digests):
            return Response.error(400, "invalid_request", f"Invalid {hashes_name}")
        sign_algo = request.get("signAlgo")
        if request.get(algorithm_name) != SHA256_OID or sign_algo not in (
            SHA256_WITH_RSA_OID,
            RSA_OID,
        ):
            return Response.error(400, "invalid_request", "Unsupported hash or signature algo")
        with self._lock:
            sad = self._sads.get(str(request.get("SAD")))
            if (
                sad is None
                or sad.credential_id != request["credentialID"]
                or len(values) > sad.remaining
                or (sad.hashes and not set(values) <= sad.hashes)
            ):
                return Response.error(400, "invalid_request", "Invalid SAD")
            sad.remaining -= len(values)
        signatures = [_sign(credential.key, d) for d in digests if d is not None]
        if self.tamper == "corrupt":
            signatures = [s[:-1] + bytes([s[-1] ^ 1]) for s in signatures]
        elif self.tamper == "drop":
            signatures = signatures[:-1]
        return Response.json(
            200, {"signatures": [base64.b64encode(s).decode() for s in signatures]}
        )


# --- Sổ điểm remote confirmation protocol v1 ---------------------------------------------------

PENDING, SIGNED, REJECTED, EXPIRED, CANCELLED = (
    "pending",
    "signed",
    "rejected",
    "expired",
    "cancelled",
)
BEHAVIOURS = ("manual", "confirm", "reject", "expire")
_STATUS_VI = {
    PENDING: "đang chờ xác nhận",
    SIGNED: "đã ký",
    REJECTED: "đã từ chối",
    EXPIRED: "đã hết hạn",
    CANCELLED: "đã huỷ",
}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass
class SignRequest:
    id: str
    user_id: str
    client_request_id: str
    hashes: list[bytes]
    description: str
    summary: dict[str, Any]
    created_at: datetime.datetime
    expires_at: datetime.datetime
    status: str = PENDING
    signatures: list[bytes] = dataclasses.field(default_factory=list)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "request_id": self.id,
            "status": self.status,
            "expires_at": self.expires_at.isoformat(),
            "message": self.message,
        }
        if self.status == SIGNED:
            answer["signatures"] = [base64.b64encode(s).decode() for s in self.signatures]
        return answer


class ConfirmServer(_Service):
    """The Sổ điểm remote confirmation protocol v1 (API under ``base_url`` = ``/api/v1``, key
    ``api_key``) for ``users`` (user id → key and chain), and each user's phone page at
    :meth:`phone_url`. A request is signed only after a confirmation: on the phone page, by
    :meth:`confirm`, or by the user's behaviour (:meth:`set_behaviour`)."""

    def __init__(
        self,
        users: Mapping[str, KeyAndChain],
        *,
        api_key: str = "test-api-key",
        max_hashes: int = 1000,
        default_expires_in: int = 300,
        max_expires_in: int = 900,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.users = {uid: (key, list(chain)) for uid, (key, chain) in users.items()}
        #: For tests: answer every API call with this HTTP status (the phone page still works).
        self.fail_with_status: int | None = None
        self.api_key, self.max_hashes = api_key, max_hashes
        self.default_expires_in, self.max_expires_in = default_expires_in, max_expires_in
        self.requests: dict[str, SignRequest] = {}
        #: For tests: "drop" leaves the last value out of a signed request's answer.
        self.tamper: str | None = None
        self._behaviour: dict[str, tuple[str, float]] = {}
        super().__init__(host=host, port=port)

    @property
    def base_url(self) -> str:
        return f"{self.address}/api/v1"

    def phone_url(self, user_id: str) -> str:
        return f"{self.address}/phone/{urllib.parse.quote(user_id, safe='')}"

    # --- controls for tests and demos -----------------------------------------------------------

    def set_behaviour(self, user_id: str, behaviour: str, *, delay: float = 0.0) -> None:
        """What ``user_id``'s phone does with a new request: "manual" (waits for a confirmation,
        the default), "confirm", "reject" or "expire" ``delay`` seconds after it arrived."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS}")
        with self._lock:
            self._behaviour[user_id] = (behaviour, delay)

    def confirm(self, request_id: str) -> SignRequest:
        """The signer confirms: the request is signed, if it is still pending. KeyError."""
        with self._lock:
            request = self._current(request_id)
            if request.status == PENDING:
                self._sign_request(request)
            return request

    def reject(self, request_id: str) -> SignRequest:
        """The signer rejects the request, if it is still pending. KeyError."""
        with self._lock:
            request = self._current(request_id)
            if request.status == PENDING:
                request.status, request.message = REJECTED, "Người ký đã từ chối yêu cầu"
            return request

    def pending(self, user_id: str) -> list[SignRequest]:
        with self._lock:
            requests = [self._current(r.id) for r in list(self.requests.values())]
            return [r for r in requests if r.user_id == user_id and r.status == PENDING]

    def _sign_request(self, request: SignRequest) -> None:
        key = self.users[request.user_id][0]
        request.signatures = [_sign(key, digest) for digest in request.hashes]
        request.status, request.message = SIGNED, "Đã ký"

    def _current(self, request_id: str) -> SignRequest:
        """The request with its status brought up to date (behaviour, expiry). KeyError."""
        request = self.requests[request_id]
        if request.status != PENDING:
            return request
        behaviour, delay = self._behaviour.get(request.user_id, ("manual", 0.0))
        now = _now()
        if now >= request.expires_at:
            request.status, request.message = EXPIRED, "Yêu cầu đã hết hạn"
        elif behaviour != "manual" and now >= request.created_at + datetime.timedelta(
            seconds=delay
        ):
            if behaviour == "confirm":
                self._sign_request(request)
            elif behaviour == "reject":
                request.status, request.message = REJECTED, "Người ký đã từ chối yêu cầu"
            else:
                request.expires_at = now
                request.status, request.message = EXPIRED, "Yêu cầu đã hết hạn"
        return request

    # --- HTTP -----------------------------------------------------------------------------------

    def dispatch(self, verb: str, path: str, headers: Message[str, str], body: bytes) -> Response:
        parts = [urllib.parse.unquote(p) for p in path.split("?")[0].split("/") if p]
        if parts[:1] == ["phone"]:
            return self._phone(verb, parts[1:])
        if parts[:2] != ["api", "v1"]:
            return Response.error(404, "not_found", f"Unknown path {path}")
        route = (verb, *parts[2:])
        self.count(_route_name(route))
        if self.fail_with_status:  # a service that is down or failing (tests)
            return Response.json(self.fail_with_status, {"error": "server_error"})
        if not secrets.compare_digest(_bearer(headers).encode(), self.api_key.encode()):
            return Response.json(401, {"error": "unauthorized", "message": "Invalid API key"})
        with self._lock:
            return self._api(route, body)

    def _api(self, route: tuple[str, ...], body: bytes) -> Response:
        match route:
            case ("GET", "users", user_id, "certificate"):
                if user_id not in self.users:
                    return Response.json(404, {"error": "unknown_user", "message": user_id})
                chain = self.users[user_id][1]
                return Response.json(200, {"certificates": [_b64_der(c) for c in chain]})
            case ("POST", "sign-requests"):
                return self._submit(_json_body(body))
            case ("GET", "sign-requests", request_id) if request_id in self.requests:
                answer = self._current(request_id).as_dict()
                if self.tamper == "drop" and "signatures" in answer:
                    answer["signatures"] = answer["signatures"][:-1]
                return Response.json(200, answer)
            case ("POST", "sign-requests", request_id, "cancel") if request_id in self.requests:
                request = self._current(request_id)
                if request.status == PENDING:
                    request.status, request.message = CANCELLED, "Yêu cầu đã bị huỷ"
                return Response.json(200, {"status": request.status})
            case ("GET" | "POST", "sign-requests", *_rest):
                return Response.json(
                    404, {"error": "unknown_request", "message": "No such request"}
                )
        return Response.json(404, {"error": "not_found", "message": "/".join(route[1:])})

    def _submit(self, payload: dict[str, Any] | None) -> Response:
        def bad(message: str, status: int = 400) -> Response:
            return Response.json(status, {"error": "invalid_request", "message": message})

        if payload is None:
            return bad("The body is not a JSON object")
        user_id, key = str(payload.get("user_id") or ""), payload.get("client_request_id")
        if user_id not in self.users:
            return Response.json(404, {"error": "unknown_user", "message": user_id})
        if not isinstance(key, str) or not key:
            return bad("client_request_id is required")
        if payload.get("hash_algorithm") != "sha256":
            return bad("hash_algorithm must be sha256")
        values = payload.get("hashes")
        if not isinstance(values, list) or not values:
            return bad("hashes must be a non-empty list")
        if len(values) > self.max_hashes:
            return bad(f"At most {self.max_hashes} hashes per request", 413)
        digests = [_digest(v) for v in values]
        if any(d is None for d in digests):
            return bad("Every hash must be a base64 SHA-256 digest (32 bytes)")
        for request in self.requests.values():
            if request.user_id == user_id and request.client_request_id == key:
                if request.hashes != digests:
                    return Response.json(
                        409, {"error": "conflict", "message": "client_request_id reused"}
                    )
                return Response.json(200, self._current(request.id).as_dict())
        try:
            expires_in = int(payload.get("expires_in") or self.default_expires_in)
        except (TypeError, ValueError):
            return bad("expires_in must be a number of seconds")
        now = _now()
        summary = payload.get("summary")
        request = SignRequest(
            id=secrets.token_hex(12),
            user_id=user_id,
            client_request_id=key,
            hashes=[d for d in digests if d is not None],
            description=str(payload.get("description") or "")[:500],
            summary=summary if isinstance(summary, dict) else {},
            created_at=now,
            expires_at=now
            + datetime.timedelta(seconds=max(1, min(expires_in, self.max_expires_in))),
        )
        self.requests[request.id] = request
        return Response.json(201, request.as_dict())

    # --- the phone page -------------------------------------------------------------------------

    def _phone(self, verb: str, parts: list[str]) -> Response:
        if not parts or parts[0] not in self.users:
            return Response(
                404, "<p>Không có người dùng này. Unknown user.</p>".encode(), "text/html"
            )
        user_id = parts[0]
        if verb == "GET" and len(parts) == 1:
            self.count("phone")
            with self._lock:
                return Response(200, self._phone_page(user_id).encode(), "text/html")
        if verb == "POST" and len(parts) == 3 and parts[2] in ("confirm", "reject"):
            self.count(f"phone/{parts[2]}")
            with self._lock:
                request = self.requests.get(parts[1])
                if request is None or request.user_id != user_id:
                    return Response(404, "<p>Không có yêu cầu này.</p>".encode(), "text/html")
                (self.confirm if parts[2] == "confirm" else self.reject)(request.id)
            return Response(
                303,
                headers={"Location": f"/phone/{urllib.parse.quote(user_id, safe='')}"},
                content_type="text/html",
            )
        return Response(405, b"", "text/html")

    def _phone_page(self, user_id: str) -> str:
        certificate = self.users[user_id][1][0]
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        holder = html.escape(str(names[0].value) if names else user_id)
        requests = sorted(
            (self._current(r.id) for r in list(self.requests.values()) if r.user_id == user_id),
            key=lambda r: r.created_at,
            reverse=True,
        )
        pending = [r for r in requests if r.status == PENDING]
        done = [r for r in requests if r.status != PENDING][:5]
        cards = "".join(self._pending_card(user_id, r) for r in pending) or (
            "<p class='none'>Không có yêu cầu ký nào đang chờ.<br>"
            "<span class='en'>No signing request is waiting.</span></p>"
        )
        history = "".join(
            f"<li>{html.escape(r.description or r.id)} — <b>{_STATUS_VI[r.status]}</b></li>"
            for r in done
        )
        return _PHONE_PAGE.format(
            holder=holder,
            user_id=html.escape(user_id),
            cards=cards,
            history=f"<h2>Gần đây</h2><ul>{history}</ul>" if history else "",
        )

    def _pending_card(self, user_id: str, request: SignRequest) -> str:
        remaining = max(0, int((request.expires_at - _now()).total_seconds()))
        documents = request.summary.get("documents")
        if not isinstance(documents, int) or documents < 1:
            documents = len(request.hashes)
        action = html.escape(f"/phone/{urllib.parse.quote(user_id, safe='')}/{request.id}")
        return (
            "<section class='card'>"
            f"<p class='what'>{html.escape(request.description or 'Yêu cầu ký số')}</p>"
            f"<p>Số tệp cần ký: <b>{documents}</b> · Chữ ký: {len(request.hashes)}</p>"
            f"<p>Hết hạn sau <b class='count'>{remaining // 60:02d}:{remaining % 60:02d}</b></p>"
            f"<form method='post' action='{action}/confirm'>"
            "<button class='ok'>Xác nhận ký</button></form>"
            f"<form method='post' action='{action}/reject'>"
            "<button class='no'>Từ chối</button></form>"
            "</section>"
        )


def _route_name(route: tuple[str, ...]) -> str:
    """The name under which a call of the confirmation API is counted."""
    match route:
        case ("GET", "users", _user, "certificate"):
            return "certificate"
        case ("POST", "sign-requests"):
            return "submit"
        case ("GET", "sign-requests", _request):
            return "status"
        case ("POST", "sign-requests", _request, "cancel"):
            return "cancel"
    return "unknown"


_PHONE_PAGE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="2">
<title>Ký số trên điện thoại — {holder}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #eef1f5; margin: 0; }}
main {{ max-width: 420px; margin: 0 auto; padding: 16px; }}
h1 {{ font-size: 1.2rem; margin: 0 0 4px; }}
h2 {{ font-size: 1rem; margin: 20px 0 4px; }}
.en {{ color: #667; font-size: .85rem; }}
.card {{ background: #fff; border-radius: 12px; padding: 12px 16px; margin: 12px 0;
         box-shadow: 0 1px 3px rgba(0,0,0,.15); }}
.what {{ font-weight: 600; }}
.count {{ font-variant-numeric: tabular-nums; }}
form {{ display: inline; }}
button {{ font-size: 1rem; padding: 10px 16px; border: 0; border-radius: 8px; margin: 4px 8px 0 0;
          color: #fff; cursor: pointer; }}
.ok {{ background: #1a7f37; }}
.no {{ background: #b42318; }}
.none {{ color: #445; }}
</style>
</head>
<body>
<main>
<h1>Ứng dụng ký số (thử nghiệm)</h1>
<p class="en">Test signing app: it plays the signer's phone. Never for real documents.</p>
<p>Người ký: <b>{holder}</b> ({user_id})</p>
{cards}
{history}
</main>
</body>
</html>
"""


# --- The demo certification authority's services: time-stamps (RFC 3161) and its CRL ----------


class DemoCaServer(_Service):
    """What a certification authority serves besides certificates, for the demo: an RFC 3161
    time-stamping authority (``POST /tsa``, a TimeStampReq in, a TimeStampResp out, signed by
    the TSA certificate) and the CA's certificate revocation list (``GET /crl/demo-ca.crl``,
    issued afresh on each request, valid for a day; ``revoked`` = serial → revocation time)."""

    def __init__(
        self,
        *,
        ca_key: rsa.RSAPrivateKey,
        ca_cert: x509.Certificate,
        tsa_key: rsa.RSAPrivateKey,
        tsa_cert: x509.Certificate,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        from asn1crypto import keys
        from asn1crypto import x509 as asn1_x509
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        super().__init__(host=host, port=port)
        self.ca_key, self.ca_cert = ca_key, ca_cert
        self.revoked: dict[int, datetime.datetime] = {}
        der = serialization.Encoding.DER
        self._stamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(der)),
            tsa_key=keys.PrivateKeyInfo.load(
                tsa_key.private_bytes(
                    der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            ),
            # annotated as a CertificateStore; pyHanko only iterates it
            certs_to_embed=[asn1_x509.Certificate.load(ca_cert.public_bytes(der))],  # type: ignore[arg-type]
        )

    @property
    def tsa_url(self) -> str:
        return f"{self.address}/tsa"

    @property
    def crl_url(self) -> str:
        return f"{self.address}/crl/demo-ca.crl"

    def dispatch(self, verb: str, path: str, headers: Message[str, str], body: bytes) -> Response:
        from asn1crypto import tsp

        from transcripts.signing.demo import certificate_revocation_list

        route = path.split("?")[0]
        if verb == "POST" and route == "/tsa":
            self.count("timestamp")
            try:
                request = tsp.TimeStampReq.load(body)
                request.native  # noqa: B018 - parse it all now: a bad request is a 400
            except ValueError:
                return Response(400, b"not a TimeStampReq", "text/plain")
            with self._lock:
                answer = self._stamper.request_tsa_response(request)
            return Response(200, answer.dump(), "application/timestamp-reply")
        if verb == "GET" and route == "/crl/demo-ca.crl":
            self.count("crl")
            with self._lock:
                revoked = list(self.revoked.items())
            crl = certificate_revocation_list(self.ca_key, self.ca_cert, revoked=revoked)
            return Response(200, crl, "application/pkix-crl")
        return Response(404, b"not found", "text/plain")
