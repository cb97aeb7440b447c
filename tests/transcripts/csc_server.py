"""A small Cloud Signature Consortium API v2 service for tests: a stand-in for a remote-signing
provider (a party outside the system). Real HTTP on 127.0.0.1, a bearer token, SADs bound to
the authorised hashes and a signature count, and a call counter per method."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

SHA256_OID = "2.16.840.1.101.3.4.2.1"
SHA256_WITH_RSA_OID = "1.2.840.113549.1.1.11"


class CscServer:
    def __init__(
        self,
        key: rsa.RSAPrivateKey,
        chain: list[x509.Certificate],
        *,
        token: str = "test-access-token",  # noqa: S107 - a test service
        credential_id: str = "cred-1",
        pin: str = "123456",
        multisign: int = 100,
    ) -> None:
        self.key, self.chain = key, chain
        self.token, self.credential_id, self.pin = token, credential_id, pin
        self.multisign = multisign
        self.calls: Counter[str] = Counter()
        self.fail_with_status: int | None = None
        self._sads: dict[str, tuple[int, set[str]]] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/csc/v2"

    def __enter__(self) -> CscServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- the API ---------------------------------------------------------------------------------

    def handle(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "credentials/list":
            return 200, {"credentialIDs": [self.credential_id]}
        if body.get("credentialID") != self.credential_id:
            return 400, {"error": "invalid_request", "error_description": "Invalid credentialID"}
        if method == "credentials/info":
            return 200, self._info()
        if method == "credentials/authorize":
            return self._authorize(body)
        if method == "signatures/signHash":
            return self._sign_hash(body)
        return 404, {"error": "invalid_request", "error_description": f"Unknown {method}"}

    def _info(self) -> dict[str, Any]:
        certs = [
            base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
            for c in self.chain
        ]
        return {
            "key": {"status": "enabled", "algo": [SHA256_WITH_RSA_OID], "len": 2048},
            "cert": {"status": "valid", "certificates": certs},
            "authMode": "explicit",
            "PIN": {"presence": "true", "format": "N"},
            "multisign": self.multisign,
        }

    def _authorize(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("PIN") != self.pin:
            return 400, {"error": "invalid_pin", "error_description": "The PIN is invalid"}
        count = int(body.get("numSignatures", 0))
        if not 1 <= count <= self.multisign:
            return 400, {"error": "invalid_request", "error_description": "Bad numSignatures"}
        sad = secrets.token_urlsafe(16)
        with self._lock:
            self._sads[sad] = (count, set(body.get("hash") or []))
        return 200, {"SAD": sad, "expiresIn": 300}

    def _sign_hash(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        hashes_b64 = body.get("hash") or []
        if body.get("hashAlgo") != SHA256_OID or body.get("signAlgo") != SHA256_WITH_RSA_OID:
            return 400, {"error": "invalid_request", "error_description": "Unsupported algo"}
        with self._lock:
            remaining, allowed = self._sads.get(body.get("SAD", ""), (0, set()))
            if len(hashes_b64) > remaining or (allowed and not set(hashes_b64) <= allowed):
                return 400, {"error": "invalid_request", "error_description": "Invalid SAD"}
            self._sads[body["SAD"]] = (remaining - len(hashes_b64), allowed)
        signatures = [
            self.key.sign(base64.b64decode(h), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
            for h in hashes_b64
        ]
        return 200, {"signatures": [base64.b64encode(s).decode() for s in signatures]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                method = self.path.removeprefix("/csc/v2/")
                server.calls[method] += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"] or 0)))
                if server.fail_with_status:
                    status, answer = server.fail_with_status, {"error": "server_error"}
                elif self.headers.get("Authorization") != f"Bearer {server.token}":
                    status, answer = (
                        401,
                        {
                            "error": "invalid_token",
                            "error_description": "The access token is not valid",
                        },
                    )
                else:
                    status, answer = server.handle(method, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
