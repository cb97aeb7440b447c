"""Two-phase signing: one signer's signatures on every transcript of a job, with one
authorisation (docs/signing.md, "Two-phase signing").

A signing step of a job is a :class:`~transcripts.models.SigningBatch`:

1. **prepare** (:func:`prepare_batch`): each transcript the step applies to is prepared for the
   signer's certificate (:func:`transcripts.pipeline.prepare_documents`) and stored as a
   :class:`~transcripts.models.PreparedSignature` (the prepared files and the digests). Nothing
   is signed and no transcript changes.
2. **request** (:func:`request_values`): every digest goes to the signer's
   :class:`~transcripts.signing.sources.SignatureSource` at once — one password, PIN or phone
   confirmation. The answer comes now, or later: the batch then waits, polled by a task
   (:func:`poll`), or is sent the values by the signer's browser (the signing companion).
3. **receive** (:func:`receive_values`): exactly one value per digest, each verified against the
   certificate, or the batch fails and nothing is signed.
4. **finish** (:func:`finish_batch`): each transcript in its own transaction
   (:func:`transcripts.pipeline.finish_documents`): completely signed, or unchanged.

A batch rejected by the signer, expired or cancelled ends (:func:`end_batch`): its prepared
files are deleted and every transcript stays as it was. Every step is safe to repeat: a worker
that dies while a batch waits loses nothing, and a batch finished halfway is finished by the
next run (transcripts already signed are skipped, never signed twice).
"""

from __future__ import annotations

import base64
import datetime
import logging
from collections.abc import Callable, Iterable, Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from schools.models import School
from transcripts import background, credentials, pipeline
from transcripts.background import JobRefused
from transcripts.models import (
    BATCH_ENDED,
    BatchStatus,
    CredentialKind,
    JobStep,
    PreparedSignature,
    SignerRole,
    SigningBatch,
    SigningCredential,
    Transcript,
    TranscriptJob,
)
from transcripts.signing.certificates import SigningRefused, check_revocation
from transcripts.signing.formats import PreparedPdf, PreparedXml, signature_digest_matches
from transcripts.signing.ltv import LtvSession
from transcripts.signing.signers import SigningError
from transcripts.signing.sources import (
    CANCELLED,
    EXPIRED,
    REJECTED,
    BatchSummary,
    Certificates,
    Outcome,
    Refused,
    SignatureSource,
    Signed,
    Waiting,
)
from transcripts.workflow import TranscriptRefused

logger = logging.getLogger(__name__)

#: Called once per transcript with its outcome ("done", "skipped" or "failed") and a message.
Report = Callable[[Transcript, str, str], None]

_ENDED_BY = {
    REJECTED: BatchStatus.REJECTED,
    EXPIRED: BatchStatus.EXPIRED,
    CANCELLED: BatchStatus.CANCELLED,
}


