"""What the job page and the package page share while a signature is awaited: the time left,
and, for the USB token on the signer's own computer, the digests handed to the signing
companion and the values it sends back (through ``static/js/companion.js``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable

from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from transcripts import batches
from transcripts.models import CredentialKind, SigningBatch
from transcripts.signing.sources import Certificates

#: A companion's answer: at most 2,000 values of at most 1 KB (base64 of RSA-4096 is 684 B).
MAX_VALUES_BODY = 2_000 * 1_100


def waiting_context(request: HttpRequest, batch: SigningBatch | None) -> dict:
    """The waiting batch, the time left (``time_left`` as m:ss) and the companion's address."""
    seconds_left = 0
    if batch is not None and batch.expires_at is not None:
        seconds_left = max(0, int((batch.expires_at - timezone.now()).total_seconds()))
    return {
        "waiting": batch,
        "waiting_what": what_is_signed(batch) if batch is not None else "",
        "seconds_left": seconds_left,
        "time_left": f"{seconds_left // 60}:{seconds_left % 60:02d}",
        "companion_url": settings.SIGNING_COMPANION_URL,
        "site_origin": request.build_absolute_uri("/").rstrip("/"),
    }


def what_is_signed(batch: SigningBatch) -> str:
    """The batch's documents in words: "42 transcripts (84 files)", or a package's manifest."""
    summary = batch.summary or {}
    count = summary.get("transcripts", 0)
    if batch.package_id:
        return ngettext(
            "the package's manifest (%(count)s transcript)",
            "the package's manifest (%(count)s transcripts)",
            count,
        ) % {"count": count}
    return ngettext(
        "%(count)s transcript (%(files)s files)", "%(count)s transcripts (%(files)s files)", count
    ) % {"count": count, "files": summary.get("documents", 0)}


def companion_batch(request: HttpRequest, batch: SigningBatch | None) -> SigningBatch:
    """``batch`` if it waits for the USB token of the person asking; 404 for anyone else or
    anything else (a batch is signed by the person who started it)."""
    if (
        batch is None
        or batch.method != CredentialKind.COMPANION
        or batch.started_by_id != request.user.pk
    ):
        raise Http404
    return batch


def digests_response(batch: SigningBatch) -> JsonResponse:
    """What the signing companion signs: every digest of the batch, in order, with the
    certificate it must use and the summary it shows the signer."""
    certificate = Certificates.from_pem(batch.certificate_pem).certificate
    return JsonResponse(
        {
            "batch": batch.pk,
            "certificate_sha256": hashlib.sha256(
                certificate.public_bytes(Encoding.DER)
            ).hexdigest(),
            "algorithm": "sha256",
            "digests": [base64.b64encode(d).decode() for d in batches.digests(batch)],
            "summary": batch.summary,
            "expires_at": batch.expires_at.isoformat() if batch.expires_at else None,
        }
    )


def values_response(
    request: HttpRequest, batch: SigningBatch, after: Callable[[SigningBatch], None]
) -> JsonResponse:
    """The values from the companion, posted by the signer's browser: checked (one per digest,
    each against the certificate), then ``after`` moves the job or package on; otherwise
    nothing is signed and the error says why."""
    if len(request.body) > MAX_VALUES_BODY:
        return JsonResponse({"error": _("The answer is too large.")}, status=400)
    try:
        payload = json.loads(request.body)
        values = [base64.b64decode(v, validate=True) for v in payload["values"]]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return JsonResponse(
            {"error": _("The signing companion's answer is not readable.")}, status=400
        )
    try:
        batches.receive_values(batch=batch, values=values)
    except batches.BatchFailed as exc:
        after(batch)
        return JsonResponse({"error": exc.message}, status=400)
    after(batch)
    return JsonResponse({"ok": True})
