"""Export jobs: build a package of the school's signed transcripts in the background.

:func:`start_export` checks what can be checked at once — the actor may export, every
transcript of the scope is final (or the school chose to send only the final ones), there is
something to send, and the seal's password opens a certificate that may seal for this school —
records a :class:`~transcripts.models.TranscriptPackage` and enqueues the task
``transcripts.tasks.run_package_export`` (by its name) after commit. :func:`run_export` is
the worker's side: it works the scope out again, writes the ZIP to a temporary file while
checking each stored transcript, seals the manifest and stores the package. A failed export
lists every transcript that failed and why; :func:`retry_export` runs the same row again (same
history row, same package id for the same versions), and re-running never renders or signs a
transcript again. The worker writes its heartbeat with the progress (every few transcripts) and
at each stage; an export whose worker died is interrupted
(:func:`transcripts.background.interrupt_stale`) and started again the same way.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from contextlib import ExitStack
from functools import partial

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from config.storage import StorageUnavailable
from schools.access import EXPORT_ROLES, school_roles
from schools.models import School, SchoolYear, Student
from transcripts import background, batches
from transcripts.background import JobRefused
from transcripts.models import (
    BATCH_ENDED,
    BatchStatus,
    EntryStatus,
    JobStatus,
    JobStep,
    PackageEntry,
    PackageKind,
    SignerRole,
    SigningBatch,
    SigningCredential,
    TranscriptPackage,
)
from transcripts.packages import format as fmt
from transcripts.packages.build import add_seal, write_unsealed
from transcripts.packages.scope import NotFinal, PackageScope, package_scope
from transcripts.signing.formats import PreparedCms, finish_cms, prepare_cms
from transcripts.signing.ltv import LtvSettings
from transcripts.signing.sources import BatchSummary, Certificates, SignatureSource

logger = logging.getLogger(__name__)

_PROGRESS_EVERY = 25  # transcripts between progress writes (each one the heartbeat too)


class ExportRefused(Exception):
    """An export that cannot start; ``message`` is translated, ``not_final`` lists the students
    of the scope whose transcript is not final."""

    def __init__(self, message: str, not_final: list[NotFinal] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.not_final = not_final or []


def check_scope(
    *, school: School, year: SchoolYear, kind: str, student: Student | None, only_final: bool
) -> PackageScope:
    """The scope of the export, or ExportRefused (not final, or nothing to send)."""
    scope = package_scope(school=school, year=year, kind=kind, student=student)
    if scope.not_final and not only_final:
        raise ExportRefused(
            ngettext(
                "%(n)s student's transcript is not final yet. Finish it, or export only the "
                "final transcripts.",
                "%(n)s students' transcripts are not final yet. Finish them, or export only the "
                "final transcripts.",
                len(scope.not_final),
            )
            % {"n": len(scope.not_final)},
            scope.not_final,
        )
    if scope.is_empty:
        if kind == PackageKind.INCREMENTAL:
            message = _("Nothing to send: every final transcript is already in an accepted upload.")
        else:
            message = _("Nothing to send: no transcript of this scope is final.")
        raise ExportRefused(message, scope.not_final)
    return scope


def _open_seal(
    *, actor: User | None, school: School, secret: str
) -> tuple[SigningCredential, SignatureSource]:
    """The school seal's credential and open source, its certificate checked (the caller
    closes it); ExportRefused with a message the user can act on."""
    try:
        return batches.open_source(school=school, user=actor, step=JobStep.SEAL, secret=secret)
    except JobRefused as exc:
        raise ExportRefused(exc.message) from exc


def _check_seal(*, actor: User | None, school: School, secret: str) -> None:
    _credential, source = _open_seal(actor=actor, school=school, secret=secret)
    source.close()


def _check_actor(actor: User | None, school: School) -> None:
    """None is the command line (an operator); a person must hold an export role there."""
    if actor is not None and not school_roles(actor).get(school.pk, frozenset()) & EXPORT_ROLES:
        raise PermissionDenied


def start_export(
    *,
    actor: User | None,
    school: School,
    year: SchoolYear,
    kind: str,
    secret: str,
    student: Student | None = None,
    only_final: bool = False,
    enqueue: bool = True,
) -> TranscriptPackage:
    """Check and record an export, and (with ``enqueue``) hand it to a worker after commit."""
    _check_actor(actor, school)
    kind = PackageKind(kind)
    if kind == PackageKind.SINGLE and student is None:
        raise ExportRefused(_("Choose the student."))
    if student is not None and student.school_id != school.pk:
        raise ExportRefused(_("That student is not of this school."))
    scope = check_scope(school=school, year=year, kind=kind, student=student, only_final=only_final)
    _check_seal(actor=actor, school=school, secret=secret)
    with transaction.atomic():
        package = TranscriptPackage.objects.create(
            school=school,
            year=year,
            kind=kind,
            student=student if kind == PackageKind.SINGLE else None,
            only_final=only_final,
            created_by=actor,
            total=len(scope.finals),
            sealed_secrets=background.seal_secrets({JobStep.SEAL: secret} if secret else {}),
        )
        if enqueue:
            transaction.on_commit(partial(enqueue_export, package.pk))
    return package


def retry_export(
    *, actor: User | None, package: TranscriptPackage, secret: str, enqueue: bool = True
) -> TranscriptPackage:
    """Run a failed (or interrupted: its worker died) export again, on the same row."""
    _check_actor(actor, package.school)
    background.interrupt_stale(TranscriptPackage.objects.filter(pk=package.pk))
    package.refresh_from_db(fields=["status"])
    if package.status not in (JobStatus.FAILED, JobStatus.INTERRUPTED):
        raise ExportRefused(_("Only a failed or stopped export can be started again."))
    _check_seal(actor=actor, school=package.school, secret=secret)
    with transaction.atomic():
        updated = TranscriptPackage.objects.filter(pk=package.pk, status=package.status).update(
            status=JobStatus.QUEUED,
            created_at=timezone.now(),  # the hand-off window starts now
            started_at=None,
            finished_at=None,
            heartbeat_at=None,
            processed=0,
            failures=[],
            message="",
            sealed_secrets=background.seal_secrets({JobStep.SEAL: secret} if secret else {}),
        )
        if not updated:
            raise ExportRefused(_("Only a failed or stopped export can be started again."))
        if enqueue:
            transaction.on_commit(partial(enqueue_export, package.pk))
    package.refresh_from_db()
    return package


def enqueue_export(package_id: int) -> None:
    background.enqueue("transcripts.tasks.run_package_export", TranscriptPackage, package_id)


# --- the worker's side ---------------------------------------------------------------------------


class _Progress:
    """Writes progress (and the run's heartbeat) every few transcripts and at the end."""

    def __init__(self, package: TranscriptPackage, total: int) -> None:
        self.package = package
        self.total = total

    def __call__(self, done: int) -> None:
        if done == self.total or done % _PROGRESS_EVERY == 0:
            background.beat(self.package, processed=done)


def run_export(package_id: int) -> dict[str, int | str]:
    """Build the package, or seal one whose seal's signature has come in (the task's body);
    returns a summary."""
    picked = background.pick_up(
        TranscriptPackage.objects.select_related("school", "year", "student", "created_by"),
        package_id,
    )
    if picked is None:
        return {"package": package_id, "status": "not run"}
    package, secrets = picked
    try:
        signed = package.seal_batches.filter(status=BatchStatus.SIGNED).last()
        # A seal's value waiting to be added to the stored, unsealed package; without that file
        # (a key the server holds signed, then storing the package failed) build again.
        if signed is not None and package.unsealed_file:
            outcome = _seal_stored(package, signed)
        else:
            outcome = _build(package, secrets.get(JobStep.SEAL, ""))
    except background.Superseded:  # interrupted, or resumed by another run: stop here
        logger.warning("package %s: run %s was superseded", package.pk, package.attempts)
        return {"package": package_id, "status": "superseded"}
    except StorageUnavailable as exc:  # the store went away: stopped, to be resumed
        logger.error("package export %s: the file store failed (%s)", package.pk, exc.detail)
        stopped = background.run_rows(package).update(
            status=JobStatus.INTERRUPTED,
            finished_at=timezone.now(),
            sealed_secrets=b"",
            message=_(
                "The file store could not be reached, so the export stopped; nothing was "
                "exported. Resume it once the store is back."
            ),
        )
        return {"package": package_id, "status": "interrupted" if stopped else "superseded"}
    except ExportRefused as exc:
        background.finish(package, message=exc.message, failed=True)
        outcome = "failed"
    except Exception as exc:  # a broken storage or a bug: say so on the row, keep the trace
        logger.exception("package export %s failed", package.pk)
        background.finish(
            package,
            message=_("The export stopped: %(error)s") % {"error": str(exc) or type(exc).__name__},
            failed=True,
        )
        outcome = "failed"
    return {"package": package_id, "status": outcome}


def _build(package: TranscriptPackage, secret: str) -> str:
    """Write the package, then ask the seal for its one signature over the manifest: a key the
    server holds signs at once and the package is stored; a phone confirmation or the USB token
    leaves the package waiting, written but for that signature (``unsealed_file``)."""
    school, year = package.school, package.year
    scope = check_scope(
        school=school,
        year=year,
        kind=package.kind,
        student=package.student,
        only_final=package.only_final,
    )
    background.beat(package, total=len(scope.finals))
    with ExitStack() as stack:
        credential, seal = _open_seal(actor=package.created_by, school=school, secret=secret)
        stack.callback(seal.close)
        del secret
        out = stack.enter_context(tempfile.TemporaryFile(prefix="sodiem-package-"))
        result = write_unsealed(
            out,
            school=school,
            year=year,
            kind=package.kind,
            scope=fmt.Scope(
                students=scope.students,
                left_out=len(scope.not_final),
                only_final=package.only_final,
            ),
            finals=scope.finals,
            withdrawals=scope.withdrawals,
            created_at=timezone.now(),
            progress=_Progress(package, len(scope.finals)),
        )
        if not result.ok:
            failures = [failure.as_json() for failure in result.failures]
            background.finish(
                package,
                failed=True,
                failures=failures,
                message=ngettext(
                    "%(n)s transcript could not be packaged; nothing was exported.",
                    "%(n)s transcripts could not be packaged; nothing was exported.",
                    len(failures),
                )
                % {"n": len(failures)},
            )
            return "failed"
        manifest = result.manifest
        assert manifest is not None  # the result is ok
        background.beat(package)
        batch = _ask_seal(package, credential, seal, manifest, result.manifest_bytes)
        if batch.status == BatchStatus.SIGNED:
            add_seal(out, _seal_signature(batch))
            _store(package, out, manifest, scope)
            batches.finish_documents(batch)
            return "finished"
        if batch.status == BatchStatus.WAITING:
            _wait_for_seal(package, out, manifest, scope, batch)
            return "waiting"
        raise ExportRefused(str(batch.message or BatchStatus(batch.status).label))


def _ask_seal(
    package: TranscriptPackage,
    credential: SigningCredential,
    seal: SignatureSource,
    manifest: fmt.Manifest,
    manifest_bytes: bytes,
) -> SigningBatch:
    """The seal's batch for the manifest (``manifest_bytes`` as written into the package), its
    one digest asked of the seal at once."""
    prepared = prepare_cms(manifest_bytes, seal)
    batch = SigningBatch.objects.create(
        package=package,
        role=SignerRole.SEAL,
        credential=credential,
        method=credential.kind,
        certificate_pem=Certificates(seal.certificate, list(seal.chain)).pem(),
        documents=[
            {
                "digest": prepared.digest.hex(),
                "state": {"signed_attributes": prepared.signed_attributes.hex()},
                "value": None,
            }
        ],
        summary=BatchSummary(
            school=package.school.name,
            role=str(SignerRole.SEAL.label),
            signer=package.school.name,
            transcripts=len(manifest.transcripts),
            documents=1,
        ).as_dict(),
    )
    batches.request_values(batch=batch, source=seal)
    batch.refresh_from_db()
    return batch


def _seal_signature(batch: SigningBatch) -> bytes:
    """The CMS signature over the manifest from the value the seal gave."""
    [document] = batch.documents
    prepared = PreparedCms(bytes.fromhex(document["state"]["signed_attributes"]))
    holder = Certificates.from_pem(batch.certificate_pem)
    ltv = LtvSettings.from_settings()
    return finish_cms(
        prepared,
        holder,
        batches.document_values(batch)[0],
        timestamp_url=ltv.timestamp_url if ltv.timestamped else None,
        timeout=ltv.timeout,
    )


def _wait_for_seal(
    package: TranscriptPackage,
    out,
    manifest: fmt.Manifest,
    scope: PackageScope,
    batch: SigningBatch,
) -> None:
    """Keep the package written but unsealed in the storage, with its entries and identity,
    and wait for the seal (the worker is free; a task polls the request)."""
    out.seek(0)
    package.unsealed_file.save(
        f"{package.pk}-{package.kind}-{package.year.name}-unsealed.zip", File(out), save=False
    )
    try:
        with transaction.atomic():
            _record_entries(package, scope)
            parked = background.run_rows(package).update(
                status=JobStatus.WAITING,
                unsealed_file=package.unsealed_file.name,
                package_id=manifest.package_id,
                final_count=len(manifest.transcripts),
                withdrawn_count=len(manifest.withdrawals),
                left_out_count=manifest.scope.left_out,
                processed=len(scope.finals),
                heartbeat_at=timezone.now(),
            )
            if not parked:
                raise background.Superseded(package)
            transaction.on_commit(
                partial(batches.schedule_poll, batch.pk, batches.poll_interval(batch))
            )
    except BaseException:
        package.unsealed_file.delete(save=False)
        raise


def _seal_stored(package: TranscriptPackage, batch: SigningBatch) -> str:
    """The seal signed a waiting package: add its signature to the stored package and finish."""
    signature = _seal_signature(batch)
    with ExitStack() as stack:
        out = stack.enter_context(tempfile.TemporaryFile(prefix="sodiem-package-"))
        with package.unsealed_file.open("rb") as stored:
            while chunk := stored.read(1024 * 1024):
                out.write(chunk)
        add_seal(out, signature)
        size, sha256 = _digest(out)
        unsealed = package.unsealed_file.name
        package.file.save(
            f"{package.pk}-{package.kind}-{package.year.name}.zip", File(out), save=False
        )
        try:
            background.finish(
                package, file=package.file.name, size=size, sha256=sha256, unsealed_file=""
            )
        except BaseException:
            package.file.delete(save=False)
            raise
    package.file.storage.delete(unsealed)
    batches.finish_documents(batch)
    return "finished"


def after_seal(batch: SigningBatch) -> None:
    """Move a package on once its seal's batch left waiting: the value is in → finish it (a
    worker, after commit); the request ended → the export fails and its unsealed file goes."""
    batch.refresh_from_db()
    if batch.status == BatchStatus.SIGNED:
        package_id = _package_id(batch)
        with transaction.atomic():
            if TranscriptPackage.objects.filter(pk=package_id, status=JobStatus.WAITING).update(
                status=JobStatus.QUEUED
            ):
                transaction.on_commit(partial(enqueue_export, package_id))
    elif batch.status in BATCH_ENDED:
        package = TranscriptPackage.objects.get(pk=_package_id(batch))
        if package.status != JobStatus.WAITING:
            return
        unsealed = package.unsealed_file.name
        TranscriptPackage.objects.filter(pk=package.pk, status=JobStatus.WAITING).update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            unsealed_file="",
            message=batch.message or BatchStatus(batch.status).label,
        )
        if unsealed:
            transaction.on_commit(partial(package.unsealed_file.storage.delete, unsealed))