class BatchFailed(Exception):
    """The batch ended without signing anything; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the signer of a step ------------------------------------------------------------------------


def credential_for(*, school: School, user: User | None, step: str) -> SigningCredential:
    """The active credential that signs ``step``: the school's seal (no user) for the seal,
    otherwise the user's own at this school (``user`` is None only for the seal, asked for
    without a person: an export started from the command line)."""
    credential = credentials.active_credential(
        school=school, user=None if step == JobStep.SEAL else user
    )
    if credential is not None:
        return credential
    if step == JobStep.SEAL:
        raise JobRefused(_("The school has no organisational certificate (seal) registered."))
    raise JobRefused(
        _(
            "You have no signing certificate registered at this school: add one on your "
            "signing settings page."
        )
    )


def open_source(
    *, school: School, user: User | None, step: str, secret: str
) -> tuple[SigningCredential, SignatureSource]:
    """The credential and an open signature source for ``step``, its certificate checked
    against the role. Raises JobRefused with a message the user can act on (wrong password,
    service unreachable, certificate refused). The caller closes the source."""
    credential = credential_for(school=school, user=user, step=step)
    try:
        source = credentials.open_source(credential=credential, secret=secret)
    except SigningError as exc:
        raise JobRefused(pipeline.opening_message(exc)) from exc
    try:
        pipeline.check_certificate_for(actor=user, school=school, role=step, signer=source)
        # Revoked now (OCSP / CRL, as SIGNING_REVOCATION says): refused before anything is
        # prepared; a certificate revoked later leaves the signatures made before it valid.
        check_revocation(source.certificate, chain=source.chain)
    except SigningRefused as exc:
        source.close()
        raise JobRefused(str(exc)) from exc
    return credential, source


# --- 1. prepare ----------------------------------------------------------------------------------


def summary_for(
    *, job: TranscriptJob, role: str, transcripts: Sequence[Transcript]
) -> BatchSummary:
    """What the signer is shown: the school, the classes, the role, how many documents."""
    signer = job.school.name if role == SignerRole.SEAL else job.created_by.display_name
    classes = sorted({t.class_group.name for t in transcripts})
    return BatchSummary(
        school=job.school.name,
        role=str(SignerRole(role).label),
        signer=signer,
        transcripts=len(transcripts),
        documents=2 * len(transcripts),
        class_names=tuple(classes),
    )


def prepare_batch(
    *,
    job: TranscriptJob,
    role: str,
    credential: SigningCredential,
    source: SignatureSource,
    transcripts: Iterable[Transcript],
    report: Report,
    heartbeat: Callable[[], None] | None = None,
) -> SigningBatch:
    """The job's batch for ``role`` with every transcript prepared for the source's
    certificate; transcripts already signed in this role are reported skipped, those that cannot
    take the signature now failed (with the reason), and left out of the batch. ``heartbeat``
    is called before each transcript (the worker is alive)."""
    batch = SigningBatch.objects.create(
        job=job,
        role=role,
        credential=credential,
        method=credential.kind,
        certificate_pem=Certificates(source.certificate, list(source.chain)).pem(),
    )
    prepared: list[Transcript] = []
    for transcript in transcripts:
        if heartbeat is not None:
            heartbeat()
        if transcript.is_signed_as(role):
            report(transcript, "skipped", _("already signed"))
            continue
        try:
            documents = pipeline.prepare_documents(transcript=transcript, role=role, holder=source)
            _store_prepared(batch, transcript, len(prepared), documents)
        except Exception as exc:
            if not isinstance(exc, TranscriptRefused | SigningError):
                logger.exception("transcript %s could not be prepared", transcript.pk)
            report(transcript, "failed", pipeline.failure_message(exc))
            continue
        prepared.append(transcript)
    batch.summary = summary_for(job=job, role=role, transcripts=prepared).as_dict()
    batch.save(update_fields=["summary"])
    return batch


def _store_prepared(
    batch: SigningBatch,
    transcript: Transcript,
    position: int,
    documents: pipeline.PreparedDocuments,
) -> None:
    item = PreparedSignature(
        batch=batch,
        position=position,
        transcript=transcript,
        version_id=documents.version_id,
        source_pdf_sha256=documents.source_pdf_sha256,
        source_xml_sha256=documents.source_xml_sha256,
        pdf_state=documents.pdf.state(),
        pdf_digest=documents.pdf.digest.hex(),
        xml_digest=documents.xml.digest.hex(),
    )
    stem = str(transcript.public_id)
    try:  # a store failing half-way (after the PDF) keeps nothing either
        item.pdf_file.save(f"{stem}.pdf", ContentFile(documents.pdf.data), save=False)
        item.xml_file.save(f"{stem}.xml", ContentFile(documents.xml.data), save=False)
        item.save()
    except BaseException:
        pipeline.delete_files([name for name in (item.pdf_file.name, item.xml_file.name) if name])
        raise


def digests(batch: SigningBatch) -> list[bytes]:
    """Every digest the signer signs, in order: each transcript's PDF, then its XML; then the
    batch's other documents (a package's manifest)."""
    values: list[bytes] = []
    for pdf_digest, xml_digest in batch.items.order_by("position").values_list(
        "pdf_digest", "xml_digest"
    ):
        values += [bytes.fromhex(pdf_digest), bytes.fromhex(xml_digest)]
    return values + [bytes.fromhex(document["digest"]) for document in batch.documents]


# --- 2. request ----------------------------------------------------------------------------------


def request_values(*, batch: SigningBatch, source: SignatureSource) -> None:
    """Ask the source for every value of the batch at once. A batch with nothing prepared ends
    at once (nothing to sign, nobody asked)."""
    wanted = digests(batch)
    if not wanted:
        _mark(batch, BatchStatus.DONE)
        return
    SigningBatch.objects.filter(pk=batch.pk).update(requested_at=timezone.now())
    try:
        outcome = source.request(
            wanted,
            summary=BatchSummary.from_dict(batch.summary),
            request_key=str(batch.request_key),
        )
    except SigningError as exc:
        outcome = Refused("failed", pipeline.failure_message(exc))
    finally:
        SigningBatch.objects.filter(pk=batch.pk).update(authorisations=source.authorisations)
    handle(batch, outcome)


def handle(batch: SigningBatch, outcome: Outcome) -> None:
    """Record what the source answered: the values, a wait, or the end of the batch."""
    if isinstance(outcome, Signed):
        receive_values(batch=batch, values=outcome.values)
    elif isinstance(outcome, Waiting):
        _wait(batch, outcome)
    else:
        end_batch(
            batch=batch,
            status=_ENDED_BY.get(outcome.reason, BatchStatus.FAILED),
            message=outcome.message or _("The signing service gave no signature."),
        )


def _wait(batch: SigningBatch, outcome: Waiting) -> None:
    latest = timezone.now() + datetime.timedelta(seconds=settings.SIGNING_REMOTE_MAX_SECONDS)
    with transaction.atomic():
        locked = SigningBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status not in (BatchStatus.PREPARING, BatchStatus.WAITING):
            return
        locked.status = BatchStatus.WAITING
        locked.request_state = outcome.state
        if locked.expires_at is None:  # the first answer sets the deadline
            locked.expires_at = min(outcome.expires_at, latest)
        locked.save(update_fields=["status", "request_state", "expires_at"])
    batch.refresh_from_db()


# --- 3. receive ----------------------------------------------------------------------------------


def receive_values(*, batch: SigningBatch, values: Sequence[bytes]) -> None:
    """Keep the values of a batch that is waiting for them (or being requested): exactly one per
    digest, each verifying against the batch's certificate. Otherwise the batch fails, nothing is
    signed, and BatchFailed says why."""
    holder = Certificates.from_pem(batch.certificate_pem)
    with transaction.atomic():
        locked = SigningBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status not in (BatchStatus.PREPARING, BatchStatus.WAITING):
            raise BatchFailed(_("This signing request is no longer waiting for signatures."))
        items = list(locked.items.order_by("position"))
        problem = _check_values(digests(locked), values, holder)
        if problem is None:
            for index, item in enumerate(items):
                item.pdf_value, item.xml_value = values[2 * index], values[2 * index + 1]
                item.save(update_fields=["pdf_value", "xml_value"])
            others = values[2 * len(items) :]
            locked.documents = [
                {**document, "value": base64.b64encode(value).decode()}
                for document, value in zip(locked.documents, others, strict=True)
            ]
            locked.status = BatchStatus.SIGNED
            locked.save(update_fields=["status", "documents"])
    if problem is not None:
        end_batch(batch=batch, status=BatchStatus.FAILED, message=problem)
        raise BatchFailed(problem)
    batch.refresh_from_db()


def _check_values(wanted: list[bytes], values: Sequence[bytes], holder: Certificates) -> str | None:
    if len(values) != len(wanted):
        return _(
            "The signer sent %(got)s signatures for %(expected)s documents: nothing was signed."
        ) % {"got": len(values), "expected": len(wanted)}
    for digest, value in zip(wanted, values, strict=True):
        if not isinstance(value, bytes) or not signature_digest_matches(holder, digest, value):
            return _(
                "A signature sent by the signer does not match the certificate: nothing was signed."
            )
    return None


def document_values(batch: SigningBatch) -> list[bytes]:
    """The values received for the batch's other documents (a package's manifest)."""
    return [base64.b64decode(document["value"]) for document in batch.documents]


# --- 4. finish -----------------------------------------------------------------------------------


def finish_batch(*, batch: SigningBatch, actor: User, report: Report) -> None:
    """Finish every transcript whose values arrived and that is not finished yet, each in its
    own transaction; then the batch is done and its prepared files are deleted. The
    transcripts share one :class:`~transcripts.signing.ltv.LtvSession`: one time-stamping
    client, and the signer chain's revocation data fetched once for the batch."""
    holder = Certificates.from_pem(batch.certificate_pem)
    items = batch.items.select_related(
        "transcript__school", "transcript__student", "transcript__class_group"
    )
    with LtvSession.from_settings() as ltv:
        for item in items.order_by("position"):
            transcript = item.transcript
            if item.finished_at is not None:  # by a run that was interrupted after it
                report(transcript, "skipped", _("already signed"))
                continue
            try:
                if transcript.is_signed_as(batch.role):  # a run interrupted after this one
                    report(transcript, "skipped", _("already signed"))
                else:
                    pipeline.finish_documents(
                        actor=actor,
                        transcript=transcript,
                        role=batch.role,
                        holder=holder,
                        prepared=_documents(item),
                        values=_values(item),
                        ltv=ltv,
                    )
                    report(transcript, "done", "")
            except Exception as exc:
                if not isinstance(exc, TranscriptRefused | SigningError):
                    logger.exception("transcript %s could not be finished", transcript.pk)
                report(transcript, "failed", pipeline.failure_message(exc))
            PreparedSignature.objects.filter(pk=item.pk).update(finished_at=timezone.now())
    _mark(batch, BatchStatus.DONE)


