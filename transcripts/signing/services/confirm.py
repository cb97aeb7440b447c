"""Signing confirmed on the signer's phone: the asynchronous style of Vietnamese remote-signing
services. The server submits every hash of a batch at once, the service asks the signer to
confirm (or reject) in its phone app, and the server polls until the values are there.

No provider's own API can be tested here, so this adapter speaks our small protocol; a real
provider is one more :class:`~transcripts.signing.services.RemoteService` subclass mapping its
calls onto the same four steps.

Sổ điểm remote confirmation protocol v1
=======================================

JSON over HTTPS under a base URL (e.g. ``https://ky.example.vn/api/v1``). Every call carries
``Authorization: Bearer <api_key>`` (the deployment's key at the service); a wrong key is HTTP
401. Errors are JSON ``{"error": code, "message": text}`` with a 4xx/5xx status.

``GET {base_url}/users/{user_id}/certificate``
    → ``{"certificates": [base64 DER, …]}``: the signer's certificate first, then its chain.
    404 for an unknown user.

``POST {base_url}/sign-requests`` with ::

        {"user_id": "…",
         "client_request_id": "…",        # idempotency: the same id returns the same request
         "hash_algorithm": "sha256",
         "hashes": ["base64 of a 32-byte SHA-256 digest", …],
         "description": "Trường …: ký 45 học bạ lớp 6A1 (90 tệp) với vai trò Hiệu trưởng",
         "summary": {"school", "role", "signer", "transcripts", "documents", "class_names"},
         "expires_in": 300}                # seconds; the service may shorten it

    → 201 (new) or 200 (the same ``client_request_id`` again: the same request)
    ``{"request_id": "…", "status": "pending", "expires_at": "ISO 8601 with offset"}``.
    400 when a hash is not 32 bytes or a field is missing; 404 for an unknown user; 409 when a
    ``client_request_id`` is reused with other hashes; 413 for more hashes than the service
    takes at once. The service signs nothing before the signer confirms.

``GET {base_url}/sign-requests/{request_id}``
    → ``{"request_id", "status": "pending" | "signed" | "rejected" | "expired" | "cancelled",
    "expires_at", "message", "signatures": [base64, …]}`` — ``signatures`` only when signed:
    RSA PKCS#1 v1.5 values over the given digests, in their order. 404 for an unknown request.

``POST {base_url}/sign-requests/{request_id}/cancel``
    → ``{"status": "cancelled"}`` (or the final status the request already had).

Service options in ``settings.SIGNING_SERVICES``: ``base_url``, ``api_key`` (required),
``max_hashes`` (default 1000: a batch with more digests is refused before anything is sent —
one request per batch is the point), ``expires_in`` (default 300 s), ``poll_interval``
(default 2 s), ``timeout`` (default 15 s per HTTP call). The signer's account: ``user_id``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from transcripts.signing.services import AccountField, RemoteService, register
from transcripts.signing.signers import SigningError
from transcripts.signing.sources import (
    CANCELLED,
    EXPIRED,
    FAILED,
    REJECTED,
    BatchSummary,
    Outcome,
    Refused,
    SignatureSource,
    Signed,
    Waiting,
)

logger = logging.getLogger(__name__)


class ServiceCallError(SigningError):
    """A call to the service failed; ``status`` is the HTTP status, if there was an answer."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@register
