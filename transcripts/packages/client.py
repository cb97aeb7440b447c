"""The client of a provincial upload endpoint (the HTTP contract is docs/provincial-upload.md).

One upload is a session on the server named by an ``Idempotency-Key`` (the package row's
``upload_key``): ``POST /uploads`` opens it, or finds it again and says how many bytes the
server already holds; ``PATCH /uploads/<id>`` sends the next chunk at that offset; ``POST
/uploads/<id>/complete`` asks the server to check the package and returns its receipt.

:func:`upload` makes *attempts*: an attempt ends with the receipt, with a refusal (a 4xx
other than 409/429: stop, with the server's message) or with a temporary failure (a network
error, a time-out, a 5xx or 429), after which it waits (exponential back-off, or the server's
Retry-After) and tries again from the server's offset, up to ``max_attempts``. Every attempt is
reported to ``on_attempt`` as it ends. Only the standard library is used.
"""

from __future__ import annotations

import dataclasses
import datetime
import http.client
import json
import random
import time
from collections.abc import Callable
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _

ACCEPTED = "accepted"
REJECTED = "rejected"
ERROR = "error"


@dataclasses.dataclass(frozen=True)
class Endpoint:
    url: str
    token: str
    timeout: float = 30.0


@dataclasses.dataclass(frozen=True)
class Policy:
    max_attempts: int = 6
    backoff: float = 2.0  # seconds before the second attempt, doubled each time
    max_backoff: float = 60.0
    chunk_size: int = 1024 * 1024


@dataclasses.dataclass
class Attempt:
    number: int
    started_at: datetime.datetime
    finished_at: datetime.datetime | None = None
    outcome: str = ERROR
    http_status: int | None = None
    message: str = ""
    offset: int = 0
    bytes_sent: int = 0


@dataclasses.dataclass(frozen=True)
class Receipt:
    receipt_id: str
    received_at: str
    body: dict[str, Any]