def _values(item: PreparedSignature) -> list[bytes]:
    """The signature values received for the item's PDF and XML."""
    if item.pdf_value is None or item.xml_value is None:
        raise ValueError(f"no signature values arrived for prepared signature {item.pk}")
    return [bytes(item.pdf_value), bytes(item.xml_value)]


def _documents(item: PreparedSignature) -> pipeline.PreparedDocuments:
    return pipeline.PreparedDocuments(
        version_id=item.version_id,
        source_pdf_sha256=item.source_pdf_sha256,
        source_xml_sha256=item.source_xml_sha256,
        pdf=PreparedPdf.from_state(pipeline.read_file(item.pdf_file), item.pdf_state),
        xml=PreparedXml(pipeline.read_file(item.xml_file), bytes.fromhex(item.xml_digest)),
    )


# --- ending, polling -----------------------------------------------------------------------------


def _mark(batch: SigningBatch, status: str, message: str = "") -> None:
    """End the batch with ``status``: its prepared files and values are deleted."""
    names: list[str] = []
    with transaction.atomic():
        locked = SigningBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status in BATCH_ENDED:
            return
        for item in locked.items.all():
            names += [n for n in (item.pdf_file.name, item.xml_file.name) if n]
        locked.items.update(pdf_file="", xml_file="", pdf_value=None, xml_value=None)
        locked.documents = [{**document, "value": None} for document in locked.documents]
        locked.status = status
        locked.message = message
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "message", "finished_at", "documents"])
    transaction.on_commit(lambda: pipeline.delete_files(names))
    batch.refresh_from_db()