class ConfirmService(RemoteService):
    adapter = "confirm-v1"
    account_fields = {
        "user_id": AccountField(
            label=gettext_lazy("User ID at the signing service"),
            help_text=gettext_lazy("The ID the service gave you, as shown in its phone app."),
        ),
    }
    signing_secret_label = None

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        super().__init__(name, options)
        self.base_url = str(options.get("base_url") or "").rstrip("/")
        self.api_key = str(options.get("api_key") or "")
        if not self.base_url.startswith(("https://", "http://")) or not self.api_key:
            raise SigningError(
                _(
                    "The signing service “%(name)s” is not configured completely "
                    "(base_url, api_key)."
                )
                % {"name": name}
            )
        self.max_hashes = int(options.get("max_hashes") or 1000)
        self.expires_in = int(options.get("expires_in") or 300)
        self.poll_interval = float(options.get("poll_interval") or 2.0)
        self.timeout = float(options.get("timeout") or 15.0)

    def source(self, *, account: dict[str, str], secret: str = "") -> ConfirmSource:
        user_id = (account.get("user_id") or "").strip()
        if not user_id:
            raise SigningError(
                _("Your account at “%(service)s” has no user ID.") % {"service": self.label}
            )
        path = f"users/{urllib.parse.quote(user_id, safe='')}/certificate"
        try:
            answer = self.call("GET", path)
        except ServiceCallError as exc:
            if exc.status == 404:
                raise SigningError(
                    _("The signing service “%(service)s” does not know the user ID “%(user)s”.")
                    % {"service": self.label, "user": user_id}
                ) from exc
            raise
        try:
            certificates = [
                x509.load_der_x509_certificate(base64.b64decode(c, validate=True))
                for c in answer["certificates"]
            ]
        except (KeyError, TypeError, ValueError) as exc:
            certificates = []
            logger.warning("%s: unreadable certificates for %s: %s", self.name, user_id, exc)
        if not certificates:
            raise SigningError(
                _(
                    "The signing service “%(service)s” returned no usable certificate "
                    "for “%(user)s”."
                )
                % {"service": self.label, "user": user_id}
            )
        return ConfirmSource(
            service=self, user_id=user_id, certificate=certificates[0], chain=certificates[1:]
        )

    def call(self, verb: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One call of the protocol: its JSON answer, or ServiceCallError (translated)."""
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            f"{self.base_url}/{path}", data=data, headers=headers, method=verb
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from exc
        except urllib.error.URLError as exc:
            raise self._unreachable(exc.reason) from exc
        except (TimeoutError, OSError) as exc:
            raise self._unreachable(exc) from exc
        except ValueError as exc:
            raise ServiceCallError(self.unreadable_message()) from exc
        if not isinstance(answer, dict):
            raise ServiceCallError(self.unreadable_message())
        return answer

    def _http_error(self, exc: urllib.error.HTTPError) -> ServiceCallError:
        try:
            payload = json.loads(exc.read() or b"{}")
            detail = str(payload.get("message") or payload.get("error") or "")
        except (ValueError, AttributeError, OSError):
            detail = ""
        if exc.code in (401, 403):
            message = _(
                "The signing service “%(service)s” refused this server's API key "
                "(HTTP %(status)s); tell the administrator."
            )
        else:
            message = _("The signing service “%(service)s” answered HTTP %(status)s: %(detail)s")
        return ServiceCallError(
            message % {"service": self.label, "status": exc.code, "detail": detail or exc.reason},
            status=exc.code,
        )

    def _unreachable(self, reason: object) -> ServiceCallError:
        if isinstance(reason, TimeoutError):
            return ServiceCallError(
                _("The signing service “%(service)s” did not answer within %(seconds)s seconds.")
                % {"service": self.label, "seconds": f"{self.timeout:g}"}
            )
        return ServiceCallError(
            _("The signing service “%(service)s” cannot be reached: %(reason)s")
            % {"service": self.label, "reason": reason}
        )

    def unreadable_message(self) -> str:
        return _("The signing service “%(service)s” sent an unreadable answer.") % {
            "service": self.label
        }


class ConfirmSource(SignatureSource):
    """One signer at a confirmation service: a batch is one request, confirmed on the phone.

    The state of a waiting request: ``request_id``, ``user_id``, ``count`` (the number of
    digests, to check the answer) and ``expires_at`` (ISO 8601)."""

    def __init__(
        self,
        *,
        service: ConfirmService,
        user_id: str,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
    ) -> None:
        self.service = service
        self.user_id = user_id
        self.certificate = certificate
        self.chain = list(chain)
        self.poll_interval = service.poll_interval
        self.authorisations = 0

    def request(
        self, digests: Sequence[bytes], *, summary: BatchSummary, request_key: str
    ) -> Outcome:
        self._check_batch(digests)
        answer = self.service.call(
            "POST",
            "sign-requests",
            {
                "user_id": self.user_id,
                "client_request_id": request_key,
                "hash_algorithm": "sha256",
                "hashes": [base64.b64encode(d).decode() for d in digests],
                "description": summary.describe(),
                "summary": summary.as_dict(),
                "expires_in": self.service.expires_in,
            },
        )
        self.authorisations += 1
        request_id = answer.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise SigningError(self.service.unreadable_message())
        expires_at = _parse_time(answer.get("expires_at")) or _now() + datetime.timedelta(
            seconds=self.service.expires_in
        )
        state = {
            "request_id": request_id,
            "user_id": self.user_id,
            "count": len(digests),
            "expires_at": expires_at.isoformat(),
        }
        return self._outcome(state, answer)

    def _check_batch(self, digests: Sequence[bytes]) -> None:
        if not digests:
            raise SigningError("Nothing to sign: the batch has no digest")
        if len(digests) > self.service.max_hashes:
            raise SigningError(
                _(
                    "This batch needs %(count)s signatures, but the signing service "
                    "“%(service)s” takes at most %(max)s in one request. Sign fewer "
                    "transcripts at once."
                )
                % {
                    "count": len(digests),
                    "service": self.service.label,
                    "max": self.service.max_hashes,
                }
            )
        for digest in digests:
            if len(digest) != 32:
                raise SigningError(f"A sha256 digest has 32 bytes, got {len(digest)}")

    def poll(self, state: dict[str, Any]) -> Outcome:
        path = f"sign-requests/{urllib.parse.quote(str(state['request_id']), safe='')}"
        try:
            answer = self.service.call("GET", path)
        except ServiceCallError as exc:
            if exc.status == 404:
                return Refused(FAILED, _("The signing service no longer knows this request."))
            raise
        return self._outcome(state, answer)

    def cancel(self, state: dict[str, Any]) -> None:
        path = f"sign-requests/{urllib.parse.quote(str(state['request_id']), safe='')}/cancel"
        try:
            self.service.call("POST", path, {})
        except SigningError as exc:  # best effort: the request expires anyway
            logger.warning("%s: cancelling %s failed: %s", self.service.name, state, exc)

    def _outcome(self, state: dict[str, Any], answer: dict[str, Any]) -> Outcome:
        status = answer.get("status")
        if status == "pending":
            expires_at = _parse_time(answer.get("expires_at")) or _parse_time(state["expires_at"])
            return Waiting(
                state,
                expires_at=expires_at or _now(),
                message=_(
                    "Open the signing app on your phone and confirm the request of “%(service)s”."
                )
                % {"service": self.service.label},
            )
        if status == "signed":
            return self._signed(state, answer.get("signatures"))
        refusals = {
            "rejected": (
                REJECTED,
                _("The signer rejected the request on their phone: nothing was signed."),
            ),
            "expired": (
                EXPIRED,
                _("The request expired before the signer confirmed it: nothing was signed."),
            ),
            "cancelled": (CANCELLED, _("The signing request was cancelled: nothing was signed.")),
        }
        if status in refusals:
            return Refused(*refusals[status])
        return Refused(
            FAILED,
            _("The signing service answered with an unknown status “%(status)s”.")
            % {"status": status},
        )

    def _signed(self, state: dict[str, Any], values: Any) -> Outcome:
        try:
            signatures = [base64.b64decode(v, validate=True) for v in values]
        except (TypeError, ValueError, binascii.Error):
            return Refused(FAILED, self.service.unreadable_message())
        if len(signatures) != int(state["count"]):
            return Refused(
                FAILED,
                _("The signing service returned %(got)s signatures for %(expected)s digests.")
                % {"got": len(signatures), "expected": state["count"]},
            )
        return Signed(signatures)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _parse_time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