class UploadRejected(Exception):
    """The server refused the upload (a final answer); ``message`` is the server's."""

    def __init__(self, status: int, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body or {}


class UploadGaveUp(Exception):
    """Every attempt failed temporarily; ``message`` says what the last one met."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Temporary(Exception):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclasses.dataclass
class _Response:
    status: int
    headers: http.client.HTTPMessage
    body: dict[str, Any]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _server_message(response: _Response) -> str:
    body = response.body
    message = body.get("error") or body.get("message") or ""
    problems = body.get("problems") or []
    if problems:
        details = "; ".join(
            f"{p.get('member')}: {p.get('message')}" if p.get("member") else str(p.get("message"))
            for p in problems[:5]
        )
        message = f"{message} ({details})" if message else details
    return message or f"HTTP {response.status}"


class _Session:
    """One attempt's connection to the endpoint."""

    def __init__(self, endpoint: Endpoint, key: str) -> None:
        parts = urlsplit(endpoint.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UploadRejected(0, _("The upload address must be an http(s) URL."))
        connection = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self.connection = connection(parts.hostname, parts.port, timeout=endpoint.timeout)
        self.base = parts.path.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {endpoint.token}",
            "Idempotency-Key": key,
            "Accept": "application/json",
            # the server's messages are shown to the admin: ask for them in their language
            "Accept-Language": get_language() or settings.LANGUAGE_CODE,
        }

    def close(self) -> None:
        self.connection.close()

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> _Response:
        try:
            self.connection.request(
                method,
                self.base + path,
                body=body,
                headers={**self.headers, **(headers or {}), "Content-Length": str(len(body))},
            )
            raw = self.connection.getresponse()
            payload = raw.read()
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            raise _Temporary(
                _("The connection failed: %(error)s") % {"error": str(exc) or type(exc).__name__}
            ) from exc
        try:
            parsed = json.loads(payload) if payload else {}
        except ValueError:
            parsed = {"error": payload[:300].decode("utf-8", "replace")}
        response = _Response(raw.status, raw.headers, parsed if isinstance(parsed, dict) else {})
        if raw.status >= 500 or raw.status == 429:
            retry_after = raw.headers.get("Retry-After", "")
            raise _Temporary(
                _("The server answered %(status)s: %(message)s")
                % {"status": raw.status, "message": _server_message(response)},
                status=raw.status,
                retry_after=float(retry_after) if retry_after.isdigit() else None,
            )
        return response


def _receipt(response: _Response) -> Receipt:
    body = response.body
    return Receipt(str(body.get("receiptId", "")), str(body.get("receivedAt", "")), body)


def _refuse(response: _Response) -> UploadRejected:
    return UploadRejected(response.status, _server_message(response), response.body)


def _offset(response: _Response) -> int:
    value = response.headers.get("Upload-Offset") or response.body.get("offset")
    try:
        if value is None:
            raise TypeError("no offset")
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _Temporary(_("The server did not say how much it has received.")) from exc


def _attempt(
    session: _Session,
    attempt: Attempt,
    *,
    open_file: Callable[[], BinaryIO],
    size: int,
    metadata: dict[str, Any],
    chunk_size: int,
    on_chunk: Callable[[], None],
) -> Receipt:
    created = session.request(
        "POST",
        "/uploads",
        json.dumps(metadata).encode(),
        {"Content-Type": "application/json"},
    )
    attempt.http_status = created.status
    if created.status not in (200, 201):
        raise _refuse(created)
    if created.body.get("status") == ACCEPTED:
        return _receipt(created)
    upload_id = quote(str(created.body.get("uploadId", "")), safe="")
    chunk_size = min(chunk_size, int(created.body.get("chunkSize") or chunk_size))
    offset = attempt.offset = _offset(created)
    with open_file() as handle:
        while True:
            while offset < size:
                handle.seek(offset)
                chunk = handle.read(chunk_size)
                sent = session.request(
                    "PATCH",
                    f"/uploads/{upload_id}",
                    chunk,
                    {
                        "Content-Type": "application/offset+octet-stream",
                        "Upload-Offset": str(offset),
                    },
                )
                attempt.http_status = sent.status
                if sent.status not in (204, 409):
                    raise _refuse(sent)
                if sent.status == 204:
                    attempt.bytes_sent += len(chunk)
                offset = _offset(sent)  # a 409 says where the server really is
                on_chunk()
            done = session.request("POST", f"/uploads/{upload_id}/complete")
            attempt.http_status = done.status
            if done.status == 200:
                return _receipt(done)
            if done.status != 409:
                raise _refuse(done)
            offset = _offset(done)  # the server misses bytes: send them


def upload(
    *,
    endpoint: Endpoint,
    open_file: Callable[[], BinaryIO],
    size: int,
    metadata: dict[str, Any],
    key: str,
    on_attempt: Callable[[Attempt], None],
    on_chunk: Callable[[], None] = lambda: None,
    policy: Policy | None = None,
    first_attempt: int = 1,
    sleep: Callable[[float], None] = time.sleep,
) -> Receipt:
    """Upload the package that ``open_file()`` opens (``size`` bytes) with ``metadata`` (the
    JSON of ``POST /uploads``); raises UploadRejected or UploadGaveUp. ``on_chunk`` is called
    after every chunk sent (the worker's heartbeat), ``on_attempt`` after every attempt."""
    policy = policy or Policy()
    last = ""
    for index in range(policy.max_attempts):
        attempt = Attempt(number=first_attempt + index, started_at=_now())
        session = _Session(endpoint, key)
        wait = min(policy.backoff * 2**index, policy.max_backoff)
        try:
            receipt = _attempt(
                session,
                attempt,
                open_file=open_file,
                size=size,
                metadata=metadata,
                chunk_size=policy.chunk_size,
                on_chunk=on_chunk,
            )
        except _Temporary as exc:
            attempt.outcome, attempt.message, last = ERROR, exc.message, exc.message
            attempt.http_status = exc.status  # None: no answer (the connection failed)
            if exc.retry_after is not None:
                wait = min(exc.retry_after, policy.max_backoff)
        except UploadRejected as exc:
            attempt.outcome, attempt.message = REJECTED, exc.message
            attempt.http_status = exc.status or attempt.http_status
            attempt.finished_at = _now()
            on_attempt(attempt)
            raise
        else:
            attempt.outcome = ACCEPTED
            attempt.message = receipt.receipt_id
            attempt.finished_at = _now()
            on_attempt(attempt)
            return receipt
        finally:
            session.close()
        attempt.finished_at = _now()
        on_attempt(attempt)
        if index + 1 < policy.max_attempts:
            sleep(wait * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not a secret
    raise UploadGaveUp(
        _("Gave up after %(n)s attempts; the last one said: %(error)s")
        % {"n": policy.max_attempts, "error": last}
    )