def discard(batch: SigningBatch) -> None:
    """Delete a batch a dead run was preparing (or requesting: no answer was recorded, nothing
    is signed) with its prepared files, so that the resumed run prepares the step again."""
    if batch.status != BatchStatus.PREPARING:
        raise ValueError(f"batch {batch.pk} is {batch.status}: only a preparing one is discarded")
    names = [
        name
        for item in batch.items.all()
        for name in (item.pdf_file.name, item.xml_file.name)
        if name
    ]
    batch.delete()
    transaction.on_commit(lambda: pipeline.delete_files(names))


def finish_documents(batch: SigningBatch) -> None:
    """A batch of other documents (a package's manifest) whose values were used: done."""
    _mark(batch, BatchStatus.DONE)


def cancel(*, batch: SigningBatch, actor: User) -> None:
    """Withdraw a waiting batch at its service (best effort) and end it: nothing is signed."""
    if batch.status != BatchStatus.WAITING:
        return
    try:
        source = credentials.open_source(credential=batch.credential, secret="")
    except SigningError:
        source = None
    try:
        if source is not None:
            source.cancel(batch.request_state)
    except Exception:  # the service may be gone; the batch ends anyway
        logger.warning("could not withdraw the request of batch %s", batch.pk, exc_info=True)
    finally:
        if source is not None:
            source.close()
    end_batch(
        batch=batch,
        status=BatchStatus.CANCELLED,
        message=_("Cancelled by %(name)s: nothing was signed.") % {"name": actor.display_name},
    )


