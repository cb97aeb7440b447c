"""Upload jobs: send a built package to the provincial endpoint in the background.

:func:`start_upload` checks that the package is built and not already accepted or on its way,
and that an endpoint is configured (the school's own, else the deployment's settings) on one of
the Department's hosts (``PROVINCE_UPLOAD_HOSTS``: :func:`host_refusal`), then
enqueues the task ``transcripts.tasks.run_package_upload`` (by its name). :func:`run_upload`
claims the upload once and runs :func:`transcripts.packages.client.upload`, recording every
attempt as an :class:`~transcripts.models.UploadAttempt` and, in the end, the receipt or the
reason.
Uploading again after a failure resumes the same session on the server (same Idempotency-Key).
The worker writes its heartbeat at the claim, after every chunk and every attempt; an upload
whose worker died (no heartbeat for JOB_HEARTBEAT_STALE_SECONDS) is interrupted
(:func:`interrupt_stale`) and can be uploaded again. Each claim starts a new run
(``upload_runs``), and a run writes only while the row is still its own.
"""

from __future__ import annotations

import logging
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from schools.access import EXPORT_ROLES, school_roles
from schools.models import School
from transcripts import background
from transcripts.models import (
    EndpointChange,
    JobStatus,
    ProvincialEndpoint,
    TranscriptPackage,
    UploadAttempt,
    UploadStatus,
)
from transcripts.packages import client
from transcripts.packages import format as fmt
from transcripts.signing.signers import SigningError, decrypt_at_rest, encrypt_at_rest

logger = logging.getLogger(__name__)


class UploadRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def endpoint_for(school: School) -> client.Endpoint | None:
    """The school's own endpoint if it set one, else the deployment's; None when neither."""
    own = ProvincialEndpoint.objects.filter(school=school).first()
    timeout = float(settings.PROVINCE_UPLOAD_TIMEOUT)
    if own is not None:
        return client.Endpoint(own.url, endpoint_token(own), timeout)
    if settings.PROVINCE_UPLOAD_URL:
        return client.Endpoint(
            settings.PROVINCE_UPLOAD_URL, settings.PROVINCE_UPLOAD_TOKEN or "", timeout
        )
    return None


def endpoint_token(endpoint: ProvincialEndpoint) -> str:
    blob = bytes(endpoint.token_encrypted)
    if not blob:
        return ""
    try:
        return decrypt_at_rest(blob).decode()
    except SigningError:
        logger.error("the upload token of school %s cannot be decrypted", endpoint.school_id)
        return ""


def allowed_hosts() -> set[str]:
    return {host.strip().strip("[]").rstrip(".").lower() for host in settings.PROVINCE_UPLOAD_HOSTS}


def host_refusal(url: str) -> str | None:
    """Why packages may not be sent to ``url`` (its host is not one of the Department's,
    PROVINCE_UPLOAD_HOSTS), or None when they may."""
    hosts = allowed_hosts()
    if not hosts:
        return _(
            "This server allows no upload address yet: its administrator sets the Department's "
            "servers (PROVINCE_UPLOAD_HOSTS)."
        )
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host not in hosts:
        return _(
            "“%(host)s” is not one of the Department's servers that this server may upload to "
            "(%(hosts)s)."
        ) % {"host": host, "hosts": ", ".join(sorted(hosts))}
    return None


@transaction.atomic
def save_endpoint(*, actor: User, school: School, url: str, token: str | None) -> EndpointChange:
    """Set the school's endpoint and record who changed it; ``token`` None keeps the stored one,
    "" clears it. A new address never inherits the old address's token: it is cleared unless a
    new one comes with it. The caller has checked the actor's fresh two-factor code."""
    refusal = host_refusal(url)
    if refusal:
        raise UploadRefused(refusal)
    endpoint = ProvincialEndpoint.objects.select_for_update().filter(
        school=school
    ).first() or ProvincialEndpoint(school=school)
    old_url, had_token = endpoint.url or "", bool(bytes(endpoint.token_encrypted or b""))
    if token is None and url != old_url:
        token = ""
    endpoint.url = url
    endpoint.updated_by = actor
    if token is not None:
        endpoint.token_encrypted = encrypt_at_rest(token.encode()) if token else b""
    endpoint.save()
    if token:
        change = EndpointChange.Token.SET
    elif token == "" and had_token:
        change = EndpointChange.Token.CLEARED
    else:
        change = EndpointChange.Token.KEPT
    return EndpointChange.objects.create(
        school=school, changed_by=actor, old_url=old_url, new_url=url, token=change
    )


def policy() -> client.Policy:
    return client.Policy(
        max_attempts=settings.PROVINCE_UPLOAD_ATTEMPTS,
        backoff=float(settings.PROVINCE_UPLOAD_BACKOFF),
        chunk_size=settings.PROVINCE_UPLOAD_CHUNK_BYTES,
    )


def start_upload(
    *, actor: User | None, package: TranscriptPackage, enqueue: bool = True
) -> TranscriptPackage:
    if actor is not None and not school_roles(actor).get(package.school_id, frozenset()) & (
        EXPORT_ROLES
    ):
        raise PermissionDenied
    if package.status != JobStatus.FINISHED or not package.file:
        raise UploadRefused(_("Only a finished package can be uploaded."))
    if package.upload_status == UploadStatus.ACCEPTED:
        raise UploadRefused(_("The Department has already accepted this package."))
    endpoint = endpoint_for(package.school)
    if endpoint is None:
        raise UploadRefused(
            _("No address of the Department's system is configured: set it on the settings page.")
        )
    refusal = host_refusal(endpoint.url)
    if refusal:
        raise UploadRefused(refusal)
    with transaction.atomic():
        updated = (
            TranscriptPackage.objects.filter(pk=package.pk)
            .exclude(upload_status__in=[UploadStatus.QUEUED, UploadStatus.UPLOADING])
            .exclude(upload_status=UploadStatus.ACCEPTED)
            .update(upload_status=UploadStatus.QUEUED, upload_message="")
        )
        if not updated:
            raise UploadRefused(_("This package is already being uploaded."))
        if enqueue:
            transaction.on_commit(partial(enqueue_upload, package.pk))
    package.refresh_from_db()
    return package


