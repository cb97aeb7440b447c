"""Render and sign transcript versions: the services behind the screens, the batch jobs and
``manage.py sign_transcripts``.

Every function is keyword-only and safe to re-run:

- :func:`render_version` renders a version's PDF/A-3 and XML once and stores them; a rendered
  version is never rendered again.
- :func:`prepare_documents` prepares the stored PDF and XML of a version for one role's
  signature (nothing stored changes); :func:`finish_documents` puts the two signature values
  in, stores the new files and records the signature through
  :func:`transcripts.workflow.record_signature`, in one transaction. A refused step (wrong
  state, already signed, wrong person, files changed since they were prepared) writes nothing.
  Each signing stage writes *new* files (e.g. ``v1/hocba-2-principal.pdf``), so an interrupted
  run never damages the previous file. :mod:`transcripts.batches` runs the two phases over a
  whole batch with one authorisation; :func:`sign_version` does both at once with a signer the
  server holds.
- :func:`sign_batch` / :func:`confirm_batch` run a step over many transcripts, listing each
  student's outcome and continuing after a failure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from transcripts import workflow
from transcripts.models import (
    SignerRole,
    State,
    Transcript,
    TranscriptSignature,
    TranscriptVersion,
)
from transcripts.render import render_transcript_pdf
from transcripts.signing.appearance import (
    HOMEROOM_FIELD,
    PRINCIPAL_FIELD,
    SEAL_FIELD,
    appearance_for,
)
from transcripts.signing.certificates import check_signing_certificate, load_trust_anchors
from transcripts.signing.formats import (
    Certified,
    PreparedPdf,
    PreparedXml,
    finish_pdf,
    finish_xml,
    prepare_pdf,
    prepare_xml,
)
from transcripts.signing.ltv import LtvSession, LtvSettings, session_for
from transcripts.signing.signers import SecretRefused, Signer, SigningError
from transcripts.workflow import TranscriptRefused
from transcripts.xml import DATA_ID, snapshot_to_xml

logger = logging.getLogger(__name__)

#: Per role: the PDF signature field (each at its official place on a rendered transcript, see
#: transcripts/signing/appearance.py), the file-name stage, and the reason written into the
#: signature (Vietnamese: it is part of the legal document, whatever the reader's language).
PDF_FIELDS = {
    SignerRole.HOMEROOM: HOMEROOM_FIELD,
    SignerRole.PRINCIPAL: PRINCIPAL_FIELD,
    SignerRole.SEAL: SEAL_FIELD,
}
FILE_STAGES = {SignerRole.HOMEROOM: 1, SignerRole.PRINCIPAL: 2, SignerRole.SEAL: 3}
REASONS = {
    SignerRole.HOMEROOM: "Giáo viên chủ nhiệm xác nhận học bạ",
    SignerRole.PRINCIPAL: "Hiệu trưởng ký duyệt học bạ",
    SignerRole.SEAL: "Nhà trường đóng dấu (chữ ký số của cơ quan)",
}
#: What each role's XAdES signature is (its DataObjectFormat description), in the document's
#: language like the reasons.
XML_DESCRIPTIONS = {
    SignerRole.HOMEROOM: "Chữ ký số của giáo viên chủ nhiệm trên học bạ",
    SignerRole.PRINCIPAL: "Chữ ký số của hiệu trưởng trên học bạ",
    SignerRole.SEAL: "Chữ ký số của nhà trường (con dấu) trên học bạ",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verification_url(code: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/verify/{code}/"


# --- rendering -----------------------------------------------------------------------------------


def render_version(*, version: TranscriptVersion) -> TranscriptVersion:
    """Render ``version`` to its PDF and XML and store them, unless already rendered."""
    if version.rendered_at is not None:
        return version
    with transaction.atomic():
        locked = (
            TranscriptVersion.objects.select_for_update()
            .select_related("transcript")
            .get(pk=version.pk)
        )
        if locked.rendered_at is None:
            transcript = locked.transcript
            xml = snapshot_to_xml(
                locked.snapshot, transcript_id=str(transcript.public_id), version=locked.number
            )
            pdf = render_transcript_pdf(
                locked.snapshot,
                xml_bytes=xml,
                verification_code=locked.verification_code,
                verification_url=verification_url(locked.verification_code),
            )
            saved = _store(locked, "0-rendered", pdf=pdf, xml=xml)
            try:
                locked.save(
                    update_fields=[
                        "pdf_file",
                        "xml_file",
                        "pdf_sha256",
                        "xml_sha256",
                        "rendered_at",
                    ]
                )
            except BaseException:
                delete_files(saved)
                raise
    version.refresh_from_db()
    return version


def _store(version: TranscriptVersion, stage: str, *, pdf: bytes, xml: bytes) -> list[str]:
    """Save new files for this stage (never overwriting one: the storage picks a free name) and
    point the version at them; returns the stored names so a failure can remove them. When the
    store fails half-way (StorageUnavailable), what it stored is removed and nothing is kept."""
    stored: list[str] = []
    try:
        version.pdf_file.save(f"hocba-{stage}.pdf", ContentFile(pdf), save=False)
        stored.append(version.pdf_file.name)
        version.xml_file.save(f"hocba-{stage}.xml", ContentFile(xml), save=False)
        stored.append(version.xml_file.name)
    except BaseException:
        delete_files(stored)
        raise
    version.pdf_sha256 = _sha256(pdf)
    version.xml_sha256 = _sha256(xml)
    if version.rendered_at is None:
        version.rendered_at = timezone.now()
    return [version.pdf_file.name, version.xml_file.name]


def delete_files(names: Iterable[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # pragma: no cover - best effort clean-up of an orphan
            logger.warning("could not delete orphan transcript file %s", name)


# --- signing: prepare the documents, then finish them with the values ----------------------------


def check_certificate_for(*, actor: User | None, school, role: str, signer: Certified) -> None:
    """Raise SigningRefused unless the signer's certificate may sign ``role`` for ``actor`` at
    ``school``: the person's own name for homeroom/principal, the school's name for the seal
    (``actor`` is None only for the seal)."""
    if role == SignerRole.SEAL:
        holder = {"organisation_name": school.name}
    elif actor is None:
        raise ValueError(f"a {role} signature needs its signer")
    else:
        holder = {"holder_name": actor.display_name}
    check_signing_certificate(
        signer.certificate, chain=signer.chain, trust_anchors=load_trust_anchors(), **holder
    )


def check_certificate(*, actor: User, transcript: Transcript, role: str, signer: Certified) -> None:
    check_certificate_for(actor=actor, school=transcript.school, role=role, signer=signer)


def _expect_state(transcript: Transcript, role: str) -> None:
    """Refuse early (before rendering or signing) when the state does not allow ``role``; the
    binding check is repeated by record_signature under the row lock."""
    sources, _target = workflow.TRANSITIONS[role]
    if transcript.state not in sources:
        raise TranscriptRefused(
            _("This transcript is “%(state)s”: that step is not possible now.")
            % {"state": transcript.get_state_display()}
        )


@dataclasses.dataclass(frozen=True)
class PreparedDocuments:
    """A transcript's PDF and XML prepared for one role's signature, waiting for two values
    (:attr:`digests`, in this order); plain data that a batch stores."""

    version_id: int
    source_pdf_sha256: str
    source_xml_sha256: str
    pdf: PreparedPdf
    xml: PreparedXml

    @property
    def digests(self) -> list[bytes]:
        return [self.pdf.digest, self.xml.digest]


def prepare_documents(*, transcript: Transcript, role: str, holder: Certified) -> PreparedDocuments:
    """Prepare the current version's stored PDF and XML (rendered first if needed) for
    ``role``'s signature with ``holder``'s certificate. Refuses (TranscriptRefused) when the
    transcript's state (as read by the caller, with its school) does not allow the role;
    changes nothing stored."""
    role = SignerRole(role)
    _expect_state(transcript, role)
    version = transcript.current_version
    if version is None:  # pragma: no cover - a confirmed transcript always has a version
        raise TranscriptRefused(_("This transcript has no version to sign."))
    version = render_version(version=version)
    pdf, xml = read_file(version.pdf_file), read_file(version.xml_file)
    return PreparedDocuments(
        version_id=version.pk,
        source_pdf_sha256=_sha256(pdf),
        source_xml_sha256=_sha256(xml),
        pdf=prepare_pdf(
            pdf,
            holder,
            field_name=PDF_FIELDS[role],
            reason=REASONS[role],
            location=transcript.school.name,
            timestamped=bool(_timestamp_url()),
            appearance=appearance_for(PDF_FIELDS[role], version.snapshot.get("school", {})),
        ),
        xml=prepare_xml(
            xml,
            holder,
            reference_id=DATA_ID,
            description=XML_DESCRIPTIONS[role],
        ),
    )


def _timestamp_url() -> str | None:
    """The time-stamping authority when the PAdES level asks for time-stamps (B-T and up)."""
    ltv = LtvSettings.from_settings()
    return ltv.timestamp_url if ltv.timestamped else None


def finish_documents(
    *,
    actor: User,
    transcript: Transcript,
    role: str,
    holder: Certified,
    prepared: PreparedDocuments,
    values: Sequence[bytes],
    ltv: LtvSession | None = None,
) -> TranscriptSignature:
    """Put the two values into the prepared PDF and XML, store them as new files and record the
    signature (state advanced), in one transaction: the transcript ends completely signed or
    unchanged. Refuses (TranscriptRefused) when the transcript moved on or its files changed
    since they were prepared, or the role is not the actor's; SigningError when a value does
    not verify against the certificate. ``ltv``: the batch's session (time-stamping client and
    revocation data shared by its transcripts); by default one for this transcript only, from
    the settings."""
    role = SignerRole(role)
    pdf_value, xml_value = values
    saved: list[str] = []
    try:
        with transaction.atomic():
            # Records the signature under the transcript's row lock, or refuses: before any file.
            signature = workflow.record_signature(
                actor=actor,
                transcript=transcript,
                role=role,
                certificate_subject=holder.certificate.subject.rfc4514_string(),
                certificate_serial=format(holder.certificate.serial_number, "X"),
            )
            locked = (  # with its transcript, which names the files (version_upload_path)
                TranscriptVersion.objects.select_for_update(of=("self",))
                .select_related("transcript")
                .get(pk=signature.version_id)
            )
            if (locked.pk, locked.pdf_sha256, locked.xml_sha256) != (
                prepared.version_id,
                prepared.source_pdf_sha256,
                prepared.source_xml_sha256,
            ):
                raise TranscriptRefused(
                    _("The transcript changed after it was prepared for signing: sign it again.")
                )
            with session_for(ltv or LtvSettings.from_settings()) as session:
                last = role == SignerRole.SEAL
                pdf = finish_pdf(prepared.pdf, holder, pdf_value, ltv=session, last=last)
                xml = finish_xml(prepared.xml, holder, xml_value, ltv=session)
            saved = _store(locked, f"{FILE_STAGES[role]}-{role}", pdf=pdf, xml=xml)
            locked.save(update_fields=["pdf_file", "xml_file", "pdf_sha256", "xml_sha256"])
    except BaseException:
        delete_files(saved)
        raise
    _reload(transcript)
    return signature


def sign_version(
    *, actor: User, transcript: Transcript, role: str, signer: Signer
) -> TranscriptSignature:
    """Sign the transcript's current version as ``role`` at once, with a signer the server can
    use: PAdES on the PDF, XAdES on the XML, and the signature recorded (state advanced) in one
    transaction.

    Raises TranscriptRefused (wrong state, already signed, not this person's role),
    SigningRefused (certificate not acceptable) or SigningError (the signature failed); in every
    case nothing is changed."""
    role = SignerRole(role)
    _reload(transcript)
    _expect_state(transcript, role)
    check_certificate(actor=actor, transcript=transcript, role=role, signer=signer)
    prepared = prepare_documents(transcript=transcript, role=role, holder=signer)
    return finish_documents(
        actor=actor,
        transcript=transcript,
        role=role,
        holder=signer,
        prepared=prepared,
        values=signer.sign_digests(prepared.digests),
    )


def _reload(transcript: Transcript) -> None:
    """Re-read the transcript (its state), keeping its school: the certificate check and the
    signature's location read it for every signature of a batch."""
    transcript.refresh_from_db(from_queryset=Transcript.objects.select_related("school"))


def read_file(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


# --- batches -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BatchItem:
    transcript_id: int
    student: str
    class_name: str
    outcome: str  # "done" | "skipped" | "failed"
    message: str = ""


@dataclasses.dataclass
class BatchResult:
    items: list[BatchItem] = dataclasses.field(default_factory=list)

    def _count(self, outcome: str) -> int:
        return sum(1 for item in self.items if item.outcome == outcome)

    @property
    def done(self) -> int:
        return self._count("done")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failed(self) -> list[BatchItem]:
        return [item for item in self.items if item.outcome == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed


def item_of(transcript: Transcript, outcome: str, message: str = "") -> BatchItem:
    return BatchItem(
        transcript.pk,
        transcript.student.full_name,
        transcript.class_group.name,
        outcome,
        message,
    )


def failure_message(exc: BaseException) -> str:
    """The message shown for a student whose step failed."""
    if isinstance(exc, (TranscriptRefused, SigningError)):
        return getattr(exc, "message", None) or str(exc)
    return str(exc) or type(exc).__name__


def opening_message(exc: SigningError) -> str:
    """Why a certificate could not be opened: a refused password or PIN says it whole ("Cannot
    open the certificate file: wrong password, …"); any other reason is put after "The
    certificate could not be opened:"."""
    if isinstance(exc, SecretRefused):
        return failure_message(exc)
    return _("The certificate could not be opened: %(reason)s") % {"reason": failure_message(exc)}


def _run(transcripts: Iterable[Transcript], step) -> BatchResult:
    result = BatchResult()
    for transcript in transcripts:
        try:
            skipped = step(transcript)
        except (TranscriptRefused, SigningError) as exc:
            result.items.append(item_of(transcript, "failed", failure_message(exc)))
        except Exception as exc:  # one broken transcript must not stop the class
            logger.exception("transcript %s failed in a batch", transcript.pk)
            result.items.append(item_of(transcript, "failed", failure_message(exc)))
        else:
            outcome = "skipped" if skipped else "done"
            result.items.append(item_of(transcript, outcome, skipped or ""))
    return result


def sign_one(*, actor: User, transcript: Transcript, role: str, signer: Signer) -> str | None:
    """Sign one transcript as ``role``, or return why it was skipped: a transcript that already
    carries this role's signature on its current version is skipped, so re-running a batch never
    double-signs."""
    role = SignerRole(role)
    if transcript.is_signed_as(role):  # sign_version re-reads the transcript itself
        return _("already signed")
    sign_version(actor=actor, transcript=transcript, role=role, signer=signer)
    return None


def confirm_one(*, actor: User, transcript: Transcript) -> str | None:
    """Confirm one draft transcript as its homeroom teacher, or return why it was skipped."""
    transcript.refresh_from_db()
    if transcript.state != State.DRAFT:
        return _("already confirmed")
    workflow.confirm_ready(actor=actor, transcript=transcript)
    return None


def sign_batch(
    *,
    actor: User,
    transcripts: Iterable[Transcript],
    role: str,
    signer: Signer,
    chunk_size: int = 100,
) -> BatchResult:
    """Sign each transcript as ``role`` with one ``signer.sign_digests`` call per
    ``chunk_size`` transcripts (one authorisation of a remote service for a class): every
    transcript of a chunk is prepared, all its digests signed at once, then each finished in its
    own transaction. Already signed transcripts are skipped; a failure is listed per student and
    does not stop the others."""
    role = SignerRole(role)
    result = BatchResult()
    pending = list(transcripts)
    for start in range(0, len(pending), chunk_size):
        with LtvSession.from_settings() as ltv:  # the chunk's time-stamps and revocation data
            _sign_chunk(actor, pending[start : start + chunk_size], role, signer, result, ltv)
    return result


def _sign_chunk(
    actor: User,
    chunk: list[Transcript],
    role: str,
    signer: Signer,
    result: BatchResult,
    ltv: LtvSession | None = None,
) -> None:
    outcomes: dict[int, BatchItem] = {}
    prepared: dict[int, PreparedDocuments] = {}

    def prepare(transcript: Transcript) -> str | None:
        if transcript.is_signed_as(role):
            return _("already signed")
        _reload(transcript)
        _expect_state(transcript, role)
        check_certificate(actor=actor, transcript=transcript, role=role, signer=signer)
        prepared[transcript.pk] = prepare_documents(transcript=transcript, role=role, holder=signer)
        return None

    for item in _run(chunk, prepare).items:
        if item.transcript_id not in prepared:
            outcomes[item.transcript_id] = item
    ready = [t for t in chunk if t.pk in prepared]
    if ready:
        try:
            values = signer.sign_digests([d for t in ready for d in prepared[t.pk].digests])
            if len(values) != 2 * len(ready):
                raise SigningError(f"Got {len(values)} signature values for {2 * len(ready)}")
        except SigningError as exc:
            outcomes |= {t.pk: item_of(t, "failed", failure_message(exc)) for t in ready}
        else:
            at = {t.pk: 2 * index for index, t in enumerate(ready)}

            def finish(transcript: Transcript) -> None:
                finish_documents(
                    actor=actor,
                    transcript=transcript,
                    role=role,
                    holder=signer,
                    prepared=prepared[transcript.pk],
                    values=values[at[transcript.pk] : at[transcript.pk] + 2],
                    ltv=ltv,
                )

            outcomes |= {item.transcript_id: item for item in _run(ready, finish).items}
    result.items += [outcomes[t.pk] for t in chunk]


def confirm_batch(*, actor: User, transcripts: Iterable[Transcript]) -> BatchResult:
    """The homeroom teacher confirms each draft transcript (others are skipped)."""
    return _run(transcripts, lambda transcript: confirm_one(actor=actor, transcript=transcript))
