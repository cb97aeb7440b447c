"""Packages sent to the public verification page whose transcripts' signatures are checked in
the background (:class:`transcripts.models.PackageVerification`).

The page runs the cheap checks of :func:`transcripts.packages.verify.verify_package` (ZIP,
manifest, seal, digests) at once; a package that passes them and holds more than
VERIFY_PACKAGE_INLINE_TRANSCRIPTS transcripts is stored under private/ in the storage (a random
name; the object store, or MEDIA_ROOT with owner-only permissions), so that a worker on another
machine reads it too, and handed to a worker, which checks it again, whole, under the same
limits (settings.VERIFY_PACKAGE_*, with VERIFY_PACKAGE_JOB_SECONDS for the signatures) and
deletes the file when it ends. The result stays VERIFY_PACKAGE_RESULT_SECONDS, at an address
with a random token; a job that outlives its time limit (a worker that died) is reported as
stopped. At most VERIFY_PACKAGE_MAX_ACTIVE_JOBS wait or run at once, and
VERIFY_PACKAGE_MAX_ACTIVE_PER_ADDRESS per client address.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from transcripts import background
from transcripts.models import JobStatus, PackageVerification
from transcripts.packages.verify import Limits, PackageReport, verify_package

logger = logging.getLogger(__name__)

TASK = "transcripts.tasks.run_package_verification"
UPLOAD_DIR = "private/verify-packages"
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
#: How long past its time limit a running job may go before its page calls it stopped.
GRACE_SECONDS = 60


def _store(chunks: Iterable[bytes]) -> str:
    """Write the upload to a new private file in the storage (through a local temporary file,
    never whole in memory); its name there."""
    with tempfile.TemporaryFile(prefix="sodiem-verify-") as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        return default_storage.save(f"{UPLOAD_DIR}/{secrets.token_hex(16)}.zip", File(spool))


def _delete_file(job: PackageVerification) -> None:
    if not job.file_name:
        return
    try:
        default_storage.delete(job.file_name)
    except OSError:  # the store is down: the object stays, unreferenced (docs/deployment.md)
        logger.warning("could not delete the verification upload %s", job.file_name)


@contextmanager
def _local_copy(name: str) -> Iterator[Path]:
    """The stored upload as a local file (verify_package reads a seekable ZIP): the file itself
    on the file system, a temporary copy streamed from an object store."""
    try:
        on_disk: str | None = default_storage.path(name)
    except NotImplementedError:
        on_disk = None
    if on_disk is not None:
        yield Path(on_disk)
        return
    with tempfile.NamedTemporaryFile(prefix="sodiem-verify-", suffix=".zip") as local:
        with default_storage.open(name, "rb") as stored:
            shutil.copyfileobj(stored, local, 1024 * 1024)
        local.flush()
        yield Path(local.name)


def purge_expired() -> int:
    """Delete the jobs whose result has expired, with any file they still have."""
    expired = list(PackageVerification.objects.filter(expires_at__lte=timezone.now()))
    for job in expired:
        _delete_file(job)
    PackageVerification.objects.filter(pk__in=[job.pk for job in expired]).delete()
    return len(expired)


def start_verification(
    *, chunks: Iterable[bytes], report: PackageReport, client_ip: str | None
) -> PackageVerification:
    """Store the upload and queue its check (after commit); :class:`background.JobRefused`
    when too many checks wait or run already (in all, or for this address)."""
    purge_expired()
    active = PackageVerification.objects.filter(status__in=ACTIVE)
    if client_ip and (
        active.filter(client_ip=client_ip).count() >= settings.VERIFY_PACKAGE_MAX_ACTIVE_PER_ADDRESS
    ):
        raise background.JobRefused(
            _("A package you sent is still being checked: wait for its result first.")
        )
    if active.count() >= settings.VERIFY_PACKAGE_MAX_ACTIVE_JOBS:
        raise background.JobRefused(
            _("Too many packages are being checked right now. Please try again in a few minutes.")
        )
    file_name = _store(chunks)
    summary = report.summary
    with transaction.atomic():
        job = PackageVerification.objects.create(
            file_name=file_name,
            client_ip=client_ip,
            language=translation.get_language() or "",
            expires_at=timezone.now() + timedelta(seconds=settings.VERIFY_PACKAGE_RESULT_SECONDS),
            total=summary.transcripts if summary else 0,
            report=report.as_json(),
        )
        transaction.on_commit(lambda: background.enqueue(TASK, PackageVerification, job.pk))
    return job


def get_verification(token: str) -> PackageVerification | None:
    """The job of ``token`` while its result is kept; an expired one is deleted. A running job
    past its time limit (its worker gone) is ended here, as stopped."""
    job = PackageVerification.objects.filter(token=token).first()
    if job is None:
        return None
    now = timezone.now()
    if job.expires_at <= now:
        _delete_file(job)
        job.delete()
        return None
    limit = timedelta(seconds=settings.VERIFY_PACKAGE_JOB_SECONDS + GRACE_SECONDS)
    if job.status == JobStatus.RUNNING and job.started_at and now - job.started_at > limit:
        _delete_file(job)
        background.finish(job, failed=True, message=_("The check did not finish in time."))
        job.refresh_from_db()
    return job


def run_verification(job_id: int) -> dict[str, int | str]:
    """The worker's side: check the stored package whole, under the public limits, recording
    the progress; the file is deleted whatever happens."""
    picked = background.pick_up(PackageVerification.objects.all(), job_id)
    if picked is None:
        return {"status": "skipped"}
    job, _secrets = picked
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            return _run(job)
    except Exception:
        logger.exception("package verification %s failed", job.pk)
        with translation.override(job.language or settings.LANGUAGE_CODE):
            background.finish(job, failed=True, message=_("The check could not be completed."))
        return {"status": JobStatus.FAILED}
    finally:
        _delete_file(job)
        PackageVerification.objects.filter(pk=job.pk).update(file_name="")


def _run(job: PackageVerification) -> dict[str, int | str]:
    if not job.file_name or not default_storage.exists(job.file_name):
        background.finish(
            job, failed=True, message=_("The package is no longer here: send it again.")
        )
        return {"status": JobStatus.FAILED}
    with _local_copy(job.file_name) as path:
        return _check(job, path)


def _check(job: PackageVerification, path: Path) -> dict[str, int | str]:

    def progress(checked: int, total: int) -> None:
        PackageVerification.objects.filter(pk=job.pk).update(processed=checked, total=total)

    report = verify_package(path, limits=Limits.public(), progress=progress)
    complete = report.transcripts_verified
    background.finish(
        job,
        failed=not complete,
        report=report.as_json(),
        processed=report.transcripts_checked,
    )
    return {"status": JobStatus.FINISHED if complete else JobStatus.FAILED,
            "problems": len(report.problems)}  # fmt: skip