def end_batch(*, batch: SigningBatch, status: str, message: str) -> None:
    """End a batch that signs nothing (rejected, expired, cancelled or failed): every transcript
    stays as it was."""
    if status not in BATCH_ENDED or status == BatchStatus.DONE:
        raise ValueError(f"{status!r} does not end a batch without signing")
    _mark(batch, status, message)


def is_overdue(batch: SigningBatch, now: datetime.datetime | None = None) -> bool:
    return (
        batch.status == BatchStatus.WAITING
        and batch.expires_at is not None
        and (now or timezone.now()) >= batch.expires_at
    )


def expire(batch: SigningBatch, source: SignatureSource | None = None) -> None:
    """End an overdue waiting batch: the request is withdrawn at the service (best effort)."""
    if source is not None:
        try:
            source.cancel(batch.request_state)
        except Exception:  # the service may be gone; the batch ends anyway
            logger.warning("could not withdraw the request of batch %s", batch.pk, exc_info=True)
    end_batch(batch=batch, status=BatchStatus.EXPIRED, message=expired_message(batch))


def expired_message(batch: SigningBatch) -> str:
    if batch.method == CredentialKind.COMPANION:
        return _(
            "The USB token did not sign in time: nothing was signed. Start again when the "
            "signing companion is running."
        )
    return _(
        "The signer did not confirm in time: nothing was signed. Start again to send a new request."
    )


def poll_once(batch_id: int) -> SigningBatch | None:
    """One look at a waiting batch, opening its source for it (the poll task's work): expired,
    signed, refused, or still waiting. The batch, re-read; None if it is gone."""
    batch = (
        SigningBatch.objects.select_related("credential", "job", "package").filter(pk=batch_id)
    ).first()
    if batch is None or batch.status != BatchStatus.WAITING:
        return batch
    try:
        source = credentials.open_source(credential=batch.credential, secret="")
    except SigningError as exc:  # the service is unreachable now: expiry still applies
        logger.warning("batch %s: cannot reach its signature source: %s", batch.pk, exc)
        if is_overdue(batch):
            expire(batch)
        return batch
    try:
        poll(batch=batch, source=source)
    finally:
        source.close()
    batch.refresh_from_db()
    return batch


def poll_interval(batch: SigningBatch) -> float:
    """Seconds between two looks at a waiting batch."""
    return 15.0 if batch.method == CredentialKind.COMPANION else 2.0


def schedule_poll(batch_id: int, seconds: float) -> None:
    """Look at the waiting batch again in ``seconds`` (the task ``poll_signing_batch``)."""
    background.enqueue_later("transcripts.tasks.poll_signing_batch", batch_id, seconds=seconds)


def poll(*, batch: SigningBatch, source: SignatureSource) -> None:
    """Look once at a waiting batch: expired, or the source's current answer."""
    if batch.status != BatchStatus.WAITING:
        return
    if is_overdue(batch):
        expire(batch, source)
        return
    try:
        outcome = source.poll(batch.request_state)
    except SigningError as exc:  # a passing network failure: try again at the next poll
        logger.warning("polling batch %s failed: %s", batch.pk, exc)
        return
    if isinstance(outcome, Signed):
        try:
            receive_values(batch=batch, values=outcome.values)
        except BatchFailed:
            return
    elif isinstance(outcome, Refused):
        handle(batch, outcome)