def enqueue_upload(package_id: int) -> None:
    background.enqueue(
        "transcripts.tasks.run_package_upload",
        TranscriptPackage,
        package_id,
        status_field="upload_status",
        task_field="upload_task_id",
        message_field="upload_message",
        queued=UploadStatus.QUEUED,
        failed=UploadStatus.FAILED,
    )


def metadata(package: TranscriptPackage) -> dict[str, str | int]:
    """The JSON of ``POST /uploads`` (docs/provincial-upload.md)."""
    return {
        "packageId": str(package.package_id),
        "formatVersion": fmt.FORMAT_VERSION,
        "schoolCode": package.school.code,
        "departmentCode": package.school.department_code,
        "schoolYear": package.year.name,
        "kind": package.kind,
        "size": package.size,
        "sha256": package.sha256,
        "transcripts": package.final_count,
        "withdrawn": package.withdrawn_count,
    }


def _record(package: TranscriptPackage, attempt: client.Attempt) -> None:
    _beat(package)  # before the row: a superseded run records nothing more
    UploadAttempt.objects.create(
        package=package,
        number=attempt.number,
        started_at=attempt.started_at,
        finished_at=attempt.finished_at or timezone.now(),
        outcome=attempt.outcome,
        http_status=attempt.http_status,
        message=attempt.message[:2000],
        offset=attempt.offset,
        bytes_sent=attempt.bytes_sent,
    )
    _beat(package, upload_message=attempt.message[:2000] if attempt.outcome != client.ACCEPTED
          else "")  # fmt: skip


def interrupt_stale(packages: QuerySet[TranscriptPackage]) -> int:
    """Mark the uploads of ``packages`` whose worker stopped (no heartbeat for
    JOB_HEARTBEAT_STALE_SECONDS) interrupted; the number marked. Uploading again resumes the
    same session on the server."""
    stale = background.stale(packages, status_field="upload_status", running=UploadStatus.UPLOADING)
    return stale.update(upload_status=UploadStatus.INTERRUPTED)


def _run_rows(package: TranscriptPackage) -> QuerySet[TranscriptPackage]:
    """The package's row while the upload is still this run's."""
    return TranscriptPackage.objects.filter(
        pk=package.pk, upload_status=UploadStatus.UPLOADING, upload_runs=package.upload_runs
    )


def _beat(package: TranscriptPackage, **fields) -> None:
    """The upload run's heartbeat (with ``fields``); Superseded when the row is no longer the
    run's (interrupted, or uploaded again by another run)."""
    if not _run_rows(package).update(heartbeat_at=timezone.now(), **fields):
        raise background.Superseded(package)


def run_upload(package_id: int) -> dict[str, int | str]:
    """The worker's side of an upload; returns a summary."""
    with transaction.atomic():
        claimed = TranscriptPackage.objects.filter(
            pk=package_id, upload_status=UploadStatus.QUEUED
        ).update(
            upload_status=UploadStatus.UPLOADING,
            upload_runs=F("upload_runs") + 1,
            heartbeat_at=timezone.now(),
        )
        if not claimed:
            return {"package": package_id, "status": "not run"}
        package = TranscriptPackage.objects.select_related("school", "year").get(pk=package_id)
    try:
        return _upload(package)
    except background.Superseded:
        logger.warning("upload of package %s: run %s superseded", package.pk, package.upload_runs)
        return {"package": package_id, "status": "superseded"}


def _upload(package: TranscriptPackage) -> dict[str, int | str]:
    endpoint = endpoint_for(package.school)
    done = package.upload_attempts.aggregate(n=Max("number"))["n"] or 0
    result: dict[str, object] = {}
    try:
        if endpoint is None:
            raise client.UploadRejected(
                0, _("No address of the Department's system is configured.")
            )
        refusal = host_refusal(endpoint.url)
        if refusal:  # the allow-list changed since the upload was queued
            raise client.UploadRejected(0, refusal)
        receipt = client.upload(
            endpoint=endpoint,
            open_file=lambda: package.file.open("rb"),
            size=package.size,
            metadata=metadata(package),
            key=str(package.upload_key),
            on_attempt=partial(_record, package),
            on_chunk=partial(_beat, package),
            policy=policy(),
            first_attempt=done + 1,
        )
    except background.Superseded:
        raise
    except client.UploadRejected as exc:
        result = {"upload_status": UploadStatus.REJECTED, "upload_message": exc.message}
    except client.UploadGaveUp as exc:
        result = {"upload_status": UploadStatus.FAILED, "upload_message": exc.message}
    except Exception as exc:  # a bug or a storage failure: say so, keep the trace
        logger.exception("upload of package %s failed", package.pk)
        result = {"upload_status": UploadStatus.FAILED, "upload_message": str(exc)}
    else:
        result = {
            "upload_status": UploadStatus.ACCEPTED,
            "upload_message": "",
            "receipt_id": receipt.receipt_id,
            "receipt": receipt.body,
            "accepted_at": timezone.now(),
        }
    _beat(package, **result)
    return {"package": package.pk, "status": str(result["upload_status"])}
