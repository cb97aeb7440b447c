"""A receiving server that speaks the provincial upload contract (docs/provincial-upload.md),
for tests and demos — never a province's real system.

It listens on a real socket (``http.server``, one thread per connection), keeps each upload
session in a directory, and on completion checks the package with the same verifier as
``manage.py verify_package`` before it answers with a receipt. It can be told to misbehave:
answer the next requests with 503, stall them past the client's time-out, or drop the
connection in the middle of a chunk (keeping what it had read, as a real server would).

    receiver = ProvinceReceiver(token="t", anchor_paths=[ca_pem], directory=tmp)
    receiver.start()            # receiver.url -> http://127.0.0.1:<port>/api/v1
    receiver.faults.drop_next = 1
    ...
    receiver.stop()

``manage.py province_receiver`` runs one in the foreground.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import http.server
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation

PREFIX = "/api/v1"
CHUNK_SIZE = 256 * 1024


@dataclasses.dataclass
class Faults:
    """What to do wrong, each counter used up one request at a time."""

    fail_next: int = 0  # answer 503 (with Retry-After: 0)
    timeout_next: int = 0  # wait ``delay`` seconds before answering
    delay: float = 5.0
    drop_next: int = 0  # on a PATCH: read ``drop_after`` bytes of the chunk, then hang up
    drop_after: int = 1000


@dataclasses.dataclass
class Upload:
    id: str
    key: str
    metadata: dict[str, Any]
    path: Path
    received: int = 0
    status: str = "open"  # open | accepted | rejected
    receipt: dict[str, Any] = dataclasses.field(default_factory=dict)


class ProvinceReceiver:
    def __init__(
        self,
        *,
        token: str,
        anchor_paths: Sequence[str | Path],
        directory: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        department: str = "SO",
        echo=None,
    ) -> None:
        self.token = token
        self.anchor_paths = [str(p) for p in anchor_paths]
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.department = department
        self.echo = echo  # called with one line per request answered, when given
        self.faults = Faults()
        self.uploads: dict[str, Upload] = {}
        self.by_key: dict[str, str] = {}
        #: (method, path, status) of every request answered, for tests and the log.
        self.log: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}{PREFIX}"

    def start(self) -> ProvinceReceiver:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def take(self, name: str) -> bool:
        """Use up one of the named fault counter; True when the fault applies now."""
        with self.lock:
            left = getattr(self.faults, name)
            if left > 0:
                setattr(self.faults, name, left - 1)
                return True
            return False

    def record(self, method: str, path: str, status: int) -> None:
        self.log.append((method, path, status))
        if self.echo is not None:
            self.echo(f"{method} {path} -> {status or 'connection dropped'}")

    def accepted(self) -> list[Upload]:
        return [u for u in self.uploads.values() if u.status == "accepted"]

    def complete(self, upload: Upload, language: str) -> tuple[int, dict[str, Any]]:
        """Check the whole package (digest, then the verifier) and answer with a receipt."""
        from transcripts.packages.verify import verify_package

        meta = upload.metadata
        if upload.received != meta["size"]:
            return 409, {"error": "not all bytes received", "offset": upload.received}
        digest = hashlib.sha256(upload.path.read_bytes()).hexdigest()
        if digest != meta["sha256"]:
            upload.status = "rejected"
            return 422, {"status": "rejected", "error": "the SHA-256 of the upload differs"}
        with translation.override(language):
            report = verify_package(upload.path, anchor_paths=self.anchor_paths)
        if not report.ok:
            upload.status = "rejected"
            return 422, {
                "status": "rejected",
                "error": "the package does not verify",
                "problems": [{"member": p.member, "message": p.message} for p in report.problems],
            }
        with self.lock:
            number = len(self.accepted()) + 1
            upload.status = "accepted"
            now = datetime.datetime.now(datetime.UTC)
            upload.receipt = {
                "status": "accepted",
                "receiptId": f"{self.department}-{now:%Y%m%d}-{number:06d}",
                "receivedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "packageId": meta.get("packageId"),
                "transcripts": len(report.manifest.transcripts) if report.manifest else 0,
            }
        return 200, upload.receipt


REQUIRED = ("packageId", "formatVersion", "schoolCode", "schoolYear", "kind", "size", "sha256")


def _handler(receiver: ProvinceReceiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ProvinceReceiver/1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet; see receiver.log
            pass

        # --- plumbing ---------------------------------------------------------------------

        def _send(self, status: int, body: dict | None = None, headers: dict | None = None):
            payload = json.dumps(body).encode() if body is not None else b""
            if self.command == "HEAD":
                payload = b""
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, str(value))
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client went away (e.g. it timed out)
                self.close_connection = True
            receiver.record(self.command, self.path, status)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _language(self) -> str:
            """The language of the verifier's messages: the client's Accept-Language."""
            wanted = (self.headers.get("Accept-Language") or "").split(",")[0].split(";")[0]
            known = {code for code, _name in settings.LANGUAGES}
            return (
                wanted.strip().lower()
                if wanted.strip().lower() in known
                else settings.LANGUAGE_CODE
            )

        def _gate(self) -> bool:
            """Faults and authentication; False when the request was already answered."""
            if receiver.take("timeout_next"):
                time.sleep(receiver.faults.delay)
            if receiver.take("fail_next"):
                self._body()
                self._send(503, {"error": "temporarily unavailable"}, {"Retry-After": 0})
                return False
            if self.headers.get("Authorization") != f"Bearer {receiver.token}":
                self._body()
                self._send(401, {"error": "invalid credentials"})
                return False
            return True

        def _upload(self, upload_id: str) -> Upload | None:
            upload = receiver.uploads.get(upload_id)
            key = self.headers.get("Idempotency-Key")
            if upload is None or upload.key != key:
                self._body()
                self._send(404, {"error": "no such upload"})
                return None
            return upload

        # --- the contract -----------------------------------------------------------------

        def do_POST(self) -> None:
            if not self._gate():
                return
            if self.path == f"{PREFIX}/uploads":
                return self._create()
            match = re.fullmatch(rf"{PREFIX}/uploads/([\w-]+)/complete", self.path)
            if match:
                self._body()
                upload = self._upload(match.group(1))
                if upload is not None:
                    if upload.status == "accepted":
                        return self._send(200, upload.receipt)
                    self._send(*receiver.complete(upload, self._language()))
                return None
            self._body()
            return self._send(404, {"error": "unknown address"})

        def _create(self) -> None:
            try:
                meta = json.loads(self._body())
                missing = [name for name in REQUIRED if name not in meta]
            except ValueError:
                meta, missing = {}, ["(JSON)"]
            if missing:
                return self._send(400, {"error": f"missing fields: {', '.join(missing)}"})
            if meta["formatVersion"] != "1":
                return self._send(422, {"error": "unsupported package format"})
            key = self.headers.get("Idempotency-Key") or ""
            if not key:
                return self._send(400, {"error": "Idempotency-Key is required"})
            with receiver.lock:
                existing = receiver.uploads.get(receiver.by_key.get(key, ""))
                if existing is None:
                    upload_id = uuid.uuid4().hex
                    existing = Upload(upload_id, key, meta, receiver.directory / f"{upload_id}.zip")
                    existing.path.write_bytes(b"")
                    receiver.uploads[upload_id] = existing
                    receiver.by_key[key] = upload_id
                    status = 201
                else:
                    status = 200
            if (existing.metadata["size"], existing.metadata["sha256"]) != (
                meta["size"],
                meta["sha256"],
            ):
                return self._send(409, {"error": "this Idempotency-Key names another package"})
            if existing.status == "accepted":
                return self._send(200, existing.receipt)
            self._send(
                status,
                {
                    "uploadId": existing.id,
                    "offset": existing.received,
                    "chunkSize": CHUNK_SIZE,
                    "status": existing.status,
                },
                {"Location": f"{PREFIX}/uploads/{existing.id}", "Upload-Offset": existing.received},
            )

        def do_PATCH(self) -> None:
            if not self._gate():
                return
            match = re.fullmatch(rf"{PREFIX}/uploads/([\w-]+)", self.path)
            if not match:
                self._body()
                return self._send(404, {"error": "unknown address"})
            upload = self._upload(match.group(1))
            if upload is None:
                return None
            length = int(self.headers.get("Content-Length") or 0)
            offset = int(self.headers.get("Upload-Offset", "-1"))
            if offset != upload.received or upload.status != "open":
                self.rfile.read(length)
                return self._send(
                    409, {"offset": upload.received}, {"Upload-Offset": upload.received}
                )
            if length > CHUNK_SIZE or upload.received + length > upload.metadata["size"]:
                self.rfile.read(length)
                return self._send(413, {"error": "chunk too large"})
            if receiver.take("drop_next"):
                partial = self.rfile.read(min(receiver.faults.drop_after, length))
                self._append(upload, partial)
                receiver.record(self.command, self.path, 0)
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return None
            self._append(upload, self.rfile.read(length))
            self._send(204, None, {"Upload-Offset": upload.received})

        def _append(self, upload: Upload, data: bytes) -> None:
            with receiver.lock, upload.path.open("ab") as handle:
                handle.write(data)
                upload.received += len(data)

        def do_HEAD(self) -> None:
            if not self._gate():
                return
            match = re.fullmatch(rf"{PREFIX}/uploads/([\w-]+)", self.path)
            upload = self._upload(match.group(1)) if match else None
            if upload is not None:
                self._send(
                    204,
                    None,
                    {"Upload-Offset": upload.received, "Upload-Length": upload.metadata["size"]},
                )
            elif not match:
                self._send(404)

    return Handler