def _package_id(batch: SigningBatch) -> int:
    if batch.package_id is None:  # a job's batch: jobs.after_batch moves it on
        raise ValueError(f"batch {batch.pk} belongs to no package")
    return batch.package_id


def waiting_seal(package: TranscriptPackage) -> SigningBatch | None:
    """The seal's batch a waiting export waits for (ended first if its time is up)."""
    batch = package.seal_batches.filter(status=BatchStatus.WAITING).first()
    if batch is not None and batches.is_overdue(batch):
        batches.expire(batch)
        after_seal(batch)
        return None
    return batch


def cancel(*, package: TranscriptPackage, actor: User) -> None:
    """The starter withdraws the seal's request of a waiting export: nothing is sealed."""
    batch = package.seal_batches.filter(status=BatchStatus.WAITING).first()
    if batch is None:
        return
    batches.cancel(batch=batch, actor=actor)
    after_seal(batch)


def _digest(handle) -> tuple[int, str]:
    handle.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return size, digest.hexdigest()


def _record_entries(package: TranscriptPackage, scope: PackageScope) -> None:
    PackageEntry.objects.filter(package=package).delete()
    PackageEntry.objects.bulk_create(
        [PackageEntry(package=package, version=v, status=EntryStatus.FINAL)
         for v in scope.finals]
        + [PackageEntry(package=package, version=v, status=EntryStatus.WITHDRAWN)
           for v in scope.withdrawals]
    )  # fmt: skip


def _store(package: TranscriptPackage, out, manifest: fmt.Manifest, scope: PackageScope) -> None:
    """Save the ZIP in the storage and record its entries and identity, in one transaction."""
    size, sha256 = _digest(out)
    previous = package.file.name if package.file else ""
    package.file.save(f"{package.pk}-{package.kind}-{package.year.name}.zip", File(out), save=False)
    try:
        with transaction.atomic():
            _record_entries(package, scope)
            background.finish(
                package,
                file=package.file.name,
                size=size,
                sha256=sha256,
                package_id=manifest.package_id,
                final_count=len(manifest.transcripts),
                withdrawn_count=len(manifest.withdrawals),
                left_out_count=manifest.scope.left_out,
                processed=len(scope.finals),
            )
    except BaseException:
        package.file.delete(save=False)
        raise
    if previous and previous != package.file.name:
        package.file.storage.delete(previous)
